//! Maintenance workflows: planned failover, reboots and patches, as lists of node operations
//! run one at a time through persisted phases (`check`, `announce`, `failover`,
//! `restart`, `gate`, `ended`). A restarted service re-runs the phase it was in; each
//! phase is written so that running it twice does no harm.

pub mod patch;
mod phases;

pub(crate) use phases::resync_gate;

use crate::api::ApiError;
use crate::cache::CacheRt;
use crate::secret::now_ms;
use crate::service::Ctl;
use crate::store::{Op, WorkflowRow};
use ferrocache_api::http::WorkflowInfo;
use std::sync::Arc;

pub const PHASES: [&str; 6] = ["check", "announce", "failover", "restart", "gate", "ended"];

/// Plans and starts a workflow; 409 if the cache already runs one.
pub async fn submit(
    ctl: &Arc<Ctl>,
    rt: &Arc<CacheRt>,
    kind: &str,
    shard: usize,
) -> Result<WorkflowInfo, ApiError> {
    let primary = rt
        .primary_of(shard)
        .ok_or_else(|| ApiError::bad_request(format!("cache {} has no shard {shard}", rt.name)))?;
    let replicas = rt.replicas_of(shard);
    let first_replica = replicas.first().copied();
    let need_replica = || {
        first_replica.ok_or_else(|| {
            ApiError::bad_request(format!(
                "cache {} has no replica (tier {}): {kind} needs one",
                rt.name, rt.spec.tier
            ))
        })
    };
    let p = Op {
        node: primary,
        reboot: false,
        primary: true,
        version: None,
        shard: None,
    };
    let ops = match kind {
        "failover" => {
            need_replica()?;
            vec![p]
        }
        "reboot-primary" => vec![Op { reboot: true, ..p }],
        "reboot-replica" => vec![Op {
            node: need_replica()?,
            reboot: true,
            primary: false,
            version: None,
            shard: None,
        }],
        // Replicas first, as patching does; the primary last, after a failover.
        "reboot-all" => replicas
            .iter()
            .map(|&r| Op {
                node: r,
                reboot: true,
                primary: false,
                version: None,
                shard: None,
            })
            .chain([Op { reboot: true, ..p }])
            .collect(),
        other => return Err(ApiError::bad_request(format!("unknown workflow {other}"))),
    };
    let row = ctl
        .store
        .insert_workflow(&rt.name, kind, shard, &ops, now_ms())
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::conflict(format!("cache {} is already running a workflow", rt.name))
        })?;
    let info = row.info.clone();
    ctl.metrics.workflow_started();
    spawn(ctl.clone(), row);
    Ok(info)
}

/// Runs (or resumes) a workflow in the background.
pub fn spawn(ctl: Arc<Ctl>, row: WorkflowRow) {
    tokio::spawn(async move {
        let id = row.info.id;
        let Some(rt) = ctl.cache(&row.info.cache) else {
            let _ = ctl
                .store
                .finish_workflow(id, Some("the cache no longer exists"), now_ms());
            return;
        };
        let result = tokio::select! {
            r = run(&ctl, &rt, &row) => r,
            // Shutting down: the workflow stays `running` and resumes at the next start.
            _ = rt.stop.cancelled() => return,
        };
        let err = result.err().map(|e| format!("{e:#}"));
        if let Some(e) = &err {
            tracing::error!(id, cache = %rt.name, "workflow failed: {e}");
        }
        ctl.metrics.workflow_finished(err.is_none());
        if let Err(e) = ctl.store.finish_workflow(id, err.as_deref(), now_ms()) {
            tracing::error!(id, "cannot record the workflow's end: {e:#}");
        }
    });
}

async fn run(ctl: &Ctl, rt: &CacheRt, row: &WorkflowRow) -> anyhow::Result<()> {
    let id = row.info.id;
    let mut phase = PHASES
        .iter()
        .position(|p| *p == row.info.phase)
        .unwrap_or(0);
    for (i, op) in row.ops.iter().enumerate().skip(row.info.op) {
        let shard = op.shard.unwrap_or(row.info.shard);
        let mut facts = phases::Facts::new(op.clone(), id);
        while phase < PHASES.len() {
            ctl.store.advance_workflow(id, i, PHASES[phase], now_ms())?;
            phases::run(ctl, rt, shard, PHASES[phase], &mut facts).await?;
            phase += 1;
        }
        phase = 0;
    }
    Ok(())
}
