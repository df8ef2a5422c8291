//! The health monitor of one cache: probes every node (PING and INFO replication,
//! whose role and master_link_status are the replica's own witness) every
//! `probe_interval`; handles a child's exit at once; fails over a lost primary; makes a
//! returning old primary follow the new one before anything routes to it.

use crate::cache::{CacheRt, STEP};
use crate::resp::{ReplInfo, RespClient};
use crate::service::Ctl;
use crate::supervisor::{Exit, Member};
use ferrocache_api::{Health, Role, Tier};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

type Probe = (
    usize,
    Option<RespClient>,
    Option<(ReplInfo, Option<String>)>,
);

pub async fn monitor(ctl: Arc<Ctl>, rt: Arc<CacheRt>, mut exits: mpsc::UnboundedReceiver<Exit>) {
    let mut tick = tokio::time::interval(ctl.config.probe_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut clients: Vec<Option<RespClient>> =
        (0..rt.state.lock().nodes.len()).map(|_| None).collect();
    loop {
        tokio::select! {
            _ = rt.stop.cancelled() => return,
            Some(exit) = exits.recv() => on_exit(&ctl, &rt, exit).await,
            _ = tick.tick() => {
                probe_all(&ctl, &rt, &mut clients).await;
                evaluate(&ctl, &rt).await;
            }
        }
    }
}

async fn probe_all(ctl: &Ctl, rt: &CacheRt, clients: &mut [Option<RespClient>]) {
    let mut set: JoinSet<Probe> = JoinSet::new();
    for (i, slot) in clients.iter_mut().enumerate() {
        let client = slot.take();
        let addr = rt.node_addr(i);
        let pass = ctl.node_password.clone();
        set.spawn(async move {
            let mut c = match client {
                Some(c) => c,
                None => match RespClient::connect(addr, &pass, STEP).await {
                    Ok(c) => c,
                    Err(_) => return (i, None, None),
                },
            };
            let ping = c.ok(&["PING"]).await.is_ok();
            let repl = if ping { c.repl().await.ok() } else { None };
            let version = if repl.is_some() {
                c.info("server").await.ok().map(|m| {
                    let v = m.get("redis_version").cloned().unwrap_or_default();
                    match m.get("ferrocache_version") {
                        Some(f) => format!("ferrocache {f} (redis {v})"),
                        None => format!("redis {v}"),
                    }
                })
            } else {
                None
            };
            match repl {
                Some(r) => (i, Some(c), Some((r, version))),
                None => (i, None, None),
            }
        });
    }
    while let Some(Ok((i, client, seen))) = set.join_next().await {
        clients[i] = client;
        let mut st = rt.state.lock();
        let n = &mut st.nodes[i];
        match seen {
            Some((r, v)) => {
                n.down_since = None;
                if n.role == Role::Replica && r.in_sync() {
                    n.synced = true;
                }
                if !n.maintenance {
                    n.health = match (n.role, r.is_primary) {
                        (Role::Primary, true) => Health::Up,
                        (Role::Replica, false) if r.in_sync() => Health::Up,
                        _ => Health::Starting,
                    };
                }
                n.seen = Some(r);
                if v.is_some() {
                    n.version = v;
                }
            }
            None => {
                n.down_since.get_or_insert_with(Instant::now);
                if !n.maintenance {
                    n.health = Health::Down;
                }
            }
        }
    }
    ctl.metrics.observe(rt);
}

/// Decisions from the last probes: fail over a primary both witnesses call lost;
/// make any node that should follow the primary do so.
async fn evaluate(ctl: &Ctl, rt: &CacheRt) {
    if rt.op_lock.try_lock().is_err() {
        return; // a switch is changing roles right now
    }
    let shards: Vec<usize> = {
        let st = rt.state.lock();
        let mut s: Vec<usize> = st.nodes.iter().map(|n| n.shard).collect();
        s.dedup();
        s
    };
    for shard in shards {
        let Some(p) = rt.primary_of(shard) else {
            continue;
        };
        let (primary_down, primary_port, replicas_agree) = {
            let st = rt.state.lock();
            let pn = &st.nodes[p];
            let down = (!pn.maintenance).then_some(pn.down_since).flatten();
            // The second witness: a replica that has lost the primary (or cannot
            // be asked, which proves nothing, so it does not count).
            let agree = st.nodes.iter().any(|n| {
                n.shard == shard
                    && n.role == Role::Replica
                    && n.down_since.is_none()
                    && n.seen.as_ref().is_some_and(ReplInfo::lost_primary)
            });
            (down, pn.port, agree)
        };
        if let Some(since) = primary_down {
            if replicas_agree
                && since.elapsed() >= ctl.config.down_after
                && rt.spec.tier != Tier::Basic
            {
                if let Err(e) = crate::failover::unplanned(
                    ctl,
                    rt,
                    shard,
                    p,
                    since,
                    "probes and replica link both down",
                )
                .await
                {
                    tracing::error!(cache = %rt.name, "cannot fail over: {e:#}");
                }
            }
            continue;
        }
        // Followers that do not follow (an old primary back, or a stale master): fix.
        let strays: Vec<usize> = {
            let st = rt.state.lock();
            st.nodes
                .iter()
                .filter(|n| {
                    n.shard == shard
                        && n.role == Role::Replica
                        && !n.maintenance
                        && n.down_since.is_none()
                })
                .filter(|n| {
                    n.seen
                        .as_ref()
                        .is_some_and(|s| s.is_primary || s.master_port != Some(primary_port))
                })
                .map(|n| n.index)
                .collect()
        };
        for i in strays {
            tracing::warn!(cache = %rt.name, node = i, "node does not follow the primary; REPLICAOF");
            if let Ok(mut c) = rt.client(ctl, i).await {
                let _ = c
                    .ok(&["REPLICAOF", "127.0.0.1", &primary_port.to_string()])
                    .await;
            }
        }
    }
}

/// A child exited. A deliberate stop is ignored; otherwise it is a failure: a lost
/// primary fails over at once (its parent saw it die: there is nothing to confirm),
/// then the process is started again, as a replica when the shard has a primary.
async fn on_exit(ctl: &Ctl, rt: &CacheRt, exit: Exit) {
    match exit.member {
        Member::Gateway => {
            let current = {
                let st = rt.state.lock();
                !st.gateway_maintenance
                    && st.gateway_proc.as_ref().is_some_and(|p| p.pid == exit.pid)
            };
            if current {
                tracing::error!(cache = %rt.name, pid = exit.pid, "gateway exited; restarting it");
                ctl.metrics.child_crash();
                if let Err(e) = rt.start_gateway(ctl).await {
                    tracing::error!(cache = %rt.name, "cannot restart the gateway: {e:#}");
                }
            }
        }
        Member::Node(i) => {
            let (current, role, shard) = {
                let st = rt.state.lock();
                let n = &st.nodes[i];
                (
                    !n.maintenance && n.proc.as_ref().is_some_and(|p| p.pid == exit.pid),
                    n.role,
                    n.shard,
                )
            };
            if !current {
                return;
            }
            tracing::error!(cache = %rt.name, node = i, pid = exit.pid, ?role, "node process exited");
            ctl.metrics.child_crash();
            rt.state.lock().nodes[i].health = Health::Down;
            if role == Role::Primary && rt.spec.tier != Tier::Basic {
                let since = Instant::now();
                if let Err(e) =
                    crate::failover::unplanned(ctl, rt, shard, i, since, "process exited").await
                {
                    tracing::error!(cache = %rt.name, "cannot fail over: {e:#}");
                }
            }
            let primary_port = rt
                .primary_of(shard)
                .filter(|p| *p != i)
                .map(|p| rt.node_addr(p).port());
            for attempt in 0..3 {
                match rt.start_node(ctl, i, primary_port).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::error!(cache = %rt.name, node = i, attempt, "restart failed: {e:#}")
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
