//! Reading sorted-set arguments the way Redis does: scores through C's `strtod`
//! (hex floats, `inf`, leading blanks in ranges …) with Redis's two acceptance
//! rules, score ranges with `(` for exclusive ends, and lexicographic ranges.

use crate::dispatch::Reject;

pub const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";
pub const ERR_RANGE_FLOAT: &str = "ERR min or max is not a float";
pub const ERR_RANGE_LEX: &str = "ERR min or max not valid string range item";

/// What C's `strtod` makes of the start of `s`: the value, how many bytes it
/// consumed (0 when it found no number) and whether it reported ERANGE because the
/// result overflowed to infinity or underflowed to zero.
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let sign_at = i;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let signed = |v: f64| if neg { -v } else { v };
    if starts_with_ci(rest, b"inf") {
        let len = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return (signed(f64::INFINITY), i + len, false);
    }
    if starts_with_ci(rest, b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let close = s[end + 1..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
            if let Some(p) = close {
                if s[end + 1 + p] == b')' {
                    end += p + 2;
                }
            }
        }
        return (f64::NAN, end, false);
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, erange)) = hex(&rest[2..]) {
            return (signed(v), i + 2 + used, erange);
        }
    }
    // Decimal: digits, an optional fraction, an optional exponent.
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = i + digits(i);
    let mut mantissa_digits = end - i;
    if s.get(end) == Some(&b'.') {
        let frac = digits(end + 1);
        mantissa_digits += frac;
        end += 1 + frac;
    }
    if mantissa_digits == 0 {
        return (0.0, 0, false);
    }
    let mantissa_end = end;
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(s.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let n = digits(e);
        if n > 0 {
            end = e + n;
        }
    }
    let text = std::str::from_utf8(&s[sign_at..end]).expect("ASCII by construction");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero = s[i..mantissa_end].iter().any(|c| (b'1'..=b'9').contains(c));
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    (v, end, erange)
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// A hexadecimal float body after "0x": hex digits with an optional point and an
/// optional binary exponent `p±n`. None when there is no hex digit (strtod then
/// reads just the "0").
fn hex(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    let mut i = 0;
    let mut seen_point = false;
    while i < s.len() {
        let c = s[i];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'.' if !seen_point => {
                seen_point = true;
                i += 1;
                continue;
            }
            _ => break,
        };
        any = true;
        if mant >> 60 == 0 {
            mant = mant << 4 | d as u64;
            if seen_point {
                exp -= 4;
            }
        } else {
            // Beyond 64 bits of mantissa: only whether anything is left matters.
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let neg = match s.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let start = j;
        let mut e: i64 = 0;
        while j < s.len() && s[j].is_ascii_digit() {
            e = (e * 10 + (s[j] - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j > start {
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if sticky {
        // The lowest bit is far below double precision: it only breaks rounding ties.
        mant |= 1;
    }
    let v = scale2(mant as f64, exp);
    let erange = v.is_infinite() || (v == 0.0 && mant != 0);
    Some((v, i, erange))
}

/// `v` × 2^`exp` in steps that cannot overflow or underflow on the way.
fn scale2(mut v: f64, mut exp: i64) -> f64 {
    while exp > 1000 {
        v *= 2f64.powi(1000);
        exp -= 1000;
    }
    while exp < -1000 {
        v *= 2f64.powi(-1000);
        exp += 1000;
    }
    v * 2f64.powi(exp as i32)
}

/// A score, increment or weight as Redis's `string2d` accepts it: the whole
/// argument is a number, no leading blank, not NaN, not out of range.
pub fn double(a: &[u8]) -> Option<f64> {
    if a.is_empty() || a[0].is_ascii_whitespace() || a[0] == 0x0b {
        return None;
    }
    let (v, used, erange) = strtod(a);
    (used == a.len() && !erange && !v.is_nan()).then_some(v)
}

/// A score argument: `ERR value is not a valid float` otherwise.
pub fn score_arg(a: &[u8]) -> Result<f64, Reject> {
    double(a).ok_or(Reject::from(ERR_NOT_FLOAT))
}

/// Redis reads range arguments as C strings: a NUL ends them.
fn c_str(a: &[u8]) -> &[u8] {
    a.iter().position(|&c| c == 0).map_or(a, |i| &a[..i])
}

/// A score interval of ZRANGEBYSCORE and friends.
#[derive(Debug, Clone, Copy)]
pub struct ScoreRange {
    pub min: f64,
    pub minex: bool,
    pub max: f64,
    pub maxex: bool,
}

impl ScoreRange {
    /// Parses `min` and `max`; `(` makes an end exclusive. Any text `strtod`
    /// consumes entirely is accepted (even the empty string: 0), NaN is not.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reject> {
        let end = |a: &[u8]| -> Option<(f64, bool)> {
            let a = c_str(a);
            let (body, ex) = match a.first() {
                Some(b'(') => (&a[1..], true),
                _ => (a, false),
            };
            let (v, used, _) = strtod(body);
            (used == body.len() && !v.is_nan()).then_some((v, ex))
        };
        match (end(min), end(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
                min,
                minex,
                max,
                maxex,
            }),
            _ => Err(ERR_RANGE_FLOAT.into()),
        }
    }

    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// A range no score can be in.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexEnd<'a> {
    /// `-`: below every string.
    Lowest,
    /// `+`: above every string.
    Highest,
    Value(&'a [u8]),
}

/// A lexicographic interval of ZRANGEBYLEX and friends.
#[derive(Debug, Clone, Copy)]
pub struct LexRange<'a> {
    pub min: LexEnd<'a>,
    pub minex: bool,
    pub max: LexEnd<'a>,
    pub maxex: bool,
}

impl<'a> LexEnd<'a> {
    /// Compares a member with this end (`-` and `+` are infinitely low and high).
    fn cmp_member(&self, m: &[u8]) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match self {
            LexEnd::Lowest => Greater,
            LexEnd::Highest => Less,
            LexEnd::Value(v) => m.cmp(v),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            LexEnd::Lowest => 0,
            LexEnd::Value(_) => 1,
            LexEnd::Highest => 2,
        }
    }
}

impl<'a> LexRange<'a> {
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, Reject> {
        let end = |a: &'a [u8]| -> Option<(LexEnd<'a>, bool)> {
            match a.first()? {
                b'+' if a.len() == 1 => Some((LexEnd::Highest, true)),
                b'-' if a.len() == 1 => Some((LexEnd::Lowest, true)),
                b'(' => Some((LexEnd::Value(&a[1..]), true)),
                b'[' => Some((LexEnd::Value(&a[1..]), false)),
                _ => None,
            }
        };
        match (end(min), end(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(LexRange {
                min,
                minex,
                max,
                maxex,
            }),
            _ => Err(ERR_RANGE_LEX.into()),
        }
    }

    pub fn gte_min(&self, m: &[u8]) -> bool {
        let c = self.min.cmp_member(m);
        if self.minex {
            c.is_gt()
        } else {
            c.is_ge()
        }
    }

    pub fn lte_max(&self, m: &[u8]) -> bool {
        let c = self.max.cmp_member(m);
        if self.maxex {
            c.is_lt()
        } else {
            c.is_le()
        }
    }

    /// A range no member can be in (min above max, or equal with an open end).
    pub fn is_empty(&self) -> bool {
        let c = match (self.min, self.max) {
            (LexEnd::Value(a), LexEnd::Value(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        };
        c.is_gt() || (c.is_eq() && (self.minex || self.maxex))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        assert_eq!(strtod(b"1.5xyz"), (1.5, 3, false));
        assert_eq!(strtod(b"  -2e3"), (-2000.0, 6, false));
        assert_eq!(strtod(b"1e"), (1.0, 1, false));
        assert_eq!(strtod(b"0x1p3"), (8.0, 5, false));
        assert_eq!(strtod(b"0x.8"), (0.5, 4, false));
        assert_eq!(strtod(b"0x"), (0.0, 1, false));
        assert_eq!(strtod(b"0x1p"), (1.0, 3, false));
        assert_eq!(strtod(b"-Infinity"), (f64::NEG_INFINITY, 9, false));
        assert_eq!(strtod(b"infx").1, 3);
        assert!(strtod(b"nan(123)").0.is_nan());
        assert_eq!(strtod(b"nan(123)").1, 8);
        assert_eq!(strtod(b""), (0.0, 0, false));
        assert_eq!(strtod(b"  "), (0.0, 0, false));
        assert_eq!(strtod(b"."), (0.0, 0, false));
        assert_eq!(strtod(b"1e400"), (f64::INFINITY, 5, true));
        assert_eq!(strtod(b"1e-400"), (0.0, 6, true));
        assert_eq!(strtod(b"0e-400"), (0.0, 6, false));
    }

    #[test]
    fn doubles_like_string2d() {
        assert_eq!(double(b"1.5"), Some(1.5));
        assert_eq!(double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(double(b"0x10"), Some(16.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1\x00",
        ] {
            assert_eq!(double(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ranges() {
        let r = ScoreRange::parse(b"(1", b" 2").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == 2.0);
        assert!(ScoreRange::parse(b"", b"(").is_ok());
        assert!(ScoreRange::parse(b"1\x00junk", b"2").is_ok());
        assert!(ScoreRange::parse(b"nan", b"2").is_err());
        assert!(ScoreRange::parse(b"1 ", b"2").is_err());
        let l = LexRange::parse(b"-", b"[b").unwrap();
        assert!(l.gte_min(b"") && l.lte_max(b"b") && !l.lte_max(b"ba"));
        assert!(LexRange::parse(b"a", b"+").is_err());
        assert!(LexRange::parse(b"--", b"+").is_err());
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"+", b"+").unwrap().is_empty());
        assert!(!LexRange::parse(b"-", b"+").unwrap().is_empty());
        assert!(LexRange::parse(b"(a", b"[a").unwrap().is_empty());
        assert!(!LexRange::parse(b"[a", b"[a").unwrap().is_empty());
    }
}
