//! `SmallBytes`: an immutable byte string that keeps up to 22 bytes inline and
//! longer ones in one heap allocation, in 24 bytes either way. Most keys and many
//! values are short: inline they cost no allocation, no free, and no pointer chase
//! on lookup (the profile showed those misses dominating SET/GET).
//!
//! `SharedBytes` is the same with a reference-counted heap part: a top-level
//! string value is stored that way so that a point-in-time snapshot can hold it by
//! bumping a count instead of copying it (the copy stalled a node holding 1M values
//! of 1 KB for 1.8 s on every BGSAVE or full sync, and took another 1 GB).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

const INLINE: usize = 22;

/// Where a `SmallBytes` keeps a string longer than `INLINE`.
pub trait HeapBytes: std::ops::Deref<Target = [u8]> + for<'a> From<&'a [u8]> + Clone {
    /// Bytes the allocation holds beside the string (a reference count's header).
    const HEADER: usize;
    fn into_vec(self) -> Vec<u8>;
}

impl HeapBytes for Box<[u8]> {
    const HEADER: usize = 0;
    fn into_vec(self) -> Vec<u8> {
        <[u8]>::into_vec(self)
    }
}

/// triomphe's `Arc` has no weak count: its header is one word, so a 32-byte value
/// still fits the 48-byte malloc chunk a `Box` gets (std's `Arc` needs 64).
impl HeapBytes for triomphe::Arc<[u8]> {
    const HEADER: usize = std::mem::size_of::<usize>();
    fn into_vec(self) -> Vec<u8> {
        self.to_vec()
    }
}

#[derive(Clone)]
enum Repr<H> {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(H),
}

/// An owned short-string-optimised byte string (keys, members, fields).
#[derive(Clone)]
pub struct SmallBytes<H: HeapBytes = Box<[u8]>>(Repr<H>);

/// A string value whose heap part is shared by clones (see the module comment).
pub type SharedBytes = SmallBytes<triomphe::Arc<[u8]>>;

impl SmallBytes {
    pub fn new(bytes: &[u8]) -> Self {
        Self::copy_of(bytes)
    }
}

impl<H: HeapBytes> SmallBytes<H> {
    /// A copy of `bytes` (`SmallBytes::new` where the heap type is the default).
    pub fn copy_of(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut data = [0u8; INLINE];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes(Repr::Inline {
                len: bytes.len() as u8,
                data,
            })
        } else {
            SmallBytes(Repr::Heap(H::from(bytes)))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, data } => &data[..*len as usize],
            Repr::Heap(b) => &b[..],
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held on the heap (0 when inline).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => H::HEADER + b.len(),
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { len, data } => data[..len as usize].to_vec(),
            Repr::Heap(b) => b.into_vec(),
        }
    }
}

impl<H: HeapBytes> std::ops::Deref for SmallBytes<H> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<H: HeapBytes> Borrow<[u8]> for SmallBytes<H> {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<H: HeapBytes> AsRef<[u8]> for SmallBytes<H> {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

// Hash and Eq must agree with `[u8]`'s so maps keyed by SmallBytes can be queried
// with plain slices.
impl<H: HeapBytes> Hash for SmallBytes<H> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.as_slice().hash(state)
    }
}

impl<H: HeapBytes> PartialEq for SmallBytes<H> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<H: HeapBytes> Eq for SmallBytes<H> {}

impl<H: HeapBytes> From<&[u8]> for SmallBytes<H> {
    fn from(b: &[u8]) -> Self {
        SmallBytes::copy_of(b)
    }
}

impl<H: HeapBytes> std::fmt::Debug for SmallBytes<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn inline_and_heap_behave_like_slices() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        for len in [0, 1, 22, 23, 100] {
            let v: Vec<u8> = (0..len as u8).collect();
            let s = SmallBytes::new(&v);
            assert_eq!(&*s, &v[..]);
            assert_eq!(s.heap_size(), if len > 22 { len } else { 0 });
            let mut m = HashMap::new();
            m.insert(s.clone(), len);
            assert_eq!(m.get(&v[..]), Some(&len));
            assert_eq!(s.into_vec(), v);
        }
    }

    #[test]
    fn shared_clones_share_the_heap_part() {
        assert_eq!(std::mem::size_of::<SharedBytes>(), 24);
        let long = SharedBytes::copy_of(&[7u8; 100]);
        let copy = long.clone();
        assert_eq!(long.as_ptr(), copy.as_ptr());
        assert_eq!(&*copy, &[7u8; 100][..]);
        assert_eq!(copy.into_vec(), vec![7u8; 100]);
        let short = SharedBytes::copy_of(b"abc");
        assert_eq!(short.heap_size(), 0);
        assert_eq!(&*short.clone(), b"abc");
    }
}
