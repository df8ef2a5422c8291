//! Connections handed over by the gateway (see the `ferrocache-handoff` crate): the
//! Unix socket the gateway connects to, the lease under which endpoint connections
//! may run, and the registry through which they are given back.
//!
//! An adopted connection is served by the ordinary connection task
//! (`connection::serve_adopted`); this module only receives it, tells the task when
//! to give it back, and sends back what the task returns.

mod link;

pub use link::listen;

use crate::clients::ClientHandle;
use ferrocache_handoff::{monotonic_ms, ConnState, Via};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// What an adopted connection brought along, kept by its task.
pub struct Adopted {
    /// The gateway's id for the connection.
    pub gw_id: u64,
    pub via: Via,
    /// Passwords AUTH accepts here besides `requirepass` (the cache's access keys).
    pub keys: Arc<Vec<String>>,
    /// The request that blocked (BLPOP …), to be handed back unrun if released.
    pub blocked_raw: Option<Vec<u8>>,
}

/// What an adopted connection's task sends the gateway when it ends.
pub enum Outgoing {
    /// Given back: its socket, state and unread input.
    Released {
        gw_id: u64,
        via: Via,
        state: ConnState,
        pending: Vec<u8>,
        stream: std::net::TcpStream,
    },
    /// Ended on the node.
    Closed { gw_id: u64 },
    /// The node is shutting down (the gateway stops handing over).
    Draining,
}

#[derive(Default)]
pub struct Handoff {
    /// The newest gateway link; releases and closes go there.
    out: Mutex<Option<mpsc::UnboundedSender<Outgoing>>>,
    /// Endpoint connections may run until this CLOCK_MONOTONIC millisecond.
    lease_until_ms: AtomicU64,
    /// Woken when the lease is extended or a release is asked for.
    pub lease_changed: Notify,
    /// Adopted connections by client id, with the route they came by.
    adopted: Mutex<HashMap<u64, (Arc<ClientHandle>, Via)>>,
    /// Woken whenever an adopted connection leaves the registry.
    pub left: Notify,
    /// Released sockets queued for the gateway and not yet sent: a node shutting
    /// down waits for them, or they would close with the process.
    in_transit: std::sync::atomic::AtomicUsize,
    /// Shutting down: connections handed over now go straight back.
    draining: std::sync::atomic::AtomicBool,
}

impl Handoff {
    pub fn lease_valid(&self) -> bool {
        monotonic_ms() < self.lease_until_ms.load(Relaxed)
    }

    fn extend_lease(&self, until_ms: u64) {
        self.lease_until_ms.fetch_max(until_ms, Relaxed);
        self.lease_changed.notify_waiters();
    }

    pub fn register(&self, handle: Arc<ClientHandle>, via: Via) {
        self.adopted.lock().insert(handle.id, (handle, via));
    }

    pub fn count(&self) -> usize {
        self.adopted.lock().len()
    }

    /// Asks adopted connections (of `via`, or all) to come back at their next
    /// command boundary.
    pub fn release(&self, via: Option<Via>) {
        for (h, v) in self.adopted.lock().values() {
            if via.is_none_or(|w| w == *v) {
                h.release.store(true, Relaxed);
                h.wake();
            }
        }
        self.lease_changed.notify_waiters();
    }

    /// Sends what a connection's task returned to the gateway; without a gateway to
    /// take a released socket, it is closed (the client reconnects to the endpoint).
    pub fn finish(&self, client_id: u64, outgoing: Outgoing) {
        self.adopted.lock().remove(&client_id);
        let released = matches!(outgoing, Outgoing::Released { .. });
        if let Some(tx) = self.out.lock().as_ref() {
            if released {
                self.in_transit.fetch_add(1, Relaxed);
            }
            if tx.send(outgoing).is_err() && released {
                self.in_transit.fetch_sub(1, Relaxed);
            }
        }
        self.left.notify_waiters();
    }

    /// A released socket went out (or could not): one less to wait for.
    fn sent(&self) {
        self.in_transit.fetch_sub(1, Relaxed);
        self.left.notify_waiters();
    }

    /// Shutdown: tell the gateway, then give every connection back.
    pub fn drain(&self) {
        self.draining.store(true, Relaxed);
        if let Some(tx) = self.out.lock().as_ref() {
            let _ = tx.send(Outgoing::Draining);
        }
        self.release(None);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Relaxed)
    }

    /// Nothing adopted, nothing on its way back.
    pub fn drained(&self) -> bool {
        self.count() == 0 && self.in_transit.load(Relaxed) == 0
    }

    fn set_link(&self, tx: mpsc::UnboundedSender<Outgoing>) {
        *self.out.lock() = Some(tx);
    }
}

/// The state an adopted client hands back.
pub fn state_of(client: &crate::client::Client) -> ConnState {
    use std::sync::atomic::Ordering::Relaxed;
    ConnState {
        db: client.db as i64,
        resp3: client.handle.resp.load(Relaxed) == 3,
        name: client.handle.name.lock().as_ref().map(|n| n.to_vec()),
        channels: client.channels.iter().map(|c| c.to_vec()).collect(),
        patterns: client.patterns.iter().map(|p| p.to_vec()).collect(),
        watching: !client.watched.is_empty(),
    }
}
