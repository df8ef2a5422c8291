//! Encoding values the way Redis 7.0 loads them: length fields, strings (integer,
//! LZF or raw, chosen as Redis chooses), and the generic encoding of each type.
//! Shared by the file writer and DUMP payloads.

use crate::encodings::listpack::canonical_int;
use crate::format::{enc, ty};
use crate::lzf;
use crate::model::RdbValue;
use std::io;

/// Strings at most this long are never compressed (Redis's threshold).
const MIN_COMPRESS_LEN: usize = 21;

/// Where encoded bytes go: a buffer, or the checksumming file output.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()>;
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// Writes a length field in its shortest form.
pub(crate) fn put_len(s: &mut impl Sink, n: u64) -> io::Result<()> {
    if n < 1 << 6 {
        s.put(&[n as u8])
    } else if n < 1 << 14 {
        s.put(&[0x40 | (n >> 8) as u8, n as u8])
    } else if let Ok(n32) = u32::try_from(n) {
        s.put(&[0x80])?;
        s.put(&n32.to_be_bytes())
    } else {
        s.put(&[0x81])?;
        s.put(&n.to_be_bytes())
    }
}

/// Writes a string as Redis does: a canonical integer that fits in 32 bits as an
/// integer encoding; otherwise, with `compress`, LZF when the string is longer than
/// 20 bytes and compression saves at least 4 bytes; otherwise raw.
pub(crate) fn put_string(s: &mut impl Sink, bytes: &[u8], compress: bool) -> io::Result<()> {
    if bytes.len() <= 11 {
        if let Some(v) = canonical_int(bytes) {
            if let Ok(x) = i8::try_from(v) {
                return s.put(&[0xC0 | enc::INT8, x as u8]);
            }
            if let Ok(x) = i16::try_from(v) {
                s.put(&[0xC0 | enc::INT16])?;
                return s.put(&x.to_le_bytes());
            }
            if let Ok(x) = i32::try_from(v) {
                s.put(&[0xC0 | enc::INT32])?;
                return s.put(&x.to_le_bytes());
            }
        }
    }
    if compress && bytes.len() >= MIN_COMPRESS_LEN {
        if let Some(c) = lzf::compress(bytes, bytes.len() - 3) {
            s.put(&[0xC0 | enc::LZF])?;
            put_len(s, c.len() as u64)?;
            put_len(s, bytes.len() as u64)?;
            return s.put(&c);
        }
    }
    put_len(s, bytes.len() as u64)?;
    s.put(bytes)
}

/// The type byte the value is written with.
pub(crate) fn type_byte(v: &RdbValue) -> u8 {
    match v {
        RdbValue::String(_) => ty::STRING,
        RdbValue::List(_) => ty::LIST,
        RdbValue::Set(_) => ty::SET,
        RdbValue::Hash(_) => ty::HASH,
        RdbValue::ZSet(_) => ty::ZSET_2,
    }
}

/// Writes the value (without its type byte) in the generic encoding of its type;
/// Redis converts small aggregates to listpacks/intsets itself while loading.
pub(crate) fn put_value(s: &mut impl Sink, v: &RdbValue, compress: bool) -> io::Result<()> {
    match v {
        RdbValue::String(b) => put_string(s, b, compress),
        RdbValue::List(items) | RdbValue::Set(items) => {
            put_len(s, items.len() as u64)?;
            items.iter().try_for_each(|i| put_string(s, i, compress))
        }
        RdbValue::Hash(pairs) => {
            put_len(s, pairs.len() as u64)?;
            pairs.iter().try_for_each(|(f, v)| {
                put_string(s, f, compress)?;
                put_string(s, v, compress)
            })
        }
        RdbValue::ZSet(pairs) => {
            put_len(s, pairs.len() as u64)?;
            pairs.iter().try_for_each(|(m, score)| {
                put_string(s, m, compress)?;
                s.put(&score.to_le_bytes())
            })
        }
    }
}

/// Why Redis would refuse to load `v`, if it would.
pub(crate) fn check_value(v: &RdbValue) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!(
            "empty {} (Redis never stores empty aggregates)",
            v.type_name()
        ));
    }
    if let RdbValue::ZSet(pairs) = v {
        if pairs.iter().any(|(_, s)| s.is_nan()) {
            return Err("NaN score in a sorted set".into());
        }
    }
    Ok(())
}
