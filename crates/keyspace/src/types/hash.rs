//! Hashes: "listpack" while small (insertion order kept), "hashtable" after.

use crate::SmallBytes;
use indexmap::IndexMap;

type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Clone, Default)]
pub struct Hash {
    pub fields: IndexMap<SmallBytes, SmallBytes, Hasher>,
    /// Converted to "hashtable" (never converts back).
    pub big: bool,
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
    pub fn heap_size(&self) -> usize {
        self.fields.capacity() * (2 * std::mem::size_of::<SmallBytes>() + 8)
            + self
                .fields
                .iter()
                .map(|(k, v)| k.heap_size() + v.heap_size())
                .sum::<usize>()
    }
}
