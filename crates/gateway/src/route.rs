//! Where each connection's requests go, published to every connection through a
//! `watch` channel, and the registry through which a switch learns that every
//! connection has settled (drained, or re-attached to the new primary).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};

/// Which route a connection follows: the endpoint (the shard's primary, whichever
/// node that is) or a direct node port (always node i).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKey {
    Endpoint,
    Node(usize),
}

/// The current instruction for the connections of one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Where requests go; `None` while no node is known.
    pub target: Option<SocketAddr>,
    /// Changes whenever `target` does: a connection whose backend belongs to an
    /// older generation moves to the new target, replaying its state.
    pub generation: u64,
    /// Hold new requests (a switch is under way).
    pub hold: bool,
    /// Raised at each step of a switch; connections acknowledge it once settled.
    pub token: u64,
}

/// A connection's entry in the registry.
#[derive(Debug)]
pub struct Slot {
    pub route: RouteKey,
    /// The last route token this connection acknowledged as settled.
    pub acked: AtomicU64,
}

/// The routes of all connections, and who follows them.
#[derive(Debug)]
pub struct Routes {
    endpoint: watch::Sender<Route>,
    nodes: Vec<watch::Sender<Route>>,
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    /// Woken when a connection acknowledges a token or goes away.
    pub settled: Notify,
}

impl Routes {
    pub fn new(primary: Option<SocketAddr>, nodes: &[SocketAddr]) -> Routes {
        let route = |target| Route {
            target,
            generation: 1,
            hold: false,
            token: 0,
        };
        Routes {
            endpoint: watch::Sender::new(route(primary)),
            nodes: nodes
                .iter()
                .map(|&a| watch::Sender::new(route(Some(a))))
                .collect(),
            slots: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            settled: Notify::new(),
        }
    }

    pub fn sender(&self, key: RouteKey) -> Option<&watch::Sender<Route>> {
        match key {
            RouteKey::Endpoint => Some(&self.endpoint),
            RouteKey::Node(i) => self.nodes.get(i),
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Registers a new connection on `key`; it starts settled for the current token.
    pub fn register(&self, key: RouteKey) -> Option<(u64, Arc<Slot>, watch::Receiver<Route>)> {
        let rx = self.sender(key)?.subscribe();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            route: key,
            acked: AtomicU64::new(0),
        });
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, slot.clone());
        Some((id, slot, rx))
    }

    pub fn unregister(&self, id: u64) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        self.settled.notify_waiters();
    }

    /// Changes a route and returns the token connections must acknowledge.
    pub fn update(&self, key: RouteKey, f: impl FnOnce(&mut Route)) -> u64 {
        let Some(tx) = self.sender(key) else { return 0 };
        let mut token = 0;
        tx.send_modify(|r| {
            f(r);
            r.token += 1;
            token = r.token;
        });
        token
    }

    pub fn current(&self, key: RouteKey) -> Option<Route> {
        self.sender(key).map(|tx| tx.borrow().clone())
    }

    /// How many connections on `keys` have not yet acknowledged the route's current
    /// token, and how many there are in all.
    pub fn unsettled(&self, keys: &[RouteKey]) -> (usize, usize) {
        let tokens: Vec<(RouteKey, u64)> = keys
            .iter()
            .filter_map(|&k| Some((k, self.sender(k)?.borrow().token)))
            .collect();
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut total = 0;
        let mut waiting = 0;
        for slot in slots.values() {
            if let Some(&(_, token)) = tokens.iter().find(|(k, _)| *k == slot.route) {
                total += 1;
                if slot.acked.load(Ordering::Acquire) < token {
                    waiting += 1;
                }
            }
        }
        (waiting, total)
    }

    /// Waits until every connection on `keys` has settled, or `deadline` passes.
    /// Returns how many had not settled (0 on success).
    pub async fn wait_settled(&self, keys: &[RouteKey], deadline: tokio::time::Instant) -> usize {
        loop {
            let notified = self.settled.notified();
            let (waiting, _) = self.unsettled(keys);
            if waiting == 0 || tokio::time::Instant::now() >= deadline {
                return waiting;
            }
            // The short timeout covers a wake-up that raced with the check above.
            let until =
                deadline.min(tokio::time::Instant::now() + std::time::Duration::from_millis(5));
            let _ = tokio::time::timeout_at(until, notified).await;
        }
    }
}
