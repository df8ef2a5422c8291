//! What goes into the replication stream after a command has run.
//!
//! A command flagged `write` (or `may-replicate`, like PUBLISH) is recorded when it
//! changed the data — `Keyspace::dirty` moved by more than the expiry deletions its
//! lookups caused — as its deterministic effect (see `rewrite`). Keys deleted
//! because their TTL passed are recorded as DEL before the command, and evicted
//! keys as DEL, so a replica never expires or evicts on its own clock and stays an
//! exact copy.

use super::rewrite;
use crate::server::Shared;
use ferrocache_commands::{CommandSpec, MAY_REPLICATE, WRITE};
use ferrocache_keyspace::Keyspace;

/// Commands a handler chose to record instead of its own arguments (e.g. SPOP
/// as SREM of the members it popped).
pub type Replacement = Vec<Vec<Vec<u8>>>;

/// Commands recorded even when they changed nothing, as Redis does.
fn always_recorded(name: &str) -> bool {
    matches!(name, "flushall" | "flushdb" | "swapdb" | "publish")
}

/// Per-command bookkeeping that `dispatch::run_with` keeps while a command runs.
#[derive(Debug, Default)]
pub struct Recorder {
    /// `Keyspace::dirty` before the command (taken when the keyspace was locked).
    pub dirty_before: Option<u64>,
    pub replacement: Option<Replacement>,
}

impl Recorder {
    /// Records the command that just ran in `db`; `reply` is the reply it wrote.
    #[allow(clippy::too_many_arguments)]
    pub fn after_command(
        self,
        srv: &Shared,
        ks: &mut Keyspace,
        db: usize,
        spec: &CommandSpec,
        argv: &[&[u8]],
        reply: &[u8],
        now_ms: u64,
    ) {
        let writes = spec.has(WRITE) || spec.has(MAY_REPLICATE);
        let expired_pending = ks.dbs.iter().any(|d| d.has_expired_log());
        if !writes && !expired_pending {
            return;
        }
        let mut st = srv.repl.lock();
        let expired = feed_expired(ks, &mut st);
        if !writes {
            return;
        }
        if let Some(commands) = self.replacement {
            for c in &commands {
                st.feed(db, c);
            }
            return;
        }
        let changes = ks.dirty().saturating_sub(self.dirty_before.unwrap_or(0));
        if changes > expired || always_recorded(spec.name) {
            rewrite::effect(spec.name, argv, reply, &ks.dbs[db], now_ms, |args| {
                st.feed(db, args)
            });
        }
    }
}

/// Records every key deleted by expiry since the last call as a DEL; returns how many.
pub fn feed_expired(ks: &mut Keyspace, st: &mut super::state::ReplState) -> u64 {
    let mut n = 0;
    for (i, db) in ks.dbs.iter_mut().enumerate() {
        if db.has_expired_log() {
            for key in db.take_expired_log() {
                st.feed(i, &[b"DEL" as &[u8], &key]);
                n += 1;
            }
        }
    }
    n
}

/// Records the expiries the active cycle made (called with the keyspace locked).
pub fn record_expired(srv: &Shared, ks: &mut Keyspace) {
    if srv.repl.is_active() && ks.dbs.iter().any(|d| d.has_expired_log()) {
        feed_expired(ks, &mut srv.repl.lock());
    }
}

/// Records an eviction (or any deletion the node makes on its own) as a DEL.
pub fn record_del(srv: &Shared, db: usize, key: &[u8]) {
    if srv.repl.is_active() {
        srv.repl.lock().feed(db, &[b"DEL" as &[u8], key]);
    }
}
