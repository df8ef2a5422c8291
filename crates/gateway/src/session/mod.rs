//! One client connection: its task, its buffers and its backend connection.
//!
//! A single task owns both sockets. Client bytes are parsed only to learn where each
//! request ends and what it does to the connection's state, then forwarded as they
//! are; backend bytes are scanned only to find where each reply ends and to tell
//! pub/sub messages from replies. Every forwarded request leaves an `Expect` in the
//! in-flight queue, so each reply is matched to its request by position.
//!
//! The submodules split the work by direction: `requests` (client → backend),
//! `replies` (backend → client), `backend` (connecting, replaying state, loss) and
//! `auth` (what the gateway answers itself).

mod auth;
mod backend;
mod handoff;
mod io;
mod notices;
mod replies;
mod requests;

use crate::maint::{Notice, OptIn};
use crate::route::{Route, Slot};
use crate::state::{ConnState, Effect};
use crate::Shared;
use bytes::{Bytes, BytesMut};
use ferrocache_resp::Spans;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

pub use io::{ClientRead, ClientWrite};

/// A client connection as a session takes it: its halves, where a `MOVING` notice
/// sends it, and its place in the client count.
pub(crate) struct ClientConn {
    pub rd: ClientRead,
    pub wr: ClientWrite,
    pub moving_to: Option<std::net::SocketAddr>,
    pub count: crate::listener::ClientCount,
}

/// Stop reading a client whose unforwarded input is this large (backpressure).
const MAX_INPUT: usize = 16 << 20;
/// Stop reading the side that fills an output buffer beyond this.
const MAX_OUTPUT: usize = 4 << 20;

/// What the gateway expects back for one forwarded request (or what it owes the
/// client in that position).
#[derive(Debug)]
pub(crate) enum Expect {
    /// One reply, relayed.
    Relay,
    /// The gateway's own reply, delivered in order; `true` closes the connection after it.
    Local(Bytes, bool),
    /// The reply to a command the gateway sent to rebuild state: not relayed; an
    /// error means the state could not be rebuilt.
    Replay,
    /// The reply to `CLIENT ID`, kept to unblock the connection at a switch.
    CaptureId,
    /// One reply, relayed; the state change applies unless it is an error.
    Effect(Effect),
    /// A subscribe-family command: this many confirmations still to come.
    PubSub { remaining: usize, swallow: bool },
    /// A command that may block; kept so it can be issued again after a switch.
    Blocking { raw: Bytes, unblock_sent: bool },
    /// EXEC: the queued commands' state changes apply if it returns an array.
    Exec(Vec<Effect>),
    /// EXEC of a transaction whose WATCH a switch broke: DISCARD was sent instead,
    /// and the client gets EXEC's answer for a changed watched key (a null array).
    ExecAborted,
}

pub(crate) struct Session {
    shared: Arc<Shared>,
    conn_id: u64,
    slot: Arc<Slot>,
    route_rx: watch::Receiver<Route>,
    route: Route,
    acked: u64,

    client_rd: ClientRead,
    client_wr: ClientWrite,
    inbuf: BytesMut,
    client_out: BytesMut,
    spans: Spans,

    brd: Option<OwnedReadHalf>,
    bwr: Option<OwnedWriteHalf>,
    /// The route generation the backend connection belongs to.
    backend_gen: Option<u64>,
    backend_addr: Option<std::net::SocketAddr>,
    binbuf: BytesMut,
    backend_out: BytesMut,
    /// When to try connecting again after a failed attempt.
    retry_at: Option<Instant>,
    /// A PING was sent on the outgoing backend so that every pub/sub message queued
    /// there is read before the connection moves (see `backend::barrier_before_move`).
    barrier_sent: bool,

    in_flight: VecDeque<Expect>,
    state: ConnState,
    authed: bool,
    client_id: Option<i64>,
    /// A blocking command is in flight: nothing is forwarded behind it, so that it is
    /// always the last in flight and can be re-issued at a switch without reordering.
    blocking_outstanding: bool,
    /// A blocking command unblocked at a switch, to be issued again first.
    reissue: Option<Bytes>,
    /// Since when requests have been waiting for the route (hold or no backend).
    held_since: Option<Instant>,
    last_input: Instant,
    /// Stop reading; exit once the client's output is flushed.
    closing: bool,
    /// Where a `MOVING` notice sends this client (the endpoint, on the kind of port
    /// and address it connected to).
    moving_to: Option<std::net::SocketAddr>,
    /// `CLIENT MAINT_NOTIFICATIONS ON`: the opt-in and the notices it listens to.
    maint: Option<(OptIn, broadcast::Receiver<Arc<Notice>>)>,
    /// Counts the connection while it lives (here, or handed over to a node).
    count: Option<crate::listener::ClientCount>,
}

impl Session {
    pub(crate) fn new(
        shared: Arc<Shared>,
        conn_id: u64,
        slot: Arc<Slot>,
        mut route_rx: watch::Receiver<Route>,
        client: ClientConn,
    ) -> Session {
        let ClientConn {
            rd: client_rd,
            wr: client_wr,
            moving_to,
            count,
        } = client;
        let route = route_rx.borrow_and_update().clone();
        let authed = shared.auth_keys().is_empty();
        Session {
            shared,
            conn_id,
            slot,
            route_rx,
            route,
            acked: 0,
            client_rd,
            client_wr,
            inbuf: BytesMut::with_capacity(16 * 1024),
            client_out: BytesMut::with_capacity(16 * 1024),
            spans: Spans::default(),
            brd: None,
            bwr: None,
            backend_gen: None,
            backend_addr: None,
            binbuf: BytesMut::with_capacity(16 * 1024),
            backend_out: BytesMut::with_capacity(16 * 1024),
            retry_at: None,
            barrier_sent: false,
            in_flight: VecDeque::new(),
            state: ConnState::default(),
            authed,
            client_id: None,
            blocking_outstanding: false,
            reissue: None,
            held_since: None,
            last_input: Instant::now(),
            closing: false,
            moving_to,
            maint: None,
            count: Some(count),
        }
    }

    /// Runs the connection until the client leaves, the gateway shuts down, the
    /// connection idles out, or it must be closed.
    pub(crate) async fn run(mut self) {
        let shutdown = self.shared.shutdown.clone();
        loop {
            self.step();
            if self.closing && self.client_out.is_empty() {
                break;
            }
            if self.may_hand_off() && self.hand_off() {
                // The node serves the connection now; nothing to close here.
                self.shared.routes.unregister(self.conn_id);
                return;
            }
            if self.needs_backend() {
                self.connect().await;
                continue;
            }
            let hold_deadline = self
                .held_since
                .map(|t| t + self.shared.config.hold_deadline);
            let idle_deadline = self.idle_deadline();
            let can_read_client = !self.closing
                && self.inbuf.len() < MAX_INPUT
                && self.backend_out.len() < MAX_OUTPUT;
            let can_read_backend = self.client_out.len() < MAX_OUTPUT;
            if self.inbuf.capacity() - self.inbuf.len() < 4096 {
                self.inbuf.reserve(16 * 1024);
            }
            if self.binbuf.capacity() - self.binbuf.len() < 4096 {
                self.binbuf.reserve(16 * 1024);
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                r = self.client_rd.read_buf(&mut self.inbuf), if can_read_client => match r {
                    Ok(0) | Err(_) => break,
                    Ok(_) => self.last_input = Instant::now(),
                },
                r = read_opt(self.brd.as_mut(), &mut self.binbuf), if self.brd.is_some() && can_read_backend => {
                    if !matches!(r, Ok(n) if n > 0) {
                        self.backend_lost("the node closed the connection");
                    }
                },
                r = write_some(&mut self.client_wr, &self.client_out), if !self.client_out.is_empty() => match r {
                    Ok(n) => { let _ = self.client_out.split_to(n); }
                    Err(_) => break,
                },
                r = write_opt(self.bwr.as_mut(), &self.backend_out), if self.bwr.is_some() && !self.backend_out.is_empty() => match r {
                    Ok(n) => { let _ = self.backend_out.split_to(n); }
                    Err(_) => self.backend_lost("writing to the node failed"),
                },
                r = self.route_rx.changed() => {
                    if r.is_err() {
                        break;
                    }
                    self.route = self.route_rx.borrow_and_update().clone();
                },
                _ = sleep_opt(hold_deadline) => self.fail_held(),
                _ = sleep_opt(idle_deadline) => {
                    self.shared.metrics.connections_closed_idle.fetch_add(1, Ordering::Relaxed);
                    break;
                },
                _ = sleep_opt(self.retry_at) => self.retry_at = None,
                n = notices::next(self.maint.as_mut()), if self.maint.is_some() => self.on_notice(n),
            }
        }
        self.shared.routes.unregister(self.conn_id);
        // Close cleanly: flush what is owed (bounded), then send FIN.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            if !self.client_out.is_empty() {
                let _ = self.client_wr.write_all(&self.client_out).await;
            }
            let _ = self.client_wr.shutdown().await;
        })
        .await;
    }

    /// Everything that follows from new input: match replies, forward requests,
    /// unblock a blocked command at a switch, acknowledge the route when settled.
    fn step(&mut self) {
        self.process_replies();
        self.flush_locals();
        self.maybe_unblock();
        self.pump();
        self.barrier_before_move();
        self.ack_if_settled();
    }

    fn idle_deadline(&self) -> Option<Instant> {
        let idle = self.shared.config.idle_timeout;
        // Like Redis's `timeout`: subscribers and blocked clients are not idle.
        (!idle.is_zero() && !self.state.subscribed() && !self.blocking_outstanding)
            .then(|| self.last_input + idle)
    }

    /// Queues a reply the gateway produced itself, after every reply still owed.
    fn local(&mut self, reply: impl Into<Bytes>, close: bool) {
        let reply = reply.into();
        if self.in_flight.is_empty() {
            self.client_out.extend_from_slice(&reply);
            if close {
                self.closing = true;
            }
        } else {
            self.in_flight.push_back(Expect::Local(reply, close));
        }
    }

    fn local_error(&mut self, msg: &str) {
        self.local(error_reply(msg), false);
    }

    /// Delivers the gateway's own replies that have reached the head of the queue.
    fn flush_locals(&mut self) {
        while let Some(Expect::Local(..)) = self.in_flight.front() {
            if let Some(Expect::Local(reply, close)) = self.in_flight.pop_front() {
                self.client_out.extend_from_slice(&reply);
                if close {
                    self.closing = true;
                    self.in_flight.clear();
                    return;
                }
            }
        }
    }

    /// Tells a switch this connection has nothing left in flight on the route's
    /// current generation (drained, or re-attached with its state replayed).
    fn ack_if_settled(&mut self) {
        let token = self.route.token;
        if token <= self.acked {
            return;
        }
        let on_current =
            self.route.target.is_none() || self.backend_gen == Some(self.route.generation);
        if self.in_flight.is_empty()
            && !self.state.in_multi
            && !self.blocking_outstanding
            && on_current
        {
            self.acked = token;
            self.slot.acked.store(token, Ordering::Release);
            self.shared.routes.settled.notify_waiters();
        }
    }
}

/// An error reply; newlines would break framing, so they become spaces.
pub(crate) fn error_reply(msg: &str) -> Bytes {
    let mut b = Vec::with_capacity(msg.len() + 3);
    b.push(b'-');
    b.extend(
        msg.bytes()
            .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
    b.extend_from_slice(b"\r\n");
    b.into()
}

async fn read_opt(rd: Option<&mut OwnedReadHalf>, buf: &mut BytesMut) -> std::io::Result<usize> {
    match rd {
        Some(rd) => rd.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

async fn write_opt(wr: Option<&mut OwnedWriteHalf>, buf: &[u8]) -> std::io::Result<usize> {
    match wr {
        Some(wr) => wr.write(buf).await,
        None => std::future::pending().await,
    }
}

/// One write, flushed once everything is written (TLS buffers records until then).
async fn write_some(wr: &mut ClientWrite, buf: &[u8]) -> std::io::Result<usize> {
    let n = wr.write(buf).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    if n == buf.len() {
        wr.flush().await?;
    }
    Ok(n)
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
