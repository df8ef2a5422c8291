//! The drill's report: the figures (JSON with `--json`), how the pauses are computed
//! from the acknowledgement times, and the readable summary.

use crate::timeline::Timeline;
use crate::workload::Ack;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A maintenance event as the drill's observer client received it.
#[derive(Debug, Clone, Serialize)]
pub struct EventSeen {
    /// Milliseconds since the drill started.
    pub t_ms: f64,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    /// `endpoint` or `direct`.
    pub path: String,
    pub address: String,
    pub engine: Option<String>,
    pub clients: usize,
    pub duration_ms: f64,
    /// What was done, e.g. "workflow 3 (reboot-primary)" or "SIGKILL pid 1234".
    pub fault: Option<String>,
    /// Why the fault could not be applied (e.g. the route does not exist).
    pub fault_error: Option<String>,
    pub fault_at_ms: Option<f64>,
    /// When the workflow ended or the frozen node was resumed.
    pub fault_end_ms: Option<f64>,
    pub ops: u64,
    /// Client-visible errors (after the client's own retries).
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Errors the client met and cured by retrying (not visible to the application).
    pub errors_absorbed: u64,
    pub retries: u64,
    pub acked_writes: u64,
    pub lost_writes: u64,
    pub lost_sample: Vec<String>,
    /// Writes that failed with an unknown outcome (not counted as acknowledged).
    pub unknown_writes: u64,
    pub counters_off: u64,
    pub max_write_pause_ms: f64,
    pub failover_ms: Option<f64>,
    /// From the fault to the first client-visible error (e.g. a frozen node found dead).
    pub first_error_ms: Option<f64>,
    pub dead_detected: u64,
    pub reconnects: u64,
    pub connect_attempts: u64,
    /// Data-connection attempts of all clients per 100 ms from the fault on.
    pub connect_attempts_per_100ms: Vec<u64>,
    pub events: Vec<EventSeen>,
    pub latency: Latency,
    /// Set when the cache did not settle before verification.
    pub settle_error: Option<String>,
    #[serde(skip)]
    pub timeline: Timeline,
}

pub fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 10.0).round() / 10.0
}

/// Acknowledgement times of all clients, sorted.
pub fn ack_times(acks: &[Ack]) -> Vec<u64> {
    let mut t: Vec<u64> = acks.iter().map(|a| a.ack_us).collect();
    t.sort_unstable();
    t
}

/// The largest gap between consecutive acknowledged writes (across clients), the
/// stretch after the last one up to `end_us` included.
pub fn max_gap(sorted: &[u64], end_us: u64) -> u64 {
    let inner = sorted.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let tail = sorted.last().map_or(0, |l| end_us.saturating_sub(*l));
    inner.max(tail)
}

/// The largest gap that overlaps `[from, to]`: the write outage a workflow caused.
pub fn max_gap_within(sorted: &[u64], from: u64, to: u64) -> u64 {
    let mut best = 0;
    for w in sorted.windows(2) {
        if w[1] >= from && w[0] <= to {
            best = best.max(w[1] - w[0]);
        }
    }
    best
}

/// From `fault` to the first write acknowledged that was sent after it.
pub fn first_ack_after(acks: &[Ack], fault: u64) -> Option<u64> {
    acks.iter()
        .filter(|a| a.sent_us >= fault)
        .map(|a| a.ack_us - fault)
        .min()
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{v} ms"))
}

impl Report {
    /// The readable summary.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "drill {} through the {} ({}{}), {} clients, {:.1} s",
            self.scenario,
            self.path,
            self.address,
            self.engine
                .as_ref()
                .map(|e| format!(", engine {e}"))
                .unwrap_or_default(),
            self.clients,
            self.duration_ms / 1000.0
        );
        match (&self.fault, &self.fault_error) {
            (_, Some(e)) => {
                let _ = writeln!(w, "  fault           NOT APPLIED: {e}");
            }
            (Some(f), None) => {
                let _ = writeln!(
                    w,
                    "  fault           {f} at {} (ended {})",
                    opt_ms(self.fault_at_ms),
                    opt_ms(self.fault_end_ms)
                );
            }
            _ => {}
        }
        let kinds: Vec<String> = self
            .errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(w, "  operations      {}", self.ops);
        let _ = writeln!(
            w,
            "  errors          {}{}  (absorbed by retries: {}, retries {})",
            self.errors,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            self.errors_absorbed,
            self.retries
        );
        let _ = writeln!(
            w,
            "  acked writes    {}  lost {}{}  (unknown outcome, not counted: {})",
            self.acked_writes,
            self.lost_writes,
            if self.lost_sample.is_empty() {
                String::new()
            } else {
                format!(" e.g. {}", self.lost_sample.join(" "))
            },
            self.unknown_writes
        );
        let _ = writeln!(w, "  counters off by {}", self.counters_off);
        let _ = writeln!(w, "  longest write pause {} ms", self.max_write_pause_ms);
        let _ = writeln!(w, "  failover time   {}", opt_ms(self.failover_ms));
        let _ = writeln!(
            w,
            "  first error     {} after the fault; connections found dead {}",
            opt_ms(self.first_error_ms),
            self.dead_detected
        );
        let _ = writeln!(
            w,
            "  reconnects      {} ({} connect attempts)",
            self.reconnects, self.connect_attempts
        );
        let _ = writeln!(
            w,
            "  latency         p50 {} ms  p99 {} ms  max {} ms",
            self.latency.p50_ms, self.latency.p99_ms, self.latency.max_ms
        );
        if self.connect_attempts_per_100ms.iter().any(|n| *n > 0) {
            let per: Vec<String> = self
                .connect_attempts_per_100ms
                .iter()
                .map(|n| n.to_string())
                .collect();
            let _ = writeln!(
                w,
                "  connect attempts per 100 ms after the fault: {}",
                per.join(" ")
            );
        }
        let _ = writeln!(w, "  events          {}", self.events.len());
        for e in &self.events {
            let _ = writeln!(w, "    {:>9.1} ms  {} {}", e.t_ms, e.kind, e.detail);
        }
        if let Some(e) = &self.settle_error {
            let _ = writeln!(w, "  WARNING: {e}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps() {
        let t = [0, 10, 15, 100, 105];
        assert_eq!(max_gap(&t, 110), 85);
        assert_eq!(max_gap(&t, 300), 195);
        assert_eq!(max_gap_within(&t, 12, 20), 85);
        assert_eq!(max_gap_within(&t, 101, 104), 5);
        let acks = [
            Ack {
                seq: 1,
                sent_us: 5,
                ack_us: 50,
            },
            Ack {
                seq: 2,
                sent_us: 20,
                ack_us: 70,
            },
            Ack {
                seq: 3,
                sent_us: 30,
                ack_us: 60,
            },
        ];
        assert_eq!(first_ack_after(&acks, 10), Some(50));
        assert_eq!(first_ack_after(&acks, 31), None);
    }
}
