//! ZRANDMEMBER and ZSCAN: the commands whose replies are not (entirely) decided by
//! the set's content.

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::{glob, ZSet};

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

/// A cursor as Redis reads it with `strtoul`: an optional sign (a negative value
/// wraps around), decimal digits, no leading blank, no overflow; the empty string
/// is cursor 0.
fn parse_cursor(a: &[u8]) -> Option<u64> {
    let (neg, digits) = match a.first() {
        None => return Some(0),
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        Some(_) => (false, a),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: members and their scores (as
/// bulk strings, in RESP3 too).
pub fn zscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2]).ok_or(Reject::from("ERR invalid cursor"))?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(z) = db.get_coll::<ZSet>(args[1], now)? else {
        // A missing key answers before the options are even read.
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
            count = usize::try_from(c).unwrap_or(usize::MAX);
        } else if eq(args[i], "match") && has_value {
            pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else {
            return Err(ERR_SYNTAX.into());
        }
        i += 2;
    }
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob::matches(p, m, false)) {
            found.push((m, s));
        }
    });
    let listpack = z.is_listpack();
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next));
    out.array(found.len() * 2);
    for (m, s) in found {
        out.bulk(m);
        if listpack {
            out.bulk(listpack_score_text(s));
        } else {
            out.bulk(ferrocache_resp::format_double(s));
        }
    }
    Ok(())
}

/// A score as a listpack stores it, which is what ZSCAN of a listpack returns: an
/// integral score within ±2^62 as an integer (1e17 is "100000000000000000"),
/// anything else as `%.17g`.
fn listpack_score_text(s: f64) -> String {
    const SAFE: f64 = 4611686018427387904.0; // 2^62: Redis's `double2ll` bound
    if s.fract() == 0.0 && (-SAFE..=SAFE).contains(&s) {
        itoa::Buffer::new().format(s as i64).to_string()
    } else {
        ferrocache_resp::format_double(s)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn listpack_scores_as_stored() {
        use super::listpack_score_text as t;
        assert_eq!(t(1e17), "100000000000000000");
        assert_eq!(t(4611686018427387904.0), "4611686018427387904");
        assert_eq!(t(2f64.powi(63)), "9.2233720368547758e+18");
        assert_eq!(t(1.5), "1.5");
        assert_eq!(t(f64::INFINITY), "inf");
    }

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"12"), Some(12));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
    }
}
