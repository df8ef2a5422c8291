//! Patching (SYSTEM.md §2, §6): a patch is queued as a `scheduled` workflow — with the
//! opening of the cache's next maintenance window as its earliest start unless `now` —
//! and started by one runner that never starts two patches of one resource group at
//! once. Its node operations are planned when it starts, from the roles of that
//! moment: shard by shard, replicas first, the primary last (after a planned failover).
//! The runner also sends NodeMaintenanceScheduled `scheduled_lead` ahead of
//! window-scheduled work.

use crate::api::ApiError;
use crate::cache::CacheRt;
use crate::events::publish_at;
use crate::secret::now_ms;
use crate::service::Ctl;
use crate::store::Op;
use ferrocache_api::http::WorkflowInfo;
use ferrocache_api::version::{next_window_start, PatchRequest};
use ferrocache_api::{NotificationType, Role};
use std::sync::Arc;
use std::time::Duration;

/// How often the runner looks at the queue when nothing wakes it.
const TICK: Duration = Duration::from_millis(200);

/// Checks a patch of `rt` to `to` (None: platform patch) without changing anything.
fn check(ctl: &Ctl, rt: &CacheRt, to: Option<&str>) -> Result<(), ApiError> {
    if let Some(name) = to {
        let v = ctl
            .store
            .version(name)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "no version named {name} (see `ferrocache versions`)"
                ))
            })?;
        if v.engine != rt.spec.engine {
            return Err(ApiError::bad_request(format!(
                "version {name} is engine {}, cache {} runs engine {}",
                v.engine, rt.name, rt.spec.engine
            )));
        }
    }
    Ok(())
}

/// When the patch may start: None (at once) with `now`, without windows, or inside a
/// window; else the next opening, in Unix milliseconds.
fn not_before(ctl: &Ctl, rt: &CacheRt, now: bool) -> Result<Option<i64>, ApiError> {
    if now {
        return Ok(None);
    }
    let (_, windows) = ctl.store.settings(&rt.name).map_err(ApiError::internal)?;
    let t = now_ms();
    Ok(next_window_start(&windows, t / 1000)
        .filter(|s| *s > t / 1000)
        .map(|s| s * 1000))
}

/// Queues a patch of one cache; 409 if it already has one scheduled or running.
pub fn submit(ctl: &Ctl, rt: &CacheRt, req: &PatchRequest) -> Result<WorkflowInfo, ApiError> {
    check(ctl, rt, req.to.as_deref())?;
    let nb = not_before(ctl, rt, req.now)?;
    let row = ctl
        .store
        .insert_patch(
            &rt.name,
            &rt.spec.group,
            req.to.as_deref(),
            nb,
            nb.is_some(),
            now_ms(),
        )
        .map_err(ApiError::internal)?
        .map_err(|id| {
            ApiError::conflict(format!(
                "cache {} already has a patch pending (workflow {id})",
                rt.name
            ))
        })?;
    ctl.metrics.workflow_started();
    ctl.wake.notify_one();
    Ok(row.info)
}

/// Queues a patch of every cache of `group` (by name); they run one after another.
/// Everything is checked first, so a refusal queues nothing.
pub fn submit_group(
    ctl: &Ctl,
    group: &str,
    req: &PatchRequest,
) -> Result<Vec<WorkflowInfo>, ApiError> {
    let mut caches: Vec<Arc<CacheRt>> = ctl
        .caches
        .lock()
        .values()
        .filter(|c| c.spec.group == group)
        .cloned()
        .collect();
    if caches.is_empty() {
        return Err(ApiError::not_found(format!(
            "no cache in resource group {group}"
        )));
    }
    caches.sort_by(|a, b| a.name.cmp(&b.name));
    let pending = ctl.store.scheduled().map_err(ApiError::internal)?;
    let running = ctl.store.workflows(None).map_err(ApiError::internal)?;
    for rt in &caches {
        check(ctl, rt, req.to.as_deref())?;
        if let Some(w) = pending
            .iter()
            .chain(&running)
            .find(|w| w.info.cache == rt.name && w.info.kind == "patch")
        {
            return Err(ApiError::conflict(format!(
                "cache {} already has a patch pending (workflow {})",
                rt.name, w.info.id
            )));
        }
    }
    caches.iter().map(|rt| submit(ctl, rt, req)).collect()
}

/// The node operations of a patch of `rt`: every shard in turn, replicas first, the
/// primary last; each node restarts on `to`, or on its own version (platform patch).
fn plan(ctl: &Ctl, rt: &CacheRt, to: Option<&str>) -> anyhow::Result<Vec<Op>> {
    let nodes: Vec<(usize, usize, Role)> = {
        let st = rt.state.lock();
        st.nodes
            .iter()
            .map(|n| (n.index, n.shard, n.role))
            .collect()
    };
    let mut shards: Vec<usize> = nodes.iter().map(|n| n.1).collect();
    shards.sort_unstable();
    shards.dedup();
    let mut ops = Vec::new();
    for s in shards {
        let mut members: Vec<&(usize, usize, Role)> = nodes.iter().filter(|n| n.1 == s).collect();
        members.sort_by_key(|n| (n.2 == Role::Primary, n.0));
        for &&(node, shard, role) in &members {
            let version = match to {
                Some(v) => v.to_string(),
                None => crate::versions::of_node(ctl, &rt.name, rt.spec.engine, node)?.name,
            };
            ops.push(Op {
                node,
                reboot: true,
                primary: role == Role::Primary,
                version: Some(version),
                shard: Some(shard),
            });
        }
    }
    Ok(ops)
}

/// The queue's one runner: announces window-scheduled patches and starts those whose
/// time has come when their cache and resource group are free.
pub async fn runner(ctl: Arc<Ctl>) {
    loop {
        if let Err(e) = step(&ctl).await {
            tracing::error!("patch runner: {e:#}");
        }
        tokio::select! {
            _ = ctl.shutdown.cancelled() => return,
            _ = ctl.wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

async fn step(ctl: &Arc<Ctl>) -> anyhow::Result<()> {
    for row in ctl.store.scheduled()? {
        let id = row.info.id;
        let Some(rt) = ctl.cache(&row.info.cache) else {
            ctl.store
                .finish_workflow(id, Some("the cache no longer exists"), now_ms())?;
            continue;
        };
        let now = now_ms();
        let lead = ctl.config.scheduled_lead.as_millis() as i64;
        if let Some(nb) = row.info.not_before_ms {
            if row.window && !row.announced && now >= nb - lead {
                announce(ctl, &rt, nb).await;
                ctl.store.mark_announced(id)?;
            }
            if now < nb {
                continue;
            }
        }
        let ops = plan(ctl, &rt, row.info.version.as_deref())?;
        if ctl.store.start_scheduled(id, &ops, now_ms())? {
            tracing::info!(id, cache = %rt.name, ops = ops.len(), "patch starting");
            if let Some(started) = ctl.store.workflow(id)? {
                super::spawn(ctl.clone(), started);
            }
        }
    }
    Ok(())
}

/// NodeMaintenanceScheduled for every node of the cache, in the order the patch will
/// take them, with the window's opening as StartTimeInUTC.
async fn announce(ctl: &Ctl, rt: &CacheRt, start_ms: i64) {
    let ops = match plan(ctl, rt, None) {
        Ok(ops) => ops,
        Err(e) => {
            tracing::error!(cache = %rt.name, "cannot plan the announcement: {e:#}");
            return;
        }
    };
    for op in ops {
        publish_at(
            ctl,
            rt,
            op.shard.unwrap_or(0),
            op.node,
            !op.primary,
            NotificationType::NodeMaintenanceScheduled,
            start_ms / 1000,
        )
        .await;
    }
}
