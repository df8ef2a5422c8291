//! Lists. Redis 7.0 always reports lists as "quicklist".
//!
//! A ring buffer of inline-or-boxed byte strings: pushes and pops at either end
//! are O(1), indexing is O(1) (Redis's quicklist is O(n/node) there), and a
//! range can be walked in place, so LRANGE writes its reply straight from the
//! list without copying the elements first.

use crate::SmallBytes;
use std::collections::vec_deque::Iter;
use std::collections::VecDeque;

/// An end of a list (Redis's LIST_HEAD / LIST_TAIL; LEFT / RIGHT in commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

impl End {
    /// Parses LEFT / RIGHT (any case), as LMOVE, BLMOVE and LMPOP take them.
    pub fn parse(arg: &[u8]) -> Option<End> {
        if arg.eq_ignore_ascii_case(b"left") {
            Some(End::Head)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Some(End::Tail)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    items: VecDeque<SmallBytes>,
}

/// Below this capacity a list never gives memory back: shrinking tiny buffers
/// would only churn the allocator.
const KEEP_CAPACITY: usize = 16;

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// Approximate heap bytes, for MEMORY USAGE.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<SmallBytes>()
            + self.items.iter().map(SmallBytes::heap_size).sum::<usize>()
    }

    pub fn push(&mut self, end: End, value: &[u8]) {
        self.push_owned(end, SmallBytes::new(value));
    }

    /// Pushes an element already in list form (LMOVE hands one list's element to another).
    pub fn push_owned(&mut self, end: End, value: SmallBytes) {
        match end {
            End::Head => self.items.push_front(value),
            End::Tail => self.items.push_back(value),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<SmallBytes> {
        let v = match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        };
        self.release_spare();
        v
    }

    /// Removes up to `n` elements from `end` (LPOP/RPOP with a count, LMPOP),
    /// calling `each` on them in the order they are popped.
    pub fn pop_many(&mut self, end: End, n: usize, mut each: impl FnMut(&[u8])) -> usize {
        let n = n.min(self.items.len());
        match end {
            End::Head => self.items.drain(..n).for_each(|v| each(&v)),
            End::Tail => {
                let from = self.items.len() - n;
                self.items.drain(from..).rev().for_each(|v| each(&v));
            }
        }
        self.release_spare();
        n
    }

    /// Gives memory back once the list has shrunk to a quarter of its buffer
    /// (amortised O(1): the buffer halves at most once per shrink to a quarter).
    fn release_spare(&mut self) {
        let cap = self.items.capacity();
        if cap > KEEP_CAPACITY && self.items.len() < cap / 4 {
            self.items
                .shrink_to((self.items.len() * 2).max(KEEP_CAPACITY));
        }
    }

    /// The position of a Redis index (negative counts from the tail), if inside.
    fn position(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 { index + len } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The element at a Redis index (LINDEX).
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.position(index).map(|i| self.items[i].as_slice())
    }

    /// Replaces the element at a Redis index (LSET); false if out of range.
    pub fn set(&mut self, index: i64, value: &[u8]) -> bool {
        match self.position(index) {
            Some(i) => {
                self.items[i] = SmallBytes::new(value);
                true
            }
            None => false,
        }
    }

    /// The elements between two Redis indexes, both inclusive, clamped as LRANGE
    /// does (empty when start is past the end or after stop).
    pub fn range(&self, start: i64, stop: i64) -> Iter<'_, SmallBytes> {
        match self.clamp(start, stop) {
            Some((s, e)) => self.items.range(s..=e),
            None => self.items.range(0..0),
        }
    }

    /// LRANGE/LTRIM's rule: negative indexes count from the end; the start is
    /// floored at 0, the stop capped at the last element.
    fn clamp(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = self.items.len() as i64;
        let start = if start < 0 { start + len } else { start }.max(0);
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        Some((start as usize, stop.min(len - 1) as usize))
    }

    /// Keeps only the elements between two Redis indexes (LTRIM).
    pub fn trim(&mut self, start: i64, stop: i64) {
        match self.clamp(start, stop) {
            Some((s, e)) => {
                self.items.truncate(e + 1);
                self.items.drain(..s);
            }
            None => self.items.clear(),
        }
        self.release_spare();
    }

    /// Inserts `value` next to the first element equal to `pivot` (LINSERT);
    /// false when there is no such element.
    pub fn insert(&mut self, after: bool, pivot: &[u8], value: &[u8]) -> bool {
        match self.items.iter().position(|v| v.as_slice() == pivot) {
            Some(i) => {
                self.items
                    .insert(i + after as usize, SmallBytes::new(value));
                true
            }
            None => false,
        }
    }

    /// Removes elements equal to `value` (LREM): the first `count` from the head
    /// when `count` > 0, from the tail when < 0, all when 0. The number removed.
    pub fn remove(&mut self, count: i64, value: &[u8]) -> usize {
        let total = self.items.iter().filter(|v| v.as_slice() == value).count();
        if total == 0 {
            return 0;
        }
        let limit = match count.unsigned_abs() {
            0 => total,
            n => usize::try_from(n).unwrap_or(usize::MAX).min(total),
        };
        // Matches are numbered from the head; the ones to remove are the first
        // `limit` (count ≥ 0) or the last `limit` (count < 0). One compaction pass.
        let doomed = if count >= 0 {
            0..limit
        } else {
            total - limit..total
        };
        let mut ordinal = 0;
        self.items.retain(|v| {
            if v.as_slice() != value {
                return true;
            }
            ordinal += 1;
            !doomed.contains(&(ordinal - 1))
        });
        self.release_spare();
        limit
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(SmallBytes::as_slice)
    }
}

impl FromIterator<SmallBytes> for List {
    fn from_iter<I: IntoIterator<Item = SmallBytes>>(iter: I) -> Self {
        List {
            items: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        items
            .iter()
            .map(|s| SmallBytes::new(s.as_bytes()))
            .collect()
    }
    fn contents(l: &List) -> Vec<String> {
        l.iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    #[test]
    fn range_clamps_like_lrange() {
        let l = list(&["a", "b", "c", "d"]);
        let r = |s, e| {
            l.range(s, e)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(r(0, -1), ["a", "b", "c", "d"]);
        assert_eq!(r(-2, 100), ["c", "d"]);
        assert_eq!(r(i64::MIN, i64::MAX), ["a", "b", "c", "d"]);
        assert!(r(3, 2).is_empty());
        assert!(r(4, 10).is_empty());
        assert!(r(0, -5).is_empty());
    }

    #[test]
    fn trim_keeps_the_range() {
        let mut l = list(&["a", "b", "c", "d"]);
        l.trim(1, -2);
        assert_eq!(contents(&l), ["b", "c"]);
        l.trim(5, 10);
        assert!(l.is_empty());
    }

    #[test]
    fn remove_from_either_end() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(-2, b"x"), 2);
        assert_eq!(contents(&l), ["x", "a", "b"]);
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(1, b"x"), 1);
        assert_eq!(contents(&l), ["a", "x", "b", "x"]);
        assert_eq!(l.remove(0, b"x"), 2);
        assert_eq!(l.remove(i64::MIN, b"a"), 1);
        assert_eq!(contents(&l), ["b"]);
    }

    #[test]
    fn pop_many_reports_in_pop_order() {
        let mut l = list(&["a", "b", "c"]);
        let mut got = Vec::new();
        assert_eq!(l.pop_many(End::Tail, 2, |v| got.push(v.to_vec())), 2);
        assert_eq!(got, [b"c".to_vec(), b"b".to_vec()]);
        assert_eq!(l.pop_many(End::Head, 10, |_| {}), 1);
        assert!(l.is_empty());
    }

    #[test]
    fn shrinking_gives_memory_back() {
        let mut l = List::default();
        for i in 0..10_000 {
            l.push(End::Tail, i.to_string().as_bytes());
        }
        while l.len() > 10 {
            l.pop(End::Head);
        }
        assert!(l.items.capacity() <= 64, "{}", l.items.capacity());
    }
}
