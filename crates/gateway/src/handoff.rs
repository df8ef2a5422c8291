//! Handing idle client connections over to the node that serves them (see the
//! `ferrocache-handoff` crate for why and how), and taking them back.
//!
//! One `NodeLink` per node that has a handoff socket: a task keeps a Unix connection
//! to it (reconnecting while the node restarts), sends adoptions and release
//! requests, renews the lease while the node is the endpoint's primary, and turns
//! every connection the node gives back into a proxied session again.

use crate::listener::ClientCount;
use crate::route::RouteKey;
use crate::session::{ClientConn, ClientRead, ClientWrite, Session};
use crate::Shared;
use ferrocache_handoff::{monotonic_ms, ConnState, Link, LinkReader, ToGateway, ToNode, Via};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, Notify};

/// How long a lease lasts, and how often it is renewed. It must be well under the
/// management service's `down-after` (1.5 s), so that a primary that was frozen long
/// enough to be replaced finds its lease expired when it wakes.
const LEASE: Duration = Duration::from_millis(500);
const RENEW: Duration = Duration::from_millis(100);
const RECONNECT: Duration = Duration::from_millis(100);

/// A connection the node serves now.
pub(crate) struct Adopted {
    pub route: RouteKey,
    pub moving_to: Option<SocketAddr>,
    /// Keeps the connection counted (maxclients, metrics) until it comes back or ends.
    pub count: ClientCount,
}

/// A connection on its way to the node.
pub(crate) struct Handover {
    pub id: u64,
    pub adopted: Adopted,
    pub state: ConnState,
    /// The access keys AUTH accepts there.
    pub keys: Vec<String>,
    pub idle_timeout_ms: u64,
    /// Input read and not forwarded: the node runs it first.
    pub pending: Vec<u8>,
    pub stream: std::net::TcpStream,
}

enum Out {
    Adopt {
        msg: ToNode,
        pending: Vec<u8>,
        stream: std::net::TcpStream,
    },
    Msg(ToNode),
}

/// The gateway's side of one node's handoff socket.
pub(crate) struct NodeLink {
    pub node: usize,
    pub addr: SocketAddr,
    path: PathBuf,
    tx: Mutex<Option<mpsc::UnboundedSender<Out>>>,
    adopted: Mutex<HashMap<u64, Adopted>>,
    /// Woken whenever a connection comes back or ends on the node.
    changed: Notify,
    /// The node said it is shutting down: hand nothing more over until it is back.
    draining: std::sync::atomic::AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NodeLink {
    pub fn new(node: usize, addr: SocketAddr, path: PathBuf) -> NodeLink {
        NodeLink {
            node,
            addr,
            path,
            tx: Mutex::new(None),
            adopted: Default::default(),
            changed: Notify::new(),
            draining: Default::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        !self.draining.load(Ordering::Relaxed) && lock(&self.tx).is_some()
    }

    pub fn adopted(&self) -> usize {
        lock(&self.adopted).len()
    }

    /// Hands a connection over. False if the link is down, and then the connection
    /// (already out of its session) is closed: the client reconnects.
    pub fn adopt(&self, h: Handover) -> bool {
        let tx = lock(&self.tx);
        let Some(tx) = tx.as_ref() else {
            return false;
        };
        let via = match h.adopted.route {
            RouteKey::Endpoint => Via::Endpoint,
            RouteKey::Node(_) => Via::Direct,
        };
        // Registered before it goes, so that a quick `Closed` finds it.
        lock(&self.adopted).insert(h.id, h.adopted);
        let msg = ToNode::Adopt {
            id: h.id,
            via,
            state: h.state,
            keys: h.keys,
            idle_timeout_ms: h.idle_timeout_ms,
        };
        let sent = tx.send(Out::Adopt {
            msg,
            pending: h.pending,
            stream: h.stream,
        });
        if sent.is_err() {
            lock(&self.adopted).remove(&h.id);
            return false;
        }
        true
    }

    /// Asks the node for its connections back (of `via`, or all).
    pub fn release(&self, via: Option<Via>) {
        if let Some(tx) = lock(&self.tx).as_ref() {
            let _ = tx.send(Out::Msg(ToNode::Release { via }));
        }
    }

    /// Waits (until `deadline`) until the node has given back or ended every
    /// connection it was handed. Returns how many are still out.
    pub async fn wait_returned(&self, deadline: tokio::time::Instant) -> usize {
        loop {
            let changed = self.changed.notified();
            let n = self.adopted();
            if n == 0 || tokio::time::Instant::now() >= deadline {
                return n;
            }
            let until = deadline.min(tokio::time::Instant::now() + Duration::from_millis(5));
            let _ = tokio::time::timeout_at(until, changed).await;
        }
    }
}

/// Keeps the link to one node up until shutdown.
pub(crate) async fn run(shared: Arc<Shared>, link: Arc<NodeLink>) {
    let mut logged_down = false;
    loop {
        let stream = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = UnixStream::connect(&link.path) => r,
        };
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                if !logged_down {
                    tracing::info!(node = link.node, path = %link.path.display(), "handoff socket not reachable ({e}); proxying meanwhile");
                    logged_down = true;
                }
                tokio::select! {
                    _ = shared.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(RECONNECT) => continue,
                }
            }
        };
        logged_down = false;
        tracing::info!(node = link.node, "handoff link up");
        let (rd, mut wr) = Link::split(stream);
        let (tx, mut rx) = mpsc::unbounded_channel();
        link.draining.store(false, Ordering::Relaxed);
        *lock(&link.tx) = Some(tx);
        let writer = {
            let shared = shared.clone();
            let link = link.clone();
            tokio::spawn(async move {
                let mut renew = tokio::time::interval(RENEW);
                // When the last lease went out: a node that just became the primary
                // has none yet, and would hold the first commands of the connections
                // handed to it until the next renewal.
                let mut leased_at: Option<tokio::time::Instant> = None;
                let lease = || ToNode::Lease {
                    until_ms: monotonic_ms() + LEASE.as_millis() as u64,
                };
                loop {
                    let out = tokio::select! {
                        o = rx.recv() => match o { Some(o) => o, None => return },
                        _ = renew.tick() => {
                            if !leased(&shared, &link) {
                                leased_at = None;
                                continue;
                            }
                            leased_at = Some(tokio::time::Instant::now());
                            Out::Msg(lease())
                        }
                    };
                    let sent = match out {
                        Out::Adopt {
                            msg,
                            pending,
                            stream,
                        } => {
                            let stale = leased_at.is_none_or(|t| t.elapsed() >= RENEW);
                            if stale && leased(&shared, &link) {
                                if let Err(e) = wr.send(&lease(), b"", None).await {
                                    tracing::warn!(
                                        node = link.node,
                                        "handoff link write failed: {e}"
                                    );
                                    return;
                                }
                                leased_at = Some(tokio::time::Instant::now());
                                renew.reset();
                            }
                            // Our descriptor closes when `stream` drops after the send.
                            wr.send(&msg, &pending, Some(stream.as_raw_fd())).await
                        }
                        Out::Msg(m) => wr.send(&m, b"", None).await,
                    };
                    if let Err(e) = sent {
                        tracing::warn!(node = link.node, "handoff link write failed: {e}");
                        return;
                    }
                }
            })
        };
        read_loop(&shared, &link, rd).await;
        writer.abort();
        *lock(&link.tx) = None;
        // The node is gone (or its link): what it served went with it.
        let lost = std::mem::take(&mut *lock(&link.adopted));
        if !lost.is_empty() {
            tracing::warn!(
                node = link.node,
                connections = lost.len(),
                "handoff link lost with connections on the node"
            );
        }
        drop(lost);
        link.changed.notify_waiters();
        tracing::info!(node = link.node, "handoff link down");
    }
}

/// Endpoint connections may run on this node: it is the endpoint's primary and no
/// switch is holding the endpoint.
fn leased(shared: &Shared, link: &NodeLink) -> bool {
    shared
        .routes
        .current(RouteKey::Endpoint)
        .is_some_and(|r| r.target == Some(link.addr) && !r.hold)
}

async fn read_loop(shared: &Arc<Shared>, link: &Arc<NodeLink>, mut rd: LinkReader) {
    loop {
        let r = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = rd.recv::<ToGateway>() => r,
        };
        let r = match r {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(node = link.node, "handoff link broken: {e}");
                return;
            }
        };
        match r.msg {
            ToGateway::Draining => {
                tracing::info!(
                    node = link.node,
                    "node shutting down: taking its connections back"
                );
                link.draining.store(true, Ordering::Relaxed);
            }
            ToGateway::Closed { id } => {
                lock(&link.adopted).remove(&id);
                link.changed.notify_waiters();
            }
            ToGateway::Released { id, via, state } => {
                let known = lock(&link.adopted).remove(&id);
                let Some(fd) = r.fd else { continue };
                shared.metrics.handbacks.fetch_add(1, Ordering::Relaxed);
                resume(shared, link, known, via, state, r.payload, fd.into());
                link.changed.notify_waiters();
            }
        }
    }
}

/// Serves a connection the node gave back as a proxied session again.
fn resume(
    shared: &Arc<Shared>,
    link: &NodeLink,
    known: Option<Adopted>,
    via: Via,
    state: ConnState,
    pending: Vec<u8>,
    stream: std::net::TcpStream,
) {
    let (route, moving_to, count) = match known {
        Some(a) => (a.route, a.moving_to, a.count),
        // Adopted by an earlier gateway process: count it from now on.
        None => {
            let route = match via {
                Via::Endpoint => RouteKey::Endpoint,
                Via::Direct => RouteKey::Node(link.node),
            };
            let moving_to = stream
                .local_addr()
                .ok()
                .map(|a| SocketAddr::new(a.ip(), shared.endpoint_port));
            (route, moving_to, ClientCount::new(shared))
        }
    };
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
        return;
    };
    let Some((id, slot, rx)) = shared.routes.register(route) else {
        return;
    };
    let (rd, wr) = stream.into_split();
    let client = ClientConn {
        rd: ClientRead::Tcp(rd),
        wr: ClientWrite::Tcp(wr),
        moving_to,
        count,
    };
    let session = Session::new(shared.clone(), id, slot, rx, client).resumed(state, pending);
    shared.sessions.spawn(session.run());
}

/// The links of the nodes that have a handoff socket, by node address.
#[derive(Default)]
pub(crate) struct Links(HashMap<SocketAddr, Arc<NodeLink>>);

impl Links {
    pub fn new(links: Vec<Arc<NodeLink>>) -> Links {
        Links(links.into_iter().map(|l| (l.addr, l)).collect())
    }

    pub fn get(&self, addr: SocketAddr) -> Option<&Arc<NodeLink>> {
        self.0.get(&addr)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<NodeLink>> {
        self.0.values()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
