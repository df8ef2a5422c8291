//! The building blocks every record is made of: length fields, strings (raw,
//! integer-encoded, LZF-compressed) and the two ways scores are stored.

use super::source::Source;
use crate::error::{RdbError, Result};
use crate::format::enc;
use crate::lzf;
use bytes::Bytes;
use std::io::Read;

/// A length field, or the marker of a specially encoded string.
pub(crate) enum Len {
    Plain(u64),
    Special(u8),
}

/// Reads a length field: the top two bits of the first byte say how long it is
/// (`00` 6 bits, `01` 14 bits big-endian, `10` then 32 or 64 bits big-endian,
/// `11` a special string encoding in the low 6 bits).
pub(crate) fn read_len_or_special<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<Len> {
    let at = src.offset();
    let b = src.u8(what)?;
    Ok(match b >> 6 {
        0 => Len::Plain(u64::from(b & 0x3F)),
        1 => Len::Plain(u64::from(b & 0x3F) << 8 | u64::from(src.u8(what)?)),
        2 => match b {
            0x80 => Len::Plain(u64::from(u32::from_be_bytes(src.array(what)?))),
            0x81 => Len::Plain(u64::from_be_bytes(src.array(what)?)),
            _ => {
                return Err(RdbError::corrupt(
                    at,
                    format!("bad length prefix {b:#04x} for {what}"),
                ))
            }
        },
        _ => Len::Special(b & 0x3F),
    })
}

/// Reads a length where a string encoding would make no sense.
pub(crate) fn read_len<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<u64> {
    let at = src.offset();
    match read_len_or_special(src, what)? {
        Len::Plain(n) => Ok(n),
        Len::Special(e) => Err(RdbError::corrupt(
            at,
            format!("string encoding {e} where {what} was expected"),
        )),
    }
}

/// Reads a string in any of its encodings; integers come back as decimal text.
pub(crate) fn read_string<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<Bytes> {
    let at = src.offset();
    match read_len_or_special(src, what)? {
        Len::Plain(n) => Ok(Bytes::from(src.bytes(n, what)?)),
        Len::Special(enc::INT8) => Ok(int_text(i64::from(src.u8(what)? as i8))),
        Len::Special(enc::INT16) => Ok(int_text(i64::from(i16::from_le_bytes(src.array(what)?)))),
        Len::Special(enc::INT32) => Ok(int_text(i64::from(i32::from_le_bytes(src.array(what)?)))),
        Len::Special(enc::LZF) => {
            let clen = read_len(src, "the compressed length of an LZF string")?;
            let len = read_len(src, "the length of an LZF string")?;
            let data = src.bytes(clen, "LZF-compressed bytes")?;
            let len =
                usize::try_from(len).map_err(|_| RdbError::corrupt(at, "LZF length overflows"))?;
            lzf::decompress(&data, len).map(Bytes::from).map_err(|e| {
                RdbError::corrupt(at, format!("LZF string ({clen} bytes to {len}): {e:?}"))
            })
        }
        Len::Special(e) => Err(RdbError::corrupt(
            at,
            format!("unknown string encoding {e} in {what}"),
        )),
    }
}

fn int_text(v: i64) -> Bytes {
    Bytes::from(v.to_string())
}

/// A score of the old ZSET type: a length byte then ASCII text, with 253/254/255
/// standing for NaN, +inf and -inf. NaN is refused, as Redis refuses it.
pub(crate) fn read_text_double<R: Read>(src: &mut Source<R>) -> Result<f64> {
    let at = src.offset();
    let v = match src.u8("a score")? {
        253 => f64::NAN,
        254 => f64::INFINITY,
        255 => f64::NEG_INFINITY,
        n => {
            let text = src.bytes(u64::from(n), "a score")?;
            std::str::from_utf8(&text)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| {
                    RdbError::corrupt(
                        at,
                        format!("score {:?} is not a number", String::from_utf8_lossy(&text)),
                    )
                })?
        }
    };
    if v.is_nan() {
        return Err(RdbError::corrupt(at, "NaN score in a sorted set"));
    }
    Ok(v)
}

/// A score of ZSET_2: an IEEE 754 double, little-endian.
pub(crate) fn read_binary_double<R: Read>(src: &mut Source<R>) -> Result<f64> {
    let at = src.offset();
    let v = f64::from_le_bytes(src.array("a binary score")?);
    if v.is_nan() {
        return Err(RdbError::corrupt(at, "NaN score in a sorted set"));
    }
    Ok(v)
}
