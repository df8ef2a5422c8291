//! Test infrastructure: start a real `redis-server` or a `ferrocache node` on a free
//! 127.0.0.1 port, talk RESP to either with a tiny blocking client, and clean up every
//! process and temporary directory on drop — even when the test panics.
//!
//! Everything here is synchronous std code with deadlines on every wait, so tests
//! never hang and never synchronise with sleeps.

mod conn;
mod fmt;
mod node;
mod process;
mod redis_server;
mod tempdir;

pub use conn::{encode_command, RespConn};
pub use ferrocache_resp::Frame;
pub use fmt::{escape, show};
/// Signals for [`FerroNode::stop_with_signal`].
pub use libc::{SIGINT, SIGKILL, SIGTERM};
pub use node::FerroNode;
pub use process::{poll_until, DEFAULT_DEADLINE};
pub use redis_server::RedisServer;
pub use tempdir::TempDir;

use std::net::SocketAddr;

/// A server under test, whichever implementation it is, so tests treat both alike.
pub trait Server {
    /// The address it listens on (always 127.0.0.1).
    fn addr(&self) -> SocketAddr;
    /// The process id of the server.
    fn pid(&self) -> u32;
    /// A short human name for messages (`"redis-server"`, `"ferrocache"`).
    fn name(&self) -> &str;
    /// The last lines of the server's log, for failure messages.
    fn log_tail(&self) -> String;
    fn port(&self) -> u16 {
        self.addr().port()
    }
    /// A new client connection with the default timeouts.
    fn connect(&self) -> anyhow::Result<RespConn> {
        RespConn::connect(self.addr())
    }
}

/// Finds a port that is free right now by binding 127.0.0.1:0 and releasing it.
/// Another process may take it before the server binds it: callers retry on that.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
