//! Ziplist: the compact sequence Redis used before listpack (RDB 9 and older files:
//! small lists, hashes and zsets, and the nodes of quicklist 1 lists).
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), entry count
//! (u16 LE, 65535 = "count them"), entries, 0xFF. Each entry is: the previous entry's
//! length (1 byte, or 0xFE and a u32 LE), an encoding header, and the data.

use super::{sign_extend, Cursor, Elem};

const HEADER: usize = 10;
const END: u8 = 0xFF;
const BIG_PREVLEN: u8 = 0xFE;

/// Decodes every element, checking the header, the prevlen chain and the end.
pub fn decode(blob: &[u8]) -> Result<Vec<Elem>, String> {
    let mut c = Cursor::new(blob, "ziplist");
    let total = u32::from_le_bytes(c.le::<4>()?) as usize;
    let tail = u32::from_le_bytes(c.le::<4>()?) as usize;
    let count = u16::from_le_bytes(c.le::<2>()?);
    if total != blob.len() {
        return Err(c.err(format!("header says {total} bytes")));
    }
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len() / 2));
    let mut prev_len = 0usize;
    let mut last_start = HEADER;
    loop {
        let start = c.pos;
        let first = c.u8()?;
        if first == END {
            break;
        }
        let stated_prev = if first == BIG_PREVLEN {
            u32::from_le_bytes(c.le::<4>()?) as usize
        } else {
            usize::from(first)
        };
        if stated_prev != prev_len {
            return Err(c.err(format!(
                "prevlen {stated_prev}, previous entry has {prev_len}"
            )));
        }
        let enc = c.u8()?;
        let elem = match enc >> 6 {
            0 => Elem::Str(c.range(usize::from(enc & 0x3F))?),
            1 => {
                let lo = c.u8()?;
                Elem::Str(c.range(usize::from(enc & 0x3F) << 8 | usize::from(lo))?)
            }
            2 if enc == 0x80 => {
                let n = u32::from_be_bytes(c.le::<4>()?) as usize;
                Elem::Str(c.range(n)?)
            }
            _ => match enc {
                0xC0 => Elem::Int(i64::from(i16::from_le_bytes(c.le::<2>()?))),
                0xD0 => Elem::Int(i64::from(i32::from_le_bytes(c.le::<4>()?))),
                0xE0 => Elem::Int(i64::from_le_bytes(c.le::<8>()?)),
                0xF0 => {
                    let [a, b, d] = c.le::<3>()?;
                    Elem::Int(sign_extend(u64::from(u32::from_le_bytes([a, b, d, 0])), 24))
                }
                0xFE => Elem::Int(i64::from(c.u8()? as i8)),
                0xF1..=0xFD => Elem::Int(i64::from(enc & 0x0F) - 1),
                _ => return Err(c.err(format!("unknown entry encoding {enc:#04x}"))),
            },
        };
        prev_len = c.pos - start;
        last_start = start;
        out.push(elem);
    }
    if !c.at_end() {
        return Err(c.err("data after the end marker"));
    }
    if !out.is_empty() && tail != last_start {
        return Err(c.err(format!("tail offset {tail}, last entry at {last_start}")));
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return Err(c.err(format!("header says {count} entries, found {}", out.len())));
    }
    Ok(out)
}

/// Builds a ziplist of strings (no integer encodings): test fixtures for old files.
#[cfg(test)]
pub(crate) fn encode_strings(items: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; HEADER];
    let mut prev = 0usize;
    let mut tail = HEADER;
    for s in items {
        let start = out.len();
        tail = start;
        if prev < 254 {
            out.push(prev as u8);
        } else {
            out.push(BIG_PREVLEN);
            out.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        let n = s.len();
        if n < 64 {
            out.push(n as u8);
        } else if n < 16384 {
            out.push(0x40 | (n >> 8) as u8);
            out.push(n as u8);
        } else {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        out.extend_from_slice(s);
        prev = out.len() - start;
    }
    out.push(END);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_le_bytes());
    out[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    out[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_integer_encoding() {
        let mut b = vec![0u8; HEADER];
        let mut starts = vec![];
        let mut prev = 0u8;
        let entries: Vec<Vec<u8>> = vec![
            vec![0xF1],                                            // immediate 0
            vec![0xFD],                                            // immediate 12
            vec![0xFE, 0x80],                                      // int8 -128
            vec![0xC0, 0x39, 0x30],                                // int16 12345
            vec![0xF0, 0x00, 0x00, 0x80],                          // int24 -8388608
            vec![0xD0, 0xFF, 0xFF, 0xFF, 0x7F],                    // int32 max
            [vec![0xE0], (-5i64).to_le_bytes().to_vec()].concat(), // int64 -5
            vec![0x02, b'h', b'i'],                                // 6-bit string
        ];
        for e in &entries {
            starts.push(b.len());
            b.push(prev);
            b.extend_from_slice(e);
            prev = (e.len() + 1) as u8;
        }
        b.push(END);
        let n = b.len() as u32;
        b[0..4].copy_from_slice(&n.to_le_bytes());
        b[4..8].copy_from_slice(&(*starts.last().unwrap() as u32).to_le_bytes());
        b[8..10].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        let got = decode(&b).unwrap();
        assert_eq!(
            got[..7],
            [0, 12, -128, 12345, -8388608, i64::from(i32::MAX), -5].map(Elem::Int)
        );
        assert_eq!(
            &b[match &got[7] {
                Elem::Str(r) => r.clone(),
                _ => panic!(),
            }],
            b"hi"
        );
    }

    #[test]
    fn long_strings_and_big_prevlen() {
        let a = vec![b'a'; 300];
        let z = vec![b'z'; 20_000];
        let blob = encode_strings(&[&a, b"x", &z, b"end"]);
        let got = decode(&blob).unwrap();
        let lens: Vec<usize> = got
            .iter()
            .map(|e| match e {
                Elem::Str(r) => r.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(lens, [300, 1, 20_000, 3]);
    }

    #[test]
    fn refuses_corruption() {
        let good = encode_strings(&[b"one", b"two"]);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[HEADER + 5] = 9; // second entry's prevlen
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[8] = 5; // count
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[4] = 0; // tail
        assert!(decode(&bad).is_err());
    }
}
