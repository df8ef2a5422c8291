//! Decoding one value of a given RDB type byte into the neutral model, whichever of
//! the encodings Redis used for it.

use super::primitives::{read_binary_double, read_len, read_string, read_text_double};
use super::source::Source;
use crate::encodings::{intset, listpack, ziplist, zipmap, Elem};
use crate::error::{RdbError, Result};
use crate::format::{ty, type_name, QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN};
use crate::model::RdbValue;
use bytes::Bytes;
use std::io::Read;

/// Aggregates reserve at most this many slots before their elements have arrived.
const MAX_UPFRONT_ELEMS: u64 = 4096;

/// Whether `t` is a value type byte (as opposed to an opcode or garbage).
pub(crate) fn is_value_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=21)
}

/// Reads the value of type `t`. `key` is only used in error messages.
pub(crate) fn read_value<R: Read>(src: &mut Source<R>, t: u8, key: &[u8]) -> Result<RdbValue> {
    let at = src.offset();
    let unsupported = |why: &str| RdbError::Unsupported {
        offset: at,
        what: format!(
            "{} value (RDB type {t}) of key {:?}: {why}",
            type_name(t),
            String::from_utf8_lossy(key)
        ),
    };
    let blob_err = |e: String| RdbError::corrupt(at, format!("{} value: {e}", type_name(t)));
    Ok(match t {
        ty::STRING => RdbValue::String(read_string(src, "a string value")?),
        ty::LIST => RdbValue::List(read_strings(src, "a list element")?),
        ty::SET => RdbValue::Set(read_strings(src, "a set member")?),
        ty::ZSET | ty::ZSET_2 => {
            let n = read_len(src, "a sorted set's length")?;
            let mut v = Vec::with_capacity(n.min(MAX_UPFRONT_ELEMS) as usize);
            for _ in 0..n {
                let member = read_string(src, "a sorted set member")?;
                let score = if t == ty::ZSET {
                    read_text_double(src)?
                } else {
                    read_binary_double(src)?
                };
                v.push((member, score));
            }
            RdbValue::ZSet(v)
        }
        ty::HASH => {
            let n = read_len(src, "a hash's length")?;
            let mut v = Vec::with_capacity(n.min(MAX_UPFRONT_ELEMS) as usize);
            for _ in 0..n {
                let field = read_string(src, "a hash field")?;
                let value = read_string(src, "a hash value")?;
                v.push((field, value));
            }
            RdbValue::Hash(v)
        }
        ty::MODULE_PRE_GA | ty::MODULE_2 => return Err(unsupported("modules are not supported")),
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            return Err(unsupported("ferrocache has no streams"))
        }
        ty::HASH_ZIPMAP => {
            let blob = read_string(src, "a zipmap")?;
            let pairs = zipmap::decode(&blob).map_err(blob_err)?;
            RdbValue::Hash(
                pairs
                    .into_iter()
                    .map(|(f, v)| (blob.slice(f), blob.slice(v)))
                    .collect(),
            )
        }
        ty::LIST_ZIPLIST => {
            let blob = read_string(src, "a ziplist")?;
            RdbValue::List(to_bytes(&blob, ziplist::decode(&blob).map_err(blob_err)?))
        }
        ty::SET_INTSET => {
            let blob = read_string(src, "an intset")?;
            let ints = intset::decode(&blob).map_err(blob_err)?;
            RdbValue::Set(
                ints.into_iter()
                    .map(|i| Bytes::from(i.to_string()))
                    .collect(),
            )
        }
        ty::SET_LISTPACK => {
            let blob = read_string(src, "a listpack")?;
            RdbValue::Set(to_bytes(&blob, listpack::decode(&blob).map_err(blob_err)?))
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            let blob = read_string(src, "a ziplist or listpack")?;
            let elems = if t == ty::ZSET_ZIPLIST {
                ziplist::decode(&blob)
            } else {
                listpack::decode(&blob)
            }
            .map_err(blob_err)?;
            if elems.len() % 2 != 0 {
                return Err(blob_err(format!(
                    "odd number of elements ({})",
                    elems.len()
                )));
            }
            let mut v = Vec::with_capacity(elems.len() / 2);
            for pair in elems.chunks_exact(2) {
                let score = pair[1]
                    .to_score(&blob)
                    .ok_or_else(|| blob_err("a score is not a number".into()))?;
                v.push((pair[0].to_bytes(&blob), score));
            }
            RdbValue::ZSet(v)
        }
        ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let blob = read_string(src, "a ziplist or listpack")?;
            let elems = if t == ty::HASH_ZIPLIST {
                ziplist::decode(&blob)
            } else {
                listpack::decode(&blob)
            }
            .map_err(blob_err)?;
            if elems.len() % 2 != 0 {
                return Err(blob_err(format!(
                    "odd number of elements ({})",
                    elems.len()
                )));
            }
            RdbValue::Hash(
                elems
                    .chunks_exact(2)
                    .map(|p| (p[0].to_bytes(&blob), p[1].to_bytes(&blob)))
                    .collect(),
            )
        }
        ty::LIST_QUICKLIST => {
            let nodes = read_len(src, "a quicklist's node count")?;
            let mut v = Vec::new();
            for _ in 0..nodes {
                let node_at = src.offset();
                let blob = read_string(src, "a quicklist node")?;
                let elems = ziplist::decode(&blob)
                    .map_err(|e| RdbError::corrupt(node_at, format!("quicklist node: {e}")))?;
                v.extend(elems.iter().map(|e| e.to_bytes(&blob)));
            }
            RdbValue::List(v)
        }
        ty::LIST_QUICKLIST_2 => {
            let nodes = read_len(src, "a quicklist's node count")?;
            let mut v = Vec::new();
            for _ in 0..nodes {
                let node_at = src.offset();
                let container = read_len(src, "a quicklist node container")?;
                let blob = read_string(src, "a quicklist node")?;
                match container {
                    QUICKLIST_NODE_PLAIN => v.push(blob),
                    QUICKLIST_NODE_PACKED => {
                        let elems = listpack::decode(&blob).map_err(|e| {
                            RdbError::corrupt(node_at, format!("quicklist node: {e}"))
                        })?;
                        v.extend(elems.iter().map(|e| e.to_bytes(&blob)));
                    }
                    c => {
                        return Err(RdbError::corrupt(
                            node_at,
                            format!("unknown quicklist node container {c}"),
                        ))
                    }
                }
            }
            RdbValue::List(v)
        }
        _ => return Err(RdbError::corrupt(at, format!("unknown value type {t}"))),
    })
}

fn read_strings<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<Vec<Bytes>> {
    let n = read_len(src, what)?;
    let mut v = Vec::with_capacity(n.min(MAX_UPFRONT_ELEMS) as usize);
    for _ in 0..n {
        v.push(read_string(src, what)?);
    }
    Ok(v)
}

fn to_bytes(blob: &Bytes, elems: Vec<Elem>) -> Vec<Bytes> {
    elems.iter().map(|e| e.to_bytes(blob)).collect()
}
