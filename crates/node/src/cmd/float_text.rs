//! INCRBYFLOAT arithmetic and formatting. Redis adds in 80-bit long double and
//! prints with `%.17Lf`; f64 would turn 0.1 + 0.2 into 0.30000000000000004. Exact
//! decimal arithmetic gives Redis's answer for every ordinary input; beyond its
//! range we fall back to f64.

/// Adds two decimal texts exactly when both fit in 17 integer and 17 fractional
/// digits; None when they do not (the caller then uses f64).
pub fn add_exact(a: &[u8], b: &[u8]) -> Option<String> {
    let x = parse_fixed(a)?;
    let y = parse_fixed(b)?;
    Some(format_fixed(x.checked_add(y)?))
}

const SCALE_DIGITS: u32 = 17;
const SCALE: i128 = 10i128.pow(SCALE_DIGITS);

fn parse_fixed(text: &[u8]) -> Option<i128> {
    let s = std::str::from_utf8(text).ok()?;
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if int.len() > 17 || frac.len() > SCALE_DIGITS as usize {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int_v: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_v: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    frac_v *= 10i128.pow(SCALE_DIGITS - frac.len() as u32);
    let v = int_v * SCALE + frac_v;
    Some(if neg { -v } else { v })
}

fn format_fixed(v: i128) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let int = a / SCALE as u128;
    let frac = a % SCALE as u128;
    let mut s = if neg && a != 0 {
        "-".to_string()
    } else {
        String::new()
    };
    s.push_str(&int.to_string());
    if frac != 0 {
        let f = format!("{:017}", frac);
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// `%.17f` with trailing zeros removed, as Redis's LD_STR_HUMAN.
pub fn human(v: f64) -> String {
    let s = format!("{:.17}", v);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimal_sums() {
        assert_eq!(add_exact(b"0.1", b"0.2").unwrap(), "0.3");
        assert_eq!(add_exact(b"10.5", b"0.1").unwrap(), "10.6");
        assert_eq!(add_exact(b"5", b"-5").unwrap(), "0");
        assert_eq!(add_exact(b"-1.5", b"0.25").unwrap(), "-1.25");
        assert_eq!(add_exact(b"3.0e3", b"1"), None);
        assert_eq!(human(5.0e3), "5000");
    }
}
