//! Replication in Redis's own protocol, so that a ferrocache node and a
//! `redis-server` can replicate from each other.
//!
//! - `state`: replication IDs, offsets, the backlog, the replicas and the link to
//!   the primary — one mutex, taken only after the keyspace lock.
//! - `record`: after each write, what goes into the stream (the command, or its
//!   deterministic effect: relative expiries made absolute, served blocking pops
//!   as plain pops, expiries and evictions as DEL).
//! - `feeder`: the primary side of one replica connection (PSYNC: full or
//!   partial resync, then the stream; ACKs back).
//! - `link`: the replica side (REPLICAOF): handshake, loading the primary's
//!   snapshot, applying its stream, ACKs.
//! - `failover`: FAILOVER, the planned role swap with a replica (both sides:
//!   the demoting primary here and in `link`, the promoted target in PSYNC).
//! - `wire`: small RESP helpers both sides share.

mod backlog;
pub mod failover;
pub mod feeder;
pub mod info;
pub mod link;
pub mod record;
mod rewrite;
pub mod state;
mod wire;

pub use record::{record_del, Recorder};
pub use state::{Repl, Role};

use crate::clients::ClientHandle;
use crate::server::{unix_ms, Shared};
use std::time::Duration;

/// WAIT: waits until `replicas` replicas have acknowledged `offset`, or the
/// deadline (Unix ms; 0 = none) passes, or the client is killed; returns how many
/// had acknowledged it.
pub async fn wait_acks(
    srv: &Shared,
    client: &ClientHandle,
    offset: u64,
    replicas: usize,
    deadline_ms: u64,
) -> usize {
    let mut acks = srv.repl.subscribe_acks();
    loop {
        let acked = srv.repl.lock().acked_at_least(offset);
        if acked >= replicas {
            return acked;
        }
        let left = match deadline_ms {
            0 => Duration::MAX,
            d => Duration::from_millis(d.saturating_sub(unix_ms())),
        };
        if left.is_zero() {
            return acked;
        }
        tokio::select! {
            r = acks.changed() => if r.is_err() { return acked; },
            _ = tokio::time::sleep(left.min(Duration::from_secs(3600))) => {}
            _ = client.kill.notified() => return acked,
            _ = srv.shutdown.cancelled() => return acked,
        }
    }
}

/// Periodic replication work: a primary with replicas puts a PING in the stream
/// every `repl-ping-replica-period` so that a replica can tell a silent primary
/// from a dead one; the backlog follows `repl-backlog-size`.
pub fn cron(srv: &Shared) {
    if !srv.repl.is_active() {
        return;
    }
    let settings = srv.settings();
    {
        let _ks = srv.keyspace.lock();
        let mut st = srv.repl.lock();
        st.resize_backlog(settings.repl.backlog_size);
        let period = Duration::from_secs(settings.repl.ping_period_secs.max(1));
        // No PINGs while FAILOVER holds writes: the target must reach an offset
        // that stays put (Redis skips them during a failover too).
        let due = st.last_ping.is_none_or(|t| t.elapsed() >= period)
            && st.failover.phase == failover::Phase::None;
        if due && !st.replicas.is_empty() {
            st.last_ping = Some(std::time::Instant::now());
            st.feed_global(&["PING"]);
        }
    }
    srv.repl.publish();
}
