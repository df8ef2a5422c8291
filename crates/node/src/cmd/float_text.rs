//! INCRBYFLOAT arithmetic exactly as Redis does it: Redis parses with `strtold`,
//! adds in x87 80-bit long double and prints with `%.17Lf` (trailing zeros trimmed).
//! Clients see the long double's rounding (10.5 + 0.1 + … ends in …00001), so we
//! compute in the same format (LLVM's APFloat semantics, via rustc_apfloat) and
//! print the exact binary value the way glibc's printf does.

use rustc_apfloat::ieee::X87DoubleExtended as LongDouble;
use rustc_apfloat::{Float, Round, Status};

/// Parses a number as Redis's `string2ld`: `strtold` syntax (decimal, hex, inf),
/// no leading space, nothing after the number, no NaN, no overflow to infinity or
/// underflow to zero. The whole text must be the number (an embedded NUL is not).
pub fn parse(text: &[u8]) -> Option<LongDouble> {
    if text.contains(&0)
        || text.is_empty()
        || text.len() >= 5 * 1024
        || text[0].is_ascii_whitespace()
    {
        return None;
    }
    let s = std::str::from_utf8(text).ok()?;
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        let inf = LongDouble::INFINITY;
        return Some(if neg { -inf } else { inf });
    }
    if lower.contains("nan") || lower.contains("inf") || body.starts_with(['+', '-']) {
        return None;
    }
    // strtold reads hex floats without a binary exponent; APFloat insists on one.
    let body = if (lower.starts_with("0x")) && !lower.contains('p') {
        format!("{body}p0")
    } else {
        body.to_string()
    };
    let signed = if neg { format!("-{body}") } else { body };
    let parsed = LongDouble::from_str_r(&signed, Round::NearestTiesToEven).ok()?;
    let v = parsed.value;
    if v.is_nan() || parsed.status.contains(Status::OVERFLOW) {
        return None;
    }
    if parsed.status.contains(Status::UNDERFLOW) && v.is_zero() {
        return None;
    }
    Some(v)
}

/// `a + b` in long double; None when the result is not finite.
pub fn add(a: LongDouble, b: LongDouble) -> Option<LongDouble> {
    let sum = a.add_r(b, Round::NearestTiesToEven).value;
    sum.is_finite().then_some(sum)
}

/// Formats like Redis's `ld2string(…, LD_STR_HUMAN)`: `%.17Lf`, then trailing zeros
/// (and a bare point) removed, and "-0" shown as "0".
pub fn human(v: LongDouble) -> String {
    let bits = v.to_bits();
    let mantissa = bits as u64;
    let biased = ((bits >> 64) & 0x7fff) as i32;
    let negative = (bits >> 79) & 1 == 1;
    // value = mantissa × 2^exp (the x87 mantissa carries its integer bit explicitly).
    let exp = if biased == 0 {
        1 - 16383 - 63
    } else {
        biased - 16383 - 63
    };
    let mut text = if mantissa == 0 {
        "0.00000000000000000".to_string()
    } else if exp >= 0 {
        format!(
            "{}.00000000000000000",
            shifted_decimal(mantissa, exp as u32)
        )
    } else {
        fixed17(mantissa, (-exp) as u32)
    };
    if negative {
        text.insert(0, '-');
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `mantissa / 2^shift` printed with 17 decimals, rounded half to even as glibc does.
fn fixed17(mantissa: u64, shift: u32) -> String {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    let x = mantissa as u128 * SCALE; // < 2^121
    let q = if shift >= 127 {
        0
    } else {
        let q = x >> shift;
        let rem = x & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    format!("{}.{:017}", q / SCALE, q % SCALE)
}

/// The decimal digits of `mantissa × 2^shift` (an integer), for huge values.
fn shifted_decimal(mantissa: u64, shift: u32) -> String {
    if shift <= 64 {
        return ((mantissa as u128) << shift).to_string();
    }
    // Little-endian base-2^32 limbs.
    let limb_shift = (shift / 32) as usize;
    let bit_shift = shift % 32;
    let mut limbs = vec![0u32; limb_shift];
    let wide = (mantissa as u128) << bit_shift;
    limbs.extend([wide as u32, (wide >> 32) as u32, (wide >> 64) as u32]);
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    // Repeated division by 10^9 yields nine digits at a time, least significant first.
    let mut chunks = Vec::new();
    while !limbs.is_empty() {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | *limb as u64;
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut out = chunks.pop().map_or_else(String::new, |c| c.to_string());
    for c in chunks.iter().rev() {
        out.push_str(&format!("{c:09}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Option<String> {
        add(parse(a.as_bytes())?, parse(b.as_bytes())?).map(human)
    }

    #[test]
    fn matches_redis_long_double_results() {
        assert_eq!(incr("0", "0.1").unwrap(), "0.1");
        assert_eq!(incr("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(incr("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(incr("5.0e3", "200").unwrap(), "5200");
        assert_eq!(incr("3", "-3").unwrap(), "0");
        assert_eq!(incr("-0.5", "0.25").unwrap(), "-0.25");
        assert_eq!(incr("0x1p3", "0").unwrap(), "8");
        assert_eq!(incr("1e20", "0").unwrap(), "100000000000000000000");
        // What redis-server 7.0 on x86-64 answers for INCRBYFLOAT k 1e400 (first 60 digits).
        assert!(
            incr("1e400", "0")
                .unwrap()
                .starts_with("100000000000000000002818806839475865145864534336290520386259"),
            "{}",
            incr("1e400", "0").unwrap()
        );
        assert_eq!(incr("inf", "1"), None);
        assert!(parse(b"nan").is_none());
        assert!(parse(b" 1").is_none());
        assert!(parse(b"1 ").is_none());
        assert!(parse(b"abc").is_none());
        assert!(parse(b"1e99999").is_none());
    }

    #[test]
    fn accumulated_rounding_shows_like_redis() {
        // Redis 7.0 on x86-64: INCRBYFLOAT k 10.5, then 0.1 repeatedly.
        let mut v = parse(b"10.5").unwrap();
        for _ in 0..1951 {
            v = add(v, parse(b"0.1").unwrap()).unwrap();
        }
        let s = human(v);
        assert!(s.starts_with("205.6"), "{s}");
    }
}
