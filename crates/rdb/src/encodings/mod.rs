//! Decoders (and a listpack encoder) for the compact blobs Redis stores small
//! aggregates in: listpack, ziplist, intset, zipmap. They work on one in-memory blob
//! (a string of the RDB file) and report problems as text with the position inside
//! the blob; the caller adds the file offset.

pub mod intset;
pub mod listpack;
pub mod ziplist;
pub mod zipmap;

use bytes::Bytes;
use std::ops::Range;

/// One element of a ziplist or listpack: a byte range of the blob, or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    Str(Range<usize>),
    Int(i64),
}

impl Elem {
    /// The element as bytes (integers as decimal text), sharing the blob's memory.
    pub fn to_bytes(&self, blob: &Bytes) -> Bytes {
        match self {
            Elem::Str(r) => blob.slice(r.clone()),
            Elem::Int(i) => Bytes::from(i.to_string()),
        }
    }

    /// The element as a sorted-set score.
    pub fn to_score(&self, blob: &[u8]) -> Option<f64> {
        match self {
            Elem::Str(r) => parse_score(&blob[r.clone()]),
            Elem::Int(i) => Some(*i as f64),
        }
    }
}

/// Parses a score written as text (`%.17g`, `inf`, `-inf`); NaN is refused, as Redis
/// refuses it in sorted sets.
pub(crate) fn parse_score(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let v: f64 = s.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// A bounds-checked cursor over a blob, so no decoder can index past its end.
pub(crate) struct Cursor<'a> {
    pub(crate) blob: &'a [u8],
    pub(crate) pos: usize,
    /// Names the encoding in messages ("listpack", "ziplist" …).
    pub(crate) what: &'static str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(blob: &'a [u8], what: &'static str) -> Self {
        Cursor { blob, pos: 0, what }
    }

    pub(crate) fn err(&self, msg: impl std::fmt::Display) -> String {
        format!(
            "{} (blob of {} bytes) at byte {}: {msg}",
            self.what,
            self.blob.len(),
            self.pos
        )
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.blob.len())
            .ok_or_else(|| self.err(format!("{n} bytes run past the end")))?;
        let s = &self.blob[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn range(&mut self, n: usize) -> Result<Range<usize>, String> {
        let start = self.pos;
        self.take(n)?;
        Ok(start..self.pos)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn le<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.blob.len()
    }
}

/// Sign-extends the low `bits` bits of `v`.
pub(crate) fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}
