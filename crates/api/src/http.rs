//! Request and response bodies of the service's HTTP API (docs/api.md).

use serde::{Deserialize, Serialize};

/// Every error answer: a 4xx/5xx status with this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    pub status: String,
    pub version: String,
}

/// `GET /caches/{name}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    pub primary: String,
    pub secondary: String,
}

/// `POST /caches/{name}/keys/regenerate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regenerate {
    /// `primary` or `secondary`.
    pub key: String,
}

/// `POST /caches/{name}/failover`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FailoverRequest {
    #[serde(default)]
    pub shard: usize,
}

/// `POST /caches/{name}/reboot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebootRequest {
    /// `primary`, `replica` or `all`.
    pub node: String,
    #[serde(default)]
    pub shard: usize,
}

/// A workflow as `GET /workflows/{id}` answers (and `POST …/failover|reboot`, 202).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInfo {
    pub id: u64,
    pub cache: String,
    /// `failover`, `reboot-primary`, `reboot-replica`, `reboot-all`, `patch`, `import`.
    pub kind: String,
    pub shard: usize,
    /// `scheduled` (a patch waiting for its window or its resource group's turn),
    /// `running`, `done`, `failed`.
    pub state: String,
    /// Which of the workflow's node operations is running (0-based) and its phase.
    pub op: usize,
    pub ops: usize,
    pub phase: String,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Patches: the resource group, the target version (none: platform patch), the
    /// earliest start (the maintenance window's opening; none: at once), and when it
    /// really started.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub not_before_ms: Option<i64>,
    #[serde(default)]
    pub started_ms: Option<i64>,
}

impl WorkflowInfo {
    /// Done or failed (a scheduled workflow has not finished: it has not begun).
    pub fn finished(&self) -> bool {
        self.state == "done" || self.state == "failed"
    }
}

/// `POST /caches/{name}/import` answers this once the cache serves the file's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub cache: String,
    pub bytes: u64,
    /// Keys in the primary's database 0… after the load (DBSIZE summed over INFO keyspace).
    pub keys: u64,
    pub duration_ms: f64,
}
