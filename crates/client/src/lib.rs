//! `ferrocache-client`: a resilient client over the `redis` crate. Applications keep
//! writing `redis::cmd(..)` and `AsyncCommands`; the [`Client`] they write them
//! against survives failovers, restarts, frozen servers and maintenance:
//!
//! - connect timeout and command timeout (5 s each by default);
//! - reconnects with a random stagger, then jittered exponential backoff, and always
//!   closes the connection it replaces;
//! - retries by [`RetryClass`]: reads (the command table's `READONLY` commands) after
//!   any transient error, writes only when they provably never ran;
//! - dead connections found without the OS: TCP keepalive, `TCP_USER_TIMEOUT`, an idle
//!   PING, and "a command timed out while nothing was read for N command timeouts";
//! - a forced rebuild when errors persist, at most once per minimum interval;
//! - maintenance events (`AzureRedisEvents` and RESP3 pushes) parsed into [`Event`]s,
//!   an optional circuit breaker for writes, relaxed timeouts and a fresh connection
//!   when a failover completes;
//! - [`Stats`]: errors by kind, retries, reconnects, the delays it chose.
//!
//! ```no_run
//! use redis::AsyncCommands;
//! # async fn demo() -> redis::RedisResult<()> {
//! let mut client = ferrocache_client::Client::connect(
//!     "redis://127.0.0.1:6379",
//!     ferrocache_client::Options::default(),
//! )
//! .await?;
//! let _: () = client.set("greeting", "hello").await?;
//! let v: String = redis::cmd("GET").arg("greeting").query_async(&mut client).await?;
//! assert_eq!(v, "hello");
//! # Ok(()) }
//! ```
//!
//! See `docs/client.md` for every option and its default.

mod backoff;
mod client;
mod conn;
mod core;
pub mod events;
mod exec;
mod keepalive;
mod maint;
mod options;
mod retry;
mod stats;
mod subscriber;

pub use backoff::{uniform, Backoff};
pub use client::Client;
pub use events::{
    parse_message, parse_push, Event, EventSource, MaintenanceEvent, NotificationType, ParseError,
    PushNotification, UtcTime, EVENTS_CHANNEL,
};
pub use options::{BreakerMode, Options};
pub use retry::{
    classify, classify_code, cmd_is_idempotent, failure_kind, is_idempotent,
    pipeline_is_idempotent, retry_class, FailureKind, RetryClass,
};
pub use stats::{DelayPurpose, DelayRecord, Stats, HISTORY};
