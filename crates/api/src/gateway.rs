//! The gateway's admin API bodies as the service sends and reads them (docs/gateway.md).
//! The gateway crate has its own copy; services share wire formats, not code.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub epoch: u64,
    pub nodes: Vec<String>,
    pub shards: Vec<TopologyShard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyShard {
    pub primary: String,
    #[serde(default)]
    pub replicas: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchStarted {
    pub drained: bool,
    pub connections: u64,
    pub undrained_connections: u64,
    pub drain_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchFinished {
    pub epoch: u64,
    pub reattached: bool,
    pub unattached_connections: u64,
    pub reattach_ms: f64,
    /// From switch start to the release of held requests: the write pause.
    pub duration_ms: f64,
}
