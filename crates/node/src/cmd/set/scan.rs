//! SSCAN: an intset comes back whole in one call with cursor 0 (in ascending
//! order), as in Redis; a table is walked by position, COUNT slots per call.

use super::*;

pub fn sscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(args[2])?;
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    let Some(set) = read_set(ks, idx, args[1], now)? else {
        // Options are not even parsed for a missing key.
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let o = scan_options(args, 3, false)?;
    let set: &Set = set;
    let mut found: Vec<Member> = Vec::new();
    let next = if set.is_intset() {
        found.extend(set.iter());
        0
    } else {
        set.scan(cursor, o.count, |m| found.push(m))
    };
    if o.pattern.is_some() {
        found.retain(|m| m.with_bytes(|b| o.matches(b)));
    }
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next));
    out.array(found.len());
    for m in &found {
        bulk_member(out, *m);
    }
    Ok(())
}
