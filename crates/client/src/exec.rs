//! Running one call (a command or a pipeline) with the retry rules: wait for a
//! connection, pass the circuit breaker if it writes, send with the command timeout,
//! classify any error, act on the connection (dead, retired), and retry only what may
//! be retried, with jittered exponential backoff, within the call's budget.

use crate::conn::Conn;
use crate::core::Core;
use crate::retry::{classify, classify_reply, client_error, FailureKind, RetryClass};
use crate::stats::{Counters, DelayPurpose};
use redis::{RedisError, RedisResult, Value};
use std::sync::Arc;
use std::time::Instant;

/// What to send.
pub(crate) enum Request<'a> {
    Single(&'a redis::Cmd),
    Pipeline {
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    },
}

/// What came back.
pub(crate) enum Reply {
    Single(Value),
    Pipeline(Vec<Value>),
}

impl Request<'_> {
    fn idempotent(&self) -> bool {
        match self {
            Request::Single(c) => crate::retry::cmd_is_idempotent(c),
            Request::Pipeline { pipeline, .. } => crate::retry::pipeline_is_idempotent(pipeline),
        }
    }

    async fn send(&self, conn: &Conn) -> RedisResult<Reply> {
        let mut mc = conn.mc.clone();
        match self {
            Request::Single(c) => mc.send_packed_command(c).await.map(Reply::Single),
            Request::Pipeline {
                pipeline,
                offset,
                count,
            } => mc
                .send_packed_commands(pipeline, *offset, *count)
                .await
                .map(Reply::Pipeline),
        }
    }
}

/// How one attempt ended, when it did not succeed.
struct Failure {
    err: RedisError,
    class: RetryClass,
    kind: FailureKind,
}

impl Core {
    /// Runs `req` with retries. Server error replies of single commands come back as
    /// `Ok(Value::ServerError)` when they are final, as the `redis` crate expects.
    pub(crate) async fn execute(self: &Arc<Self>, req: Request<'_>) -> RedisResult<Reply> {
        Counters::inc(&self.stats.commands);
        self.run(req, false).await
    }

    /// `execute` for the client's own commands (idle PING): not counted as calls, and
    /// their final errors are not "surfaced" to anyone.
    pub(crate) async fn execute_internal(self: &Arc<Self>, req: Request<'_>) -> RedisResult<Reply> {
        self.run(req, true).await
    }

    async fn run(self: &Arc<Self>, req: Request<'_>, internal: bool) -> RedisResult<Reply> {
        let idempotent = req.idempotent();
        let deadline = Instant::now() + self.opts.retry_timeout;
        let mut retries: u32 = 0;
        loop {
            let f = match self.attempt(&req, idempotent, deadline).await {
                Ok(reply) => {
                    // The server answered: the connection works, whatever the answer.
                    self.note_success();
                    if let Reply::Single(Value::ServerError(_)) = &reply {
                        // A final error reply (WRONGTYPE …): the application's error.
                        self.stats.error(FailureKind::Server);
                        if !internal {
                            self.stats.surfaced(FailureKind::Server);
                        }
                    }
                    return Ok(reply);
                }
                Err(f) => f,
            };
            self.stats.error(f.kind);
            self.note_error();
            let may = f.class.may_retry(idempotent) && retries < self.opts.max_retries;
            // A connect failure already waited for the connector's own backoff.
            let delay = match f.class {
                RetryClass::ConnectAndRetry => std::time::Duration::ZERO,
                _ if may => self.draw_delay(DelayPurpose::Retry, retries),
                _ => std::time::Duration::ZERO,
            };
            if !may || Instant::now() + delay >= deadline {
                if !internal {
                    self.stats.surfaced(f.kind);
                }
                return Err(self.explain(f, idempotent));
            }
            retries += 1;
            Counters::inc(&self.stats.retries);
            tracing::debug!(error = %f.err, ?f.class, retries, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt: connection, breaker, send, and what the error means.
    async fn attempt(
        self: &Arc<Self>,
        req: &Request<'_>,
        idempotent: bool,
        deadline: Instant,
    ) -> Result<Reply, Failure> {
        if !idempotent {
            let core = self.clone();
            self.maint
                .admit_write(&self.opts, &self.stats, move || core.breaker_timed_out())
                .await
                .map_err(failure)?;
        }
        let conn = self.live(deadline).await.map_err(failure)?;
        let timeout = self.maint.command_timeout(&self.opts);
        let sent_at = Instant::now();
        let result = {
            let _in_flight = InFlight::new(&self.stats);
            tokio::time::timeout(timeout, req.send(&conn)).await
        };
        match result {
            Ok(Ok(Reply::Single(v))) => match classify_reply(&v) {
                // A refusal that a retry may cure; final errors go back as values.
                Some((class, kind)) if class != RetryClass::NoRetry => {
                    if class == RetryClass::RefreshAndRetry {
                        self.retire(&conn, kind.name());
                    }
                    let err = match v {
                        Value::ServerError(e) => e.into(),
                        _ => unreachable_error(),
                    };
                    Err(Failure { err, class, kind })
                }
                _ => Ok(Reply::Single(v)),
            },
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(err)) => {
                let (class, kind) = classify(&err);
                match class {
                    RetryClass::Reconnect => self.declare_dead(&conn, kind.name()),
                    RetryClass::RefreshAndRetry => self.retire(&conn, kind.name()),
                    _ => {}
                }
                Err(Failure { err, class, kind })
            }
            Err(_) => {
                // StackExchange.Redis's rule: a command timed out and the socket has
                // delivered nothing for N command timeouts: the peer is gone (frozen,
                // partitioned), whatever the kernel still believes.
                let quiet = conn.io.quiet_since_on_timeout(sent_at);
                let limit = timeout * self.opts.dead_after_silent_timeouts.max(1);
                if quiet.elapsed() >= limit {
                    self.declare_dead(
                        &conn,
                        "no reply and nothing read for the dead-connection limit",
                    );
                }
                Err(Failure {
                    err: client_error(
                        FailureKind::Timeout,
                        RetryClass::Reconnect,
                        format!("no reply within {timeout:?}"),
                    ),
                    class: RetryClass::Reconnect,
                    kind: FailureKind::Timeout,
                })
            }
        }
    }

    /// The error handed to the caller: for a write whose fate is unknown, says so.
    fn explain(&self, f: Failure, idempotent: bool) -> RedisError {
        if f.class == RetryClass::Reconnect && !idempotent {
            return client_error(
                f.kind,
                RetryClass::Reconnect,
                format!("{} (a write: outcome unknown, not retried)", f.err),
            );
        }
        f.err
    }
}

/// Counts a command as in flight while it lives.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn new(c: &'a Counters) -> Self {
        Counters::inc(&c.in_flight);
        InFlight(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn failure(err: RedisError) -> Failure {
    let (class, kind) = classify(&err);
    Failure { err, class, kind }
}

fn unreachable_error() -> RedisError {
    client_error(FailureKind::Other, RetryClass::NoRetry, "unexpected reply")
}
