//! `KeyTable`: the hash table that holds a database's keys.
//!
//! Why our own: a lookup in the map we used before (an index table in front of
//! an entry vector) touched three cache lines one after another, and the profile
//! of a replica applying its primary's stream spent 58% of its time there, a
//! primary under pipelined SETs 22–31%. Here a key and its entry live in the slot
//! itself, next to a one-byte tag array, so a lookup touches two lines, and both
//! addresses follow from the hash alone: `prefetch` can ask for them while the
//! commands before it run, so a pipelined batch pays for its cache misses side
//! by side instead of one after another.
//!
//! Layout: linear probing over `2^bits` slots with backward-shift deletion (no
//! tombstones, so a table that churns never needs a cleaning rehash). A key's
//! home slot is the top `bits` of its hash, which keeps homes in hash order: the
//! SCAN cursor is a position in hash space, so it means the same thing in a table
//! of any size and a scan that a resize interrupts still sees every key that was
//! there throughout, exactly once.

use crate::Key;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The tag of an empty slot; a full slot's tag has the top bit set.
const EMPTY: u8 = 0;
/// The smallest table that is allocated (the first insert allocates it).
const MIN_BITS: u32 = 3;

/// One hash function for every table of the process, so a hash computed once
/// (for `prefetch`) serves the lookup in whichever database runs the command.
fn hasher() -> &'static foldhash::fast::FixedState {
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE.get_or_init(|| foldhash::fast::FixedState::with_seed(fastrand::u64(..)))
}

pub fn hash_key(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

fn tag_of(hash: u64) -> u8 {
    0x80 | (hash as u8 & 0x7f)
}

pub struct KeyTable<V> {
    tags: Vec<u8>,
    slots: Vec<Option<(Key, V)>>,
    /// log2 of the number of slots (0 while nothing is allocated).
    bits: u32,
    len: usize,
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable {
            tags: Vec::new(),
            slots: Vec::new(),
            bits: 0,
            len: 0,
        }
    }
}

impl<V> KeyTable<V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots allocated (full or empty).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Keys the table holds before the next insert makes it grow.
    pub fn capacity(&self) -> usize {
        max_len(self.slots.len())
    }

    /// Bytes one slot costs (the slot and its tag).
    pub const SLOT_BYTES: usize = std::mem::size_of::<Option<(Key, V)>>() + 1;

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, hash: u64) -> usize {
        (hash >> (64 - self.bits)) as usize
    }

    /// Asks the CPU to start loading the lines a lookup of `hash` will read
    /// first, so that the miss overlaps with other work.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        if self.bits == 0 {
            return;
        }
        let home = self.home(hash);
        prefetch_line(self.tags.as_ptr().wrapping_add(home));
        prefetch_line(self.slots.as_ptr().wrapping_add(home));
    }

    /// The slot holding `key`, if any.
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        self.find_hashed(key, hash_key(key))
    }

    fn find_hashed(&self, key: &[u8], hash: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let tag = tag_of(hash);
        let mask = self.mask();
        let mut i = self.home(hash);
        loop {
            match self.tags[i] {
                EMPTY => return None,
                t if t == tag => {
                    if let Some((k, _)) = &self.slots[i] {
                        if k.as_slice() == key {
                            return Some(i);
                        }
                    }
                }
                _ => {}
            }
            i = (i + 1) & mask;
        }
    }

    /// The key and value in slot `i`, if it is full.
    pub fn at(&self, i: usize) -> Option<(&Key, &V)> {
        self.slots.get(i)?.as_ref().map(|(k, v)| (k, v))
    }

    pub fn at_mut(&mut self, i: usize) -> Option<&mut V> {
        self.slots.get_mut(i)?.as_mut().map(|(_, v)| v)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).and_then(|i| self.at(i)).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&Key, &V)> {
        self.find(key).and_then(|i| self.at(i))
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let i = self.find(key)?;
        self.at_mut(i)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    /// Inserts or overwrites; the previous value if the key existed.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        let hash = hash_key(key);
        if let Some(i) = self.find_hashed(key, hash) {
            return self.at_mut(i).map(|v| std::mem::replace(v, value));
        }
        self.place(hash, Key::new(key), value);
        None
    }

    /// Inserts unless the key exists (one lookup); false if it did.
    pub fn insert_if_absent(&mut self, key: &[u8], value: V) -> bool {
        let hash = hash_key(key);
        if self.find_hashed(key, hash).is_some() {
            return false;
        }
        self.place(hash, Key::new(key), value);
        true
    }

    /// Inserts a key the caller knows is absent; returns its slot (valid until
    /// the next insert or removal).
    pub fn insert_absent(&mut self, key: &[u8], value: V) -> usize {
        debug_assert!(self.find(key).is_none());
        self.place(hash_key(key), Key::new(key), value)
    }

    fn place(&mut self, hash: u64, key: Key, value: V) -> usize {
        if self.len + 1 > self.capacity() {
            self.grow_to(self.len + 1);
        }
        let i = self.put(hash, key, value);
        self.len += 1;
        i
    }

    /// Writes an entry into the first empty slot from its home (the table has
    /// room and does not hold the key).
    fn put(&mut self, hash: u64, key: Key, value: V) -> usize {
        let mask = self.mask();
        let mut i = self.home(hash);
        while self.tags[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.tags[i] = tag_of(hash);
        self.slots[i] = Some((key, value));
        i
    }

    /// Makes room for `additional` more keys without growing step by step.
    pub fn reserve(&mut self, additional: usize) {
        let want = self.len.saturating_add(additional);
        if want > self.capacity() {
            self.grow_to(want);
        }
    }

    /// Rehashes into the smallest power-of-two table that holds `len` keys.
    fn grow_to(&mut self, len: usize) {
        let mut bits = MIN_BITS.max(self.bits);
        while max_len(1 << bits) < len {
            bits += 1;
        }
        let n = 1usize << bits;
        let old = std::mem::take(&mut self.slots);
        self.tags = vec![EMPTY; n];
        self.slots = Vec::with_capacity(n);
        self.slots.resize_with(n, || None);
        self.bits = bits;
        for (key, value) in old.into_iter().flatten() {
            let hash = hash_key(&key);
            self.put(hash, key, value);
        }
    }

    /// Removes a key; its value if it existed.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let i = self.find(key)?;
        self.remove_at(i).map(|(_, v)| v)
    }

    /// Empties slot `i` and shifts the rest of its run back so that no lookup
    /// meets an empty slot before reaching its key.
    pub fn remove_at(&mut self, i: usize) -> Option<(Key, V)> {
        let removed = self.slots.get_mut(i)?.take()?;
        self.tags[i] = EMPTY;
        self.len -= 1;
        let mask = self.mask();
        let mut hole = i;
        let mut j = (i + 1) & mask;
        while self.tags[j] != EMPTY {
            let home = match &self.slots[j] {
                Some((k, _)) => self.home(hash_key(k)),
                None => break,
            };
            // The entry at j may fill the hole if its home is not inside the
            // stretch (hole, j]: it was probed past the hole to get to j.
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = self.slots[j].take();
                self.tags[hole] = self.tags[j];
                self.tags[j] = EMPTY;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        Some(removed)
    }

    /// A full slot chosen at random (the first full one from a random start);
    /// None when empty.
    pub fn random(&self) -> Option<(usize, &Key, &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = fastrand::usize(..self.slots.len());
        loop {
            if let Some((k, v)) = &self.slots[i] {
                return Some((i, k, v));
            }
            i = (i + 1) & mask;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &V)> {
        self.slots.iter().flatten().map(|(k, v)| (k, v))
    }

    /// One SCAN step from `cursor` (a position in hash space; 0 starts): visits
    /// every key whose hash lies in [cursor, next) and returns `next`, 0 when the
    /// whole space is done. Covers whole home slots, about `count` keys' worth.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&Key, &V)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let n = self.slots.len();
        let mask = self.mask();
        let first = self.home(cursor);
        // Enough home slots for about `count` keys at the current load.
        let homes = (count.max(1) * n).div_ceil(self.len);
        let end = first.saturating_add(homes).min(n);
        let next = if end >= n {
            0
        } else {
            (end as u64) << (64 - self.bits)
        };
        // Keys with home in [first, end) sit between `first` and the first empty
        // slot at or after `end - 1`; the hash range filter drops keys that
        // wrapped in from below `first` or belong to later homes.
        let mut i = first;
        loop {
            let at = i & mask;
            if i >= end && self.tags[at] == EMPTY {
                break;
            }
            if i >= first + n {
                break;
            }
            if let Some((k, v)) = &self.slots[at] {
                let h = hash_key(k);
                if h >= cursor && (next == 0 || h < next) {
                    visit(k, v);
                }
            }
            i += 1;
        }
        next
    }
}

/// Slot `i` of a lookup just made: a full slot by the caller's knowledge.
impl<V> std::ops::Index<usize> for KeyTable<V> {
    type Output = V;
    fn index(&self, i: usize) -> &V {
        match self.at(i) {
            Some((_, v)) => v,
            None => panic!("slot {i} is empty"),
        }
    }
}

impl<V> std::ops::IndexMut<usize> for KeyTable<V> {
    fn index_mut(&mut self, i: usize) -> &mut V {
        match self.at_mut(i) {
            Some(v) => v,
            None => panic!("slot {i} is empty"),
        }
    }
}

/// The most keys a table of `slots` holds: 7/8 full keeps probe runs short
/// with the tags scanned first.
fn max_len(slots: usize) -> usize {
    slots / 8 * 7
}

/// Asks for the cache line at `p` ahead of its use.
#[inline]
pub(crate) fn prefetch_line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is only a
        // hint: it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn key(i: u32) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn behaves_like_a_map_through_growth_and_removals() {
        let mut t = KeyTable::default();
        let mut model = HashMap::new();
        fastrand::seed(7);
        for step in 0..200_000u32 {
            let k = key(fastrand::u32(..5_000));
            match fastrand::u8(..3) {
                0 => assert_eq!(t.remove(&k), model.remove(&k)),
                _ => assert_eq!(t.insert(&k, step), model.insert(k, step)),
            }
        }
        assert_eq!(t.len(), model.len());
        for (k, v) in &model {
            assert_eq!(t.get(k), Some(v));
        }
        assert_eq!(t.iter().count(), model.len());
        assert!(t.len() <= t.capacity());
        for i in 5_000..6_000 {
            assert_eq!(t.get(&key(i)), None);
        }
    }

    #[test]
    fn slots_cost_no_more_than_the_entry() {
        assert_eq!(
            std::mem::size_of::<Option<(Key, crate::Entry)>>(),
            std::mem::size_of::<(Key, crate::Entry)>()
        );
    }

    #[test]
    fn scan_sees_each_stable_key_once_across_growth_and_removals() {
        let mut t = KeyTable::default();
        for i in 0..1_000 {
            t.insert(&key(i), i);
        }
        let mut seen = HashMap::<Vec<u8>, usize>::new();
        let mut cursor = 0;
        let mut round = 0u32;
        loop {
            cursor = t.scan(cursor, 10, |k, _| *seen.entry(k.to_vec()).or_default() += 1);
            round += 1;
            // Keys 0..1000 stay; others come and go, forcing growth midway.
            for j in 0..40 {
                t.insert(&key(10_000 + round * 40 + j), 0);
            }
            t.remove(&key(10_000 + (round - 1) * 40));
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1_000 {
            assert_eq!(seen.get(&key(i)), Some(&1), "key {i}");
        }
        assert!(t.slot_count() > 2048, "the table grew during the scan");
    }

    #[test]
    fn random_finds_only_present_keys() {
        let mut t = KeyTable::default();
        assert!(t.random().is_none());
        for i in 0..100 {
            t.insert(&key(i), i);
        }
        let mut hit = HashSet::new();
        for _ in 0..2_000 {
            let (_, k, v) = t.random().unwrap();
            assert_eq!(k.as_slice(), &key(*v)[..]);
            hit.insert(*v);
        }
        assert!(hit.len() > 50);
    }
}
