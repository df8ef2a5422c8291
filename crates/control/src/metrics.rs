//! `/metrics` in Prometheus text format: node roles and lag, failovers, the planned
//! write pause as a histogram, workflow counts, child crashes.

use crate::cache::CacheRt;
use ferrocache_api::Role;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const PAUSE_BUCKETS_MS: [f64; 9] = [1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];

/// Per cache: (node, assigned primary, lag) from the last probes.
type NodeRows = BTreeMap<String, Vec<(usize, bool, Option<u64>)>>;

#[derive(Default)]
pub struct Metrics {
    planned: AtomicU64,
    unplanned: AtomicU64,
    crashes: AtomicU64,
    wf_started: AtomicU64,
    wf_done: AtomicU64,
    wf_failed: AtomicU64,
    pause: Mutex<(Vec<u64>, f64, u64)>,
    /// Per cache: (node, role is primary, lag) from the last probes.
    nodes: Mutex<NodeRows>,
}

impl Metrics {
    pub fn planned_failover(&self, pause_ms: f64) {
        self.planned.fetch_add(1, Relaxed);
        let mut p = self.pause.lock();
        if p.0.is_empty() {
            p.0 = vec![0; PAUSE_BUCKETS_MS.len()];
        }
        for (i, b) in PAUSE_BUCKETS_MS.iter().enumerate() {
            if pause_ms <= *b {
                p.0[i] += 1;
            }
        }
        p.1 += pause_ms / 1000.0;
        p.2 += 1;
    }
    pub fn unplanned_failover(&self) {
        self.unplanned.fetch_add(1, Relaxed);
    }
    pub fn child_crash(&self) {
        self.crashes.fetch_add(1, Relaxed);
    }
    pub fn workflow_started(&self) {
        self.wf_started.fetch_add(1, Relaxed);
    }
    pub fn workflow_finished(&self, ok: bool) {
        if ok { &self.wf_done } else { &self.wf_failed }.fetch_add(1, Relaxed);
    }

    pub fn observe(&self, rt: &CacheRt) {
        let st = rt.state.lock();
        let primary_offset = st
            .nodes
            .iter()
            .find(|n| n.role == Role::Primary)
            .and_then(|n| n.seen.as_ref().map(|s| s.offset));
        let rows = st
            .nodes
            .iter()
            .map(|n| {
                let lag = match (n.role, &n.seen, primary_offset) {
                    (Role::Replica, Some(s), Some(p)) => Some(p.saturating_sub(s.offset)),
                    _ => None,
                };
                (n.index, n.role == Role::Primary, lag)
            })
            .collect();
        self.nodes.lock().insert(rt.name.clone(), rows);
    }

    pub fn forget(&self, cache: &str) {
        self.nodes.lock().remove(cache);
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        let counter = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = write!(
                o,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            );
        };
        counter(
            &mut o,
            "ferrocache_failovers_planned_total",
            "Planned failovers completed.",
            self.planned.load(Relaxed),
        );
        counter(
            &mut o,
            "ferrocache_failovers_unplanned_total",
            "Unplanned failovers (lost primaries).",
            self.unplanned.load(Relaxed),
        );
        counter(
            &mut o,
            "ferrocache_child_crashes_total",
            "Node or gateway processes that exited unexpectedly.",
            self.crashes.load(Relaxed),
        );
        let _ = write!(o, "# HELP ferrocache_workflows_total Workflows by final state.\n# TYPE ferrocache_workflows_total counter\n");
        let _ = writeln!(
            o,
            "ferrocache_workflows_total{{state=\"started\"}} {}",
            self.wf_started.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "ferrocache_workflows_total{{state=\"done\"}} {}",
            self.wf_done.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "ferrocache_workflows_total{{state=\"failed\"}} {}",
            self.wf_failed.load(Relaxed)
        );
        let p = self.pause.lock();
        let _ = write!(o, "# HELP ferrocache_write_pause_seconds Write pause of planned failovers at the endpoint.\n# TYPE ferrocache_write_pause_seconds histogram\n");
        for (i, b) in PAUSE_BUCKETS_MS.iter().enumerate() {
            let _ = writeln!(
                o,
                "ferrocache_write_pause_seconds_bucket{{le=\"{}\"}} {}",
                b / 1000.0,
                p.0.get(i).copied().unwrap_or(0)
            );
        }
        let _ = writeln!(
            o,
            "ferrocache_write_pause_seconds_bucket{{le=\"+Inf\"}} {}",
            p.2
        );
        let _ = writeln!(o, "ferrocache_write_pause_seconds_sum {}", p.1);
        let _ = writeln!(o, "ferrocache_write_pause_seconds_count {}", p.2);
        drop(p);
        let nodes = self.nodes.lock();
        let _ = write!(o, "# HELP ferrocache_node_primary 1 if the service assigned the node the primary role.\n# TYPE ferrocache_node_primary gauge\n");
        for (cache, rows) in nodes.iter() {
            for (i, primary, _) in rows {
                let _ = writeln!(
                    o,
                    "ferrocache_node_primary{{cache=\"{cache}\",node=\"{i}\"}} {}",
                    u8::from(*primary)
                );
            }
        }
        let _ = write!(o, "# HELP ferrocache_replica_lag_bytes Bytes a replica is behind its primary.\n# TYPE ferrocache_replica_lag_bytes gauge\n");
        for (cache, rows) in nodes.iter() {
            for (i, _, lag) in rows {
                if let Some(l) = lag {
                    let _ = writeln!(
                        o,
                        "ferrocache_replica_lag_bytes{{cache=\"{cache}\",node=\"{i}\"}} {l}"
                    );
                }
            }
        }
        o
    }
}
