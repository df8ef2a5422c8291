//! Loading an RDB file into the keyspace. The file is read into a fresh keyspace
//! and swapped in only after its checksum verified, so a corrupt or truncated file
//! leaves the live data untouched: nothing is ever half-loaded.

use super::convert::{from_rdb, invalid};
use crate::config::Settings;
use anyhow::{anyhow, bail};
use ferrocache_keyspace::{lfu, Entry, Keyspace};
use ferrocache_rdb::{Item, RdbReader};
use std::io::Read;

/// What a load found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadInfo {
    /// Keys loaded.
    pub keys: u64,
    /// Keys left out because their TTL had already passed (as a Redis primary does).
    pub expired_skipped: u64,
    /// The file's `repl-id` and `repl-offset` aux fields, for replication.
    pub repl_id: Option<String>,
    pub repl_offset: Option<u64>,
    /// `repl-stream-db`: the database the stream had selected at that offset.
    pub repl_stream_db: Option<usize>,
}

/// Loads an RDB file, replacing every database's contents; on any error the
/// keyspace is unchanged. Reads the whole input before touching `ks`, so callers
/// that can should use `read_rdb` without the lock and `install` with it.
pub fn load_rdb<R: Read>(
    input: R,
    ks: &mut Keyspace,
    settings: &Settings,
    now_ms: u64,
) -> anyhow::Result<LoadInfo> {
    let (fresh, info) = read_rdb(input, ks.dbs.len(), settings, now_ms)?;
    install(ks, fresh);
    Ok(info)
}

/// Reads an RDB file into a new keyspace of `databases` databases (no lock needed).
pub fn read_rdb<R: Read>(
    input: R,
    databases: usize,
    settings: &Settings,
    now_ms: u64,
) -> anyhow::Result<(Keyspace, LoadInfo)> {
    let mut ks = Keyspace::new(databases);
    let mut info = LoadInfo::default();
    let lfu_policy = settings.policy.is_lfu();
    let mut reader = RdbReader::new(input)?;
    let (mut empty_skipped, mut functions) = (0u64, 0u64);
    while let Some(item) = reader.next_item()? {
        let e = match item {
            Item::Aux { key, value } => {
                match &key[..] {
                    b"repl-id" => info.repl_id = Some(String::from_utf8_lossy(&value).into()),
                    b"repl-stream-db" => {
                        info.repl_stream_db = std::str::from_utf8(&value)
                            .ok()
                            .and_then(|v| v.parse().ok())
                    }
                    b"repl-offset" => {
                        info.repl_offset = std::str::from_utf8(&value)
                            .ok()
                            .and_then(|v| v.parse().ok())
                    }
                    _ => {}
                }
                continue;
            }
            Item::SelectDb(db) => {
                check_db(db, databases)?;
                continue;
            }
            Item::ResizeDb { db, keys, expires } => {
                check_db(db, databases)?;
                // A hint from the file: capped (about 64 MB of table), so a lying
                // one cannot reserve gigabytes; beyond it the tables grow as usual.
                const HINT_CAP: u64 = 1 << 20;
                ks.db(db as usize)
                    .reserve(keys.min(HINT_CAP) as usize, expires.min(HINT_CAP) as usize);
                continue;
            }
            Item::Function(_) => {
                functions += 1;
                continue;
            }
            Item::Entry(e) => e,
        };
        check_db(e.db, databases)?;
        let key_text = || String::from_utf8_lossy(&e.key).into_owned();
        if let Some(why) = invalid(&e.value) {
            bail!("corrupt RDB: key {:?}: {why}", key_text());
        }
        if e.value.is_empty() {
            // Redis skips empty aggregates on load rather than refusing the file.
            empty_skipped += 1;
            continue;
        }
        if e.expire_at_ms.is_some_and(|at| at < now_ms as i64) {
            info.expired_skipped += 1;
            continue;
        }
        let db = ks.db(e.db as usize);
        let lru = if lfu_policy {
            let fresh = lfu::fresh(now_ms);
            match e.lfu_freq {
                Some(f) => (fresh & !0xFF) | f as u32,
                None => fresh,
            }
        } else {
            let now_secs = now_ms / 1000;
            now_secs.saturating_sub(e.lru_idle_secs.unwrap_or(0)) as u32
        };
        let entry = Entry {
            value: from_rdb(e.value, settings),
            expire_at: e.expire_at_ms.map_or(0, |at| at as u64),
            lru,
        };
        if !db.insert_loaded(&e.key, entry) {
            bail!("corrupt RDB: duplicate key {:?}", key_text());
        }
        info.keys += 1;
    }
    if empty_skipped > 0 {
        tracing::warn!(keys = empty_skipped, "RDB load skipped empty keys");
    }
    if functions > 0 {
        tracing::warn!(
            libraries = functions,
            "RDB file holds function libraries; functions are not supported, skipped"
        );
    }
    Ok((ks, info))
}

fn check_db(db: u32, databases: usize) -> anyhow::Result<()> {
    if db as usize >= databases {
        return Err(anyhow!(
            "the RDB file uses database {db} but this node has only {databases} (config `databases`)"
        ));
    }
    Ok(())
}

/// Replaces every database's data with `fresh`'s (WATCHers of keys that existed
/// before or exist after are signalled; blocked clients and watch registries stay).
pub fn install(ks: &mut Keyspace, mut fresh: Keyspace) {
    for (live, new) in ks.dbs.iter_mut().zip(fresh.dbs.iter_mut()) {
        live.signal_all_existing();
        live.swap_data(new);
        live.signal_all_existing();
    }
    // `fresh` now holds the old data; dropping it frees it.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::persist::snapshot::{copy_live, write_rdb, Aux};
    use ferrocache_keyspace::{Ttl, Value};

    fn file_of(ks: &Keyspace, now: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_rdb(&copy_live(ks, now), &mut out, &Aux::default()).unwrap();
        out
    }

    #[test]
    fn round_trip_and_expired_keys_skipped() {
        let settings = Config::default().settings();
        let mut src = Keyspace::new(16);
        src.db(0)
            .set(b"s", Value::string(b"hello"), Ttl::Clear, 1000);
        src.db(2)
            .set(b"t", Value::string(b"7"), Ttl::At(10_000), 1000);
        src.db(2)
            .set(b"u", Value::string(b"7"), Ttl::At(3_000), 1000);
        let file = file_of(&src, 2000);

        let mut dst = Keyspace::new(16);
        dst.db(5).set(b"old", Value::Int(1), Ttl::Clear, 0);
        let info = load_rdb(&file[..], &mut dst, &settings, 5000).unwrap();
        assert_eq!((info.keys, info.expired_skipped), (2, 1));
        assert!(dst.db(5).is_empty(), "old data replaced");
        assert_eq!(dst.db(2).peek(b"t", 5000).unwrap().expire_at, 10_000);
        assert_eq!(
            dst.db(0).peek(b"s", 5000).unwrap().value.encoding(),
            "embstr"
        );
    }

    #[test]
    fn corrupt_and_truncated_files_change_nothing() {
        let settings = Config::default().settings();
        let mut src = Keyspace::new(16);
        for i in 0..100 {
            src.db(0)
                .set(format!("k{i}").as_bytes(), Value::Int(i), Ttl::Clear, 0);
        }
        let file = file_of(&src, 0);
        let mut dst = Keyspace::new(16);
        dst.db(0).set(b"keep", Value::Int(1), Ttl::Clear, 0);
        for cut in [0, 5, 9, file.len() / 2, file.len() - 1] {
            assert!(
                load_rdb(&file[..cut], &mut dst, &settings, 0).is_err(),
                "cut {cut}"
            );
        }
        let mut bad = file.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        assert!(load_rdb(&bad[..], &mut dst, &settings, 0).is_err());
        assert_eq!(dst.db(0).len(), 1);
        assert!(dst.db(0).contains(b"keep", 0));

        let mut small = Keyspace::new(1);
        src.db(3).set(b"x", Value::Int(1), Ttl::Clear, 0);
        let err = load_rdb(&file_of(&src, 0)[..], &mut small, &settings, 0).unwrap_err();
        assert!(err.to_string().contains("database 3"), "{err}");
    }

    #[test]
    fn duplicate_keys_and_lying_size_hints_are_handled() {
        use ferrocache_rdb::{Entry as RdbEntry, RdbValue, RdbWriter, WriteOptions};
        let settings = Config::default().settings();
        let file = |keys: &[&str], hint: u64| {
            let mut w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
            w.select_db(0, hint, hint).unwrap();
            for k in keys {
                let v = RdbValue::String(bytes::Bytes::from_static(b"v"));
                w.write_entry(&RdbEntry::new(0, k.as_bytes().to_vec(), v))
                    .unwrap();
            }
            w.finish().unwrap()
        };
        let mut dst = Keyspace::new(16);
        dst.db(0).set(b"keep", Value::Int(1), Ttl::Clear, 0);
        let err = load_rdb(&file(&["a", "b", "a"], 3)[..], &mut dst, &settings, 0).unwrap_err();
        assert!(err.to_string().contains("duplicate key \"a\""), "{err}");
        assert!(dst.db(0).contains(b"keep", 0), "nothing half-loaded");
        // A RESIZEDB hint of 2^60 keys is only a hint: the load neither fails nor
        // reserves memory for it.
        let info = load_rdb(&file(&["a", "b"], 1 << 60)[..], &mut dst, &settings, 0).unwrap();
        assert_eq!(info.keys, 2);
    }
}
