//! Argument parsing shared by handlers, with Redis's exact error texts.

use crate::dispatch::Reject;

pub const ERR_SYNTAX: &str = "ERR syntax error";
pub const ERR_NOT_INT: &str = "ERR value is not an integer or out of range";
pub const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";
pub const ERR_WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const ERR_NO_SUCH_KEY: &str = "ERR no such key";
pub const ERR_DB_RANGE: &str = "ERR DB index is out of range";
pub const ERR_OVERFLOW: &str = "ERR increment or decrement would overflow";

/// An integer argument (`string2ll` rules).
pub fn int_arg(a: &[u8]) -> Result<i64, Reject> {
    ferrocache_keyspace::parse_i64(a).ok_or(Reject::from(ERR_NOT_INT))
}

/// A float argument as Redis's `string2ld`/`strtold` accepts it: no spaces, not NaN.
pub fn float_arg(a: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(a).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts forms strtold does not ("1_0" no, but "nan", "infinity" handled above).
            if lower.contains("nan") || lower.contains('_') {
                return None;
            }
            if lower.starts_with("0x") || lower.starts_with("-0x") || lower.starts_with("+0x") {
                return parse_hex_float(&lower);
            }
            lower.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = rest.strip_prefix("0x")?;
    if digits.is_empty() || digits.contains(['.', 'p']) {
        return None;
    }
    let v = u64::from_str_radix(digits, 16).ok()? as f64;
    Some(if neg { -v } else { v })
}

/// A database index for SELECT, MOVE, COPY, SWAPDB.
pub fn db_arg(a: &[u8], databases: usize, err_not_int: &'static str) -> Result<usize, Reject> {
    let i = ferrocache_keyspace::parse_i64(a).ok_or(Reject::from(err_not_int))?;
    if i < 0 || i as usize >= databases {
        return Err(ERR_DB_RANGE.into());
    }
    Ok(i as usize)
}

/// Redis's reply when a subcommand's own argument count check fails
/// (`addReplySubcommandSyntaxError`): the subcommand as typed, the container upper-cased.
pub fn subcommand_error(container: &str, sub: &[u8]) -> Reject {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        lossy(sub)
    )
    .into()
}

/// Redis's index range rule (GETRANGE, BITCOUNT, BITPOS …): negative indexes count
/// from the end of `len`, both ends are clamped into the value; None when empty.
pub fn clamp_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let s = if start < 0 { start + len } else { start }.max(0);
    let e = if end < 0 { end + len } else { end }.max(0).min(len - 1);
    (s <= e).then_some((s, e))
}

pub fn eq(a: &[u8], word: &str) -> bool {
    a.eq_ignore_ascii_case(word.as_bytes())
}

pub fn lossy(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

impl From<ferrocache_keyspace::WrongType> for Reject {
    fn from(_: ferrocache_keyspace::WrongType) -> Self {
        Reject::from(ERR_WRONGTYPE)
    }
}

/// A blocking command's timeout in seconds (fractions allowed), as milliseconds;
/// None for 0 (wait forever). As Redis 7.0 computes it: parsed as a long double
/// (`string2ld`), × 1000 and rounded up in long double, then cast to a C integer,
/// where anything beyond i64 (infinity included) becomes i64::MIN — "negative".
/// So -0.0009 is 0 (forever) and 1e400 is negative, as in Redis.
pub fn timeout_arg(a: &[u8]) -> Result<Option<u64>, Reject> {
    use rustc_apfloat::ieee::X87DoubleExtended as LongDouble;
    use rustc_apfloat::{Float, Round, Status};
    let secs = super::float_text::parse(a)
        .ok_or(Reject::from("ERR timeout is not a float or out of range"))?;
    let ms = secs
        .mul_r(LongDouble::from_i128(1000).value, Round::NearestTiesToEven)
        .value
        .round_to_integral(Round::TowardPositive)
        .value
        .to_i128(64);
    let ms = if ms.status.contains(Status::INVALID_OP) {
        i64::MIN
    } else {
        ms.value as i64
    };
    if ms < 0 {
        return Err("ERR timeout is negative".into());
    }
    Ok((ms > 0).then_some(ms as u64))
}

/// A SCAN-family cursor as Redis reads it with `strtoul`: an optional sign (a
/// negative one wraps around), decimal digits, no spaces, no overflow; the empty
/// string is cursor 0 (strtoul reads nothing and reports no error).
pub fn cursor_arg(a: &[u8]) -> Result<u64, Reject> {
    parse_cursor(a).ok_or(Reject::from("ERR invalid cursor"))
}

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

/// The options of SCAN, HSCAN, SSCAN and ZSCAN.
pub struct ScanOptions<'a> {
    pub count: usize,
    /// None for no pattern or `*` (which matches everything).
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE filter.
    pub type_name: Option<&'a [u8]>,
}

impl ScanOptions<'_> {
    pub fn matches(&self, name: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| ferrocache_keyspace::glob::matches(p, name, false))
    }
}

/// Parses `[MATCH pattern] [COUNT count]` (and `[TYPE type]` when `with_type`)
/// from `args[from..]`, with Redis's errors.
pub fn scan_options<'a>(
    args: &[&'a [u8]],
    from: usize,
    with_type: bool,
) -> Result<ScanOptions<'a>, Reject> {
    let mut o = ScanOptions {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = from;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if eq(args[i], "count") && has_value {
            let c = ferrocache_keyspace::parse_i64(args[i + 1]).ok_or(Reject::from(ERR_NOT_INT))?;
            if c < 1 {
                return Err(ERR_SYNTAX.into());
            }
            o.count = usize::try_from(c).unwrap_or(usize::MAX);
        } else if eq(args[i], "match") && has_value {
            o.pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else if with_type && eq(args[i], "type") && has_value {
            o.type_name = Some(args[i + 1]);
        } else {
            return Err(ERR_SYNTAX.into());
        }
        i += 2;
    }
    Ok(o)
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
    }

    #[test]
    fn options() {
        let a: Vec<&[u8]> = vec![b"scan", b"0", b"MATCH", b"a*", b"count", b"5"];
        let o = scan_options(&a, 2, false).unwrap();
        assert_eq!((o.count, o.pattern), (5, Some(&b"a*"[..])));
        let a: Vec<&[u8]> = vec![b"scan", b"0", b"TYPE", b"list"];
        assert!(scan_options(&a, 2, false).is_err());
        assert_eq!(
            scan_options(&a, 2, true).unwrap().type_name,
            Some(&b"list"[..])
        );
    }
}
