//! Which errors may be retried, and which commands: every error gets a [`RetryClass`]
//! and a [`FailureKind`]; every request is a read (idempotent, safe to send twice) or a
//! write. The rule that protects data: a write is retried only when it provably never
//! ran — nothing was sent, or the server refused it with an error reply.

use redis::{RedisError, Value};
use std::fmt;
use std::io;

/// What the client does after an error, and what the caller may conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// No connection could be had (connect refused or timed out, none available in
    /// time): nothing was sent. The client keeps reconnecting with backoff; any command,
    /// read or write, may be retried.
    ConnectAndRetry,
    /// The connection was lost or a command timed out after it was sent: the client
    /// reconnects, and the command's outcome is unknown — reads are retried, writes are
    /// surfaced to the caller and never sent again.
    Reconnect,
    /// The server refused the command because roles or topology changed (`READONLY`,
    /// `LOADING`, `MASTERDOWN`, `TRYAGAIN`): it did not run. The client takes a fresh
    /// connection (which lands on the current primary) and retries, reads and writes.
    RefreshAndRetry,
    /// The server is briefly unable to serve (`BUSY`, `CLUSTERDOWN`): the command did
    /// not run; retried on the same connection after a backoff.
    WaitAndRetry,
    /// Permanent for this command (syntax, type, auth, out of memory, a breaker that
    /// fails fast …): never retried.
    NoRetry,
}

impl RetryClass {
    /// Whether the failed command certainly did not run on the server.
    pub fn not_executed(self) -> bool {
        matches!(
            self,
            RetryClass::ConnectAndRetry | RetryClass::RefreshAndRetry | RetryClass::WaitAndRetry
        )
    }

    /// Whether a command of this kind may be sent again after this error.
    pub fn may_retry(self, idempotent: bool) -> bool {
        match self {
            RetryClass::NoRetry => false,
            RetryClass::Reconnect => idempotent,
            _ => true,
        }
    }
}

/// What went wrong, for counters and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// No connection: connect failed or none became available in time.
    Connect,
    /// No reply within the command timeout.
    Timeout,
    /// The connection broke (reset, closed, declared dead) with the command in flight.
    ConnectionLost,
    ReadOnly,
    Loading,
    MasterDown,
    TryAgain,
    ClusterDown,
    Busy,
    /// The circuit breaker failed the write fast.
    BreakerOpen,
    /// The reply could not be parsed (the connection is then unusable).
    Protocol,
    /// Any other error reply (`WRONGTYPE`, `ERR …`, `OOM` …): the application's business.
    Server,
    /// Anything else (bad client configuration, conversion errors …).
    Other,
}

impl FailureKind {
    /// Every kind, in a stable order (the index of each counter).
    pub const ALL: [FailureKind; 13] = [
        FailureKind::Connect,
        FailureKind::Timeout,
        FailureKind::ConnectionLost,
        FailureKind::ReadOnly,
        FailureKind::Loading,
        FailureKind::MasterDown,
        FailureKind::TryAgain,
        FailureKind::ClusterDown,
        FailureKind::Busy,
        FailureKind::BreakerOpen,
        FailureKind::Protocol,
        FailureKind::Server,
        FailureKind::Other,
    ];

    /// A short snake_case name (for JSON reports).
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Connect => "connect",
            FailureKind::Timeout => "timeout",
            FailureKind::ConnectionLost => "connection_lost",
            FailureKind::ReadOnly => "readonly",
            FailureKind::Loading => "loading",
            FailureKind::MasterDown => "masterdown",
            FailureKind::TryAgain => "tryagain",
            FailureKind::ClusterDown => "clusterdown",
            FailureKind::Busy => "busy",
            FailureKind::BreakerOpen => "breaker_open",
            FailureKind::Protocol => "protocol",
            FailureKind::Server => "server",
            FailureKind::Other => "other",
        }
    }

    pub(crate) fn index(self) -> usize {
        FailureKind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(FailureKind::ALL.len() - 1)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error the client itself raises, carried inside the `RedisError` it returns
/// (as the source of an `io::Error`), so [`classify`] can recover its class.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ClientFailure {
    pub kind: FailureKind,
    pub class: RetryClass,
    pub message: String,
}

pub(crate) fn client_error(
    kind: FailureKind,
    class: RetryClass,
    message: impl Into<String>,
) -> RedisError {
    let io_kind = match kind {
        FailureKind::Connect => io::ErrorKind::NotConnected,
        FailureKind::Timeout => io::ErrorKind::TimedOut,
        FailureKind::ConnectionLost => io::ErrorKind::ConnectionAborted,
        _ => io::ErrorKind::Other,
    };
    RedisError::from(io::Error::new(
        io_kind,
        ClientFailure {
            kind,
            class,
            message: message.into(),
        },
    ))
}

fn own_failure(err: &RedisError) -> Option<&ClientFailure> {
    // The redis crate keeps the io::Error behind an `Arc<dyn Error>`, and that Arc is
    // what `source()` hands out.
    type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
    let src = std::error::Error::source(err)?;
    let io = match src.downcast_ref::<Shared>() {
        Some(shared) => shared.downcast_ref::<io::Error>()?,
        None => src.downcast_ref::<io::Error>()?,
    };
    io.get_ref()?.downcast_ref::<ClientFailure>()
}

/// The class and kind of an error reply code (`READONLY`, `LOADING` …).
pub fn classify_code(code: &str) -> (RetryClass, FailureKind) {
    match code {
        "READONLY" => (RetryClass::RefreshAndRetry, FailureKind::ReadOnly),
        "LOADING" => (RetryClass::RefreshAndRetry, FailureKind::Loading),
        "MASTERDOWN" => (RetryClass::RefreshAndRetry, FailureKind::MasterDown),
        "TRYAGAIN" => (RetryClass::RefreshAndRetry, FailureKind::TryAgain),
        "CLUSTERDOWN" => (RetryClass::WaitAndRetry, FailureKind::ClusterDown),
        "BUSY" => (RetryClass::WaitAndRetry, FailureKind::Busy),
        _ => (RetryClass::NoRetry, FailureKind::Server),
    }
}

/// The class and kind of any error this client returns (or the `redis` crate raised).
pub fn classify(err: &RedisError) -> (RetryClass, FailureKind) {
    if let Some(own) = own_failure(err) {
        return (own.class, own.kind);
    }
    if let Some(code) = err.code() {
        return classify_code(code);
    }
    match err.kind() {
        redis::ErrorKind::Io if err.is_timeout() => (RetryClass::Reconnect, FailureKind::Timeout),
        redis::ErrorKind::Io => (RetryClass::Reconnect, FailureKind::ConnectionLost),
        redis::ErrorKind::Parse => (RetryClass::Reconnect, FailureKind::Protocol),
        redis::ErrorKind::AuthenticationFailed => (RetryClass::NoRetry, FailureKind::Server),
        _ => (RetryClass::NoRetry, FailureKind::Other),
    }
}

/// The retry class of an error returned by the client: lets a caller tell "certainly
/// not executed" from "outcome unknown" (see [`RetryClass::not_executed`]).
pub fn retry_class(err: &RedisError) -> RetryClass {
    classify(err).0
}

/// The failure kind of an error returned by the client.
pub fn failure_kind(err: &RedisError) -> FailureKind {
    classify(err).1
}

/// The class and kind of a single command's reply that is an error value.
pub(crate) fn classify_reply(v: &Value) -> Option<(RetryClass, FailureKind)> {
    match v {
        Value::ServerError(e) => Some(classify_code(e.code())),
        _ => None,
    }
}

/// Whether a command (its first two arguments: name and maybe subcommand) is
/// idempotent: flagged `READONLY` in the command table, or `PING`/`ECHO`, which change
/// nothing. Unknown commands count as writes.
pub fn is_idempotent(name: &[u8], sub: Option<&[u8]>) -> bool {
    if name.eq_ignore_ascii_case(b"ping") || name.eq_ignore_ascii_case(b"echo") {
        return true;
    }
    let args: Vec<&[u8]> = std::iter::once(name).chain(sub).collect();
    match ferrocache_commands::lookup_request(&args) {
        Some(Ok(spec)) => spec.has(ferrocache_commands::READONLY),
        _ => false,
    }
}

/// Whether a `redis::Cmd` is idempotent (see [`is_idempotent`]).
pub fn cmd_is_idempotent(cmd: &redis::Cmd) -> bool {
    let mut args = cmd.args_iter().filter_map(|a| match a {
        redis::Arg::Simple(b) => Some(b),
        _ => None,
    });
    match args.next() {
        Some(name) => is_idempotent(name, args.next()),
        None => false,
    }
}

/// Whether every command of a pipeline is idempotent (a transaction's MULTI is not).
pub fn pipeline_is_idempotent(p: &redis::Pipeline) -> bool {
    !p.is_transaction() && p.cmd_iter().all(cmd_is_idempotent)
}
