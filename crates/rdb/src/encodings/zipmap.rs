//! Zipmap: the compact hash encoding of Redis 2.x (RDB type 9, only in old files).
//!
//! Layout: a count byte (254 or more = "count them"), then per pair: key length,
//! key, value length, a "free" byte, value, `free` unused bytes; 0xFF ends it.
//! A length is one byte (0..=253), or 254 followed by a u32 LE.

use super::Cursor;
use std::ops::Range;

const END: u8 = 0xFF;
const BIG_LEN: u8 = 254;

/// One (field, value) pair as ranges of the blob.
pub type Pair = (Range<usize>, Range<usize>);

/// Decodes the (field, value) pairs.
pub fn decode(blob: &[u8]) -> Result<Vec<Pair>, String> {
    let mut c = Cursor::new(blob, "zipmap");
    let count = c.u8()?;
    let mut out = Vec::new();
    while let Some(field_len) = len(&mut c)? {
        let field = c.range(field_len)?;
        let Some(value_len) = len(&mut c)? else {
            return Err(c.err("end marker where a value length was expected"));
        };
        let free = c.u8()?;
        let value = c.range(value_len)?;
        c.take(usize::from(free))?;
        out.push((field, value));
    }
    if !c.at_end() {
        return Err(c.err("data after the end marker"));
    }
    if count < BIG_LEN && usize::from(count) != out.len() {
        return Err(c.err(format!("header says {count} pairs, found {}", out.len())));
    }
    Ok(out)
}

/// A length, or `None` at the end marker.
fn len(c: &mut Cursor<'_>) -> Result<Option<usize>, String> {
    match c.u8()? {
        END => Ok(None),
        BIG_LEN => Ok(Some(u32::from_le_bytes(c.le::<4>()?) as usize)),
        n => Ok(Some(usize::from(n))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_built() {
        // {"a": "xy"} with 2 free bytes, {"bb": ""}.
        let b = [
            2, 1, b'a', 2, 2, b'x', b'y', 0, 0, 2, b'b', b'b', 0, 0, 0xFF,
        ];
        let got = decode(&b).unwrap();
        assert_eq!(got, vec![(2..3, 5..7), (10..12, 14..14)]);
        let mut big = vec![1, BIG_LEN];
        big.extend_from_slice(&300u32.to_le_bytes());
        big.extend_from_slice(&[b'k'; 300]);
        big.extend_from_slice(&[1, 0, b'v', 0xFF]);
        let got = decode(&big).unwrap();
        assert_eq!(got[0].0.len(), 300);
    }

    #[test]
    fn refuses_corruption() {
        let b = [1, 1, b'a', 1, 0, b'x', 0xFF];
        for cut in 0..b.len() {
            assert!(decode(&b[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[2, 1, b'a', 1, 0, b'x', 0xFF]).is_err());
        assert!(decode(&[1, 1, b'a', 0xFF]).is_err());
        assert!(decode(&[1, 1, b'a', 1, 0, b'x', 0xFF, 0]).is_err());
    }
}
