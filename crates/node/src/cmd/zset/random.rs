//! ZRANDMEMBER: the command whose reply is not decided by the set's content.

use super::*;
use ferrocache_keyspace::ZSet;

/// ZRANDMEMBER key [count [WITHSCORES]]
///
/// Without a count: one member. With a negative count: that many members, repeats
/// allowed. With a count at least the set's size: the whole set, highest score
/// first (Redis walks it from the tail). Otherwise that many distinct members.
pub fn zrandmember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    if args.len() < 3 {
        let (db, out) = ctx.db_and_out();
        match db.get_coll::<ZSet>(args[1], now)?.and_then(|z| z.random()) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return Ok(());
    }
    let l = int_arg(args[2])?;
    if l == i64::MIN {
        return Err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                .into(),
        );
    }
    if args.len() > 4 || (args.len() == 4 && !eq(args[3], "withscores")) {
        return Err(ERR_SYNTAX.into());
    }
    let withscores = args.len() == 4;
    let (db, out) = ctx.db_and_out();
    let Some(z) = db.get_coll::<ZSet>(args[1], now)? else {
        out.array(0);
        return Ok(());
    };
    let z: &ZSet = z;
    let count = l.unsigned_abs();
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if l < 0 || count == 1 {
        // Independent draws. The reply can be as long as asked: it is streamed,
        // nothing is allocated per member.
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        scored_header(out, count, withscores);
        for _ in 0..count {
            let (m, s) = z.random().expect("not empty");
            scored(out, m, s, withscores);
        }
        return Ok(());
    }
    let size = z.len();
    if count >= size as u64 {
        scored_header(out, size, withscores);
        z.walk(size - 1, false, |e| {
            scored(out, &e.member, e.score, withscores);
            true
        });
        return Ok(());
    }
    let picks = z.random_distinct(count as usize);
    scored_header(out, picks.len(), withscores);
    for i in picks {
        let (m, s) = z.nth_unordered(i).expect("in range");
        scored(out, m, s, withscores);
    }
    Ok(())
}
