//! What the service records for every failover, reboot and repair (SYSTEM.md §11).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub id: u64,
    pub cache: String,
    /// `planned-failover`, `reboot`, `patch`, `unplanned-failover`, `import`.
    pub kind: String,
    pub shard: usize,
    /// The node the operation was about (the one rebooted, or the old primary).
    pub node: usize,
    /// Its role when the operation started.
    pub role: crate::Role,
    /// Unix milliseconds.
    pub started_ms: i64,
    pub ended_ms: i64,
    /// How long writes were held at the endpoint (planned failovers), or how long the
    /// shard had no primary (unplanned), in milliseconds.
    pub write_pause_ms: Option<f64>,
    /// Client connections moved to the new primary by the endpoint.
    pub connections_moved: Option<u64>,
    /// Client connections the endpoint could not move and closed.
    #[serde(default)]
    pub connections_closed: Option<u64>,
    /// The workflow the record belongs to (none for unplanned repairs).
    #[serde(default)]
    pub workflow: Option<u64>,
    /// The version the node runs afterwards (patches).
    #[serde(default)]
    pub version: Option<String>,
    /// How the restarted node resynchronised, from the primary's INFO stats:
    /// `partial` (sync_partial_ok rose) or `full` (sync_full rose).
    #[serde(default)]
    pub resync: Option<String>,
    /// The epoch after the operation.
    pub epoch: u64,
    /// What happened, in one sentence.
    pub detail: String,
}
