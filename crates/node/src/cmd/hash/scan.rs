//! HSCAN key cursor [MATCH pattern] [COUNT count]. A listpack hash comes back
//! whole with cursor 0, whatever the cursor and COUNT, exactly as Redis sends it;
//! a hashtable is walked in steps (`Hash::scan`). Redis's checks come in its
//! order: the cursor, then the key (missing: an empty scan, whatever the options),
//! then the options.

use super::*;
use crate::cmd::keys::parse_cursor;
use ferrocache_keyspace::glob;

pub fn hscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2]).ok_or(Reject::from("ERR invalid cursor"))?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(h) = lookup(db, args[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if eq(args[i], "count") && has_value {
            let c = int_arg(args[i + 1])?;
            if c < 1 {
                return Err(ERR_SYNTAX.into());
            }
            count = c as usize;
        } else if eq(args[i], "match") && has_value {
            pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else {
            return Err(ERR_SYNTAX.into());
        }
        i += 2;
    }
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, count, |k, v| {
        if pattern.is_none_or(|p| glob::matches(p, k, false)) {
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
