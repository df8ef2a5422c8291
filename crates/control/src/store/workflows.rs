//! Workflows, persisted phase by phase so that a restarted service resumes them: a
//! workflow is a list of node operations, each run through fixed phases.

use super::Store;
use ferrocache_api::http::WorkflowInfo;
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// One node operation: fail the node over if it is primary, then restart it if
/// `reboot` (then wait for the resync gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub node: usize,
    pub reboot: bool,
    /// The node's role when the workflow was planned (events say `IsReplica` by it).
    pub primary: bool,
}

#[derive(Debug, Clone)]
pub struct WorkflowRow {
    pub info: WorkflowInfo,
    pub ops: Vec<Op>,
}

fn sql_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.to_string().into())
}

const COLUMNS: &str =
    "id, cache, kind, shard, state, ops, op, phase, error, created_ms, updated_ms";

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
        },
        ops,
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
                "INSERT INTO workflows(cache, kind, shard, state, ops, op, phase, created_ms, updated_ms) \
                 VALUES (?1, ?2, ?3, 'running', ?4, 0, 'check', ?5, ?5)",
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
