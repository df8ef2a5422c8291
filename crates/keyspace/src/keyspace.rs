//! All databases together, with the counters INFO reports about them.

use crate::{Db, Key};

#[derive(Debug, Default, Clone, Copy)]
pub struct KeyspaceStats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
}

pub struct Keyspace {
    pub dbs: Vec<Db>,
    pub stats: KeyspaceStats,
    /// The (expired, new, miss) event recording every db was last told to do.
    recording: (bool, bool, bool),
    lfu: Option<crate::lfu::Lfu>,
    log_expired: bool,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
            stats: KeyspaceStats::default(),
            recording: (false, false, false),
            lfu: None,
            log_expired: false,
        }
    }

    /// Sets LRU or LFU access tracking on every database (cheap when unchanged).
    pub fn set_lfu(&mut self, lfu: Option<crate::lfu::Lfu>) {
        if self.lfu != lfu {
            self.lfu = lfu;
            self.dbs.iter_mut().for_each(|d| d.set_lfu(lfu));
        }
    }

    /// Sets which key events every database records (see `Db::record`); cheap
    /// when unchanged, so the node calls it whenever it takes the lock.
    pub fn record(&mut self, expired: bool, new: bool, miss: bool) {
        if self.recording != (expired, new, miss) {
            self.recording = (expired, new, miss);
            self.dbs
                .iter_mut()
                .for_each(|d| d.record(expired, new, miss));
        }
    }

    /// Keyspace hits and misses of read lookups across databases (INFO).
    pub fn hits_and_misses(&self) -> (u64, u64) {
        self.dbs.iter().fold(
            (self.stats.keyspace_hits, self.stats.keyspace_misses),
            |(h, m), d| (h + d.hits, m + d.misses),
        )
    }

    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    /// Swaps two databases' contents (SWAPDB); watchers of either are signalled.
    pub fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.dbs[a].signal_all_existing();
        self.dbs[b].signal_all_existing();
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.dbs.split_at_mut(hi);
        left[lo].swap_data(&mut right[0]);
        self.dbs[a].signal_all_existing();
        self.dbs[b].signal_all_existing();
    }

    /// Changes to the data across databases (see `Db::dirty`).
    pub fn dirty(&self) -> u64 {
        self.dbs.iter().map(|d| d.dirty).sum()
    }

    /// Keeps the keys deleted by expiry in every database (see `Db::log_expired`).
    pub fn log_expired(&mut self, on: bool) {
        if self.log_expired != on {
            self.log_expired = on;
            self.dbs.iter_mut().for_each(|d| d.log_expired(on));
        }
    }

    /// Total expired keys across databases (INFO stats `expired_keys`).
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_count).sum()
    }

    /// One active-expiry step across all databases; the deleted keys per db are
    /// passed to `on_deleted` (for replication and notifications).
    pub fn sweep_expired(
        &mut self,
        now_ms: u64,
        budget_per_db: usize,
        mut on_deleted: impl FnMut(usize, &[Key]),
    ) -> usize {
        let mut total = 0;
        let mut removed = Vec::new();
        for (i, db) in self.dbs.iter_mut().enumerate() {
            if db.expires_len() == 0 {
                continue;
            }
            removed.clear();
            total += db.sweep_expired(now_ms, budget_per_db, &mut removed);
            if !removed.is_empty() {
                on_deleted(i, &removed);
            }
        }
        total
    }
}
