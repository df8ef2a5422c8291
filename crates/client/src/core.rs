//! The shared state behind every clone of a client: the current data connection, the
//! connector task that replaces it (stagger, backoff, make-before-break refresh), the
//! forced rebuild after persistent errors, and the dispatch of maintenance events.

use crate::backoff::{uniform, Backoff};
use crate::conn::Conn;
use crate::events::{self, Event, EventSource};
use crate::maint::Maintenance;
use crate::options::Options;
use crate::retry::{client_error, FailureKind, RetryClass};
use crate::stats::{Counters, DelayPurpose, DelayRecord};
use parking_lot::Mutex;
use redis::{RedisConnectionInfo, RedisError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;

/// State of the streak of errors that may force a rebuild.
#[derive(Default)]
struct ForceState {
    /// When the current run of errors (without a success) began.
    streak_start: Option<Instant>,
    last_force: Option<Instant>,
}

pub(crate) struct Core {
    pub opts: Options,
    pub host: String,
    pub port: u16,
    pub info: RedisConnectionInfo,
    pub stats: Counters,
    pub maint: Maintenance,
    pub events: broadcast::Sender<Event>,
    pub cancel: CancellationToken,
    current: Mutex<Option<Arc<Conn>>>,
    /// Bumped whenever `current` changes, so waiters wake.
    generation: watch::Sender<u64>,
    /// Wakes the connector: a connection died, was retired, or a refresh was asked.
    pub wake: Arc<Notify>,
    refresh_wanted: AtomicBool,
    /// A forced rebuild starts the backoff over.
    reset_backoff: AtomicBool,
    /// Wakes the subscriber to rebuild its connection (forced rebuild).
    pub resubscribe: Notify,
    pub subscribed: AtomicBool,
    last_connect_error: Mutex<Option<RedisError>>,
    next_id: AtomicU64,
    force: Mutex<ForceState>,
    rng: Mutex<fastrand::Rng>,
}

impl Core {
    pub(crate) fn new(
        opts: Options,
        host: String,
        port: u16,
        info: RedisConnectionInfo,
    ) -> Arc<Core> {
        let events = broadcast::channel(opts.event_capacity.max(1)).0;
        Arc::new(Core {
            opts,
            host,
            port,
            info,
            stats: Counters::default(),
            maint: Maintenance::new(),
            events,
            cancel: CancellationToken::new(),
            current: Mutex::new(None),
            generation: watch::channel(0).0,
            wake: Arc::new(Notify::new()),
            refresh_wanted: AtomicBool::new(false),
            reset_backoff: AtomicBool::new(false),
            resubscribe: Notify::new(),
            subscribed: AtomicBool::new(false),
            last_connect_error: Mutex::new(None),
            next_id: AtomicU64::new(1),
            force: Mutex::new(ForceState::default()),
            rng: Mutex::new(fastrand::Rng::new()),
        })
    }

    pub(crate) fn backoff(&self) -> Backoff {
        self.opts.backoff()
    }

    /// A delay from the client's generator, recorded for the stats.
    pub(crate) fn draw_delay(&self, purpose: DelayPurpose, attempt: u32) -> Duration {
        let ceiling = match purpose {
            DelayPurpose::Stagger => self.opts.reconnect_stagger,
            _ => self.backoff().ceiling(attempt),
        };
        let delay = uniform(ceiling, &mut self.rng.lock());
        self.stats.delay(DelayRecord {
            purpose,
            attempt,
            ceiling,
            delay,
        });
        delay
    }

    pub(crate) fn emit(&self, ev: Event) {
        // No receiver is not an error: nobody listens.
        let _ = self.events.send(ev);
    }

    /// The current connection, if usable.
    pub(crate) fn live_now(&self) -> Option<Arc<Conn>> {
        self.current
            .lock()
            .as_ref()
            .filter(|c| c.is_live())
            .cloned()
    }

    pub(crate) fn current(&self) -> Option<Arc<Conn>> {
        self.current.lock().clone()
    }

    /// A usable connection, waiting for the connector until `deadline`. On failure the
    /// error says nothing was sent ([`RetryClass::ConnectAndRetry`]).
    pub(crate) async fn live(&self, deadline: Instant) -> Result<Arc<Conn>, RedisError> {
        let mut rx = self.generation.subscribe();
        loop {
            if let Some(c) = self.live_now() {
                return Ok(c);
            }
            self.wake.notify_one();
            tokio::select! {
                r = rx.changed() => if r.is_err() { break },
                _ = tokio::time::sleep_until(deadline.into()) => break,
                _ = self.cancel.cancelled() => break,
            }
        }
        let last = self.last_connect_error.lock().clone();
        let why = match last {
            Some(e) => format!(
                "no connection to {}:{} (last attempt: {e})",
                self.host, self.port
            ),
            None => format!("no connection to {}:{} yet", self.host, self.port),
        };
        Err(client_error(
            FailureKind::Connect,
            RetryClass::ConnectAndRetry,
            why,
        ))
    }

    /// Closes `conn` at once (it is dead) and has the connector replace it.
    pub(crate) fn declare_dead(&self, conn: &Conn, reason: &str) {
        if conn.kill() {
            Counters::inc(&self.stats.dead_detected);
            tracing::warn!(id = conn.id, reason, "connection declared dead");
            if conn.take_announcement() {
                self.emit(Event::Disconnected {
                    id: conn.id,
                    reason: reason.to_string(),
                });
            }
        }
        self.wake.notify_one();
    }

    /// Stops new commands on `conn` (READONLY & co.: it may be talking to a demoted
    /// primary); the connector takes a fresh one, in-flight commands may finish.
    pub(crate) fn retire(&self, conn: &Conn, reason: &str) {
        if conn.retire(self.grace()) {
            Counters::inc(&self.stats.refreshes);
            tracing::info!(id = conn.id, reason, "connection retired");
            if conn.take_announcement() {
                self.emit(Event::Disconnected {
                    id: conn.id,
                    reason: reason.to_string(),
                });
            }
        }
    }

    /// Asks for a fresh connection while the current one keeps serving.
    pub(crate) fn request_refresh(&self) {
        self.refresh_wanted.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// How long a replaced connection may finish its in-flight commands.
    fn grace(&self) -> Duration {
        self.maint.command_timeout(&self.opts) + Duration::from_secs(1)
    }

    /// A command succeeded: the error streak ends.
    pub(crate) fn note_success(&self) {
        let mut f = self.force.lock();
        f.streak_start = None;
    }

    /// An error was met: if errors have persisted past the threshold, rebuild.
    pub(crate) fn note_error(&self) {
        let now = Instant::now();
        let due = {
            let mut f = self.force.lock();
            let start = *f.streak_start.get_or_insert(now);
            now.duration_since(start) >= self.opts.force_reconnect_after
                && Self::force_allowed(&f, now, self.opts.force_reconnect_min_interval)
        };
        if due {
            self.force_reconnect();
        }
    }

    fn force_allowed(f: &ForceState, now: Instant, min: Duration) -> bool {
        f.last_force.is_none_or(|t| now.duration_since(t) >= min)
    }

    /// Rebuilds from scratch: closes the data connection and the subscriber's, resets
    /// the backoff, reconnects. At most once per minimum interval; true if it did.
    pub(crate) fn force_reconnect(&self) -> bool {
        let now = Instant::now();
        {
            let mut f = self.force.lock();
            if !Self::force_allowed(&f, now, self.opts.force_reconnect_min_interval) {
                return false;
            }
            f.last_force = Some(now);
            f.streak_start = None;
        }
        Counters::inc(&self.stats.force_reconnects);
        tracing::warn!("forcing a rebuild of the connections");
        self.emit(Event::ForceReconnect);
        self.reset_backoff.store(true, Ordering::Release);
        if let Some(c) = self.current() {
            self.declare_dead(&c, "forced reconnect");
        }
        self.resubscribe.notify_one();
        true
    }

    /// Handles one payload from the events channel.
    pub(crate) fn on_channel_message(&self, payload: &[u8]) {
        let ev = match events::parse_message(payload) {
            Ok(m) => Event::Maintenance(m),
            Err(error) => Event::Malformed {
                source: EventSource::Channel,
                raw: String::from_utf8_lossy(payload).into_owned(),
                error,
            },
        };
        self.on_event(ev);
    }

    /// Handles a RESP3 push frame of the data connection.
    pub(crate) fn on_push(&self, push: redis::PushInfo) {
        match &push.kind {
            redis::PushKind::Other(kind) => {
                let known = events::PUSH_KINDS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(kind));
                if !known {
                    return;
                }
                let ev = match events::parse_push(kind, &push.data) {
                    Ok(p) => Event::Push(p),
                    Err(error) => Event::Malformed {
                        source: EventSource::Push,
                        raw: format!("{kind} {:?}", push.data),
                        error,
                    },
                };
                self.on_event(ev);
            }
            // The connection's own driver tells us it is gone.
            redis::PushKind::Disconnection => self.wake.notify_one(),
            _ => {}
        }
    }

    /// Applies a maintenance event, then publishes it (state first, so whoever sees
    /// the event also sees its effect).
    pub(crate) fn on_event(&self, ev: Event) {
        Counters::inc(&self.stats.events);
        if matches!(ev, Event::Malformed { .. }) {
            Counters::inc(&self.stats.events_malformed);
            tracing::warn!(?ev, "malformed maintenance event");
        } else {
            tracing::info!(?ev, "maintenance event");
        }
        let r = self.maint.on_event(&ev, &self.opts);
        if r.breaker_opened {
            Counters::inc(&self.stats.breaker_opened);
        }
        self.emit(ev);
        if r.breaker_opened {
            self.emit(Event::BreakerOpened);
        }
        if r.breaker_closed {
            self.emit(Event::BreakerClosed { timed_out: false });
        }
        if r.refresh {
            self.request_refresh();
        }
    }

    /// The breaker reached its bound.
    pub(crate) fn breaker_timed_out(&self) {
        Counters::inc(&self.stats.breaker_timeouts);
        self.emit(Event::BreakerClosed { timed_out: true });
    }

    /// Installs a new connection; the old one drains, then closes.
    fn install(&self, conn: Conn) {
        let id = conn.id;
        // Counted before it is published, so whoever uses it sees it counted.
        Counters::inc(&self.stats.connects);
        let old = self.current.lock().replace(Arc::new(conn));
        if let Some(old) = old {
            if old.retire(self.grace()) {
                tracing::debug!(id = old.id, "previous connection draining");
            }
        }
        self.generation.send_modify(|g| *g += 1);
        self.emit(Event::Connected { id });
    }

    /// One connection attempt, bounded by the connect timeout.
    async fn connect_once(self: &Arc<Self>) -> Result<Conn, RedisError> {
        Counters::inc(&self.stats.connect_attempts);
        self.stats.connect_attempt();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let push: Option<Arc<dyn redis::aio::AsyncPushSender>> = if self.opts.maint_notifications {
            let weak: Weak<Core> = Arc::downgrade(self);
            Some(Arc::new(move |p: redis::PushInfo| {
                if let Some(core) = weak.upgrade() {
                    core.on_push(p);
                }
                Ok::<(), std::convert::Infallible>(())
            }))
        } else {
            None
        };
        let attempt = Conn::open(
            id,
            &self.host,
            self.port,
            &self.info,
            &self.opts,
            self.wake.clone(),
            push,
        );
        match tokio::time::timeout(self.opts.connect_timeout, attempt).await {
            Ok(Ok((conn, refused))) => {
                if let Some(e) = refused {
                    Counters::inc(&self.stats.maint_opt_in_refused);
                    tracing::info!(error = %e, "server refused CLIENT MAINT_NOTIFICATIONS ON");
                }
                Ok(conn)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(client_error(
                FailureKind::Connect,
                RetryClass::ConnectAndRetry,
                format!(
                    "connect to {}:{} timed out after {:?}",
                    self.host, self.port, self.opts.connect_timeout
                ),
            )),
        }
    }

    /// The connector: keeps a live connection in `current` while the client exists.
    /// The very first attempt starts at once; the first after a loss waits a random
    /// stagger; each failed attempt is followed by a jittered exponential backoff.
    pub(crate) async fn run_connector(self: Arc<Self>) {
        let mut failures: u32 = 0;
        let mut ever_connected = false;
        loop {
            if self.reset_backoff.swap(false, Ordering::AcqRel) {
                failures = 0;
            }
            let refresh = self.refresh_wanted.load(Ordering::Acquire);
            let need = self.live_now().is_none();
            if let Some(c) = self
                .current()
                .filter(|c| c.is_dead() && c.take_announcement())
            {
                // Found closed by the server or the network (not declared by us).
                self.emit(Event::Disconnected {
                    id: c.id,
                    reason: "connection closed".into(),
                });
            }
            if !need && !refresh {
                tokio::select! {
                    _ = self.wake.notified() => continue,
                    _ = self.cancel.cancelled() => return,
                }
            }
            let delay = if failures > 0 {
                self.draw_delay(DelayPurpose::Reconnect, failures - 1)
            } else if ever_connected {
                self.draw_delay(DelayPurpose::Stagger, 0)
            } else {
                Duration::ZERO
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return,
            }
            if refresh {
                self.refresh_wanted.store(false, Ordering::Release);
            }
            let result = tokio::select! {
                r = self.connect_once() => r,
                _ = self.cancel.cancelled() => return,
            };
            match result {
                Ok(conn) => {
                    tracing::debug!(id = conn.id, "connected to {}:{}", self.host, self.port);
                    self.install(conn);
                    *self.last_connect_error.lock() = None;
                    failures = 0;
                    ever_connected = true;
                }
                Err(e) => {
                    Counters::inc(&self.stats.connect_failures);
                    tracing::debug!(error = %e, "connect to {}:{} failed", self.host, self.port);
                    *self.last_connect_error.lock() = Some(e);
                    failures = failures.saturating_add(1);
                    if refresh && self.live_now().is_some() {
                        // The old connection still serves: try the refresh again later.
                        self.refresh_wanted.store(true, Ordering::Release);
                    }
                    self.generation.send_modify(|g| *g += 1);
                }
            }
        }
    }

    /// Closes everything (the last client handle is gone).
    pub(crate) fn shutdown(&self) {
        self.cancel.cancel();
        if let Some(c) = self.current.lock().take() {
            c.kill();
        }
    }
}
