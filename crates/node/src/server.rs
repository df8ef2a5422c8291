//! State shared by every connection of one node: the keyspace, configuration,
//! connected clients, pub/sub registry, counters and the pause gate.

use crate::clients::Clients;
use crate::config::{Config, Settings};
use crate::pubsub::PubSub;
use crate::ticks::Tick;
use ferrocache_keyspace::Keyspace;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub struct Shared {
    pub keyspace: Mutex<Keyspace>,
    config: RwLock<Config>,
    settings: RwLock<Arc<Settings>>,
    /// Bumped on every configuration change, so connections refresh their cached copy.
    settings_gen: AtomicU64,
    pub clients: Clients,
    pub pubsub: Mutex<PubSub>,
    /// Clients blocked in BLPOP and friends. Locked only with the keyspace held.
    pub blocking: Mutex<crate::blocking::Registry>,
    /// How many clients are blocked; read without locks by the hot path and INFO.
    pub blocked_clients: std::sync::atomic::AtomicUsize,
    pub stats: Stats,
    pub pause: Pause,
    /// Cancelled when the node should stop (SHUTDOWN, SIGTERM).
    pub shutdown: CancellationToken,
    pub started: Instant,
    pub run_id: String,
    /// The port actually bound (differs from the config when it said 0).
    pub port: AtomicU64,
    pub busy: crate::busy::BusyPoll,
    /// DEBUG SET-ACTIVE-EXPIRE: whether cron deletes expired keys nobody reads.
    pub active_expire: std::sync::atomic::AtomicBool,
    /// Bytes allocated when the node started (INFO used_memory_startup).
    pub startup_memory: AtomicU64,
    /// RDB saves and loads (shared with the background save thread).
    pub persist: Arc<crate::persist::State>,
    /// Role, replication IDs, backlog, replicas, link to the primary.
    pub repl: crate::repl::Repl,
    /// The append-only file (writer control, fsync progress, INFO counters).
    pub aof: crate::aof::Aof,
    /// Connections handed over by the gateway.
    pub handoff: crate::handoff::Handoff,
    /// This struct's own Arc, for handlers that start tasks (REPLICAOF).
    me: std::sync::Weak<Shared>,
}

/// Server-wide counters for INFO.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub error_replies: AtomicU64,
    pub client_output_limit_disconnections: AtomicU64,
    pub client_query_limit_disconnections: AtomicU64,
    /// Keys removed to stay under maxmemory (INFO `evicted_keys`).
    pub evicted_keys: AtomicU64,
    /// Per command-table entry: calls, microseconds, rejected, failed.
    pub commands: crate::dispatch::CommandStats,
    pub errors: Mutex<std::collections::BTreeMap<String, u64>>,
    pub peak_memory: AtomicU64,
    /// Commands per second over the last second or so, sampled by cron.
    pub instantaneous_ops: AtomicU64,
    /// How long the last point-in-time snapshot held the keyspace lock, and how
    /// many were taken: INFO's `latest_fork_usec` and `total_forks`, the fields
    /// tools watch for Redis's fork() stall, which this clone stands in for.
    pub latest_snapshot_usec: AtomicU64,
    pub snapshots: AtomicU64,
}

impl Stats {
    pub fn reset(&self) {
        for c in [
            &self.connections_received,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.error_replies,
            &self.client_output_limit_disconnections,
            &self.client_query_limit_disconnections,
            &self.evicted_keys,
            &self.snapshots,
        ] {
            c.store(0, Relaxed);
        }
        self.commands.reset();
        self.errors.lock().clear();
    }

    /// Commands run since start (or CONFIG RESETSTAT): the sum of per-command calls.
    pub fn commands_processed(&self) -> u64 {
        self.commands.calls.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub fn record_error(&self, msg: &[u8]) {
        self.error_replies.fetch_add(1, Relaxed);
        let code = msg.split(|&c| c == b' ').next().unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(code).into_owned();
        *self.errors.lock().entry(code).or_default() += 1;
    }
}

/// What CLIENT PAUSE stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseKind {
    Write,
    All,
}

/// CLIENT PAUSE: until `until` (Unix ms), commands of the paused kind wait.
/// FAILOVER holds writes separately (`hold_writes`), as Redis keeps its pause
/// purposes apart: CLIENT UNPAUSE does not end a failover's pause.
#[derive(Default)]
pub struct Pause {
    state: Mutex<Option<(PauseKind, u64)>>,
    /// Mirrors `state.is_some() || held` so the per-command check takes no lock.
    active: std::sync::atomic::AtomicBool,
    /// FAILOVER is holding writes until it finishes or is aborted.
    held: std::sync::atomic::AtomicBool,
    pub released: Notify,
}

impl Pause {
    pub fn start(&self, kind: PauseKind, until_ms: u64) {
        let mut s = self.state.lock();
        // A new pause can extend or widen a running one, never shorten it (as Redis).
        let merged = match *s {
            Some((k, u)) => {
                let kind = if k == PauseKind::All || kind == PauseKind::All {
                    PauseKind::All
                } else {
                    PauseKind::Write
                };
                (kind, u.max(until_ms))
            }
            None => (kind, until_ms),
        };
        *s = Some(merged);
        self.active.store(true, Relaxed);
    }
    pub fn end(&self) {
        *self.state.lock() = None;
        self.active.store(self.is_held(), Relaxed);
        self.released.notify_waiters();
    }
    /// FAILOVER: writes wait until `release_hold`, whatever CLIENT PAUSE does.
    pub fn hold_writes(&self) {
        let _s = self.state.lock();
        self.held.store(true, Relaxed);
        self.active.store(true, Relaxed);
    }
    pub fn release_hold(&self) {
        let s = self.state.lock();
        self.held.store(false, Relaxed);
        self.active.store(s.is_some(), Relaxed);
        drop(s);
        self.released.notify_waiters();
    }
    /// Whether FAILOVER is holding writes.
    pub fn is_held(&self) -> bool {
        self.held.load(Relaxed)
    }
    /// The pause in force now, if any (expired pauses end here); FAILOVER's hold
    /// shows as a write pause without end, widened by a CLIENT PAUSE ALL.
    pub fn current(&self, now_ms: u64) -> Option<(PauseKind, u64)> {
        let mut s = self.state.lock();
        let held = self.is_held();
        let client = match *s {
            Some((_, until)) if until <= now_ms => {
                *s = None;
                self.active.store(held, Relaxed);
                drop(s);
                self.released.notify_waiters();
                None
            }
            other => other,
        };
        match (client, held) {
            (Some((PauseKind::All, _)), true) => Some((PauseKind::All, u64::MAX)),
            (_, true) => Some((PauseKind::Write, u64::MAX)),
            (c, false) => c,
        }
    }
    /// Cheap check used on every write: is any pause set at all?
    pub fn is_set(&self) -> bool {
        self.active.load(Relaxed)
    }
}

/// Time for one batch of commands: the wall clock is read once per batch, and each
/// command costs one tick read (its `lap`), which both times the command for
/// statistics and advances "now" for the next one.
pub struct Clock {
    base_ms: u64,
    base: Tick,
    last: Tick,
}

impl Clock {
    pub fn start() -> Clock {
        let now = Tick::now();
        Clock {
            base_ms: unix_ms(),
            base: now,
            last: now,
        }
    }
    /// Unix milliseconds as of the end of the previous command.
    pub fn now_ms(&self) -> u64 {
        self.base_ms + self.last.nanos_since(self.base) / 1_000_000
    }
    /// Nanoseconds since the previous lap (the command just run).
    pub fn lap(&mut self) -> u64 {
        let now = Tick::now();
        let ns = now.nanos_since(self.last);
        self.last = now;
        ns
    }
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        // Calibrate the tick clock now rather than inside the first command.
        Tick::now();
        let settings = config.settings();
        let run_id: String = (0..40)
            .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
            .collect();
        Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            keyspace: Mutex::new(Keyspace::new(settings.databases)),
            settings: RwLock::new(Arc::new(settings)),
            settings_gen: AtomicU64::new(0),
            config: RwLock::new(config),
            clients: Clients::default(),
            pubsub: Mutex::new(PubSub::default()),
            blocking: Default::default(),
            blocked_clients: Default::default(),
            stats: Stats::default(),
            pause: Pause::default(),
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            run_id,
            port: AtomicU64::new(0),
            active_expire: true.into(),
            busy: Default::default(),
            startup_memory: AtomicU64::new(crate::alloc::allocated().unwrap_or(0) as u64),
            persist: Default::default(),
            repl: Default::default(),
            aof: Default::default(),
            handoff: Default::default(),
        })
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().clone()
    }

    /// The shared state as an Arc (None only while the node is being dropped).
    pub fn self_arc(&self) -> Option<Arc<Shared>> {
        self.me.upgrade()
    }

    pub fn settings_generation(&self) -> u64 {
        self.settings_gen.load(Relaxed)
    }

    pub fn config(&self) -> parking_lot::RwLockReadGuard<'_, Config> {
        self.config.read()
    }

    /// Applies a change to the configuration and refreshes the typed snapshot.
    pub fn update_config<T>(&self, f: impl FnOnce(&mut Config) -> T) -> T {
        let mut c = self.config.write();
        let r = f(&mut c);
        *self.settings.write() = Arc::new(c.settings());
        self.settings_gen.fetch_add(1, Relaxed);
        r
    }
}
