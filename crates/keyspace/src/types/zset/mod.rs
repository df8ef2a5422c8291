//! Sorted sets, with Redis 7.0's two encodings:
//!
//! - "listpack" while the set has at most `zset-max-listpack-entries` members and
//!   none longer than `zset-max-listpack-value` bytes: a flat sorted array where a
//!   member is found by scanning (O(n), n small);
//! - "skiplist" after (one-way): the ordered structure plus a member → score
//!   dictionary, so that lookups are O(1) and everything else O(log n).
//!
//! Here both keep their entries in the same order-statistic tree (`tree.rs`); the
//! skiplist encoding adds the member index. The encoding is observable beyond
//! OBJECT ENCODING, and this type keeps those effects too:
//!
//! - a listpack stores a score as text, where -0 is written as the integer 0, so a
//!   listpack never holds -0 (a skiplist does);
//! - ZSCAN of a listpack returns everything at once; of a skiplist it walks the
//!   dictionary. The index is insertion-ordered and removal moves the last member
//!   into the hole, so a scan counts positions downwards: a member moved by a
//!   removal always comes from a position already visited, and a scan never misses
//!   a member that stays in the set (Redis's SCAN guarantee).

mod tree;

pub use tree::{order, Entry, Iter};

use crate::SmallBytes;
use indexmap::IndexMap;
use tree::Tree;

type Hasher = foldhash::fast::RandomState;
type Index = IndexMap<SmallBytes, f64, Hasher>;

/// The listpack thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Limits {
    /// Whether a set of `len` members, the longest `longest` bytes, is a listpack.
    pub fn fits(&self, len: usize, longest: usize) -> bool {
        len <= self.entries && longest <= self.value
    }
}

#[derive(Debug, Clone, Default)]
pub struct ZSet {
    tree: Tree,
    /// member → score; present exactly in the "skiplist" encoding.
    index: Option<Index>,
    /// Heap bytes of the members' own storage (kept up to date: MEMORY USAGE and
    /// eviction ask for it often).
    member_heap: usize,
}

impl PartialEq for ZSet {
    /// Same members with the same scores, whatever the encoding.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.member == b.member && a.score == b.score)
    }
}

/// A listpack writes an integral score as an integer, so -0 reads back as 0.
#[inline]
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

impl ZSet {
    /// A set built from entries in order (distinct members), in the encoding Redis
    /// gives a new set of this content (ZUNIONSTORE, ZRANGESTORE …).
    pub fn from_sorted(mut entries: Vec<Entry>, limits: Limits) -> ZSet {
        let longest = entries.iter().map(|e| e.member.len()).max().unwrap_or(0);
        let big = !limits.fits(entries.len(), longest);
        if !big {
            for e in &mut entries {
                e.score = listpack_score(e.score);
            }
        }
        let member_heap = entries.iter().map(|e| e.member.heap_size()).sum();
        let mut z = ZSet {
            tree: Tree::from_sorted(entries),
            index: None,
            member_heap,
        };
        if big {
            z.convert();
        }
        z
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        if self.index.is_some() {
            "skiplist"
        } else {
            "listpack"
        }
    }

    pub fn is_listpack(&self) -> bool {
        self.index.is_none()
    }

    /// Approximate heap bytes: tree nodes (about 3/4 full), the index and the
    /// members' own allocations (twice when indexed: the index has its own copy).
    pub fn heap_size(&self) -> usize {
        let entry = std::mem::size_of::<Entry>();
        let tree = self.len() * entry * 4 / 3 + self.len() / 16 * entry;
        match &self.index {
            None => tree + self.member_heap,
            Some(ix) => {
                tree + ix.capacity() * (std::mem::size_of::<SmallBytes>() + 24)
                    + 2 * self.member_heap
            }
        }
    }

    /// Switches to the "skiplist" encoding; there is no way back, as in Redis.
    pub fn convert(&mut self) {
        if self.index.is_none() {
            let mut ix = Index::with_capacity_and_hasher(self.len(), Hasher::default());
            for e in self.tree.iter() {
                ix.insert(e.member.clone(), e.score);
            }
            self.index = Some(ix);
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.index {
            Some(ix) => ix.get(member).copied(),
            None => self.scan_for(member).map(|(_, s)| s),
        }
    }

    /// A listpack lookup: the member's rank and score, by scanning (as Redis does;
    /// a listpack is short). Walks the tree without allocating.
    fn scan_for(&self, member: &[u8]) -> Option<(usize, f64)> {
        let mut found = None;
        let mut rank = 0;
        self.tree.walk_up(0, |e| {
            if e.member.as_slice() == member {
                found = Some((rank, e.score));
                return false;
            }
            rank += 1;
            true
        });
        found
    }

    /// Adds a member that is not in the set, converting the set first if the
    /// listpack would then be too long or the member too large (Redis checks before
    /// inserting).
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) {
        if self.index.is_none() && !limits.fits(self.len() + 1, member.len()) {
            self.convert();
        }
        let m = SmallBytes::new(member);
        self.member_heap += m.heap_size();
        match &mut self.index {
            Some(ix) => {
                ix.insert(m.clone(), score);
                self.tree.insert(score, m);
            }
            None => self.tree.insert(listpack_score(score), m),
        }
    }

    /// Gives a present member a new score (`old` is its current one).
    pub fn update(&mut self, member: &[u8], old: f64, new: f64) {
        let new = match &mut self.index {
            Some(ix) => {
                if let Some(s) = ix.get_mut(member) {
                    *s = new;
                }
                new
            }
            None => listpack_score(new),
        };
        if let Some(mut e) = self.tree.remove(old, member) {
            e.score = new;
            self.tree.insert(e.score, e.member);
        }
    }

    /// Removes a member; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = match &mut self.index {
            Some(ix) => ix.swap_remove(member)?,
            None => self.score(member)?,
        };
        if let Some(e) = self.tree.remove(score, member) {
            self.member_heap -= e.member.heap_size();
        }
        Some(score)
    }

    /// The member's rank (0 = lowest score).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.index {
            Some(ix) => {
                let score = *ix.get(member)?;
                self.tree.rank_of(score, member)
            }
            None => self.scan_for(member).map(|(r, _)| r),
        }
    }

    /// The entry at `rank` (0 = lowest score).
    pub fn get(&self, rank: usize) -> Option<&Entry> {
        self.tree.get(rank)
    }

    /// How many leading entries satisfy `pred` (see `Tree::partition_point`: it
    /// must hold for a prefix of the order, and is also asked about keys that are
    /// not entries).
    pub fn partition_point(&self, pred: impl FnMut(&Entry) -> bool) -> usize {
        self.tree.partition_point(pred)
    }

    /// Calls `f` on the entries from rank `from` towards higher ranks (`up`) or
    /// lower ranks, until it returns false or the set ends.
    pub fn walk(&self, from: usize, up: bool, f: impl FnMut(&Entry) -> bool) {
        if up {
            self.tree.walk_up(from, f)
        } else {
            self.tree.walk_down(from, f)
        }
    }

    /// Entries in order (lowest score first).
    pub fn iter(&self) -> Iter<'_> {
        self.tree.iter()
    }

    /// Removes and returns the entry with the lowest (`max` false) or highest score.
    pub fn pop(&mut self, max: bool) -> Option<Entry> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let e = self.tree.remove_at(if max { len - 1 } else { 0 });
        if let Some(ix) = &mut self.index {
            ix.swap_remove(e.member.as_slice());
        }
        self.member_heap -= e.member.heap_size();
        Some(e)
    }

    /// Removes the entries of ranks `start..end`; how many there were.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        for _ in start..end {
            let e = self.tree.remove_at(start);
            if let Some(ix) = &mut self.index {
                ix.swap_remove(e.member.as_slice());
            }
            self.member_heap -= e.member.heap_size();
        }
        end.saturating_sub(start)
    }

    /// The entry at position `i` of the set's unordered view (the dictionary order
    /// of a skiplist, the sorted order of a listpack): O(1) random access for
    /// random members, `i` < len.
    pub fn nth_unordered(&self, i: usize) -> Option<(&[u8], f64)> {
        match &self.index {
            Some(ix) => ix.get_index(i).map(|(m, s)| (m.as_slice(), *s)),
            None => self.tree.get(i).map(|e| (e.member.as_slice(), e.score)),
        }
    }

    /// A uniformly random member and its score.
    pub fn random(&self) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        self.nth_unordered(fastrand::usize(..self.len()))
    }

    /// `count` distinct random positions of the unordered view (`count` < len), in
    /// no particular order. Memory is O(count) when count is small against the set.
    pub fn random_distinct(&self, count: usize) -> Vec<usize> {
        let len = self.len();
        if count.saturating_mul(3) > len {
            // Most of the set: shuffle the first `count` slots of all positions.
            let mut all: Vec<usize> = (0..len).collect();
            for i in 0..count.min(len) {
                let j = fastrand::usize(i..len);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        } else {
            let mut seen = std::collections::HashSet::with_capacity(count);
            let mut out = Vec::with_capacity(count);
            while out.len() < count {
                let i = fastrand::usize(..len);
                if seen.insert(i) {
                    out.push(i);
                }
            }
            out
        }
    }

    /// One ZSCAN step: a listpack in full (next cursor 0); a skiplist `count`
    /// positions of its dictionary, counting down from the cursor (0 = from the
    /// top). Returns the next cursor (0 = done).
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&'a [u8], f64),
    ) -> u64 {
        let Some(ix) = &self.index else {
            self.tree.iter().for_each(|e| visit(&e.member, e.score));
            return 0;
        };
        crate::cursor::scan_positions(ix.len(), cursor, count, |i| {
            if let Some((m, s)) = ix.get_index(i) {
                visit(m, *s);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        entries: 4,
        value: 8,
    };

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        z.iter()
            .map(|e| (String::from_utf8_lossy(&e.member).into_owned(), e.score))
            .collect()
    }

    #[test]
    fn converts_one_way_by_length_and_member_size() {
        let mut z = ZSet::default();
        for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
            z.insert(m.as_bytes(), i as f64, SMALL);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"e", 9.0, SMALL);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"e");
        z.remove(b"a");
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::default();
        z.insert(b"123456789", 1.0, SMALL);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn listpack_has_no_negative_zero() {
        let mut z = ZSet::default();
        z.insert(b"a", -0.0, SMALL);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        z.convert();
        z.insert(b"b", -0.0, SMALL);
        assert!(z.score(b"b").unwrap().is_sign_negative());
    }

    #[test]
    fn same_answers_in_both_encodings() {
        for big in [false, true] {
            let mut z = ZSet::default();
            if big {
                z.convert();
            }
            let limits = Limits {
                entries: 1000,
                value: 64,
            };
            for (m, s) in [("x", 2.0), ("a", 2.0), ("m", 1.0), ("z", -1.0)] {
                z.insert(m.as_bytes(), s, limits);
            }
            assert_eq!(
                members(&z),
                vec![
                    ("z".into(), -1.0),
                    ("m".into(), 1.0),
                    ("a".into(), 2.0),
                    ("x".into(), 2.0)
                ]
            );
            assert_eq!(z.rank(b"a"), Some(2));
            assert_eq!(z.rank(b"q"), None);
            z.update(b"z", -1.0, 5.0);
            assert_eq!(z.rank(b"z"), Some(3));
            assert_eq!(z.score(b"z"), Some(5.0));
            assert_eq!(z.pop(false).unwrap().member.as_slice(), b"m");
            assert_eq!(z.remove_ranks(0, 1), 1);
            assert_eq!(members(&z), vec![("x".into(), 2.0), ("z".into(), 5.0)]);
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                cursor = z.scan(cursor, 1, |m, _| seen.push(m.to_vec()));
                if cursor == 0 {
                    break;
                }
            }
            seen.sort();
            assert_eq!(seen, vec![b"x".to_vec(), b"z".to_vec()]);
        }
    }

    #[test]
    fn store_results_pick_their_encoding() {
        let entries = |n: usize, len: usize| -> Vec<Entry> {
            (0..n)
                .map(|i| Entry {
                    score: -0.0,
                    member: SmallBytes::new(format!("{i:0len$}").as_bytes()),
                })
                .collect()
        };
        let z = ZSet::from_sorted(entries(4, 8), SMALL);
        assert_eq!(z.encoding(), "listpack");
        assert!(z.iter().all(|e| e.score.is_sign_positive()));
        assert_eq!(
            ZSet::from_sorted(entries(5, 1), SMALL).encoding(),
            "skiplist"
        );
        let z = ZSet::from_sorted(entries(2, 9), SMALL);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"000000001"), Some(-0.0));
    }
}
