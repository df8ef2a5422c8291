//! Counters the admin API reports: connections, held requests and how long they were
//! held, switches and how long they took. Plain atomics: the hot path only adds.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (in milliseconds) of the hold-duration histogram buckets.
const HOLD_BUCKETS_MS: [u64; 6] = [1, 10, 100, 1000, 10_000, u64::MAX];

#[derive(Debug, Default)]
pub struct Metrics {
    pub connections_current: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_rejected_maxclients: AtomicU64,
    pub connections_closed_idle: AtomicU64,
    pub requests_forwarded: AtomicU64,
    /// Requests that waited because their route was held or had no backend.
    pub requests_held: AtomicU64,
    /// Held requests answered with the hold-deadline error instead.
    pub requests_hold_timed_out: AtomicU64,
    /// In-flight requests answered with an error because their backend was lost.
    pub requests_failed_backend_lost: AtomicU64,
    pub backend_connect_failures: AtomicU64,
    /// Blocking commands the gateway unblocked at a switch and issued again after it.
    pub blocking_reissued: AtomicU64,
    /// Connections whose WATCH was broken by a switch (their EXEC answers null).
    pub watches_broken: AtomicU64,
    /// Connections handed over to their node, and given back by it.
    pub handoffs: AtomicU64,
    pub handbacks: AtomicU64,
    holds: AtomicU64,
    hold_total_us: AtomicU64,
    hold_max_us: AtomicU64,
    hold_buckets: [AtomicU64; 6],
    switches: Mutex<SwitchStats>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct SwitchStats {
    pub started: u64,
    pub finished: u64,
    pub aborted: u64,
    /// Most recent first, at most 20.
    pub recent: Vec<SwitchRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SwitchRecord {
    pub shard: usize,
    pub from: String,
    pub to: String,
    pub epoch: u64,
    pub outcome: &'static str,
    /// From `switch start` to the release of held requests.
    pub duration_ms: f64,
    /// How long `start` waited for in-flight requests to complete.
    pub drain_ms: f64,
    /// How long `finish` waited for connections to re-attach to the new primary.
    pub reattach_ms: f64,
    pub connections: usize,
    pub unsettled_connections: usize,
}

impl Metrics {
    /// Records one connection's hold: from its first held request to their release.
    pub fn record_hold(&self, held: Duration, requests: u64) {
        let us = held.as_micros().min(u64::MAX as u128) as u64;
        self.holds.fetch_add(1, Relaxed);
        self.requests_held.fetch_add(requests, Relaxed);
        self.hold_total_us.fetch_add(us, Relaxed);
        self.hold_max_us.fetch_max(us, Relaxed);
        let ms = us / 1000;
        let i = HOLD_BUCKETS_MS.iter().position(|&b| ms < b).unwrap_or(5);
        self.hold_buckets[i].fetch_add(1, Relaxed);
    }

    pub fn record_switch(&self, rec: SwitchRecord) {
        let mut s = self.switches.lock().unwrap_or_else(|e| e.into_inner());
        match rec.outcome {
            "finished" => s.finished += 1,
            _ => s.aborted += 1,
        }
        s.recent.insert(0, rec);
        s.recent.truncate(20);
    }

    pub fn switch_started(&self) {
        self.switches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .started += 1;
    }

    pub fn snapshot(&self) -> serde_json::Value {
        let g = |a: &AtomicU64| a.load(Relaxed);
        let holds = g(&self.holds);
        let buckets: Vec<serde_json::Value> = HOLD_BUCKETS_MS
            .iter()
            .zip(&self.hold_buckets)
            .map(|(&le, n)| {
                let le = if le == u64::MAX {
                    "+inf".to_string()
                } else {
                    le.to_string()
                };
                serde_json::json!({"lt_ms": le, "count": g(n)})
            })
            .collect();
        let switches = self
            .switches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        serde_json::json!({
            "connections": {
                "current": g(&self.connections_current),
                "total": g(&self.connections_total),
                "rejected_maxclients": g(&self.connections_rejected_maxclients),
                "closed_idle": g(&self.connections_closed_idle),
                "handoffs": g(&self.handoffs),
                "handbacks": g(&self.handbacks),
            },
            "requests": {
                "forwarded": g(&self.requests_forwarded),
                "held": g(&self.requests_held),
                "hold_timed_out": g(&self.requests_hold_timed_out),
                "failed_backend_lost": g(&self.requests_failed_backend_lost),
                "blocking_reissued": g(&self.blocking_reissued),
                "watches_broken": g(&self.watches_broken),
            },
            "holds": {
                "count": holds,
                "max_ms": g(&self.hold_max_us) as f64 / 1000.0,
                "mean_ms": if holds == 0 { 0.0 } else { g(&self.hold_total_us) as f64 / holds as f64 / 1000.0 },
                "buckets": buckets,
            },
            "backend_connect_failures": g(&self.backend_connect_failures),
            "switches": switches,
        })
    }
}
