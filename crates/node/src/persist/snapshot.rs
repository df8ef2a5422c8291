//! Point-in-time snapshots: `take` copies every live entry while the keyspace
//! lock is held (no encoding, no I/O), and `write_rdb` serialises the copy later,
//! off the event loop, so a BGSAVE stalls clients only for the copy.
//!
//! Redis gets its point-in-time copy from fork(); here the copy is explicit but
//! shallow: every value's heap part is reference-counted and copied on write (see
//! `Value`), so `take` costs a count increment per key whatever the values' sizes,
//! and a write during the serialisation copies only the value it changes, like a
//! page after fork() but one value wide.

use super::convert::to_rdb;
use crate::server::Shared;
use anyhow::Context;
use ferrocache_keyspace::lfu::{self, Lfu};
use ferrocache_keyspace::{Entry, Key, Keyspace};
use ferrocache_rdb::{Entry as RdbEntry, RdbWriter, WriteOptions};
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// A copy of every database's live entries (value, expiry, LRU/LFU field) as of
/// one instant.
pub struct Snapshot {
    /// Indexed by database number; empty databases are empty vectors.
    pub dbs: Vec<Vec<(Key, Entry)>>,
    /// The keyspace clock (Unix ms) at which it was taken: idle times are measured
    /// against it.
    pub taken_ms: u64,
}

impl Snapshot {
    /// Number of keys in all databases.
    pub fn keys(&self) -> usize {
        self.dbs.iter().map(Vec::len).sum()
    }
}

/// Copies the keyspace. Call with the keyspace lock held; it does nothing but
/// clone, so the lock is held as briefly as the data allows. Keys whose TTL has
/// passed are left out (they would be skipped on load anyway). The time it takes
/// is what INFO stats reports as `latest_fork_usec` (and `total_forks` counts
/// snapshots): the fields tools watch for Redis's fork() stall.
pub fn take(srv: &Shared, ks: &Keyspace, now_ms: u64) -> Snapshot {
    let started = Instant::now();
    let snap = copy_live(ks, now_ms);
    let usec = started.elapsed().as_micros() as u64;
    srv.stats.latest_snapshot_usec.store(usec, Relaxed);
    srv.stats.snapshots.fetch_add(1, Relaxed);
    snap
}

/// The copy itself, without the INFO bookkeeping (tests build files with it).
pub(super) fn copy_live(ks: &Keyspace, now_ms: u64) -> Snapshot {
    let dbs = ks
        .dbs
        .iter()
        .map(|db| {
            let mut v = Vec::with_capacity(db.len());
            v.extend(db.iter(now_ms).map(|(k, e)| (k.clone(), e.clone())));
            v
        })
        .collect();
    Snapshot {
        dbs,
        taken_ms: now_ms,
    }
}

/// What an entry's `lru` field means, and so which metadata the file gets: Redis
/// writes IDLE under an LRU maxmemory policy, FREQ under an LFU one, else neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Meta {
    #[default]
    None,
    Lru,
    Lfu(Lfu),
}

/// The file-level facts written as AUX fields, and how to write values.
#[derive(Debug, Clone)]
pub struct Aux {
    pub repl_id: String,
    pub repl_offset: u64,
    /// The database the replication stream had selected (`repl-stream-db`).
    pub repl_stream_db: u32,
    /// `used-mem`: bytes in use when the snapshot was taken.
    pub used_mem: u64,
    /// `ctime`: Unix seconds at which the file was created.
    pub ctime_secs: i64,
    /// `rdbcompression`: LZF-compress long strings.
    pub compress: bool,
    pub meta: Meta,
}

impl Default for Aux {
    fn default() -> Self {
        Aux {
            repl_id: "0".repeat(40),
            repl_offset: 0,
            repl_stream_db: 0,
            used_mem: 0,
            ctime_secs: (crate::server::unix_ms() / 1000) as i64,
            compress: true,
            meta: Meta::None,
        }
    }
}

/// How many entries ahead `write_rdb` asks for a value's memory: the values are
/// scattered over the heap, and one cache miss at a time made serialising a
/// dataset of large strings memory-latency bound.
const PREFETCH_AHEAD: usize = 8;

/// Serialises a snapshot as an RDB version 10 file with Redis 7.0's aux fields
/// (in Redis's order). Never call it with the keyspace lock held.
pub fn write_rdb<W: Write>(snap: &Snapshot, out: W, aux: &Aux) -> anyhow::Result<()> {
    let opts = WriteOptions {
        compress: aux.compress,
    };
    let mut w = RdbWriter::new(out, opts)?;
    w.aux(b"redis-ver", crate::info::REDIS_VERSION.as_bytes())?;
    w.aux(b"redis-bits", b"64")?;
    w.aux(b"ctime", aux.ctime_secs.to_string().as_bytes())?;
    w.aux(b"used-mem", aux.used_mem.to_string().as_bytes())?;
    w.aux(b"repl-stream-db", aux.repl_stream_db.to_string().as_bytes())?;
    w.aux(b"repl-id", aux.repl_id.as_bytes())?;
    w.aux(b"repl-offset", aux.repl_offset.to_string().as_bytes())?;
    w.aux(b"aof-base", b"0")?;
    let now_secs = snap.taken_ms / 1000;
    for (db, entries) in snap.dbs.iter().enumerate() {
        if entries.is_empty() {
            continue;
        }
        let expires = entries.iter().filter(|(_, e)| e.expire_at != 0).count();
        w.select_db(db as u32, entries.len() as u64, expires as u64)?;
        for (i, (key, e)) in entries.iter().enumerate() {
            if let Some((_, ahead)) = entries.get(i + PREFETCH_AHEAD) {
                ahead.value.prefetch();
            }
            let mut entry = RdbEntry::new(
                db as u32,
                bytes::Bytes::copy_from_slice(key),
                to_rdb(&e.value),
            );
            entry.expire_at_ms = (e.expire_at != 0).then_some(e.expire_at as i64);
            match aux.meta {
                Meta::None => {}
                Meta::Lru => entry.lru_idle_secs = Some(now_secs.saturating_sub(e.lru as u64)),
                Meta::Lfu(l) => entry.lfu_freq = Some(lfu::counter(e.lru, snap.taken_ms, l)),
            }
            w.write_entry(&entry)
                .with_context(|| format!("writing key {:?}", String::from_utf8_lossy(key)))?;
        }
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocache_keyspace::{Ttl, Value};

    #[test]
    fn snapshot_is_point_in_time_and_skips_expired() {
        let mut ks = Keyspace::new(16);
        ks.db(0).set(b"a", Value::string(b"1"), Ttl::Clear, 1000);
        ks.db(3).set(b"b", Value::string(b"x"), Ttl::At(5000), 1000);
        ks.db(3)
            .set(b"gone", Value::string(b"x"), Ttl::At(1500), 1000);
        let snap = copy_live(&ks, 2000);
        ks.db(0).set(b"a", Value::string(b"2"), Ttl::Clear, 2000);
        assert_eq!(snap.keys(), 2);
        assert_eq!(snap.dbs[0][0].1.value, Value::Int(1));

        let mut file = Vec::new();
        write_rdb(&snap, &mut file, &Aux::default()).unwrap();
        let read = ferrocache_rdb::read_all(&file[..]).unwrap();
        assert_eq!(read.entries.len(), 2);
        assert_eq!(read.entries[1].db, 3);
        assert_eq!(read.entries[1].expire_at_ms, Some(5000));
        assert_eq!(read.aux("repl-offset").map(|v| &v[..]), Some(&b"0"[..]));
    }

    /// The snapshot shares values with the keyspace; writes after `take` must copy
    /// rather than reach into it.
    #[test]
    fn writes_after_the_snapshot_do_not_reach_it() {
        use ferrocache_keyspace::types::list::End;
        use ferrocache_keyspace::{Collection, List};
        let mut ks = Keyspace::new(1);
        let mut list = List::default();
        list.push(End::Tail, b"first");
        ks.db(0).set(b"l", list.into_value(), Ttl::Clear, 0);
        ks.db(0)
            .set(b"s", Value::string(&[b'v'; 64]), Ttl::Clear, 0);
        let snap = copy_live(&ks, 0);
        let find = |k: &[u8]| &snap.dbs[0].iter().find(|(key, _)| &key[..] == k).unwrap().1;
        let bytes_at = |v: &Value| match v {
            Value::Str(s) => s.as_ptr(),
            _ => std::ptr::null(),
        };
        let live = ks.db(0).peek(b"s", 0).map(|e| bytes_at(&e.value));
        assert_eq!(
            live,
            Some(bytes_at(&find(b"s").value)),
            "the snapshot shares the string instead of copying it"
        );

        let db = ks.db(0);
        let e = db.get_mut(b"l", 0).unwrap();
        List::of_mut(&mut e.value)
            .unwrap()
            .push(End::Tail, b"second");
        db.get_mut(b"s", 0).unwrap().value.make_raw().push(b'!');

        assert_eq!(List::of(&find(b"l").value).unwrap().len(), 1);
        assert_eq!(find(b"s").value.str_len(), 64);
        let now = ks.db(0).get_mut(b"l", 0).map(|e| e.value.clone()).unwrap();
        assert_eq!(List::of(&now).unwrap().len(), 2);
    }
}
