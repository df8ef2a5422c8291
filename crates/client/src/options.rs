//! Every knob of the client in one struct, with the defaults the documentation's table
//! explains (`docs/client.md`). All fields are public so a drill can set any of them.

use std::time::Duration;

/// What the circuit breaker does with writes while maintenance is announced
/// (from `NodeMaintenanceStart` or a `FAILING_OVER` push until the failover completes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreakerMode {
    /// No breaker: writes go out as usual (and may meet the failover).
    #[default]
    Off,
    /// Writes wait until the failover completes, at most [`Options::breaker_max_hold`].
    Hold,
    /// Writes fail at once with a `BreakerOpen` error that says nothing was sent.
    FailFast,
}

/// The client's options. `Options::default()` is what the documentation recommends.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound on one connection attempt: TCP connect, handshake and the first PING.
    pub connect_timeout: Duration,
    /// Bound on one command's reply, per attempt.
    pub command_timeout: Duration,
    /// Smallest backoff ceiling (the first retry's or reconnect's delay is drawn from
    /// `0..=backoff_min`).
    pub backoff_min: Duration,
    /// Largest backoff ceiling: delays never exceed it however many attempts failed.
    pub backoff_max: Duration,
    /// The first reconnect after a loss waits a random time in `0..=reconnect_stagger`,
    /// so that many clients that lost their connections together do not come back
    /// in the same instant.
    pub reconnect_stagger: Duration,
    /// How long one call may spend in total waiting for a connection and retrying.
    pub retry_timeout: Duration,
    /// How many times one call may be retried (0 disables retries).
    pub max_retries: u32,
    /// TCP keepalive: idle time before the first probe (`None` leaves keepalive off).
    pub tcp_keepalive: Option<Duration>,
    /// TCP keepalive: interval between probes.
    pub tcp_keepalive_interval: Duration,
    /// TCP keepalive: unanswered probes before the kernel drops the connection.
    pub tcp_keepalive_retries: u32,
    /// `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged before the kernel
    /// gives up on the connection (instead of Linux's ~15 minutes of retransmissions).
    pub tcp_user_timeout: Option<Duration>,
    /// Send a PING on a connection that has been idle this long (`None`: never).
    pub idle_ping_interval: Option<Duration>,
    /// A connection is declared dead when a command times out and nothing at all was
    /// read from it for this many command timeouts.
    pub dead_after_silent_timeouts: u32,
    /// Force a rebuild from scratch when errors have persisted (without one success)
    /// for this long.
    pub force_reconnect_after: Duration,
    /// At most one forced rebuild per this interval.
    pub force_reconnect_min_interval: Duration,
    /// Subscribe to the maintenance events channel on a connection of its own.
    pub subscribe_events: bool,
    /// The channel the maintenance events are published on.
    pub events_channel: String,
    /// Opt in to RESP3 maintenance push frames with `CLIENT MAINT_NOTIFICATIONS ON`
    /// (switches the data connection to RESP3; a server that refuses is logged).
    pub maint_notifications: bool,
    /// What to do with writes while a failover is announced.
    pub breaker: BreakerMode,
    /// The breaker closes by itself after this long even if the failover never
    /// completes.
    pub breaker_max_hold: Duration,
    /// Command timeout while maintenance is announced (`None`: keep `command_timeout`).
    pub relaxed_command_timeout: Option<Duration>,
    /// The relaxed timeout ends by itself after this long.
    pub relaxed_timeout_max: Duration,
    /// Reconnect (make-before-break) when a failover completes or maintenance ends,
    /// so the connection lands on the current primary.
    pub refresh_on_events: bool,
    /// Capacity of the events broadcast: a receiver that falls further behind loses
    /// the oldest events (and is told how many).
    pub event_capacity: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            reconnect_stagger: Duration::from_millis(250),
            retry_timeout: Duration::from_secs(10),
            max_retries: 10,
            tcp_keepalive: Some(Duration::from_secs(15)),
            tcp_keepalive_interval: Duration::from_secs(5),
            tcp_keepalive_retries: 3,
            tcp_user_timeout: Some(Duration::from_secs(15)),
            idle_ping_interval: Some(Duration::from_secs(60)),
            dead_after_silent_timeouts: 1,
            force_reconnect_after: Duration::from_secs(30),
            force_reconnect_min_interval: Duration::from_secs(60),
            subscribe_events: true,
            events_channel: crate::events::EVENTS_CHANNEL.to_string(),
            maint_notifications: false,
            breaker: BreakerMode::Off,
            breaker_max_hold: Duration::from_secs(10),
            relaxed_command_timeout: Some(Duration::from_secs(10)),
            relaxed_timeout_max: Duration::from_secs(60),
            refresh_on_events: true,
            event_capacity: 1024,
        }
    }
}

impl Options {
    /// The backoff policy these options describe.
    pub fn backoff(&self) -> crate::Backoff {
        crate::Backoff {
            min: self.backoff_min,
            max: self.backoff_max,
        }
    }
}
