//! RDB persistence: snapshots written in Redis's file format (SAVE, BGSAVE, the
//! `save` schedule, SHUTDOWN), loading on start, and the state INFO reports.
//!
//! - `convert`: keyspace values ⇄ the RDB crate's neutral values, with Redis's
//!   load-time encodings;
//! - `snapshot`: the point-in-time copy taken under the keyspace lock, and its
//!   serialisation (off the lock);
//! - `load`: a file into a fresh keyspace, then swapped in whole;
//! - `file`: where the dump lives and how it is replaced (temp file, fsync, rename);
//! - `jobs`: SAVE/BGSAVE/scheduled saves, the save at shutdown and the load at start.

pub mod convert;
pub mod file;
pub mod jobs;
pub mod load;
pub mod snapshot;

pub use load::{install, load_rdb, read_rdb, LoadInfo};
pub use snapshot::{take, write_rdb, Aux, Meta, Snapshot};

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};

/// What the node knows about its saves and loads (LASTSAVE, INFO persistence).
/// Shared with the background save thread, hence atomics.
pub struct State {
    /// A BGSAVE thread is running.
    pub bgsave_running: AtomicBool,
    /// BGSAVE SCHEDULE asked for one while another was running.
    pub bgsave_scheduled: AtomicBool,
    /// Unix ms when the running BGSAVE started.
    pub bgsave_started_ms: AtomicU64,
    /// Unix seconds of the last successful save (start-up time before any).
    pub last_save_secs: AtomicU64,
    /// Unix ms of the last save attempt (a failed scheduled save waits before retrying).
    pub last_try_ms: AtomicU64,
    pub last_bgsave_ok: AtomicBool,
    /// Seconds the last BGSAVE took, -1 before any.
    pub last_bgsave_secs: AtomicI64,
    /// Successful saves since start.
    pub saves: AtomicU64,
    /// `Keyspace::dirty()` as of the snapshot of the last successful save:
    /// `rdb_changes_since_last_save` is the difference.
    pub dirty_at_save: AtomicU64,
    pub last_load_keys: AtomicU64,
    pub last_load_expired: AtomicU64,
    /// The replication ID and offset the file loaded at start carried, for
    /// replication to resume from (Redis keeps them to try a partial resync).
    pub loaded_repl: Mutex<Option<(String, u64)>>,
    /// SHUTDOWN already saved (or chose not to): the exit path must not save again.
    pub shutdown_handled: AtomicBool,
    /// Serialises writers of the dump file; holds the sequence number of the newest
    /// snapshot written, so an older snapshot finishing late never replaces it.
    pub file: Mutex<u64>,
    /// Sequence number of the last snapshot taken.
    pub snapshot_seq: AtomicU64,
}

impl State {
    pub fn new(now_ms: u64) -> State {
        State {
            bgsave_running: AtomicBool::new(false),
            bgsave_scheduled: AtomicBool::new(false),
            bgsave_started_ms: AtomicU64::new(0),
            last_save_secs: AtomicU64::new(now_ms / 1000),
            last_try_ms: AtomicU64::new(0),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            saves: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
            last_load_keys: AtomicU64::new(0),
            last_load_expired: AtomicU64::new(0),
            loaded_repl: Mutex::new(None),
            shutdown_handled: AtomicBool::new(false),
            file: Mutex::new(0),
            snapshot_seq: AtomicU64::new(0),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new(crate::server::unix_ms())
    }
}
