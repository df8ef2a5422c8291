//! Counters a drill (or a dashboard) reads: errors by kind, retries, connects and
//! reconnects, breaker and event activity, and the last backoff delays and connect
//! attempt times so tests and drills can check the schedule instead of timing it.

use crate::retry::FailureKind;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many backoff records and connect attempt times are kept (the most recent).
pub const HISTORY: usize = 1024;

/// Why the client waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayPurpose {
    /// The random stagger before the first reconnect after a loss.
    Stagger,
    /// Backoff between failed connection attempts.
    Reconnect,
    /// Backoff before retrying a command.
    Retry,
}

/// One delay the client chose: `delay` was drawn from `0..=ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRecord {
    pub purpose: DelayPurpose,
    /// The attempt it preceded (0-based, per purpose).
    pub attempt: u32,
    pub ceiling: Duration,
    pub delay: Duration,
}

#[derive(Default)]
pub(crate) struct Counters {
    errors: [AtomicU64; FailureKind::ALL.len()],
    surfaced: [AtomicU64; FailureKind::ALL.len()],
    pub commands: AtomicU64,
    pub retries: AtomicU64,
    pub connect_attempts: AtomicU64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub dead_detected: AtomicU64,
    pub refreshes: AtomicU64,
    pub force_reconnects: AtomicU64,
    pub idle_pings: AtomicU64,
    pub breaker_opened: AtomicU64,
    pub breaker_timeouts: AtomicU64,
    pub writes_held: AtomicU64,
    pub writes_holding: AtomicU64,
    pub in_flight: AtomicU64,
    pub events: AtomicU64,
    pub events_malformed: AtomicU64,
    pub subscriber_connects: AtomicU64,
    pub maint_opt_in_refused: AtomicU64,
    delays: Mutex<VecDeque<DelayRecord>>,
    attempt_times: Mutex<VecDeque<Instant>>,
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

impl Counters {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, kind: FailureKind) {
        Self::inc(&self.errors[kind.index()]);
    }

    pub fn surfaced(&self, kind: FailureKind) {
        Self::inc(&self.surfaced[kind.index()]);
    }

    pub fn delay(&self, r: DelayRecord) {
        push_bounded(&mut self.delays.lock(), r);
    }

    pub fn connect_attempt(&self) {
        Self::inc(&self.connect_attempts);
        push_bounded(&mut self.attempt_times.lock(), Instant::now());
    }

    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let by_kind = |a: &[AtomicU64; FailureKind::ALL.len()]| {
            FailureKind::ALL
                .iter()
                .zip(a)
                .map(|(k, c)| (*k, get(c)))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        let connects = get(&self.connects);
        Stats {
            commands: get(&self.commands),
            errors: by_kind(&self.errors),
            surfaced: by_kind(&self.surfaced),
            retries: get(&self.retries),
            connect_attempts: get(&self.connect_attempts),
            connects,
            reconnects: connects.saturating_sub(1),
            connect_failures: get(&self.connect_failures),
            dead_detected: get(&self.dead_detected),
            refreshes: get(&self.refreshes),
            force_reconnects: get(&self.force_reconnects),
            idle_pings: get(&self.idle_pings),
            breaker_opened: get(&self.breaker_opened),
            breaker_timeouts: get(&self.breaker_timeouts),
            writes_held: get(&self.writes_held),
            writes_holding: get(&self.writes_holding),
            in_flight: get(&self.in_flight),
            events: get(&self.events),
            events_malformed: get(&self.events_malformed),
            subscriber_connects: get(&self.subscriber_connects),
            maint_opt_in_refused: get(&self.maint_opt_in_refused),
            delays: self.delays.lock().iter().copied().collect(),
            connect_attempt_times: self.attempt_times.lock().iter().copied().collect(),
        }
    }
}

/// A snapshot of the client's counters (all totals since the client was created).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Calls made through the client (a pipeline counts once).
    pub commands: u64,
    /// Every error met, by kind, including those a retry then cured.
    pub errors: BTreeMap<FailureKind, u64>,
    /// Errors returned to the caller, by kind.
    pub surfaced: BTreeMap<FailureKind, u64>,
    /// Commands sent again after an error.
    pub retries: u64,
    /// Connection attempts of the data connection.
    pub connect_attempts: u64,
    /// Successful connects of the data connection.
    pub connects: u64,
    /// Successful connects after the first.
    pub reconnects: u64,
    pub connect_failures: u64,
    /// Connections declared dead by the client (silence, loss, protocol errors).
    pub dead_detected: u64,
    /// Fresh connections taken because of READONLY & co. or maintenance events.
    pub refreshes: u64,
    pub force_reconnects: u64,
    pub idle_pings: u64,
    pub breaker_opened: u64,
    /// Times the breaker closed because it reached its bound.
    pub breaker_timeouts: u64,
    /// Writes the breaker held (total).
    pub writes_held: u64,
    /// Writes being held right now.
    pub writes_holding: u64,
    /// Commands sent and waiting for their reply right now.
    pub in_flight: u64,
    /// Maintenance messages and push frames received (parsed or not).
    pub events: u64,
    pub events_malformed: u64,
    /// Connects of the events subscriber.
    pub subscriber_connects: u64,
    /// Times the server refused `CLIENT MAINT_NOTIFICATIONS ON`.
    pub maint_opt_in_refused: u64,
    /// The last [`HISTORY`] delays chosen, oldest first.
    pub delays: Vec<DelayRecord>,
    /// The last [`HISTORY`] connect attempt times, oldest first.
    pub connect_attempt_times: Vec<Instant>,
}

impl Stats {
    /// Total errors met (all kinds).
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Total errors returned to the caller.
    pub fn surfaced_total(&self) -> u64 {
        self.surfaced.values().sum()
    }

    /// Errors of one kind met.
    pub fn errors_of(&self, kind: FailureKind) -> u64 {
        self.errors.get(&kind).copied().unwrap_or(0)
    }

    /// Errors of one kind returned to the caller.
    pub fn surfaced_of(&self, kind: FailureKind) -> u64 {
        self.surfaced.get(&kind).copied().unwrap_or(0)
    }

    /// The delays chosen for one purpose, oldest first.
    pub fn delays_for(&self, purpose: DelayPurpose) -> Vec<DelayRecord> {
        self.delays
            .iter()
            .filter(|d| d.purpose == purpose)
            .copied()
            .collect()
    }

    /// Connect attempts counted per `bucket` from `since` (attempts before it are
    /// left out); what a many-client drill adds up to show the stagger.
    pub fn connect_attempts_per_bucket(&self, since: Instant, bucket: Duration) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        let width = bucket.as_nanos().max(1);
        for t in &self.connect_attempt_times {
            let Some(d) = t.checked_duration_since(since) else {
                continue;
            };
            let i = (d.as_nanos() / width) as usize;
            if out.len() <= i {
                out.resize(i + 1, 0);
            }
            out[i] += 1;
        }
        out
    }
}
