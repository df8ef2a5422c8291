//! `GET /caches/{name}/diagnose`: the seed's insight ("We ran diagnostics on your
//! resource and found we patched your cache …") with the measured facts (SYSTEM.md §11).

use crate::history::HistoryRecord;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub cache: String,
    /// `patch`, `reboot`, `planned-failover`, `unplanned-failover`, `import`, or `none`.
    pub finding: String,
    /// One line: "We ran diagnostics on your resource and found …".
    pub title: String,
    /// What happened and what clients would have seen, with the measured figures.
    pub description: String,
    /// One line per node operation.
    pub facts: Vec<String>,
    pub recommended_steps: Vec<String>,
    /// The records the diagnosis rests on.
    pub records: Vec<HistoryRecord>,
}
