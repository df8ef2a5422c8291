//! Helpers shared by the client's integration tests: fast options, signals to real
//! server processes, and waiting on conditions (never on sleeps).
#![allow(dead_code)]

use ferrocache_client::Options;
use ferrocache_testkit::{poll_until, Frame, RedisServer, Server};
use std::time::Duration;

/// Bound on every wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Options with short timers so the rules show within a test's time.
pub fn fast_opts() -> Options {
    Options {
        connect_timeout: Duration::from_secs(2),
        command_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(200),
        reconnect_stagger: Duration::from_millis(20),
        retry_timeout: Duration::from_secs(15),
        max_retries: 1000,
        subscribe_events: false,
        ..Options::default()
    }
}

pub fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

/// Sends `sig` to a server process (SIGSTOP, SIGCONT, SIGKILL).
pub fn signal(server: &impl Server, sig: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the testkit's
    // own unreaped child.
    let rc = unsafe { libc::kill(server.pid() as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({}, {sig})", server.pid());
}

/// Polls `cond` (a blocking check) off the async runtime until it holds or DEADLINE.
pub async fn wait(cond: impl FnMut() -> bool + Send + 'static) -> bool {
    tokio::task::spawn_blocking(move || poll_until(DEADLINE, cond))
        .await
        .expect("poll task")
}

/// One command on a fresh plain connection to the server; the reply as text.
pub fn ask(server: &RedisServer, args: &[&str]) -> String {
    let mut c = server.connect().expect("connect");
    match c.cmd(args).expect("reply") {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        Frame::Integer(i) => i.to_string(),
        Frame::Null => "(nil)".into(),
        other => ferrocache_testkit::show(&other),
    }
}

/// Whether some client connected to `server` is running command `cmd` (e.g. blocked).
pub fn has_client_running(port: u16, cmd: &str) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut c) = ferrocache_testkit::RespConn::connect(addr) else {
        return false;
    };
    match c.cmd(&["CLIENT", "LIST"]) {
        Ok(Frame::Bulk(b)) => String::from_utf8_lossy(&b)
            .lines()
            .any(|l| l.contains(&format!(" cmd={cmd} "))),
        _ => false,
    }
}

/// How many clients the server has connected (including the one asking).
pub fn client_count(port: u16) -> Option<usize> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = ferrocache_testkit::RespConn::connect(addr).ok()?;
    match c.cmd(&["CLIENT", "LIST"]).ok()? {
        Frame::Bulk(b) => Some(String::from_utf8_lossy(&b).lines().count()),
        _ => None,
    }
}
