//! FAILOVER: the planned role swap with a replica, in Redis 6.2's protocol but
//! without its wait for the replica's once-a-second ACK.
//!
//! The primary holds writes (they wait, they are not refused), puts
//! `REPLCONF GETACK *` in the stream at once, and waits until the target replica
//! has acknowledged everything written before it and has been sent the rest.
//! Then, with the keyspace locked so nothing can slip in, it demotes itself: it
//! follows the target and its link sends `PSYNC <replid> <offset+1> FAILOVER`,
//! on which the target promotes itself and answers `+CONTINUE <new id>`. Only
//! then are writes released (and refused with READONLY: this node is a replica
//! now). A refused PSYNC, a lost target or FAILOVER ABORT rolls back.

use super::state::{ReplState, ReplicaInfo};
use crate::server::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where a failover stands (INFO's `master_failover_state`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    #[default]
    None,
    /// Writes held; waiting for the target to reach the primary's offset.
    WaitForSync,
    /// Demoted; the target is being asked to take over.
    InProgress,
}

impl Phase {
    pub fn word(self) -> &'static str {
        match self {
            Phase::None => "no-failover",
            Phase::WaitForSync => "waiting-for-sync",
            Phase::InProgress => "failover-in-progress",
        }
    }
}

/// The failover in progress, kept in the replication state.
#[derive(Debug, Default)]
pub struct Failover {
    pub phase: Phase,
    /// The replica being handed over to, once chosen.
    pub target: Option<(String, u16)>,
    /// Stops the waiting task (ABORT, timeout, a new failover).
    cancel: Option<CancellationToken>,
}

/// What FAILOVER was asked to do.
#[derive(Debug, Default)]
pub struct Request {
    /// TO host port.
    pub to: Option<(String, u16)>,
    pub timeout_ms: Option<u64>,
    pub force: bool,
}

/// Checks a FAILOVER request in Redis's order and starts it (writes held, the
/// waiting task spawned); the error is Redis's text.
pub fn start(srv: &Arc<Shared>, req: Request) -> Result<(), &'static str> {
    let mut st = srv.repl.lock();
    if matches!(st.role, super::Role::Replica { .. }) {
        return Err("ERR FAILOVER is not valid when server is a replica.");
    }
    if st.replicas.is_empty() {
        return Err("ERR FAILOVER requires connected replicas.");
    }
    if req.force && (req.timeout_ms.is_none() || req.to.is_none()) {
        return Err(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
    }
    if st.failover.phase != Phase::None {
        return Err("ERR FAILOVER already in progress.");
    }
    if let Some((host, port)) = &req.to {
        let replica = st
            .replicas
            .values()
            .find(|r| matches_addr(r, host, *port))
            .ok_or("ERR FAILOVER target HOST and PORT is not a replica.")?;
        if replica.state != "online" {
            return Err("ERR FAILOVER target replica is not online.");
        }
    }
    let cancel = CancellationToken::new();
    st.failover = Failover {
        phase: Phase::WaitForSync,
        target: None,
        cancel: Some(cancel.clone()),
    };
    srv.pause.hold_writes();
    drop(st);
    tracing::info!(to = ?req.to, timeout_ms = ?req.timeout_ms, force = req.force, "FAILOVER requested: writes held");
    tokio::spawn(run(srv.clone(), req, cancel));
    Ok(())
}

/// FAILOVER ABORT (and every rollback): back to a primary, writes released.
/// False when no failover was in progress.
pub fn abort(srv: &Shared, reason: &str) -> bool {
    let phase = {
        let mut st = srv.repl.lock();
        let phase = st.failover.phase;
        if phase == Phase::None {
            return false;
        }
        if let Some(c) = st.failover.cancel.take() {
            c.cancel();
        }
        st.failover = Failover::default();
        phase
    };
    if phase == Phase::InProgress {
        // Redis does the same (and warns that the target may have promoted
        // itself already): the history continues under a new ID.
        super::link::promote(srv);
    }
    srv.pause.release_hold();
    tracing::warn!(reason, "failover aborted; this node stays primary");
    true
}

/// Whether the link to `host:port` must ask for a failover (PSYNC … FAILOVER).
pub fn handing_to(st: &ReplState, host: &str, port: u16) -> bool {
    st.failover.phase == Phase::InProgress
        && st
            .failover
            .target
            .as_ref()
            .is_some_and(|(h, p)| h == host && *p == port)
}

/// The target answered the PSYNC … FAILOVER: accepted (+CONTINUE or
/// +FULLRESYNC: it is the primary now) or refused (roll back).
pub fn answered(srv: &Shared, accepted: bool, reply: &str) {
    if srv.repl.lock().failover.phase != Phase::InProgress {
        return;
    }
    if !accepted {
        abort(srv, &format!("the target refused the failover: {reply}"));
        return;
    }
    srv.repl.lock().failover = Failover::default();
    srv.pause.release_hold();
    tracing::info!("failover complete: the target is the primary, writes released");
}

/// The link to the target failed before it answered: roll back, as Redis does.
pub fn link_failed(srv: &Shared) {
    if srv.repl.lock().failover.phase == Phase::InProgress {
        abort(srv, "the target could not be reached");
    }
}

fn matches_addr(r: &ReplicaInfo, host: &str, port: u16) -> bool {
    r.listening_port == port && r.ip.to_string() == host
}

/// Waits for a replica to catch up, then demotes; or rolls back at the deadline.
async fn run(srv: Arc<Shared>, req: Request, cancel: CancellationToken) {
    let deadline = req
        .timeout_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    let mut acks = srv.repl.subscribe_acks();
    // The offset everything written so far ends at (writes are held from here on).
    let mut mark = None;
    loop {
        {
            let _ks = srv.keyspace.lock();
            let mut st = srv.repl.lock();
            if cancel.is_cancelled() {
                return;
            }
            let end = st.offset();
            match mark {
                // Something was written after the mark (an eviction, say): ask again.
                Some((_, asked_end)) if asked_end != end => mark = None,
                _ => {}
            }
            let written = match mark {
                Some((m, _)) => m,
                None => end,
            };
            if let Some(target) = caught_up(&st, &req, written, end) {
                demote(&srv, &mut st, target);
                return;
            }
            if mark.is_none() {
                // Ask now instead of waiting up to a second for the periodic ACK.
                st.feed_global(&["REPLCONF", "GETACK", "*"]);
                mark = Some((end, st.offset()));
            }
        }
        srv.repl.publish();
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = acks.changed() => {}
            // The feeder's progress is not signalled: look again shortly.
            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            _ = timeout => {
                let forced = req.force.then(|| req.to.clone()).flatten();
                match forced {
                    Some(target) => {
                        let _ks = srv.keyspace.lock();
                        let mut st = srv.repl.lock();
                        if cancel.is_cancelled() {
                            return;
                        }
                        tracing::warn!("FAILOVER timed out; FORCE: handing over anyway");
                        demote(&srv, &mut st, target);
                    }
                    None => {
                        if !cancel.is_cancelled() {
                            abort(&srv, "FAILOVER timed out");
                        }
                    }
                }
                return;
            }
            _ = cancel.cancelled() => return,
            _ = srv.shutdown.cancelled() => return,
        }
    }
}

/// The replica to hand over to, if one has acknowledged everything up to
/// `written` and been sent the stream up to `end`: the one named by TO, else the
/// most advanced online replica.
fn caught_up(st: &ReplState, req: &Request, written: u64, end: u64) -> Option<(String, u16)> {
    st.replicas
        .values()
        .filter(|r| r.state == "online" && r.ack_offset >= written && r.sent >= end)
        .filter(|r| req.to.as_ref().is_none_or(|(h, p)| matches_addr(r, h, *p)))
        .max_by_key(|r| r.ack_offset)
        .map(|r| (r.ip.to_string(), r.listening_port))
}

/// Becomes a replica of `target` (keyspace and state locked by the caller, so
/// no write can land between the check and the switch); the link asks the
/// target to take over.
fn demote(srv: &Arc<Shared>, st: &mut ReplState, target: (String, u16)) {
    tracing::info!(target = %format!("{}:{}", target.0, target.1), offset = st.offset(), "failover: demoting to a replica of the target");
    st.failover.phase = Phase::InProgress;
    st.failover.target = Some(target.clone());
    super::link::start_locked(srv, st, target.0, target.1);
}
