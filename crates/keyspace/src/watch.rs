//! WATCH support: a client's shared "dirty" flag, set by whoever modifies a key it
//! watches, read by EXEC.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One client's WATCH state; cloned into the registry of every key it watches.
#[derive(Debug, Clone, Default)]
pub struct WatchFlag(Arc<AtomicBool>);

impl WatchFlag {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
    pub fn same(&self, other: &WatchFlag) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
