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
    /// `failover`, `reboot-primary`, `reboot-replica`, `reboot-all`.
    pub kind: String,
    pub shard: usize,
    /// `running`, `done`, `failed`.
    pub state: String,
    /// Which of the workflow's node operations is running (0-based) and its phase.
    pub op: usize,
    pub ops: usize,
    pub phase: String,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl WorkflowInfo {
    pub fn finished(&self) -> bool {
        self.state != "running"
    }
}
