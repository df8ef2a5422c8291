//! The public handle: a cheap, cloneable [`Client`] that implements the `redis`
//! crate's `aio::ConnectionLike`, so `redis::cmd(..).query_async(&mut client)` and
//! `AsyncCommands` work on it unchanged, plus the events, counters and controls a
//! drill needs.

use crate::core::Core;
use crate::events::Event;
use crate::exec::{Reply, Request};
use crate::options::Options;
use crate::retry::{client_error, FailureKind, RetryClass};
use crate::stats::Stats;
use futures_util::Stream;
use redis::{ConnectionAddr, IntoConnectionInfo, RedisError, RedisFuture, RedisResult, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// A resilient connection to one Redis-compatible endpoint (the ferrocache endpoint, a
/// node port, any Redis server). Clones share one multiplexed data connection, one
/// events subscriber and one set of counters; the background tasks stop and every
/// socket closes when the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
    db: i64,
}

/// Owned by the clones; its drop ends the background tasks (which hold the core).
struct Handle {
    core: Arc<Core>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

impl Client {
    /// Creates the client and starts connecting in the background (the application
    /// starts even if the server is down, and the first commands wait for the
    /// connection up to `retry_timeout`). Must be called inside a tokio runtime.
    ///
    /// `target` is anything the `redis` crate accepts: `"redis://host:port/db"` (with
    /// user, password and `?protocol=resp3`), a `ConnectionInfo` … TCP only; TLS and
    /// Unix sockets are refused.
    pub fn new(target: impl IntoConnectionInfo, opts: Options) -> RedisResult<Client> {
        let info = target.into_connection_info()?;
        let (host, port) = match info.addr() {
            ConnectionAddr::Tcp(host, port) => (host.clone(), *port),
            other => {
                return Err(RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "ferrocache-client supports plain TCP only",
                    other.to_string(),
                )))
            }
        };
        let mut redis_info = info.redis_settings().clone();
        if opts.maint_notifications {
            // Push frames exist only in RESP3.
            redis_info = redis_info.set_protocol(redis::ProtocolVersion::RESP3);
        }
        let db = redis_info.db();
        let core = Core::new(opts, host, port, redis_info);
        tokio::spawn(core.clone().run_connector());
        tokio::spawn(crate::keepalive::run(core.clone()));
        if core.opts.subscribe_events {
            tokio::spawn(crate::subscriber::run(core.clone()));
        }
        Ok(Client {
            handle: Arc::new(Handle { core }),
            db,
        })
    }

    /// Like [`Client::new`], then waits for the first connection (at most the connect
    /// timeout, plus a little for the attempt to finish); its error if it fails.
    pub async fn connect(target: impl IntoConnectionInfo, opts: Options) -> RedisResult<Client> {
        let client = Client::new(target, opts)?;
        let bound = client.core().opts.connect_timeout + Duration::from_millis(100);
        let deadline = std::time::Instant::now() + bound;
        client.core().live(deadline).await?;
        Ok(client)
    }

    fn core(&self) -> &Arc<Core> {
        &self.handle.core
    }

    /// The options the client runs with.
    pub fn options(&self) -> &Options {
        &self.core().opts
    }

    /// A receiver of every event from now on (maintenance messages and pushes, parse
    /// failures, connection changes, breaker changes), in order. A receiver that falls
    /// more than `event_capacity` behind gets `RecvError::Lagged`.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.core().events.subscribe()
    }

    /// [`Client::events`] as a `Stream`; lagging is skipped over (counted nowhere).
    pub fn event_stream(&self) -> impl Stream<Item = Event> + Send + 'static {
        futures_util::stream::unfold(self.events(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => return Some((ev, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.core().stats.snapshot()
    }

    /// Rebuilds every connection from scratch now, unless one was forced within
    /// `force_reconnect_min_interval`; true if it did.
    pub fn force_reconnect(&self) -> bool {
        self.core().force_reconnect()
    }

    /// Whether a data connection is up and usable right now.
    pub fn is_connected(&self) -> bool {
        self.core().live_now().is_some()
    }

    /// The id of the current data connection (each connect gets a new one).
    pub fn connection_id(&self) -> Option<u64> {
        self.core().live_now().map(|c| c.id)
    }

    /// Whether the events subscriber is listening right now.
    pub fn is_subscribed(&self) -> bool {
        self.core().subscribed.load(Ordering::Acquire)
    }

    /// Whether the circuit breaker is open (writes held or failed fast).
    pub fn breaker_open(&self) -> bool {
        self.core().maint.breaker_open()
    }

    /// The command timeout in force now (relaxed during announced maintenance).
    pub fn command_timeout(&self) -> Duration {
        self.core().maint.command_timeout(&self.core().opts)
    }
}

impl redis::aio::ConnectionLike for Client {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        let core = self.core().clone();
        Box::pin(async move {
            match core.execute(Request::Single(cmd)).await? {
                Reply::Single(v) => Ok(v),
                Reply::Pipeline(_) => Err(mismatch()),
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let core = self.core().clone();
        Box::pin(async move {
            let req = Request::Pipeline {
                pipeline,
                offset,
                count,
            };
            match core.execute(req).await? {
                Reply::Pipeline(v) => Ok(v),
                Reply::Single(_) => Err(mismatch()),
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.db
    }
}

fn mismatch() -> RedisError {
    client_error(
        FailureKind::Other,
        RetryClass::NoRetry,
        "reply shape mismatch",
    )
}
