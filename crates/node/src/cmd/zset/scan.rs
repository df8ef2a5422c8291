//! ZSCAN: a listpack sorted set comes back whole at cursor 0 with scores as the
//! listpack stores them; a skiplist one is walked by position.

use super::*;
use ferrocache_keyspace::ZSet;

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: members and their scores (as
/// bulk strings, in RESP3 too).
pub fn zscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(args[2])?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(z) = db.get_coll::<ZSet>(args[1], now)? else {
        // A missing key answers before the options are even read.
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let o = scan_options(args, 3, false)?;
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, o.count, |m, s| {
        if o.matches(m) {
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
    #[test]
    fn listpack_scores_as_stored() {
        use super::listpack_score_text as t;
        assert_eq!(t(1e17), "100000000000000000");
        assert_eq!(t(4611686018427387904.0), "4611686018427387904");
        assert_eq!(t(2f64.powi(63)), "9.2233720368547758e+18");
        assert_eq!(t(1.5), "1.5");
        assert_eq!(t(f64::INFINITY), "inf");
    }
}
