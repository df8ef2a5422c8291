//! Sorted sets: "listpack" while small, "skiplist" after. Ordered by (score, member)
//! with members compared as bytes, as Redis orders equal scores.

use crate::SmallBytes;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {
    /// Placeholder representation: (score, member) in order.
    pub entries: Vec<(f64, SmallBytes)>,
    /// Converted to "skiplist" (never converts back).
    pub big: bool,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn encoding(&self) -> &'static str {
        if self.big {
            "skiplist"
        } else {
            "listpack"
        }
    }
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(f64, SmallBytes)>()
            + self
                .entries
                .iter()
                .map(|(_, m)| m.heap_size())
                .sum::<usize>()
    }
}
