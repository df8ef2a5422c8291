//! Sets, with Redis 7.0's two encodings: "intset" (a sorted vector of i64) while
//! every member is the canonical text of an integer and there are at most
//! `set-max-intset-entries` members, then "hashtable" (an insertion-ordered hash
//! set, so that a random member or a scan position is an index). The switch is
//! one-way, as in Redis: removing the strings or shrinking a set keeps it a table.
//!
//! The intset being sorted is observable: SMEMBERS, SSCAN and every reply that
//! walks an intset list its members in ascending numeric order, as Redis does.

use crate::value::{itoa_buf, parse_i64};
use crate::SmallBytes;
use indexmap::IndexSet;

type Hasher = foldhash::fast::RandomState;
type Table = IndexSet<SmallBytes, Hasher>;

/// Members up to this length are stored inline in `SmallBytes` (no allocation).
const INLINE_MAX: usize = 22;

/// A member as stored: an intset holds numbers, a table holds bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

/// A member taken out of a set (SPOP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Int(i64),
    Bytes(SmallBytes),
}

impl Member<'_> {
    /// Calls `f` with the member's text, formatting an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(i) => f(itoa_buf::Buf::default().format(i)),
            Member::Bytes(b) => f(b),
        }
    }

    pub fn owned(self) -> Owned {
        match self {
            Member::Int(i) => Owned::Int(i),
            Member::Bytes(b) => Owned::Bytes(SmallBytes::new(b)),
        }
    }
}

impl Owned {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            Owned::Int(i) => Member::Int(*i),
            Owned::Bytes(b) => Member::Bytes(b),
        }
    }
}

#[derive(Debug, Clone)]
enum Repr {
    /// Sorted ascending, no duplicates.
    Ints(Vec<i64>),
    Table(Table),
}

#[derive(Debug, Clone)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    /// An empty intset: Redis creates a set as an intset unless its first member
    /// is not an integer, and the first non-integer converts it anyway.
    fn default() -> Self {
        Set {
            repr: Repr::Ints(Vec::new()),
        }
    }
}

impl PartialEq for Set {
    /// Same members, whatever the encoding.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl Set {
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.capacity() * 8,
            Repr::Table(t) => {
                // Entries (hash + value) plus the index table's slots.
                t.capacity() * (std::mem::size_of::<SmallBytes>() + 16)
                    + t.iter().map(SmallBytes::heap_size).sum::<usize>()
            }
        }
    }

    /// Adds a member; true if it was not there. An intset turns into a table when
    /// the member is not an integer or the set grows past `max_intset` members.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            if let Some(i) = parse_i64(member) {
                return match v.binary_search(&i) {
                    Ok(_) => false,
                    Err(pos) => {
                        v.insert(pos, i);
                        if v.len() > max_intset {
                            self.convert(0);
                        }
                        true
                    }
                };
            }
            self.convert(1);
        }
        let Repr::Table(t) = &mut self.repr else {
            unreachable!("converted above")
        };
        // A long member would be copied to the heap just to find it is present.
        if member.len() > INLINE_MAX && t.contains(member) {
            return false;
        }
        t.insert(SmallBytes::new(member))
    }

    /// Adds a member taken from another set, without reformatting integers.
    pub fn add_member(&mut self, member: Member<'_>, max_intset: usize) -> bool {
        match (member, &mut self.repr) {
            (Member::Int(i), Repr::Ints(v)) => match v.binary_search(&i) {
                Ok(_) => false,
                Err(pos) => {
                    v.insert(pos, i);
                    if v.len() > max_intset {
                        self.convert(0);
                    }
                    true
                }
            },
            (m, _) => m.with_bytes(|b| self.add(b, max_intset)),
        }
    }

    /// Turns an intset into a table with room for `extra` more members.
    fn convert(&mut self, extra: usize) {
        if let Repr::Ints(v) = &self.repr {
            let mut t = Table::with_capacity_and_hasher(v.len() + extra, Hasher::default());
            let mut buf = itoa_buf::Buf::default();
            for &i in v {
                t.insert(SmallBytes::new(buf.format(i)));
            }
            self.repr = Repr::Table(t);
        }
    }

    /// Removes a member; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_i64(member).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            // swap_remove keeps removal O(1); the table's order means nothing.
            Repr::Table(t) => t.swap_remove(member),
        }
    }

    /// Removes a member given in stored form; true if it was there.
    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        match (member, &mut self.repr) {
            (Member::Int(i), Repr::Ints(v)) => match v.binary_search(&i) {
                Ok(pos) => {
                    v.remove(pos);
                    true
                }
                Err(_) => false,
            },
            (m, _) => m.with_bytes(|b| self.remove(b)),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_i64(member).is_some_and(|i| v.binary_search(&i).is_ok()),
            Repr::Table(t) => t.contains(member),
        }
    }

    /// Membership of a member of another set: an integer is looked up in an intset
    /// without formatting it.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (member, &self.repr) {
            (Member::Int(i), Repr::Ints(v)) => v.binary_search(&i).is_ok(),
            (m, _) => m.with_bytes(|b| self.contains(b)),
        }
    }

    /// The member at position `i` (0..len): ascending order for an intset.
    pub fn get_index(&self, i: usize) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Ints(v) => v.get(i).map(|&x| Member::Int(x)),
            Repr::Table(t) => t.get_index(i).map(|b| Member::Bytes(b)),
        }
    }

    /// A uniformly random member; None when empty.
    pub fn random(&self) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        self.get_index(fastrand::usize(..self.len()))
    }

    /// Removes and returns a uniformly random member; None when empty.
    pub fn pop_random(&mut self) -> Option<Owned> {
        if self.is_empty() {
            return None;
        }
        let i = fastrand::usize(..self.len());
        match &mut self.repr {
            Repr::Ints(v) => Some(Owned::Int(v.remove(i))),
            Repr::Table(t) => t.swap_remove_index(i).map(Owned::Bytes),
        }
    }

    /// Removes `count` (< len) distinct random members and returns them. When few
    /// members are left (`remaining * 5 <= count`) the rest is rebuilt as a new set,
    /// as Redis's SPOP does: a table whose remaining members are all integers then
    /// becomes an intset again (OBJECT ENCODING shows it).
    pub fn pop_random_many(&mut self, count: usize, max_intset: usize) -> Vec<Owned> {
        let len = self.len();
        let count = count.min(len);
        let remaining = len - count;
        if remaining * 5 > count {
            // Few of many: one at a time, O(1) each in a table.
            return (0..count).filter_map(|_| self.pop_random()).collect();
        }
        let chosen = random_mask(len, count);
        let mut popped = Vec::with_capacity(count);
        match &mut self.repr {
            Repr::Ints(v) => {
                let mut i = 0;
                v.retain(|&x| {
                    let take = chosen[i];
                    i += 1;
                    if take {
                        popped.push(Owned::Int(x));
                    }
                    !take
                });
            }
            Repr::Table(t) => {
                let mut i = 0;
                t.retain(|m| {
                    let take = chosen[i];
                    i += 1;
                    if take {
                        popped.push(Owned::Bytes(m.clone()));
                    }
                    !take
                });
            }
        }
        self.rebuild(max_intset);
        popped
    }

    /// Re-encodes the members as a freshly built set would hold them.
    fn rebuild(&mut self, max_intset: usize) {
        if let Repr::Table(t) = &self.repr {
            if t.len() <= max_intset {
                let ints: Option<Vec<i64>> = t.iter().map(|m| parse_i64(m)).collect();
                if let Some(mut v) = ints {
                    v.sort_unstable();
                    self.repr = Repr::Ints(v);
                }
            }
        }
    }

    /// `count` distinct random members (count < len), in random order.
    pub fn random_distinct(&self, count: usize) -> Vec<Member<'_>> {
        let chosen = random_indexes(self.len(), count);
        chosen
            .into_iter()
            .filter_map(|i| self.get_index(i))
            .collect()
    }

    /// The members: ascending for an intset, insertion order (as changed by
    /// removals) for a table.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(v) => Iter::Ints(v.iter()),
            Repr::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// One SSCAN step over a table (an intset is returned whole by the caller).
    /// The cursor counts down through the table's slots so that a removal (which
    /// moves the last member into the hole) never hides a member that was present
    /// for the whole scan. Returns the next cursor, 0 when done.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(Member<'a>)) -> u64 {
        crate::cursor::scan_positions(self.len(), cursor, count, |i| {
            if let Some(m) = self.get_index(i) {
                visit(m);
            }
        })
    }
}

/// The members of a set, as `Set::iter` lists them.
pub enum Iter<'a> {
    Ints(std::slice::Iter<'a, i64>),
    Table(indexmap::set::Iter<'a, SmallBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(i) => i.next().map(|&x| Member::Int(x)),
            Iter::Table(t) => t.next().map(|b| Member::Bytes(b)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Ints(i) => i.size_hint(),
            Iter::Table(t) => t.size_hint(),
        }
    }
}

/// A mask of `len` flags with `count` of them set, chosen uniformly.
fn random_mask(len: usize, count: usize) -> Vec<bool> {
    let mut mask = vec![false; len];
    for i in random_indexes(len, count) {
        mask[i] = true;
    }
    mask
}

/// `count` distinct indexes in `0..len` (count <= len), in random order.
fn random_indexes(len: usize, count: usize) -> Vec<usize> {
    let count = count.min(len);
    if count * 2 >= len {
        // Most of the range: shuffle it partially.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = fastrand::usize(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        // Few of many: Floyd's sampling, memory proportional to `count`.
        let mut picked = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        for j in len - count..len {
            let t = fastrand::usize(..=j);
            let i = if picked.insert(t) { t } else { j };
            if i == j {
                picked.insert(j);
            }
            out.push(i);
        }
        fastrand::shuffle(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Set) -> Vec<String> {
        s.iter()
            .map(|m| m.with_bytes(|b| String::from_utf8_lossy(b).into_owned()))
            .collect()
    }

    #[test]
    fn intset_stays_sorted_until_it_converts() {
        let mut s = Set::default();
        for m in ["5", "-3", "10", "5", "0"] {
            s.add(m.as_bytes(), 512);
        }
        assert_eq!(texts(&s), ["-3", "0", "5", "10"]);
        assert_eq!(s.encoding(), "intset");
        // Non-canonical integer text is a string member.
        assert!(s.add(b"05", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"10") && s.contains(b"05") && !s.contains(b"7"));
        assert!(s.remove(b"05"));
        assert_eq!(s.encoding(), "hashtable", "one-way");
    }

    #[test]
    fn too_many_integers_convert() {
        let mut s = Set::default();
        for i in 0..4 {
            s.add(i.to_string().as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 4);
        assert!(s.contains_member(Member::Int(3)));
    }

    #[test]
    fn pop_many_rebuilds_a_small_remainder() {
        let mut s = Set::default();
        for i in 0..20 {
            s.add(i.to_string().as_bytes(), 10);
        }
        assert_eq!(s.encoding(), "hashtable");
        let popped = s.pop_random_many(17, 10);
        assert_eq!(popped.len(), 17);
        assert_eq!(s.len(), 3);
        assert_eq!(s.encoding(), "intset");
        for p in &popped {
            assert!(!s.contains_member(p.as_member()));
        }
        // A large remainder keeps the table.
        let mut t = Set::default();
        for i in 0..20 {
            t.add(i.to_string().as_bytes(), 10);
        }
        t.pop_random_many(2, 10);
        assert_eq!(t.encoding(), "hashtable");
    }

    #[test]
    fn random_indexes_are_distinct() {
        for (len, count) in [(10, 10), (10, 3), (1000, 5), (5, 0)] {
            let mut v = random_indexes(len, count);
            assert_eq!(v.len(), count);
            v.sort();
            v.dedup();
            assert_eq!(v.len(), count);
            assert!(v.iter().all(|&i| i < len));
        }
    }

    #[test]
    fn scan_visits_all() {
        let mut s = Set::default();
        for i in 0..50 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, 7, |m| seen.push(m.owned()));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 50);
    }
}
