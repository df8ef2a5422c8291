//! A node as the service sees it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Replica,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Answering probes in the role the service assigned.
    Up,
    /// Started, not yet answering (or resynchronising).
    Starting,
    /// Not answering.
    Down,
    /// Deliberately stopped (a reboot in progress).
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub index: usize,
    pub shard: usize,
    /// The role the service assigned (the gateway routes by it).
    pub role: Role,
    /// The role the node itself reported at the last probe, if it answered.
    pub reported_role: Option<Role>,
    /// The node process's own port (internal; clients use the gateway's ports).
    pub port: u16,
    /// The gateway's direct ports for this node (13000+i / 15000+i by default).
    pub direct_port: u16,
    pub direct_tls_port: u16,
    pub pid: Option<u32>,
    pub health: Health,
    /// Replication offset (master_repl_offset, or slave_repl_offset on a replica).
    pub offset: Option<u64>,
    /// Bytes behind the primary (replicas only).
    pub lag: Option<u64>,
    /// The registered version the node runs (`versions`; what `patch --to` changes).
    pub version: Option<String>,
    /// The node software as INFO reports it (`redis_version`, `ferrocache_version`).
    #[serde(default)]
    pub reported_version: Option<String>,
}
