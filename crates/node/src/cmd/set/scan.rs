//! SSCAN: an intset comes back whole in one call with cursor 0 (in ascending
//! order), as in Redis; a table is walked by position, COUNT slots per call.

use super::*;
use ferrocache_keyspace::glob;

pub fn sscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2]).ok_or(Reject::from("ERR invalid cursor"))?;
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    let Some(set) = read_set(ks, idx, args[1], now)? else {
        // Options are not even parsed for a missing key.
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
    let set: &Set = set;
    let mut found: Vec<Member> = Vec::new();
    let next = if set.is_intset() {
        found.extend(set.iter());
        0
    } else {
        set.scan(cursor, count, |m| found.push(m))
    };
    if let Some(p) = pattern {
        found.retain(|m| m.with_bytes(|b| glob::matches(p, b, false)));
    }
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next));
    out.array(found.len());
    for m in &found {
        bulk_member(out, *m);
    }
    Ok(())
}

/// A cursor as Redis reads it with `strtoul`: an optional sign (a negative value
/// wraps around), decimal digits, no leading space, no overflow; the empty string
/// is cursor 0.
fn parse_cursor(a: &[u8]) -> Option<u64> {
    if a.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match a[0] {
        b'-' => (true, &a[1..]),
        b'+' => (false, &a[1..]),
        _ => (false, a),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 5"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"5x"), None);
    }
}
