//! Starts Debian's `redis-server` on a free 127.0.0.1 port, the reference for tests.

use crate::process::{log_file, poll_until, ChildGuard, DEFAULT_DEADLINE};
use crate::{free_port, RespConn, Server, TempDir};
use anyhow::{bail, Context};
use ferrocache_resp::Frame;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running `redis-server`, killed and reaped on drop.
#[derive(Debug)]
pub struct RedisServer {
    // Field order matters: the process stops before its directory is removed.
    proc: ChildGuard,
    addr: SocketAddr,
    _dir: TempDir,
}

impl RedisServer {
    /// Starts `redis-server` with no persistence in a fresh temporary directory.
    pub fn start() -> anyhow::Result<RedisServer> {
        Self::start_with(&[])
    }

    /// Starts `redis-server` with extra arguments, e.g. `&["--maxclients", "10"]`.
    pub fn start_with(extra_args: &[&str]) -> anyhow::Result<RedisServer> {
        let mut last_err = None;
        // The free port may be taken by someone else before redis binds it: retry.
        for _ in 0..5 {
            match Self::try_start(extra_args) {
                Ok(s) => return Ok(s),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// Starts `redis-server` on a chosen port, e.g. to restart a server on the port a
    /// stopped one used (clients reconnect to the same address). Retries (bounded)
    /// while the port is still held by the previous process.
    pub fn start_on(port: u16, extra_args: &[&str]) -> anyhow::Result<RedisServer> {
        let mut last_err = None;
        for _ in 0..5 {
            match Self::try_start_on(port, extra_args) {
                Ok(s) => return Ok(s),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    fn try_start(extra_args: &[&str]) -> anyhow::Result<RedisServer> {
        Self::try_start_on(free_port()?, extra_args)
    }

    fn try_start_on(port: u16, extra_args: &[&str]) -> anyhow::Result<RedisServer> {
        let dir = TempDir::new("redis")?;
        let log = dir.path().join("redis.log");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file(&log)?))
            .stderr(Stdio::from(log_file(&log)?))
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "redis-server is not on PATH: install Debian's redis-server \
                 (apt-get install redis-server redis-tools)"
            ),
            Err(e) => return Err(e).context("spawning redis-server"),
        };
        let mut proc = ChildGuard::new(child, &log);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut exited = None;
        let ready = poll_until(DEFAULT_DEADLINE, || {
            if let Ok(Some(status)) = proc.try_wait() {
                exited = Some(status);
                return true;
            }
            answers_ping(addr)
        });
        if let Some(status) = exited {
            bail!(
                "redis-server exited at start ({status}):\n{}",
                proc.log_tail(20)
            );
        }
        if !ready {
            bail!(
                "redis-server did not answer PING within {DEFAULT_DEADLINE:?}:\n{}",
                proc.log_tail(20)
            );
        }
        Ok(RedisServer {
            proc,
            addr,
            _dir: dir,
        })
    }
}

/// One PING attempt with short timeouts; true on `+PONG`, or on `-NOAUTH` when a
/// password is required (the server is up either way). `-LOADING` is not ready.
pub(crate) fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut c) = RespConn::connect_timeout(addr, Duration::from_millis(200)) else {
        return false;
    };
    match c.cmd(&["PING"]) {
        Ok(Frame::Simple(s)) => &s[..] == b"PONG",
        Ok(Frame::Error(e)) => e.starts_with(b"NOAUTH"),
        _ => false,
    }
}

impl Server for RedisServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn pid(&self) -> u32 {
        self.proc.pid()
    }
    fn name(&self) -> &str {
        "redis-server"
    }
    fn log_tail(&self) -> String {
        self.proc.log_tail(30)
    }
}
