//! The phases of one node operation (FAILOVER.md's planned sequence, steps 1–7).

use crate::cache::CacheRt;
use crate::events::publish;
use crate::failover::{self, wait_replica_ready};
use crate::secret::now_ms;
use crate::service::Ctl;
use crate::store::Op;
use anyhow::{bail, Context};
use ferrocache_api::{HistoryRecord, NotificationType as N, Role};
use std::time::{Duration, Instant};

const READY_LIMIT: Duration = Duration::from_secs(30);
const GATE_LIMIT: Duration = Duration::from_secs(120);

/// What one operation learns as it goes (for its history record).
pub struct Facts {
    op: Op,
    workflow: u64,
    started_ms: i64,
    pause_ms: Option<f64>,
    connections: Option<u64>,
    closed: Option<u64>,
    failed_over_to: Option<usize>,
    gate: Option<(u64, u64)>,
    /// The primary's (sync_full, sync_partial_ok) before the restart, and how the
    /// node resynchronised after it.
    syncs_before: Option<(u64, u64)>,
    resync: Option<&'static str>,
}

impl Facts {
    pub fn new(op: Op, workflow: u64) -> Facts {
        Facts {
            op,
            workflow,
            started_ms: now_ms(),
            pause_ms: None,
            connections: None,
            closed: None,
            failed_over_to: None,
            gate: None,
            syncs_before: None,
            resync: None,
        }
    }
}

/// The primary's resync counters from INFO stats: (sync_full, sync_partial_ok).
async fn syncs(ctl: &Ctl, rt: &CacheRt, shard: usize) -> Option<(u64, u64)> {
    let p = rt.primary_of(shard)?;
    let m = rt.client(ctl, p).await.ok()?.info("stats").await.ok()?;
    let n = |k: &str| m.get(k).and_then(|v| v.parse().ok());
    Some((n("sync_full")?, n("sync_partial_ok")?))
}

pub async fn run(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    phase: &str,
    f: &mut Facts,
) -> anyhow::Result<()> {
    let node = f.op.node;
    let is_replica = !f.op.primary;
    match phase {
        // Step 1: the node that will take over (or the primary a replica depends on) is ready.
        "check" => {
            if rt.primary_of(shard) == Some(node) && !basic(rt, shard) {
                let b = best_replica(rt, shard).context("no replica to fail over to")?;
                wait_replica_ready(ctl, rt, b, READY_LIMIT).await?;
            }
        }
        // Step 2: announce, with the configured leads.
        "announce" => {
            let (starting, start) = (ctl.config.starting_lead, ctl.config.start_lead);
            publish(
                ctl,
                rt,
                shard,
                node,
                is_replica,
                N::NodeMaintenanceStarting,
                starting.as_secs() as i64,
            )
            .await;
            tokio::time::sleep(starting.saturating_sub(start)).await;
            publish(ctl, rt, shard, node, is_replica, N::NodeMaintenanceStart, 0).await;
            tokio::time::sleep(start).await;
        }
        // Steps 3–7 (start): if the node is primary, hand its role over.
        "failover" => {
            if rt.primary_of(shard) == Some(node) && basic(rt, shard) {
                // Basic tier: nothing to hand over; the cache is unavailable while its
                // only node restarts (SYSTEM.md §1).
            } else if rt.primary_of(shard) == Some(node) {
                let b = best_replica(rt, shard).context("no replica to fail over to")?;
                wait_replica_ready(ctl, rt, b, READY_LIMIT).await?;
                let s = failover::planned(ctl, rt, shard, node, b).await?;
                tracing::info!(cache = %rt.name, epoch = s.epoch, "primary role handed over");
                f.pause_ms = Some(s.write_pause_ms);
                f.connections = Some(s.connections);
                f.closed = Some(s.closed);
                f.failed_over_to = Some(b);
                publish(
                    ctl,
                    rt,
                    shard,
                    node,
                    is_replica,
                    N::NodeMaintenanceFailoverComplete,
                    0,
                )
                .await;
            } else if f.op.primary {
                // Resumed after the switch was recorded: make sure the node follows.
                let p = rt.primary_of(shard).context("shard has no primary")?;
                f.failed_over_to = Some(p);
                let port = rt.node_addr(p).port().to_string();
                rt.client(ctl, node)
                    .await?
                    .ok(&["REPLICAOF", "127.0.0.1", &port])
                    .await?;
            }
        }
        "restart" => {
            if f.op.reboot {
                let p = rt.primary_of(shard).context("shard has no primary")?;
                let alone = basic(rt, shard);
                if p == node && !alone {
                    bail!("node {node} is still the primary; refusing to restart it");
                }
                if let Some(v) = &f.op.version {
                    // Recorded first: the node (re)starts on what the store names, so
                    // a service killed here resumes with the right binary.
                    ctl.store.set_node_version(&rt.name, node, v)?;
                }
                if alone {
                    // It saves on SIGTERM and reloads its data at start.
                    rt.stop_node(node).await;
                    rt.start_node(ctl, node, None).await?;
                    return Ok(());
                }
                f.syncs_before = syncs(ctl, rt, shard).await;
                rt.stop_node(node).await;
                rt.start_node(ctl, node, Some(rt.node_addr(p).port()))
                    .await?;
            }
        }
        // The resync gate: nothing further until the node has rejoined and caught up.
        "gate" => {
            if rt.primary_of(shard) != Some(node) {
                f.gate = Some(resync_gate(ctl, rt, shard, node).await?);
                if let (Some((full0, part0)), Some((full1, part1))) =
                    (f.syncs_before, syncs(ctl, rt, shard).await)
                {
                    f.resync = if full1 > full0 {
                        Some("full")
                    } else if part1 > part0 {
                        Some("partial")
                    } else {
                        None
                    };
                }
            }
        }
        // Step 7 (end): announce the end and record what happened.
        "ended" => {
            publish(ctl, rt, shard, node, is_replica, N::NodeMaintenanceEnded, 0).await;
            let kind = match (&f.op.version, f.op.reboot) {
                (Some(_), _) => "patch",
                (None, true) => "reboot",
                (None, false) => "planned-failover",
            };
            let mut detail = match (f.op.reboot, f.failed_over_to) {
                (true, Some(b)) => format!(
                    "node {node} (primary) failed over to node {b}, restarted, resynchronised"
                ),
                (true, None) => format!("node {node} restarted and resynchronised"),
                (false, Some(b)) => {
                    format!("node {node} handed the primary role to node {b} and follows it")
                }
                (false, None) => format!("node {node} was not primary; nothing to fail over"),
            };
            if let Some(v) = &f.op.version {
                detail.push_str(&format!("; now on version {v}"));
            }
            if let Some(r) = f.resync {
                detail.push_str(&format!("; {r} resync"));
            }
            if let Some((primary, replica)) = f.gate {
                detail.push_str(&format!(
                    "; resync gate passed at offset {replica} (primary at {primary})"
                ));
            }
            let rec = HistoryRecord {
                id: 0,
                cache: rt.name.clone(),
                kind: kind.into(),
                shard,
                node,
                role: if f.op.primary {
                    Role::Primary
                } else {
                    Role::Replica
                },
                started_ms: f.started_ms,
                ended_ms: now_ms(),
                write_pause_ms: f.pause_ms,
                connections_moved: f.connections,
                connections_closed: f.closed,
                workflow: Some(f.workflow),
                version: f.op.version.clone(),
                resync: f.resync.map(String::from),
                epoch: rt.state.lock().epoch,
                detail,
            };
            ctl.store.add_history(rec)?;
        }
        other => bail!("unknown phase {other}"),
    }
    Ok(())
}

/// A shard without replicas (basic tier): its primary restarts in place.
fn basic(rt: &CacheRt, shard: usize) -> bool {
    rt.replicas_of(shard).is_empty()
}

/// The replica to promote: the most advanced synced one (standard tier: the only one).
fn best_replica(rt: &CacheRt, shard: usize) -> Option<usize> {
    let st = rt.state.lock();
    st.nodes
        .iter()
        .filter(|n| n.shard == shard && n.role == Role::Replica)
        .max_by_key(|n| (n.synced, n.seen.as_ref().map_or(0, |s| s.offset)))
        .map(|n| n.index)
}

/// Waits until `node` is a linked replica whose offset has reached the primary's
/// offset as read at the start of the wait. Returns (primary offset, replica offset).
pub(crate) async fn resync_gate(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    node: usize,
) -> anyhow::Result<(u64, u64)> {
    let deadline = Instant::now() + GATE_LIMIT;
    let p = rt.primary_of(shard).context("shard has no primary")?;
    let mut target = None;
    let mut last = String::from("not probed");
    loop {
        if target.is_none() {
            if let Ok(mut c) = rt.client(ctl, p).await {
                target = c.repl().await.ok().map(|r| r.offset);
            }
        }
        if let Some(t) = target {
            match rt.client(ctl, node).await {
                Ok(mut c) => match c.repl().await {
                    Ok(r) if r.in_sync() && r.offset >= t => {
                        rt.state.lock().nodes[node].synced = true;
                        return Ok((t, r.offset));
                    }
                    Ok(r) => last = format!("offset {} of {t}, link up {}", r.offset, r.link_up),
                    Err(e) => last = format!("{e:#}"),
                },
                Err(e) => last = format!("{e:#}"),
            }
        }
        if Instant::now() > deadline {
            bail!("node {node} did not catch up within {GATE_LIMIT:?} ({last})");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
