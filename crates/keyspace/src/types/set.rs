//! Sets: "intset" while every member is an integer and the set is small,
//! "hashtable" after (Redis 7.0 has no listpack sets).

use crate::SmallBytes;
use indexmap::IndexSet;

type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Clone, Default)]
pub struct Set {
    pub members: IndexSet<SmallBytes, Hasher>,
    /// Converted to "hashtable" (never converts back).
    pub big: bool,
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.members == other.members
    }
}

impl Set {
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    pub fn encoding(&self) -> &'static str {
        if self.big {
            "hashtable"
        } else {
            "intset"
        }
    }
    pub fn heap_size(&self) -> usize {
        self.members.capacity() * (std::mem::size_of::<SmallBytes>() + 8)
            + self
                .members
                .iter()
                .map(SmallBytes::heap_size)
                .sum::<usize>()
    }
}
