//! Listpack: Redis 7's compact sequence of strings and integers (small hashes, zsets,
//! list nodes, and sets from RDB 11 on).
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = "count them"),
//! entries, and an 0xFF terminator. Each entry is an encoding byte with its data,
//! followed by a "backlen" (the entry's own size, 1 to 5 bytes) so it can be walked
//! backwards.

use super::{sign_extend, Cursor, Elem};

const HEADER: usize = 6;
const END: u8 = 0xFF;
const UNKNOWN_COUNT: u16 = u16::MAX;

/// Decodes every element, checking the header, each entry's backlen and the end.
pub fn decode(blob: &[u8]) -> Result<Vec<Elem>, String> {
    let mut c = Cursor::new(blob, "listpack");
    let total = u32::from_le_bytes(c.le::<4>()?) as usize;
    let count = u16::from_le_bytes(c.le::<2>()?);
    if total != blob.len() {
        return Err(c.err(format!("header says {total} bytes")));
    }
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len() / 2));
    loop {
        let start = c.pos;
        let b = c.u8()?;
        if b == END {
            break;
        }
        let elem = if b & 0x80 == 0 {
            Elem::Int(i64::from(b & 0x7F))
        } else if b & 0xC0 == 0x80 {
            Elem::Str(c.range(usize::from(b & 0x3F))?)
        } else if b & 0xE0 == 0xC0 {
            let lo = c.u8()?;
            Elem::Int(sign_extend(u64::from(b & 0x1F) << 8 | u64::from(lo), 13))
        } else if b & 0xF0 == 0xE0 {
            let lo = c.u8()?;
            Elem::Str(c.range(usize::from(b & 0x0F) << 8 | usize::from(lo))?)
        } else {
            match b {
                0xF0 => {
                    let n = u32::from_le_bytes(c.le::<4>()?) as usize;
                    Elem::Str(c.range(n)?)
                }
                0xF1 => Elem::Int(i64::from(i16::from_le_bytes(c.le::<2>()?))),
                0xF2 => {
                    let [a, b2, d] = c.le::<3>()?;
                    Elem::Int(sign_extend(
                        u64::from(u32::from_le_bytes([a, b2, d, 0])),
                        24,
                    ))
                }
                0xF3 => Elem::Int(i64::from(i32::from_le_bytes(c.le::<4>()?))),
                0xF4 => Elem::Int(i64::from_le_bytes(c.le::<8>()?)),
                _ => {
                    c.pos = start;
                    return Err(c.err(format!("unknown entry encoding {b:#04x}")));
                }
            }
        };
        let entry_len = c.pos - start;
        let mut expect = [0u8; 5];
        let n = encode_backlen(entry_len, &mut expect);
        let got = c.take(n)?;
        if got != &expect[..n] {
            return Err(c.err(format!("backlen does not match entry length {entry_len}")));
        }
        out.push(elem);
    }
    if !c.at_end() {
        return Err(c.err("data after the end marker"));
    }
    if count != UNKNOWN_COUNT && usize::from(count) != out.len() {
        return Err(c.err(format!("header says {count} elements, found {}", out.len())));
    }
    Ok(out)
}

/// Writes the backlen of an entry of `len` bytes into `buf`, returning its size.
/// The first byte holds the highest 7 bits; every later byte has its top bit set, so
/// a reader walking backwards knows where the number starts.
fn encode_backlen(len: usize, buf: &mut [u8; 5]) -> usize {
    let n = match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    for (k, slot) in buf.iter_mut().take(n).enumerate() {
        let shift = 7 * (n - 1 - k);
        let seven = ((len >> shift) & 0x7F) as u8;
        *slot = if k == 0 { seven } else { seven | 0x80 };
    }
    n
}

/// Encodes `items` as a listpack the way Redis does: strings that are canonical
/// integers (Redis's `string2ll` rules) are stored as integers.
pub fn encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![0u8; HEADER];
    let mut count = 0usize;
    for item in items {
        let start = out.len();
        match canonical_int(item) {
            Some(v) => encode_int(v, &mut out),
            None => encode_str(item, &mut out),
        }
        let mut bl = [0u8; 5];
        let n = encode_backlen(out.len() - start, &mut bl);
        out.extend_from_slice(&bl[..n]);
        count += 1;
    }
    out.push(END);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_le_bytes());
    let count = u16::try_from(count).unwrap_or(UNKNOWN_COUNT);
    out[4..6].copy_from_slice(&count.to_le_bytes());
    out
}

fn encode_int(v: i64, out: &mut Vec<u8>) {
    if (0..=127).contains(&v) {
        out.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let u = (v as u64) & 0x1FFF;
        out.push(0xC0 | (u >> 8) as u8);
        out.push(u as u8);
    } else if let Ok(x) = i16::try_from(v) {
        out.push(0xF1);
        out.extend_from_slice(&x.to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        out.push(0xF2);
        out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
    } else if let Ok(x) = i32::try_from(v) {
        out.push(0xF3);
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        out.push(0xF4);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn encode_str(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
}

/// The integer a string spells if it is in canonical form (no sign on zero, no
/// leading zeros or `+`, fits in i64) — exactly the strings Redis stores as integers.
pub(crate) fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(blob: &[u8]) -> Vec<String> {
        decode(blob)
            .unwrap()
            .iter()
            .map(|e| match e {
                Elem::Str(r) => String::from_utf8_lossy(&blob[r.clone()]).into_owned(),
                Elem::Int(i) => i.to_string(),
            })
            .collect()
    }

    #[test]
    fn hand_built() {
        // "ab" (6-bit string), 5 (7-bit uint), -1 (13-bit int), 1000 (13-bit int).
        let mut b = vec![0, 0, 0, 0, 4, 0];
        b.extend_from_slice(&[0x82, b'a', b'b', 3]);
        b.extend_from_slice(&[5, 1]);
        b.extend_from_slice(&[0xDF, 0xFF, 2]);
        b.extend_from_slice(&[0xC3, 0xE8, 2]);
        b.push(0xFF);
        let n = b.len() as u32;
        b[0..4].copy_from_slice(&n.to_le_bytes());
        assert_eq!(strings(&b), ["ab", "5", "-1", "1000"]);
        assert_eq!(encode([&b"ab"[..], b"5", b"-1", b"1000"]), b);
    }

    #[test]
    fn wide_encodings() {
        // int16, int24, int32, int64, a 12-bit string.
        let mut b = vec![0, 0, 0, 0, 0xFF, 0xFF];
        b.extend_from_slice(&[0xF1, 0x00, 0x80, 3]); // -32768
        b.extend_from_slice(&[0xF2, 0xFF, 0xFF, 0x7F, 4]); // 8388607
        b.extend_from_slice(&[0xF3, 0x00, 0x00, 0x00, 0x80, 5]); // i32::MIN
        b.push(0xF4);
        b.extend_from_slice(&i64::MAX.to_le_bytes());
        b.push(9);
        let s = vec![b'x'; 200];
        b.extend_from_slice(&[0xE0, 200]);
        b.extend_from_slice(&s);
        b.extend_from_slice(&[202 >> 7, 0x80 | (202 & 0x7F)]);
        b.push(0xFF);
        let n = b.len() as u32;
        b[0..4].copy_from_slice(&n.to_le_bytes());
        let got = strings(&b);
        assert_eq!(
            got[..4],
            ["-32768", "8388607", "-2147483648", &i64::MAX.to_string()]
        );
        assert_eq!(got[4], "x".repeat(200));
    }

    #[test]
    fn encode_round_trips() {
        let long = vec![b'y'; 5000];
        let items: Vec<&[u8]> = vec![
            b"",
            b"0",
            b"-0",
            b"007",
            b"127",
            b"128",
            b"-4096",
            b"4095",
            b"-4097",
            b"40000",
            b"8388608",
            b"-2147483649",
            b"9223372036854775807",
            b"9223372036854775808",
            &long,
        ];
        let blob = encode(items.iter().copied());
        let got = strings(&blob);
        let want: Vec<String> = items
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn refuses_corruption() {
        let good = encode([&b"hello"[..], b"12"]);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[4] = 3; // wrong count
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[6 + 6] = 9; // wrong backlen of "hello"
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[6] = 0xF5; // unknown encoding
        assert!(decode(&bad).is_err());
    }
}
