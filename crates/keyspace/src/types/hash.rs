//! Hashes, with Redis 7.0's two encodings: "listpack" while small, "hashtable" after
//! (one-way). Both are one insertion-ordered map; the encoding decides what order
//! means:
//!
//! - listpack: the insertion order is observable (HGETALL, HSCAN and HRANDFIELD
//!   walk a listpack front to back), so an update keeps a field's place and a
//!   removal closes the gap (`shift_remove`, O(n) like listpack's memmove; n is at
//!   most `hash-max-listpack-entries`).
//! - hashtable: the order is Redis's dict order, which nobody can rely on, so a
//!   removal moves the last field into the hole (`swap_remove`, O(1)) and a scan
//!   walks the indexes downwards: a field moved by a removal always comes from an
//!   index the scan has already visited, so a running scan never misses a field
//!   that stays in the hash (Redis's SCAN guarantee).

use crate::SmallBytes;
use indexmap::IndexMap;

type Hasher = foldhash::fast::RandomState;

/// Fields up to this length are stored inline in `SmallBytes` (no allocation).
const INLINE_MAX: usize = 22;

#[derive(Debug, Clone, Default)]
pub struct Hash {
    fields: IndexMap<SmallBytes, SmallBytes, Hasher>,
    /// Converted to "hashtable" (never converts back).
    big: bool,
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        if self.big {
            "hashtable"
        } else {
            "listpack"
        }
    }

    pub fn is_listpack(&self) -> bool {
        !self.big
    }

    /// Switches to "hashtable"; there is no way back, as in Redis.
    pub fn convert(&mut self) {
        self.big = true;
    }

    pub fn heap_size(&self) -> usize {
        self.fields.capacity() * (2 * std::mem::size_of::<SmallBytes>() + 8)
            + self
                .fields
                .iter()
                .map(|(k, v)| k.heap_size() + v.heap_size())
                .sum::<usize>()
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.fields.get(field).map(SmallBytes::as_slice)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.fields.contains_key(field)
    }

    /// Sets `field` to `value`; true if the field is new (appended at the end). An
    /// existing field keeps its place.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if field.len() <= INLINE_MAX {
            // An inline key costs nothing to build, so one lookup does both cases.
            let (_, old) = self
                .fields
                .insert_full(SmallBytes::new(field), SmallBytes::new(value));
            return old.is_none();
        }
        match self.fields.get_mut(field) {
            Some(v) => {
                *v = SmallBytes::new(value);
                false
            }
            None => {
                self.fields
                    .insert(SmallBytes::new(field), SmallBytes::new(value));
                true
            }
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        if self.big {
            self.fields.swap_remove(field).is_some()
        } else {
            self.fields.shift_remove(field).is_some()
        }
    }

    /// The fields and values in the hash's order (a listpack's is insertion order).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        self.fields
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// The field and value at position `i` of `iter`'s order.
    pub fn get_index(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.fields
            .get_index(i)
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// One HSCAN step: visits fields and returns the next cursor (0 when done).
    /// A listpack is returned whole in one step whatever the cursor, as Redis does.
    /// A hashtable's cursor is the number of positions still to visit, counted
    /// from the top (see the module comment); about `count` fields per step.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&'a [u8], &'a [u8]),
    ) -> u64 {
        if !self.big {
            self.iter().for_each(|(k, v)| visit(k, v));
            return 0;
        }
        crate::cursor::scan_positions(self.fields.len(), cursor, count, |i| {
            if let Some((k, v)) = self.get_index(i) {
                visit(k, v);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(pairs: &[(&str, &str)]) -> Hash {
        let mut h = Hash::default();
        for (k, v) in pairs {
            h.set(k.as_bytes(), v.as_bytes());
        }
        h
    }

    fn fields(h: &Hash) -> Vec<String> {
        h.iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn listpack_keeps_insertion_order_through_updates_and_removals() {
        let long = "f".repeat(40);
        let mut h = hash(&[("a", "1"), ("b", "2"), (&long, "x"), ("c", "3")]);
        assert!(!h.set(b"b", b"20"));
        assert!(!h.set(long.as_bytes(), b"y"));
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(fields(&h), ["b", long.as_str(), "c"]);
        assert_eq!(h.get(b"b"), Some(&b"20"[..]));
        assert_eq!(h.get(long.as_bytes()), Some(&b"y"[..]));
        assert_eq!(h.encoding(), "listpack");
        let mut seen = Vec::new();
        assert_eq!(h.scan(12345, 1, |k, _| seen.push(k.to_vec())), 0);
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn hashtable_scan_sees_every_stable_field_despite_removals() {
        let mut h = Hash::default();
        h.convert();
        for i in 0..200u32 {
            h.set(&i.to_be_bytes(), b"v");
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0u32;
        loop {
            cursor = h.scan(cursor, 7, |k, _| {
                seen.insert(k.to_vec());
            });
            round += 1;
            // Remove fields on both sides of the cursor, and add new ones.
            h.remove(&(round * 3).to_be_bytes());
            h.remove(&(200 - round).to_be_bytes());
            h.set(&(1000 + round).to_be_bytes(), b"new");
            if cursor == 0 {
                break;
            }
        }
        for i in 0..200u32 {
            let k = i.to_be_bytes();
            if h.contains(&k) {
                assert!(seen.contains(&k[..]), "missed {i}");
            }
        }
        assert_eq!(h.encoding(), "hashtable");
    }
}
