//! Staying inside `maxmemory`: before each command (as Redis does) the node evicts
//! keys chosen by `maxmemory-policy` until the dataset fits under the data limit
//! (maxmemory minus maxmemory-reserved); when it cannot, commands that would grow
//! memory get Redis's OOM error instead of the process growing without bound.
//!
//! Victims are chosen like Redis: approximately, from `maxmemory-samples` random
//! keys per database, keeping the best candidate by idle time (LRU), access
//! counter (LFU) or nearest expiry (volatile-ttl).

use crate::alloc;
use crate::config::Settings;
use crate::server::Shared;
use ferrocache_keyspace::{lfu, Entry, Key, Keyspace};
use ferrocache_resp::ReplyBuf;
use std::sync::atomic::Ordering::Relaxed;

pub const ERR_OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::AllKeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// How good a victim the entry is: higher is evicted first.
    fn score(self, e: &Entry, now_ms: u64, lfu_params: lfu::Lfu) -> u64 {
        match self {
            Policy::AllKeysLru | Policy::VolatileLru => {
                (now_ms / 1000).saturating_sub(e.lru as u64)
            }
            Policy::AllKeysLfu | Policy::VolatileLfu => {
                255 - lfu::counter(e.lru, now_ms, lfu_params) as u64
            }
            Policy::VolatileTtl => u64::MAX - e.expire_at,
            Policy::AllKeysRandom | Policy::VolatileRandom | Policy::NoEviction => 0,
        }
    }
}

impl Settings {
    /// The most the dataset may use: maxmemory minus the reserve; 0 = no limit.
    pub fn data_limit(&self) -> u64 {
        if self.maxmemory == 0 {
            return 0;
        }
        self.maxmemory
            .saturating_sub(self.maxmemory_reserved)
            .max(1)
    }
}

/// Bytes the process holds for data, as eviction counts them.
pub fn used_memory() -> u64 {
    alloc::allocated().unwrap_or_else(alloc::rss) as u64
}

/// Evicts until memory plus `ahead` (an allocation about to happen, such as a
/// full table doubling) is under the data limit. False when it cannot get there
/// (policy `noeviction`, or nothing left that the policy may evict).
pub fn make_room(
    srv: &Shared,
    ks: &mut Keyspace,
    settings: &Settings,
    out: &mut ReplyBuf,
    me: u64,
    now_ms: u64,
    ahead: u64,
) -> bool {
    let limit = settings.data_limit();
    if limit == 0 {
        return true;
    }
    let limit = limit.saturating_sub(ahead).max(1);
    let mut used = used_memory();
    if used <= limit {
        return true;
    }
    if settings.policy == Policy::NoEviction {
        return false;
    }
    // The allocator's count lags frees by up to a batch per thread, so progress is
    // tracked with each victim's own estimated size; the real count is re-read
    // every so often.
    let mut evicted = 0u64;
    while used > limit {
        let Some((db, key)) = pick_victim(ks, settings, now_ms) else {
            break;
        };
        let Some(entry) = ks.dbs[db].remove(&key) else {
            break;
        };
        let size = (key.heap_size() + entry.value.heap_size() + 96) as u64;
        drop(entry);
        crate::repl::record_del(srv, db, &key);
        used = used.saturating_sub(size);
        evicted += 1;
        crate::notify::publish(
            srv,
            settings,
            Some(out),
            me,
            now_ms,
            db,
            crate::notify::Class::Evicted,
            "evicted",
            &key,
        );
        if evicted.is_multiple_of(64) {
            used = used.min(used_memory());
        }
    }
    srv.stats.evicted_keys.fetch_add(evicted, Relaxed);
    used <= limit
}

/// The best victim among a sample of each database's keys.
fn pick_victim(ks: &Keyspace, settings: &Settings, now_ms: u64) -> Option<(usize, Key)> {
    let policy = settings.policy;
    let volatile = policy.volatile_only();
    let mut best: Option<(u64, usize, Key)> = None;
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.is_empty() || (volatile && db.expires_len() == 0) {
            continue;
        }
        for _ in 0..settings.maxmemory_samples.max(1) {
            let Some((k, e)) = db.sample(volatile) else {
                break;
            };
            let score = policy.score(e, now_ms, settings.lfu);
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, i, k.clone()));
            }
        }
    }
    best.map(|(_, db, key)| (db, key))
}
