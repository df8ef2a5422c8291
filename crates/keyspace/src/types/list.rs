//! Lists. Redis 7.0 always reports lists as "quicklist".

use crate::SmallBytes;
use std::collections::VecDeque;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    pub items: VecDeque<SmallBytes>,
}

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
}
