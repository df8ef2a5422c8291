//! Workflows, persisted phase by phase so that a restarted service resumes them: a
//! workflow is a list of node operations, each run through fixed phases.

use super::Store;
use anyhow::Context;
use ferrocache_api::http::WorkflowInfo;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

/// One node operation: fail the node over if it is primary, then restart it if
/// `reboot` (then wait for the resync gate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub node: usize,
    pub reboot: bool,
    /// The node's role when the workflow was planned (events say `IsReplica` by it).
    pub primary: bool,
    /// Patches: the version the node restarts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The node's shard, when it is not the workflow's (a patch covers every shard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct WorkflowRow {
    pub info: WorkflowInfo,
    pub ops: Vec<Op>,
    /// Scheduled into a maintenance window (so NodeMaintenanceScheduled is owed), and
    /// whether that event went out.
    pub window: bool,
    pub announced: bool,
}

fn sql_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.to_string().into())
}

const COLUMNS: &str =
    "id, cache, kind, shard, state, ops, op, phase, error, created_ms, updated_ms, \
     grp, version, not_before_ms, started_ms, window, announced";

fn row(r: &rusqlite::Row) -> rusqlite::Result<WorkflowRow> {
    let ops_json: String = r.get(5)?;
    let ops: Vec<Op> = serde_json::from_str(&ops_json).map_err(sql_err)?;
    Ok(WorkflowRow {
        info: WorkflowInfo {
            id: r.get(0)?,
            cache: r.get(1)?,
            kind: r.get(2)?,
            shard: r.get(3)?,
            state: r.get(4)?,
            op: r.get(6)?,
            ops: ops.len(),
            phase: r.get(7)?,
            error: r.get(8)?,
            created_ms: r.get(9)?,
            updated_ms: r.get(10)?,
            group: r.get(11)?,
            version: r.get(12)?,
            not_before_ms: r.get(13)?,
            started_ms: r.get(14)?,
        },
        ops,
        window: r.get::<_, i64>(15)? != 0,
        announced: r.get::<_, i64>(16)? != 0,
    })
}

impl Store {
    /// Creates a running workflow, unless the cache already has one (then `None`).
    pub fn insert_workflow(
        &self,
        cache: &str,
        kind: &str,
        shard: usize,
        ops: &[Op],
        now_ms: i64,
    ) -> anyhow::Result<Option<WorkflowRow>> {
        let ops_json = serde_json::to_string(ops)?;
        let id = self.with(|c| {
            let tx = c.transaction()?;
            let busy: i64 = tx.query_row(
                "SELECT COUNT(*) FROM workflows WHERE cache=?1 AND state='running'",
                [cache],
                |r| r.get(0),
            )?;
            if busy > 0 {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO workflows(cache, kind, shard, state, ops, op, phase, created_ms, updated_ms, started_ms) \
                 VALUES (?1, ?2, ?3, 'running', ?4, 0, 'check', ?5, ?5, ?5)",
                params![cache, kind, shard, ops_json, now_ms],
            )?;
            let id = tx.last_insert_rowid() as u64;
            tx.commit()?;
            Ok(Some(id))
        })?;
        match id {
            Some(id) => self.workflow(id),
            None => Ok(None),
        }
    }

    pub fn workflow(&self, id: u64) -> anyhow::Result<Option<WorkflowRow>> {
        self.with(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM workflows WHERE id=?1"))?;
            let mut rows = st.query_map([id], row)?;
            rows.next().transpose()
        })
    }

    /// Workflows of one cache (newest first), or all running ones (`cache` None).
    pub fn workflows(&self, cache: Option<&str>) -> anyhow::Result<Vec<WorkflowRow>> {
        self.with(|c| match cache {
            Some(name) => {
                let mut st = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM workflows WHERE cache=?1 ORDER BY id DESC"
                ))?;
                let rows = st.query_map([name], row)?;
                rows.collect()
            }
            None => {
                let mut st = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM workflows WHERE state='running' ORDER BY id"
                ))?;
                let rows = st.query_map([], row)?;
                rows.collect()
            }
        })
    }

    /// Queues a patch of `cache` (state `scheduled`; its node operations are planned
    /// when it starts, from the roles of that moment). `Err(id)` if the cache already
    /// has a patch scheduled or running.
    pub fn insert_patch(
        &self,
        cache: &str,
        group: &str,
        version: Option<&str>,
        not_before_ms: Option<i64>,
        window: bool,
        now_ms: i64,
    ) -> anyhow::Result<Result<WorkflowRow, u64>> {
        let id = self.with(|c| {
            let tx = c.transaction()?;
            let pending: Option<u64> = tx
                .query_row(
                    "SELECT id FROM workflows WHERE cache=?1 AND kind='patch' \
                     AND state IN ('scheduled', 'running')",
                    [cache],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = pending {
                return Ok(Err(id));
            }
            tx.execute(
                "INSERT INTO workflows(cache, kind, shard, state, ops, op, phase, created_ms, \
                 updated_ms, grp, version, not_before_ms, window) \
                 VALUES (?1, 'patch', 0, 'scheduled', '[]', 0, 'check', ?2, ?2, ?3, ?4, ?5, ?6)",
                params![cache, now_ms, group, version, not_before_ms, window as i64],
            )?;
            let id = tx.last_insert_rowid() as u64;
            tx.commit()?;
            Ok(Ok(id))
        })?;
        match id {
            Ok(id) => Ok(Ok(self.workflow(id)?.context("workflow vanished")?)),
            Err(other) => Ok(Err(other)),
        }
    }

    /// Patches waiting to start, oldest first.
    pub fn scheduled(&self) -> anyhow::Result<Vec<WorkflowRow>> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} FROM workflows WHERE state='scheduled' ORDER BY id"
            ))?;
            let rows = st.query_map([], row)?;
            rows.collect()
        })
    }

    pub fn mark_announced(&self, id: u64) -> anyhow::Result<()> {
        self.with(|c| c.execute("UPDATE workflows SET announced=1 WHERE id=?1", [id]))?;
        Ok(())
    }

    /// Starts a scheduled patch with its planned operations, unless its cache runs a
    /// workflow or another patch of its resource group runs (never two caches of one
    /// group at once). Whether it started.
    pub fn start_scheduled(&self, id: u64, ops: &[Op], now_ms: i64) -> anyhow::Result<bool> {
        let ops_json = serde_json::to_string(ops)?;
        self.with(|c| {
            let tx = c.transaction()?;
            let busy: i64 = tx.query_row(
                "SELECT COUNT(*) FROM workflows w, workflows me WHERE me.id=?1 \
                 AND me.state='scheduled' AND w.state='running' \
                 AND (w.cache=me.cache OR (w.kind='patch' AND w.grp=me.grp))",
                [id],
                |r| r.get(0),
            )?;
            let still: i64 = tx.query_row(
                "SELECT COUNT(*) FROM workflows WHERE id=?1 AND state='scheduled'",
                [id],
                |r| r.get(0),
            )?;
            if busy > 0 || still == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE workflows SET state='running', ops=?2, started_ms=?3, updated_ms=?3 \
                 WHERE id=?1",
                params![id, ops_json, now_ms],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Records that the workflow reached `(op, phase)`.
    pub fn advance_workflow(
        &self,
        id: u64,
        op: usize,
        phase: &str,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE workflows SET op=?2, phase=?3, updated_ms=?4 WHERE id=?1",
                params![id, op, phase, now_ms],
            )
        })?;
        Ok(())
    }

    pub fn finish_workflow(&self, id: u64, error: Option<&str>, now_ms: i64) -> anyhow::Result<()> {
        let state = if error.is_some() { "failed" } else { "done" };
        self.with(|c| {
            c.execute(
                "UPDATE workflows SET state=?2, error=?3, updated_ms=?4 WHERE id=?1",
                params![id, state, error, now_ms],
            )
        })?;
        Ok(())
    }
}
