//! Values between the keyspace's `Value` and the RDB crate's neutral `RdbValue`.
//!
//! Loading gives each value the encoding Redis 7.0's `rdbLoadObject` gives it for
//! its size (not the encoding the file happened to store), because OBJECT ENCODING
//! after a load must read the same as on a redis-server loading the same file.

use crate::config::Settings;
use bytes::Bytes;
use ferrocache_keyspace::types::set::Member;
use ferrocache_keyspace::types::zset::{order, Entry as ZEntry, Limits};
use ferrocache_keyspace::{Collection, Hash, List, Set, SmallBytes, Value, ZSet};
use ferrocache_rdb::RdbValue;
use std::collections::HashSet;

/// The neutral form of a stored value (what DUMP and a snapshot write).
pub fn to_rdb(value: &Value) -> RdbValue {
    let b = |s: &[u8]| Bytes::copy_from_slice(s);
    match value {
        Value::Int(i) => RdbValue::String(Bytes::from(i.to_string())),
        // A long string is handed over by reference, not copied: a snapshot of
        // large values spent half its time in memcpy.
        Value::Str(s) if s.heap_size() > 0 => RdbValue::String(Bytes::from_owner(s.clone())),
        Value::Str(s) => RdbValue::String(b(s)),
        Value::Raw(v) => RdbValue::String(b(v)),
        Value::List(l) => RdbValue::List(l.iter().map(b).collect()),
        Value::Set(s) => RdbValue::Set(s.iter().map(member_bytes).collect()),
        Value::Hash(h) => RdbValue::Hash(h.iter().map(|(f, v)| (b(f), b(v))).collect()),
        Value::ZSet(z) => RdbValue::ZSet(z.iter().map(|e| (b(&e.member), e.score)).collect()),
    }
}

fn member_bytes(m: Member<'_>) -> Bytes {
    m.with_bytes(Bytes::copy_from_slice)
}

/// Why a value read from a file or payload cannot become a key, in the words of
/// Redis's loader; `None` when it can. Redis refuses these as corruption (RESTORE
/// answers "Bad data format"), so they are checked before conversion.
pub fn invalid(value: &RdbValue) -> Option<&'static str> {
    match value {
        RdbValue::String(_) | RdbValue::List(_) => None,
        RdbValue::Set(members) => has_duplicates(members.iter().map(|m| &m[..]))
            .then_some("Duplicate set members detected"),
        RdbValue::Hash(pairs) => has_duplicates(pairs.iter().map(|(f, _)| &f[..]))
            .then_some("Duplicate hash fields detected"),
        RdbValue::ZSet(pairs) => {
            if pairs.iter().any(|(_, s)| s.is_nan()) {
                Some("Zset with NAN score detected")
            } else if has_duplicates(pairs.iter().map(|(m, _)| &m[..])) {
                Some("Duplicate zset fields detected")
            } else {
                None
            }
        }
    }
}

fn has_duplicates<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    let mut items = items;
    items.any(|i| !seen.insert(i))
}

/// A stored value for `value`, in the encoding Redis gives a loaded value of this
/// size under `settings`' thresholds. Call `invalid` first: duplicates are merged
/// here (last wins) rather than refused.
pub fn from_rdb(value: RdbValue, settings: &Settings) -> Value {
    match value {
        // tryObjectEncoding: int when the text is a canonical i64, else embstr/raw.
        RdbValue::String(s) => Value::string(&s),
        RdbValue::List(items) => items
            .iter()
            .map(|i| SmallBytes::new(i))
            .collect::<List>()
            .into_value(),
        RdbValue::Set(members) => {
            // An intset while every member is an integer and the count allows it;
            // `Set::add` converts exactly when Redis's loader does.
            let max = settings.set_max_intset_entries;
            let mut set = Set::default();
            for m in &members {
                set.add(m, max);
            }
            set.into_value()
        }
        RdbValue::Hash(pairs) => {
            let small = pairs.len() <= settings.hash_max_listpack_entries
                && pairs.iter().all(|(f, v)| {
                    f.len() <= settings.hash_max_listpack_value
                        && v.len() <= settings.hash_max_listpack_value
                });
            let mut hash = Hash::default();
            if !small {
                hash.convert();
            }
            for (f, v) in &pairs {
                hash.set(f, v);
            }
            hash.into_value()
        }
        RdbValue::ZSet(pairs) => {
            let mut entries: Vec<ZEntry> = pairs
                .iter()
                .map(|(m, s)| ZEntry {
                    score: *s,
                    member: SmallBytes::new(m),
                })
                .collect();
            entries.sort_by(|a, b| order(a.score, &a.member, b.score, &b.member));
            entries.dedup_by(|a, b| a.member == b.member);
            let limits = Limits {
                entries: settings.zset_max_listpack_entries,
                value: settings.zset_max_listpack_value,
            };
            ZSet::from_sorted(entries, limits).into_value()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn settings() -> Settings {
        Config::default().settings()
    }

    fn bytes(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn strings_get_redis_encodings() {
        let s = settings();
        let enc = |v: &str| from_rdb(RdbValue::String(bytes(v)), &s).encoding();
        assert_eq!(enc("12345"), "int");
        assert_eq!(enc("012"), "embstr");
        assert_eq!(enc(&"x".repeat(44)), "embstr");
        assert_eq!(enc(&"x".repeat(45)), "raw");
    }

    #[test]
    fn aggregates_get_encodings_by_size() {
        let s = settings();
        let set = |n: usize, text: bool| {
            let members = (0..n)
                .map(|i| bytes(&if text { format!("m{i}") } else { i.to_string() }))
                .collect();
            from_rdb(RdbValue::Set(members), &s).encoding()
        };
        assert_eq!(set(512, false), "intset");
        assert_eq!(set(513, false), "hashtable");
        assert_eq!(set(3, true), "hashtable");

        let hash = |n: usize, len: usize| {
            let pairs = (0..n)
                .map(|i| (bytes(&format!("f{i}")), bytes(&"v".repeat(len))))
                .collect();
            from_rdb(RdbValue::Hash(pairs), &s).encoding()
        };
        assert_eq!(hash(128, 64), "listpack");
        assert_eq!(hash(513, 1), "hashtable");
        assert_eq!(hash(2, 65), "hashtable");

        let zset = |n: usize, len: usize| {
            let pairs = (0..n)
                .map(|i| (bytes(&format!("{i}{}", "m".repeat(len))), i as f64))
                .collect();
            from_rdb(RdbValue::ZSet(pairs), &s).encoding()
        };
        assert_eq!(zset(128, 1), "listpack");
        assert_eq!(zset(129, 1), "skiplist");
        assert_eq!(zset(3, 70), "skiplist");
    }

    #[test]
    fn round_trip_keeps_contents_and_zset_order() {
        let s = settings();
        let z = RdbValue::ZSet(vec![
            (bytes("b"), 2.0),
            (bytes("a"), 1.0),
            (bytes("c"), -0.5),
        ]);
        let back = to_rdb(&from_rdb(z, &s));
        assert_eq!(
            back,
            RdbValue::ZSet(vec![
                (bytes("c"), -0.5),
                (bytes("a"), 1.0),
                (bytes("b"), 2.0)
            ])
        );
        let set = RdbValue::Set(vec![bytes("3"), bytes("1"), bytes("2")]);
        assert_eq!(
            to_rdb(&from_rdb(set, &s)),
            RdbValue::Set(vec![bytes("1"), bytes("2"), bytes("3")])
        );
        assert_eq!(to_rdb(&Value::Int(-7)), RdbValue::String(bytes("-7")));
    }

    #[test]
    fn corrupt_values_are_named() {
        assert!(invalid(&RdbValue::Set(vec![bytes("a"), bytes("a")])).is_some());
        assert!(invalid(&RdbValue::ZSet(vec![(bytes("a"), f64::NAN)])).is_some());
        assert!(invalid(&RdbValue::Hash(vec![(bytes("f"), bytes("1"))])).is_none());
    }
}
