//! DUMP/RESTORE payloads in Redis's serialisation: the value's type byte and
//! encoding, then the RDB version (u16 LE) and the CRC-64 (u64 LE) of all that.

use crate::crc::crc64;
use crate::encode::{put_value, type_byte};
use crate::error::{RdbError, Result};
use crate::format::RDB_VERSION;
use crate::model::RdbValue;
use crate::reader::source::Source;
use crate::reader::value::{is_value_type, read_value};
use bytes::Bytes;

const FOOTER: usize = 10;

/// Serialises `value` as Redis 7.0's DUMP does (long strings LZF-compressed).
///
/// The value is not checked: an empty aggregate or a NaN score gives a payload that
/// RESTORE refuses, as it would refuse one made by anyone else.
pub fn dump_payload(value: &RdbValue) -> Bytes {
    let mut buf = vec![type_byte(value)];
    if let Err(e) = put_value(&mut buf, value, true) {
        unreachable!("writing into a Vec cannot fail: {e}");
    }
    buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    Bytes::from(buf)
}

/// Parses a DUMP payload, checking its footer as Redis does: a payload from a newer
/// RDB version, or with a wrong checksum, is refused with
/// [`RdbError::PayloadFooter`]; a bad body with another error (whose
/// [`RdbError::restore_error_text`] is Redis's "Bad data format").
pub fn parse_payload(payload: &[u8]) -> Result<RdbValue> {
    if payload.len() < FOOTER {
        return Err(RdbError::PayloadFooter);
    }
    let body_end = payload.len() - FOOTER;
    let footer = &payload[body_end..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(
        footer[2..]
            .try_into()
            .map_err(|_| RdbError::PayloadFooter)?,
    );
    if version > RDB_VERSION || crc != crc64(&payload[..body_end + 2]) {
        return Err(RdbError::PayloadFooter);
    }
    let body = &payload[..body_end];
    let mut src = Source::with_buffer(body, body.len());
    let t = src.u8("the value type")?;
    if !is_value_type(t) {
        return Err(RdbError::corrupt(0, format!("unknown value type {t}")));
    }
    let value = read_value(&mut src, t, b"(payload)")?;
    if !src.at_eof()? {
        return Err(RdbError::corrupt(src.offset(), "data after the value"));
    }
    Ok(value)
}
