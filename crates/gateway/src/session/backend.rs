//! The session's backend connection: opening it on the route's current node,
//! replaying the connection's state onto it, losing it, and unblocking a blocked
//! command at a switch.

use super::{error_reply, Expect, Session};
use crate::command::Sub;
use bytes::{BufMut, Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long one connection attempt to a node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause between attempts while the route's node cannot be reached.
const RETRY_INTERVAL: Duration = Duration::from_millis(50);

/// What in-flight requests get when their node connection is lost: they may or may
/// not have run, and the client must know.
pub(crate) const BACKEND_LOST: &str =
    "ERR the connection to the node was lost; the request may or may not have been executed";

impl Session {
    /// Whether the connection should (re)connect now: the route names a node, and
    /// the backend is missing or belongs to an older generation, and nothing is
    /// in flight on it (a transaction in progress finishes on the old node first).
    pub(super) fn needs_backend(&self) -> bool {
        !self.closing
            && self.retry_at.is_none()
            && self.route.target.is_some()
            && self.backend_gen != Some(self.route.generation)
            && self.in_flight.is_empty()
            && !self.state.in_multi
    }

    /// Connects to the route's node and queues the replay of this connection's
    /// state ahead of any request.
    pub(super) async fn connect(&mut self) {
        let Some(target) = self.route.target else {
            return;
        };
        let generation = self.route.generation;
        if self.bwr.is_some() {
            // Moving off a live node: a WATCH there cannot be carried over.
            self.drop_backend();
        }
        if self.state.forget_predictions() {
            self.shared
                .metrics
                .watches_broken
                .fetch_add(1, Ordering::Relaxed);
        }
        let attempt = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await;
        let stream = match attempt {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return self.connect_failed(target, &e.to_string()),
            Err(_) => return self.connect_failed(target, "timed out"),
        };
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        self.brd = Some(rd);
        self.bwr = Some(wr);
        self.backend_gen = Some(generation);
        self.backend_addr = Some(target);
        self.client_id = None;
        self.barrier_sent = false;
        self.queue_replay();
    }

    /// Before a subscriber leaves a live backend, a PING goes down it and the move
    /// waits for its answer: the node sends that answer after every message it had
    /// already queued for this connection, so none is left unread on the old socket.
    pub(super) fn barrier_before_move(&mut self) {
        let moving = self.bwr.is_some()
            && self.route.target.is_some()
            && self.backend_gen != Some(self.route.generation);
        if moving && !self.barrier_sent && self.in_flight.is_empty() && self.state.subscribed() {
            self.barrier_sent = true;
            encode(&mut self.backend_out, &[b"PING"]);
            self.in_flight.push_back(Expect::Replay);
        }
    }

    fn connect_failed(&mut self, target: SocketAddr, why: &str) {
        tracing::debug!(conn = self.conn_id, %target, why, "cannot connect to the node; will retry");
        self.shared
            .metrics
            .backend_connect_failures
            .fetch_add(1, Ordering::Relaxed);
        self.retry_at = Some(Instant::now() + RETRY_INTERVAL);
    }

    fn drop_backend(&mut self) {
        self.brd = None;
        self.bwr = None;
        self.backend_gen = None;
        self.client_id = None;
        self.binbuf.clear();
        self.backend_out.clear();
    }

    /// Rebuilds the connection's state on a fresh backend: the replies are swallowed,
    /// and the client's requests follow in the same write, so replay costs no round trip.
    fn queue_replay(&mut self) {
        let mut out = std::mem::take(&mut self.backend_out);
        if let Some(pw) = &self.shared.config.backend_password {
            encode(&mut out, &[b"AUTH", pw.as_bytes()]);
            self.in_flight.push_back(Expect::Replay);
        }
        if self.state.resp3 {
            encode(&mut out, &[b"HELLO", b"3"]);
            self.in_flight.push_back(Expect::Replay);
        }
        if self.state.db != 0 {
            encode(&mut out, &[b"SELECT", self.state.db.to_string().as_bytes()]);
            self.in_flight.push_back(Expect::Replay);
        }
        if let Some(name) = &self.state.name {
            encode(&mut out, &[b"CLIENT", b"SETNAME", name]);
            self.in_flight.push_back(Expect::Replay);
        }
        for kind in Sub::ALL {
            let names = &self.state.subs[kind.index()];
            if names.is_empty() {
                continue;
            }
            let mut cmd: Vec<&[u8]> = vec![kind.subscribe_command()];
            cmd.extend(names.iter().map(|n| &n[..]));
            encode(&mut out, &cmd);
            self.in_flight.push_back(Expect::PubSub {
                remaining: names.len(),
                swallow: true,
            });
        }
        self.backend_out = out;
    }

    /// The backend connection failed: requests in flight on it get an error (their
    /// fate is unknown), and the connection reconnects to the route's node.
    pub(super) fn backend_lost(&mut self, why: &str) {
        tracing::debug!(conn = self.conn_id, why, "node connection lost");
        self.drop_backend();
        let mut failed = 0;
        let owed: Vec<Expect> = self.in_flight.drain(..).collect();
        for e in owed {
            match e {
                Expect::Local(..) => self.in_flight.push_back(e),
                Expect::Replay | Expect::CaptureId | Expect::PubSub { swallow: true, .. } => {}
                _ => {
                    failed += 1;
                    self.in_flight
                        .push_back(Expect::Local(error_reply(BACKEND_LOST), false));
                }
            }
        }
        self.blocking_outstanding = false;
        if self.state.forget_predictions() {
            self.shared
                .metrics
                .watches_broken
                .fetch_add(1, Ordering::Relaxed);
        }
        self.shared
            .metrics
            .requests_failed_backend_lost
            .fetch_add(failed, Ordering::Relaxed);
        self.flush_locals();
    }

    /// During a hold, a blocked command would keep its connection from draining: ask
    /// the node (over a separate connection) to unblock it as if it had timed out. Its
    /// timeout reply is swallowed and the command is issued again after the switch.
    pub(super) fn maybe_unblock(&mut self) {
        if !self.route.hold || !self.blocking_outstanding {
            return;
        }
        let (Some(id), Some(addr)) = (self.client_id, self.backend_addr) else {
            return;
        };
        let Some(Expect::Blocking { unblock_sent, .. }) = self.in_flight.back_mut() else {
            return;
        };
        if *unblock_sent {
            return;
        }
        *unblock_sent = true;
        let password = self.shared.config.backend_password.clone();
        tokio::spawn(async move {
            if let Err(e) = unblock(addr, password, id).await {
                tracing::warn!(%addr, id, "CLIENT UNBLOCK failed: {e}");
            }
        });
    }
}

/// `CLIENT UNBLOCK id` on a separate connection, waiting for its answer.
async fn unblock(addr: SocketAddr, password: Option<String>, id: i64) -> anyhow::Result<()> {
    let work = async {
        let mut s = TcpStream::connect(addr).await?;
        let mut out = BytesMut::new();
        let mut replies = 1;
        if let Some(pw) = &password {
            encode(&mut out, &[b"AUTH", pw.as_bytes()]);
            replies += 1;
        }
        encode(
            &mut out,
            &[b"CLIENT", b"UNBLOCK", id.to_string().as_bytes()],
        );
        s.write_all(&out).await?;
        let mut buf = Vec::new();
        // Every reply here is one line (+OK, :1, or an error).
        while buf.iter().filter(|&&c| c == b'\n').count() < replies {
            if s.read_buf(&mut buf).await? == 0 {
                anyhow::bail!("connection closed");
            }
        }
        if let Some(line) = buf
            .split(|&c| c == b'\n')
            .find(|l| l.first() == Some(&b'-'))
        {
            anyhow::bail!("{}", String::from_utf8_lossy(line).trim());
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(2), work)
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))?
}

/// Encodes a command as a RESP array of bulk strings.
pub(crate) fn encode(out: &mut BytesMut, args: &[&[u8]]) {
    out.put_u8(b'*');
    out.put_slice(args.len().to_string().as_bytes());
    out.put_slice(b"\r\n");
    for a in args {
        out.put_u8(b'$');
        out.put_slice(a.len().to_string().as_bytes());
        out.put_slice(b"\r\n");
        out.put_slice(a);
        out.put_slice(b"\r\n");
    }
}

/// A command encoded as its own buffer.
pub(crate) fn encoded(args: &[&[u8]]) -> Bytes {
    let mut out = BytesMut::new();
    encode(&mut out, args);
    out.freeze()
}
