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
