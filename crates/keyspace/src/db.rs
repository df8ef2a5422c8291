//! One database: the key → entry map, the index of keys with a TTL (for the active
//! expiry sweep), and the registry of watched keys.

use crate::table::KeyTable;
use crate::{Collection, Key, Value, WatchFlag, WrongType};
use indexmap::IndexSet;
use std::collections::HashMap;

type Hasher = foldhash::fast::RandomState;

/// A stored key's value and metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 = no expiry.
    pub expire_at: u64,
    /// Last access, in seconds of the keyspace clock (OBJECT IDLETIME, LRU eviction).
    pub lru: u32,
}

impl Entry {
    /// As Redis's `keyIsExpired`: a key set with PX 300 still exists at exactly
    /// +300 ms (milliseconds are truncated on both sides, so `>=` could drop it
    /// up to a millisecond early).
    fn expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && now_ms > self.expire_at
    }
}

/// What an overwrite does to the key's TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Drop any TTL (plain SET).
    Clear,
    /// Keep the current TTL (SET … KEEPTTL, SETRANGE, APPEND …).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// Something that happened to a key inside the keyspace, recorded for keyspace
/// notifications when the node asks for it (`Db::record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// Deleted because its TTL passed (lazily or by the active sweep).
    Expired,
    /// Created (Redis's `new` event).
    New,
    /// Looked up by a read-only command and not found (Redis's `keymiss`).
    Miss,
}

#[derive(Default)]
pub struct Db {
    map: KeyTable<Entry>,
    /// Keys that have a TTL, swept by the active expiry cycle.
    expires: IndexSet<Key, Hasher>,
    /// Where the next active-expiry sweep continues.
    sweep_cursor: usize,
    watched: HashMap<Key, Vec<WatchFlag>, Hasher>,
    /// Keys that blocked clients (BLPOP …) wait on, with the number of waiters.
    blocked: HashMap<Key, usize, Hasher>,
    /// Blocked-on keys written since last taken: their waiters may now be served.
    ready: Vec<Key>,
    /// Keys removed because their TTL passed (lazily or actively) since last taken.
    pub expired_count: u64,
    /// Changes to the data since the node started (every write path signals, so
    /// this counts like Redis's `server.dirty`): the save schedule and replication
    /// compare it before and after a command.
    pub dirty: u64,
    /// Keys deleted because their TTL passed, kept while `log_expired` is on so that
    /// replication (and the AOF) can propagate each as a DEL.
    log_expired: bool,
    expired_log: Vec<Key>,
    /// Which `KeyEvent`s to record, and those recorded since last taken.
    record_expired: bool,
    record_new: bool,
    events: Vec<(KeyEvent, Key)>,
    /// Set when an LFU policy is chosen: `Entry::lru` then holds the LFU counter.
    lfu: Option<crate::lfu::Lfu>,
    /// Set while a read-only command runs: its lookups count as keyspace hits and
    /// misses (INFO), as Redis's read lookups do, and misses may be recorded.
    pub reading: bool,
    record_miss: bool,
    pub hits: u64,
    pub misses: u64,
}

fn lru_now(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32
}

impl Db {
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Bytes the next new key would allocate at once because the table is full
    /// and must double (entries plus hash index); 0 when there is room. Eviction
    /// makes room for this ahead of time, so a table growing cannot push memory
    /// past maxmemory.
    pub fn growth_bytes(&self) -> usize {
        if self.map.len() < self.map.capacity() {
            return 0;
        }
        // The new table is twice the slots, allocated before the old one is freed.
        self.map.slot_count().max(4) * 2 * KeyTable::<Entry>::SLOT_BYTES
    }

    /// Starts loading the memory a lookup of `key` will read (see
    /// `KeyTable::prefetch`); a hint with no effect on the data.
    pub fn prefetch(&self, key: &[u8]) {
        self.map.prefetch(crate::table::hash_key(key));
    }

    /// Looks a key up for reading or in-place writing, deleting it first if it has
    /// expired. Touches its access time.
    pub fn get_mut(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let i = self.lookup(key, now_ms)?;
        let lfu = self.lfu;
        let e = self.map.at_mut(i)?;
        e.lru = match lfu {
            None => lru_now(now_ms),
            Some(lfu) => crate::lfu::touch(e.lru, now_ms, lfu),
        };
        Some(e)
    }

    /// The slot of a live key (one hash lookup), deleting it if its TTL passed;
    /// counts the lookup as a hit or miss while a read-only command runs.
    fn lookup(&mut self, key: &[u8], now_ms: u64) -> Option<usize> {
        let found = match self.map.find(key) {
            Some(i) if self.map[i].expired(now_ms) => {
                self.delete_expired(key);
                None
            }
            other => other,
        };
        match found {
            Some(_) if self.reading => self.hits += 1,
            None => self.note_miss(key),
            _ => {}
        }
        found
    }

    /// Looks a key up without touching its access time (TYPE-like inspection
    /// still expires it, as Redis does).
    pub fn peek(&mut self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        let i = self.lookup(key, now_ms)?;
        Some(&self.map[i])
    }

    /// A read lookup found nothing: counted, and recorded when asked for.
    fn note_miss(&mut self, key: &[u8]) {
        if self.reading {
            self.misses += 1;
            if self.record_miss {
                self.events.push((KeyEvent::Miss, key.into()));
            }
        }
    }

    /// A live key's entry through a shared borrow, so that several can be read at
    /// once (SINTER …). No expiry deletion or access-time touch: do those first
    /// with `get_mut`/`get_coll`.
    pub fn get_ref(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.map.get(key).filter(|e| !e.expired(now_ms))
    }

    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.peek(key, now_ms).is_some()
    }

    /// Deletes the key if its TTL has passed; true if it did.
    fn expire_if_needed(&mut self, key: &[u8], now_ms: u64) -> bool {
        match self.map.get(key) {
            Some(e) if e.expired(now_ms) => {
                self.delete_expired(key);
                true
            }
            _ => false,
        }
    }

    /// Removes a key whose TTL passed, counting and recording it.
    fn delete_expired(&mut self, key: &[u8]) {
        self.remove(key);
        self.expired_count += 1;
        if self.log_expired {
            self.expired_log.push(key.into());
        }
        if self.record_expired {
            self.events.push((KeyEvent::Expired, key.into()));
        }
    }

    /// Switches `Entry::lru` between LRU time and LFU counter (maxmemory-policy).
    pub fn set_lfu(&mut self, lfu: Option<crate::lfu::Lfu>) {
        self.lfu = lfu;
    }

    /// A random live key, from all keys or only those with a TTL (eviction samples).
    pub fn sample(&self, volatile: bool) -> Option<(&Key, &Entry)> {
        if volatile {
            if self.expires.is_empty() {
                return None;
            }
            let k = &self.expires[fastrand::usize(..self.expires.len())];
            self.map.get_key_value(k)
        } else {
            if self.map.is_empty() {
                return None;
            }
            self.map.random().map(|(_, k, e)| (k, e))
        }
    }

    /// Chooses which key events to record (notifications need them; nothing is
    /// recorded otherwise, so the hot path pays one branch).
    pub fn record(&mut self, expired: bool, new: bool, miss: bool) {
        self.record_expired = expired;
        self.record_new = new;
        self.record_miss = miss;
        if !expired && !new && !miss {
            self.events.clear();
        }
    }

    /// Keeps (or stops keeping) the keys deleted by expiry, for propagation.
    pub fn log_expired(&mut self, on: bool) {
        self.log_expired = on;
        if !on {
            self.expired_log.clear();
        }
    }

    /// Takes the keys deleted by expiry since the last call, oldest first.
    pub fn take_expired_log(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.expired_log)
    }

    pub fn has_expired_log(&self) -> bool {
        !self.expired_log.is_empty()
    }

    /// Takes the recorded key events, oldest first.
    pub fn take_events(&mut self) -> Vec<(KeyEvent, Key)> {
        std::mem::take(&mut self.events)
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Stores a value, creating or overwriting the key.
    pub fn set(&mut self, key: &[u8], value: Value, ttl: Ttl, now_ms: u64) {
        self.signal(key);
        let lru = match self.lfu {
            None => lru_now(now_ms),
            Some(_) => crate::lfu::fresh(now_ms),
        };
        match self.map.get_mut(key) {
            Some(e) => {
                e.value = value;
                if self.lfu.is_none() {
                    e.lru = lru;
                }
                match ttl {
                    Ttl::Keep => {}
                    Ttl::Clear => {
                        if e.expire_at != 0 {
                            e.expire_at = 0;
                            self.expires.swap_remove(key);
                        }
                    }
                    Ttl::At(at) => {
                        if e.expire_at == 0 {
                            self.expires.insert(key.into());
                        }
                        e.expire_at = at;
                    }
                }
            }
            None => {
                let expire_at = match ttl {
                    Ttl::At(at) => at,
                    _ => 0,
                };
                self.insert_new(key, value, expire_at, now_ms);
            }
        }
    }

    /// Adds a key that does not exist yet; returns its slot.
    fn insert_new(&mut self, key: &[u8], value: Value, expire_at: u64, now_ms: u64) -> usize {
        if self.record_new {
            self.events.push((KeyEvent::New, key.into()));
        }
        if expire_at != 0 {
            self.expires.insert(key.into());
        }
        let lru = match self.lfu {
            None => lru_now(now_ms),
            Some(_) => crate::lfu::fresh(now_ms),
        };
        self.map.insert_absent(
            key,
            Entry {
                value,
                expire_at,
                lru,
            },
        )
    }

    /// Makes room for `keys` more keys, `expires` of them with a TTL (a loader that
    /// knows the count avoids growing the tables step by step).
    pub fn reserve(&mut self, keys: usize, expires: usize) {
        self.map.reserve(keys);
        self.expires.reserve(expires);
    }

    /// Inserts a key that must be new (loading a file into a fresh database: no
    /// watchers or waiters to signal); false, changing nothing, if it exists.
    pub fn insert_loaded(&mut self, key: &[u8], entry: Entry) -> bool {
        let has_ttl = entry.expire_at != 0;
        if !self.map.insert_if_absent(key, entry) {
            return false;
        }
        if has_ttl {
            self.expires.insert(key.into());
        }
        true
    }

    /// Re-inserts a whole entry (RENAME, MOVE, COPY), keeping its metadata.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        self.signal(key);
        if self.record_new && !self.map.contains_key(key) {
            self.events.push((KeyEvent::New, key.into()));
        }
        if entry.expire_at != 0 {
            self.expires.insert(key.into());
        } else {
            self.expires.swap_remove(key);
        }
        self.map.insert(key, entry);
    }

    /// Removes a key; the removed entry if it existed (expired or not).
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.map.remove(key)?;
        if e.expire_at != 0 {
            self.expires.swap_remove(key);
        }
        self.signal(key);
        Some(e)
    }

    /// Sets an existing key's TTL (absolute Unix ms). False if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64, now_ms: u64) -> bool {
        if self.expire_if_needed(key, now_ms) {
            return false;
        }
        let Some(e) = self.map.get_mut(key) else {
            return false;
        };
        if e.expire_at == 0 {
            self.expires.insert(key.into());
        }
        e.expire_at = at_ms;
        self.signal(key);
        true
    }

    /// Removes a key's TTL. True if it had one.
    pub fn persist(&mut self, key: &[u8], now_ms: u64) -> bool {
        match self.get_mut(key, now_ms) {
            Some(e) if e.expire_at != 0 => {
                e.expire_at = 0;
                self.expires.swap_remove(key);
                self.signal(key);
                true
            }
            _ => false,
        }
    }

    /// The collection of type `T` at `key`, for reading or changing in place: None
    /// if the key is missing, `WrongType` if it holds another type. Touches its
    /// access time. After changing it, call `modified`.
    pub fn get_coll<T: Collection>(
        &mut self,
        key: &[u8],
        now_ms: u64,
    ) -> Result<Option<&mut T>, WrongType> {
        match self.get_mut(key, now_ms) {
            None => Ok(None),
            Some(e) => T::of_mut(&mut e.value).map(Some).ok_or(WrongType),
        }
    }

    /// The collection at `key`, created empty when missing. The caller adds to it
    /// and then calls `modified` (which removes it again if it stayed empty).
    pub fn coll_or_default<T: Collection>(
        &mut self,
        key: &[u8],
        now_ms: u64,
    ) -> Result<&mut T, WrongType> {
        let i = match self.lookup(key, now_ms) {
            Some(i) => {
                let lfu = self.lfu;
                let e = &mut self.map[i];
                e.lru = match lfu {
                    None => lru_now(now_ms),
                    Some(lfu) => crate::lfu::touch(e.lru, now_ms, lfu),
                };
                i
            }
            None => {
                self.signal(key);
                self.insert_new(key, T::default().into_value(), 0, now_ms)
            }
        };
        T::of_mut(&mut self.map[i].value).ok_or(WrongType)
    }

    /// Records an in-place change of `key`'s value: signals WATCH and blocked
    /// clients, and deletes the key if it is now an empty aggregate (Redis never
    /// keeps empty lists, hashes, sets or sorted sets). True if it was deleted.
    pub fn modified(&mut self, key: &[u8]) -> bool {
        self.signal(key);
        if self
            .map
            .get(key)
            .is_some_and(|e| e.value.is_empty_collection())
        {
            self.remove(key);
            return true;
        }
        false
    }

    /// Registers one more blocked client waiting on `key`.
    pub fn block_on(&mut self, key: &[u8]) {
        *self.blocked.entry(key.into()).or_default() += 1;
    }

    /// Removes one blocked client's registration on `key`.
    pub fn unblock_on(&mut self, key: &[u8]) {
        if let Some(n) = self.blocked.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                self.blocked.remove(key);
            }
        }
    }

    /// Takes the blocked-on keys written since the last call, in the order they
    /// were first written.
    pub fn take_ready(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.ready)
    }

    /// Whether any blocked-on key was written since `take_ready`.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Marks a key as modified for WATCH and for blocked clients (every write
    /// path calls this).
    pub fn signal(&mut self, key: &[u8]) {
        self.dirty += 1;
        if !self.watched.is_empty() {
            if let Some(flags) = self.watched.get(key) {
                flags.iter().for_each(WatchFlag::set);
            }
        }
        if !self.blocked.is_empty()
            && self.blocked.contains_key(key)
            && !self.ready.iter().any(|k| k.as_slice() == key)
        {
            self.ready.push(key.into());
        }
    }

    /// Marks every watcher of a key that exists here as dirty (FLUSHDB, SWAPDB),
    /// and every blocked-on key that exists as ready.
    pub fn signal_all_existing(&mut self) {
        for (key, flags) in &self.watched {
            if self.map.contains_key(key) {
                flags.iter().for_each(WatchFlag::set);
            }
        }
        for key in self.blocked.keys() {
            if self.map.contains_key(key) && !self.ready.contains(key) {
                self.ready.push(key.clone());
            }
        }
    }

    pub fn watch(&mut self, key: &[u8], flag: &WatchFlag) {
        let flags = self.watched.entry(key.into()).or_default();
        if !flags.iter().any(|f| f.same(flag)) {
            flags.push(flag.clone());
        }
    }

    pub fn unwatch(&mut self, key: &[u8], flag: &WatchFlag) {
        if let Some(flags) = self.watched.get_mut(key) {
            flags.retain(|f| !f.same(flag));
            if flags.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// Whether a key has a TTL that has passed (without deleting it): EXEC aborts
    /// when a watched key expired since WATCH.
    pub fn is_logically_expired(&self, key: &[u8], now_ms: u64) -> bool {
        self.map.get(key).is_some_and(|e| e.expired(now_ms))
    }

    /// Empties the database, signalling watchers of keys that existed.
    pub fn clear(&mut self) {
        self.dirty += self.map.len() as u64;
        self.signal_all_existing();
        self.map = KeyTable::default();
        self.expires = IndexSet::default();
        self.sweep_cursor = 0;
    }

    /// Swaps the data (not the watch registry, which belongs to the db index).
    pub fn swap_data(&mut self, other: &mut Db) {
        self.dirty += 1;
        std::mem::swap(&mut self.map, &mut other.map);
        std::mem::swap(&mut self.expires, &mut other.expires);
        self.sweep_cursor = 0;
        other.sweep_cursor = 0;
    }

    /// One SCAN step: the cursor is a position in the table's hash space (see
    /// `KeyTable::scan`), so a key present for the whole scan is returned once
    /// even if the table grows or shrinks in between. Returns the next cursor
    /// (0 = done).
    pub fn scan(
        &mut self,
        cursor: u64,
        count: usize,
        now_ms: u64,
        mut visit: impl FnMut(&Key, &Entry),
    ) -> u64 {
        self.map.scan(cursor, count, |k, e| {
            if !e.expired(now_ms) {
                visit(k, e);
            }
        })
    }

    /// A random live key, or None if the database is empty.
    pub fn random_key(&mut self, now_ms: u64) -> Option<Key> {
        // Bounded retries so a database full of expired keys cannot spin forever.
        for _ in 0..100 {
            let (_, k, e) = self.map.random()?;
            if !e.expired(now_ms) {
                return Some(k.clone());
            }
            let k = k.clone();
            self.delete_expired(&k);
        }
        self.map.random().map(|(_, k, _)| k.clone())
    }

    /// Iterates over live keys (KEYS).
    pub fn iter(&self, now_ms: u64) -> impl Iterator<Item = (&Key, &Entry)> {
        self.map.iter().filter(move |(_, e)| !e.expired(now_ms))
    }

    /// Active expiry: examines up to `budget` keys with a TTL, continuing where the
    /// last sweep stopped, and deletes the expired ones. Returns how many it deleted.
    pub fn sweep_expired(&mut self, now_ms: u64, budget: usize, removed: &mut Vec<Key>) -> usize {
        let mut deleted = 0;
        let mut examined = 0;
        while examined < budget && !self.expires.is_empty() {
            if self.sweep_cursor >= self.expires.len() {
                self.sweep_cursor = 0;
            }
            let key = &self.expires[self.sweep_cursor];
            let expired = self.map.get(key).is_none_or(|e| e.expired(now_ms));
            if expired {
                let key = key.clone();
                self.delete_expired(&key);
                deleted += 1;
                removed.push(key);
                // swap_remove moved the last key into this slot: look at it next.
            } else {
                self.sweep_cursor += 1;
            }
            examined += 1;
        }
        deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_expiry_and_ttl_modes() {
        let mut db = Db::default();
        db.set(b"a", Value::string(b"1"), Ttl::At(1000), 0);
        assert!(db.contains(b"a", 999));
        db.set(b"a", Value::string(b"2"), Ttl::Keep, 0);
        assert_eq!(db.peek(b"a", 0).unwrap().expire_at, 1000);
        // Alive at exactly its expiry time, gone a millisecond later (as Redis).
        assert!(db.contains(b"a", 1000));
        assert!(!db.contains(b"a", 1001));
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.expired_count, 1);
    }

    #[test]
    fn scan_sees_every_stable_key_despite_removals() {
        let mut db = Db::default();
        for i in 0..100u32 {
            db.set(&i.to_be_bytes(), Value::Int(i as i64), Ttl::Clear, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan(cursor, 7, 0, |k, _| {
                seen.insert(k.clone());
            });
            // Remove a key that was already seen, to shuffle the table.
            round += 1;
            let victim = (round * 3u32).to_be_bytes();
            if seen.contains(&victim[..]) {
                db.remove(&victim);
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100u32 {
            let k = i.to_be_bytes();
            if db.contains(&k, 0) {
                assert!(seen.contains(&k[..]), "missed {i}");
            }
        }
    }

    #[test]
    fn sweep_removes_all_expired() {
        let mut db = Db::default();
        for i in 0..1000u32 {
            let at = if i % 2 == 0 { 10 } else { 0 };
            let ttl = if at == 0 { Ttl::Clear } else { Ttl::At(at) };
            db.set(&i.to_be_bytes(), Value::Int(1), ttl, 0);
        }
        let mut removed = Vec::new();
        db.sweep_expired(10, 10_000, &mut removed);
        assert!(removed.is_empty(), "alive at exactly their expiry time");
        db.sweep_expired(11, 10_000, &mut removed);
        assert_eq!(removed.len(), 500);
        assert_eq!(db.len(), 500);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn watch_flags_set_on_write() {
        let mut db = Db::default();
        let flag = WatchFlag::default();
        db.watch(b"k", &flag);
        db.set(b"other", Value::Int(1), Ttl::Clear, 0);
        assert!(!flag.is_set());
        db.set(b"k", Value::Int(1), Ttl::Clear, 0);
        assert!(flag.is_set());
    }
}
