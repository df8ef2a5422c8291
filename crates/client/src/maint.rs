//! What announced maintenance changes in the client: the circuit breaker that holds
//! (or fails) writes from `NodeMaintenanceStart` until the failover completes, the
//! relaxed command timeout while maintenance is under way, and which events ask for a
//! fresh connection.

use crate::events::{Event, NotificationType, PushNotification};
use crate::options::{BreakerMode, Options};
use crate::retry::{client_error, FailureKind, RetryClass};
use crate::stats::Counters;
use parking_lot::Mutex;
use redis::RedisError;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What an event asks the client to do beyond updating the maintenance state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reaction {
    /// Take a fresh connection (make-before-break).
    pub refresh: bool,
    pub breaker_opened: bool,
    pub breaker_closed: bool,
}

#[derive(Debug, Default)]
struct State {
    /// When the breaker opened (None: closed).
    open_since: Option<Instant>,
    /// Until when the relaxed command timeout applies.
    relaxed_until: Option<Instant>,
}

pub(crate) struct Maintenance {
    state: Mutex<State>,
    /// True while the breaker is open; held writes wait for it to turn false.
    open_tx: watch::Sender<bool>,
}

impl Maintenance {
    pub(crate) fn new() -> Maintenance {
        Maintenance {
            state: Mutex::new(State::default()),
            open_tx: watch::channel(false).0,
        }
    }

    /// Updates the state for one event.
    pub(crate) fn on_event(&self, ev: &Event, opts: &Options) -> Reaction {
        let (open, close, relax, unrelax, refresh) = match ev {
            Event::Maintenance(m) => match m.kind {
                NotificationType::NodeMaintenanceStarting => (false, false, true, false, false),
                // A replica's maintenance costs no failover, and no FailoverComplete
                // would ever close the breaker: only a primary's opens it.
                NotificationType::NodeMaintenanceStart => {
                    (m.is_replica != Some(true), false, true, false, false)
                }
                NotificationType::NodeMaintenanceFailoverComplete => {
                    (false, true, false, false, true)
                }
                NotificationType::NodeMaintenanceEnded => (false, true, false, true, true),
                _ => (false, false, false, false, false),
            },
            Event::Push(PushNotification::FailingOver { .. }) => (true, false, true, false, false),
            Event::Push(PushNotification::FailedOver { .. }) => (false, true, false, true, true),
            Event::Push(PushNotification::Moving { .. }) => (false, false, true, false, true),
            _ => (false, false, false, false, false),
        };
        let now = Instant::now();
        let mut r = Reaction {
            refresh: refresh && opts.refresh_on_events,
            ..Reaction::default()
        };
        let mut st = self.state.lock();
        if relax {
            st.relaxed_until = Some(now + opts.relaxed_timeout_max);
        }
        if unrelax {
            st.relaxed_until = None;
        }
        if open && opts.breaker != BreakerMode::Off && st.open_since.is_none() {
            st.open_since = Some(now);
            self.open_tx.send_replace(true);
            r.breaker_opened = true;
        }
        if close && st.open_since.take().is_some() {
            self.open_tx.send_replace(false);
            r.breaker_closed = true;
        }
        r
    }

    /// The command timeout in force now.
    pub(crate) fn command_timeout(&self, opts: &Options) -> Duration {
        let st = self.state.lock();
        match (st.relaxed_until, opts.relaxed_command_timeout) {
            (Some(until), Some(relaxed)) if Instant::now() < until => {
                relaxed.max(opts.command_timeout)
            }
            _ => opts.command_timeout,
        }
    }

    pub(crate) fn breaker_open(&self) -> bool {
        self.state.lock().open_since.is_some()
    }

    /// Closes the breaker if it has reached its bound; true if it did now.
    fn expire(&self, opts: &Options) -> bool {
        let mut st = self.state.lock();
        match st.open_since {
            Some(t) if t.elapsed() >= opts.breaker_max_hold => {
                st.open_since = None;
                self.open_tx.send_replace(false);
                true
            }
            _ => false,
        }
    }

    /// Lets a write through, holds it while the breaker is open (at most until its
    /// bound), or fails it fast. `on_timeout` runs if this call closed the breaker by
    /// its bound.
    pub(crate) async fn admit_write(
        &self,
        opts: &Options,
        stats: &Counters,
        on_timeout: impl Fn(),
    ) -> Result<(), RedisError> {
        let open_since = self.state.lock().open_since;
        let Some(since) = open_since else {
            return Ok(());
        };
        if self.expire(opts) {
            on_timeout();
            return Ok(());
        }
        if opts.breaker == BreakerMode::FailFast {
            return Err(client_error(
                FailureKind::BreakerOpen,
                RetryClass::NoRetry,
                "maintenance in progress: the circuit breaker fails writes fast (not sent)",
            ));
        }
        Counters::inc(&stats.writes_held);
        Counters::inc(&stats.writes_holding);
        let mut rx = self.open_tx.subscribe();
        let deadline = since + opts.breaker_max_hold;
        // Made a bool at once: a held `watch::Ref` would block the sender.
        let released = tokio::time::timeout_at(deadline.into(), rx.wait_for(|open| !*open))
            .await
            .is_ok();
        stats
            .writes_holding
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if !released && self.expire(opts) {
            on_timeout();
        }
        Ok(())
    }
}
