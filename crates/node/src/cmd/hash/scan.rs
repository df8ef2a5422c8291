//! HSCAN key cursor [MATCH pattern] [COUNT count]. A listpack hash comes back
//! whole with cursor 0, whatever the cursor and COUNT, exactly as Redis sends it;
//! a hashtable is walked in steps (`Hash::scan`). Redis's checks come in its
//! order: the cursor, then the key (missing: an empty scan, whatever the options),
//! then the options.

use super::*;

pub fn hscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(args[2])?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(h) = lookup(db, args[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let o = scan_options(args, 3, false)?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, o.count, |k, v| {
        if o.matches(k) {
            found.push((k, v));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    for (k, v) in found {
        out.bulk(k);
        out.bulk(v);
    }
    Ok(())
}
