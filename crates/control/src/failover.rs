//! Changing a shard's primary: the planned switch (FAILOVER.md steps 3–6, writes held
//! at the gateway, no acknowledged write lost) and the unplanned promotion.

use crate::cache::CacheRt;
use crate::resp::ReplInfo;
use crate::secret::now_ms;
use crate::service::Ctl;
use anyhow::{bail, Context};
use ferrocache_api::{HistoryRecord, Role};
use std::time::{Duration, Instant};

/// How long the replica may take to reach the primary's offset once writes are held.
const CATCH_UP_DEADLINE: Duration = Duration::from_secs(5);

pub struct Switched {
    pub epoch: u64,
    pub write_pause_ms: f64,
    pub connections: u64,
    /// Connections the endpoint could not reattach to the new primary (closed).
    pub closed: u64,
}

/// Waits until replica `b` is linked, past its initial sync and close behind.
pub async fn wait_replica_ready(
    ctl: &Ctl,
    rt: &CacheRt,
    b: usize,
    limit: Duration,
) -> anyhow::Result<ReplInfo> {
    let deadline = Instant::now() + limit;
    let mut last;
    loop {
        match rt.client(ctl, b).await {
            Ok(mut c) => match c.repl().await {
                Ok(r) if r.in_sync() => return Ok(r),
                Ok(r) => {
                    last = format!(
                        "link up {}, sync in progress {}",
                        r.link_up, r.sync_in_progress
                    )
                }
                Err(e) => last = format!("{e:#}"),
            },
            Err(e) => last = format!("{e:#}"),
        }
        if Instant::now() > deadline {
            bail!("node {b} is not ready to take over ({last}) after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The planned switch from primary `a` to replica `b` of `shard`, under the cache's
/// op lock. On any failure before the gateway's finish, the hold is aborted (requests
/// go on to A) and the error returned.
pub async fn planned(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    a: usize,
    b: usize,
) -> anyhow::Result<Switched> {
    let _guard = rt.op_lock.lock().await;
    let gw = rt.gateway_client().context("no gateway")?;
    let mut ca = rt.client(ctl, a).await.context("primary")?;
    let mut cb = rt.client(ctl, b).await.context("replica")?;
    let target = format!("127.0.0.1:{}", rt.node_addr(b).port());
    // Step 3: hold the shard at the gateway.
    let started = gw.switch_start(shard, &target).await?;
    // Step 4: wait until B has applied everything A acknowledged.
    let caught_up = async {
        let deadline = Instant::now() + CATCH_UP_DEADLINE;
        loop {
            let pa = ca.repl().await?.offset;
            let rb = cb.repl().await?;
            if rb.offset >= pa && rb.link_up {
                return anyhow::Ok(pa);
            }
            if Instant::now() > deadline {
                bail!(
                    "replica stuck at offset {} behind the primary's {pa}",
                    rb.offset
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    .await;
    if let Err(e) = caught_up {
        gw.switch_abort(shard).await.ok();
        return Err(e.context("planned failover aborted; the primary keeps serving"));
    }
    // Step 5: record the new epoch durably, then promote B.
    let epoch = ctl
        .store
        .record_promotion(&rt.name, shard, b, "planned failover", now_ms())?;
    set_roles(rt, shard, b, epoch);
    if let Err(e) = cb.ok(&["REPLICAOF", "NO", "ONE"]).await {
        // The store already names B: the service's reconciler keeps trying to make
        // reality match it; release the clients meanwhile is not possible safely.
        return Err(e.context("promoting the replica"));
    }
    // Step 7 (start), before the release: A follows B. Held requests include those
    // sent to A's own direct port; released to a primary A they would be acknowledged
    // and then discarded when A resyncs from B. As a replica A refuses them instead.
    ca.ok(&[
        "REPLICAOF",
        "127.0.0.1",
        &rt.node_addr(b).port().to_string(),
    ])
    .await?;
    // Step 6: move the endpoint to B and release the held requests.
    let finished = gw.switch_finish(shard, epoch).await?;
    ctl.metrics.planned_failover(finished.duration_ms);
    tracing::info!(cache = %rt.name, from = a, to = b, epoch, pause_ms = finished.duration_ms,
        drained = started.drained, "planned failover done");
    Ok(Switched {
        epoch,
        write_pause_ms: finished.duration_ms,
        connections: started.connections,
        closed: finished.unattached_connections,
    })
}

pub fn set_roles(rt: &CacheRt, shard: usize, primary: usize, epoch: u64) {
    let mut st = rt.state.lock();
    st.epoch = epoch;
    for n in st.nodes.iter_mut().filter(|n| n.shard == shard) {
        n.role = if n.index == primary {
            Role::Primary
        } else {
            Role::Replica
        };
    }
}

/// Unplanned: promotes the replica with the most data among those that finished their
/// initial sync (never an empty one), records the epoch, switches the gateway.
/// `since` is when the primary was last known good (for the recorded outage).
pub async fn unplanned(
    ctl: &Ctl,
    rt: &CacheRt,
    shard: usize,
    lost: usize,
    since: Instant,
    why: &str,
) -> anyhow::Result<usize> {
    let _guard = rt.op_lock.lock().await;
    if rt.primary_of(shard) != Some(lost) {
        return Ok(rt.primary_of(shard).unwrap_or(lost)); // someone already moved it
    }
    let candidates: Vec<usize> = {
        let st = rt.state.lock();
        st.nodes
            .iter()
            .filter(|n| n.shard == shard && n.role == Role::Replica && n.synced && !n.maintenance)
            .map(|n| n.index)
            .collect()
    };
    let mut best: Option<(usize, u64)> = None;
    for c in candidates {
        let Ok(mut cl) = rt.client(ctl, c).await else {
            continue;
        };
        let Ok(r) = cl.repl().await else { continue };
        if !r.is_primary && !r.sync_in_progress && best.is_none_or(|(_, o)| r.offset > o) {
            best = Some((c, r.offset));
        }
    }
    let Some((b, offset)) = best else {
        bail!("no replica that finished its initial sync can take over");
    };
    let epoch = ctl
        .store
        .record_promotion(&rt.name, shard, b, why, now_ms())?;
    set_roles(rt, shard, b, epoch);
    rt.client(ctl, b)
        .await?
        .ok(&["REPLICAOF", "NO", "ONE"])
        .await?;
    rt.push_topology().await?;
    let outage_ms = since.elapsed().as_secs_f64() * 1000.0;
    ctl.metrics.unplanned_failover();
    tracing::warn!(cache = %rt.name, lost, promoted = b, offset, epoch, outage_ms, "unplanned failover: {why}");
    let rec = HistoryRecord {
        id: 0,
        cache: rt.name.clone(),
        kind: "unplanned-failover".into(),
        shard,
        node: lost,
        role: Role::Primary,
        started_ms: now_ms() - outage_ms as i64,
        ended_ms: now_ms(),
        write_pause_ms: Some(outage_ms),
        connections_moved: None,
        connections_closed: None,
        workflow: None,
        version: None,
        resync: None,
        epoch,
        detail: format!("node {lost} was lost ({why}); node {b} promoted at offset {offset}"),
    };
    ctl.store.add_history(rec)?;
    Ok(b)
}
