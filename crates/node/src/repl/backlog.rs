//! The replication backlog: the last `capacity` bytes of the replication stream,
//! addressed by stream offset, so that a replica that reconnects (or the old
//! primary after a failover) can continue from its own offset instead of copying
//! the whole dataset again.
//!
//! Offsets follow Redis: `end` is the primary's `master_repl_offset`, the number of
//! stream bytes ever produced under this history; the backlog holds the bytes at
//! offsets `first ..= end` (1-based), where `first = end - len + 1`.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Backlog {
    buf: VecDeque<u8>,
    capacity: usize,
    /// The offset of the last byte written (master_repl_offset).
    end: u64,
}

impl Backlog {
    /// An empty backlog whose next byte will have offset `end + 1`.
    pub fn new(capacity: usize, end: u64) -> Backlog {
        Backlog {
            buf: VecDeque::new(),
            capacity: capacity.max(1),
            end,
        }
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    /// The offset of the oldest byte held (`end + 1` when empty).
    pub fn first(&self) -> u64 {
        self.end + 1 - self.buf.len() as u64
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Changes the size (CONFIG SET repl-backlog-size), dropping the oldest bytes
    /// when it shrinks.
    pub fn resize(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        self.trim();
    }

    pub fn append(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
        self.end += bytes.len() as u64;
        self.trim();
    }

    fn trim(&mut self) {
        if self.buf.len() > self.capacity {
            let excess = self.buf.len() - self.capacity;
            self.buf.drain(..excess);
        }
    }

    /// Whether a replica that has everything up to `offset` can continue from here.
    pub fn can_continue_from(&self, offset: u64) -> bool {
        offset + 1 >= self.first() && offset <= self.end
    }

    /// Copies the bytes after `offset` (at most `max`) into `out`; returns how many.
    /// None when those bytes are no longer held (the reader fell too far behind).
    pub fn read_after(
        &self,
        offset: u64,
        max: usize,
        out: &mut impl bytes::BufMut,
    ) -> Option<usize> {
        if !self.can_continue_from(offset) {
            return None;
        }
        let start = (offset + 1 - self.first()) as usize;
        let n = (self.buf.len() - start).min(max);
        let (a, b) = self.buf.as_slices();
        // The wanted range [start, start + n) may span both halves of the ring.
        let end = start + n;
        if start < a.len() {
            out.put_slice(&a[start..end.min(a.len())]);
        }
        if end > a.len() {
            out.put_slice(&b[start.saturating_sub(a.len())..end - a.len()]);
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_wraparound() {
        let mut b = Backlog::new(8, 100);
        assert_eq!(b.first(), 101);
        assert!(b.can_continue_from(100));
        b.append(b"abcdef");
        assert_eq!(b.end(), 106);
        let mut out = Vec::new();
        assert_eq!(b.read_after(102, 100, &mut out), Some(4));
        assert_eq!(out, b"cdef");
        b.append(b"ghijk");
        // Holds the last 8 bytes: offsets 104..=111 ("defghijk").
        assert_eq!(b.first(), 104);
        assert!(b.read_after(102, 100, &mut Vec::new()).is_none());
        let mut out = Vec::new();
        assert_eq!(b.read_after(103, 3, &mut out), Some(3));
        assert_eq!(out, b"def");
        assert_eq!(b.read_after(111, 10, &mut Vec::new()), Some(0));
        assert!(!b.can_continue_from(112));
        b.resize(2);
        assert_eq!(b.first(), 110);
    }
}
