//! The registry of connected clients: what CLIENT LIST/INFO/KILL see of each
//! connection, and the handle used to deliver pub/sub messages to it.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// A message for a client's connection task from outside it.
#[derive(Debug)]
pub enum Delivery {
    /// Nothing to send: look at the kill flag (kill, shutdown).
    Wake,
    /// A published message: (pattern, channel, payload).
    Message {
        pattern: Option<Bytes>,
        channel: Bytes,
        payload: Bytes,
    },
}

/// The part of a client that other connections and background tasks can see.
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created_ms: u64,
    pub name: Mutex<Option<Bytes>>,
    pub db: AtomicU32,
    pub last_interaction_ms: AtomicU64,
    /// Index of the last command in the command table (for CLIENT LIST `cmd=`).
    pub last_cmd: AtomicUsize,
    pub subscriptions: AtomicUsize,
    pub psubscriptions: AtomicUsize,
    pub multi: AtomicU32,
    pub resp: AtomicU32,
    pub no_evict: AtomicBool,
    /// Waiting in a blocking command (CLIENT LIST flag `b`; exempt from the idle timeout).
    pub blocked: AtomicBool,
    /// Messages queued for delivery and not yet written (bytes): the output buffer limit.
    pub queued_bytes: AtomicUsize,
    /// When the soft output limit was first exceeded (Unix ms; 0 = not exceeded).
    pub soft_limit_since_ms: AtomicU64,
    pub kill: Notify,
    pub killed: AtomicBool,
    /// `ROLE_NORMAL`, `ROLE_REPLICA` (a replica's feed) or `ROLE_MASTER` (this
    /// node's link to its primary): CLIENT LIST flags and CLIENT KILL TYPE.
    pub role: std::sync::atomic::AtomicU8,
    /// An adopted connection asked back by the gateway (`handoff`).
    pub release: AtomicBool,
    /// This connection's own idle timeout (adopted ones carry the endpoint's);
    /// `u64::MAX`: the node's `timeout`.
    pub idle_timeout_ms: AtomicU64,
    pub tx: mpsc::UnboundedSender<Delivery>,
}

pub const ROLE_NORMAL: u8 = 0;
pub const ROLE_REPLICA: u8 = 1;
pub const ROLE_MASTER: u8 = 2;

impl ClientHandle {
    pub fn request_kill(&self) {
        self.killed.store(true, Relaxed);
        // One wake-up for a task waiting to read, one for a task stuck writing.
        let _ = self.tx.send(Delivery::Wake);
        self.kill.notify_one();
    }
    /// Wakes the connection's task to look at its flags.
    pub fn wake(&self) {
        let _ = self.tx.send(Delivery::Wake);
    }
    pub fn is_pubsub(&self) -> bool {
        self.subscriptions.load(Relaxed) + self.psubscriptions.load(Relaxed) > 0
    }
    /// The CLIENT LIST / CLIENT INFO line for this client.
    /// `command_names` maps statistics slots to full names (`client|list`).
    pub fn info_line(&self, now_ms: u64, command_names: &[String]) -> String {
        let name = self.name.lock().clone().unwrap_or_default();
        let sub = self.subscriptions.load(Relaxed);
        let psub = self.psubscriptions.load(Relaxed);
        let multi = self.multi.load(Relaxed);
        let mut flags = String::new();
        if sub + psub > 0 {
            flags.push('P');
        }
        if multi > 0 {
            flags.push('x');
        }
        if self.blocked.load(Relaxed) {
            flags.push('b');
        }
        if self.no_evict.load(Relaxed) {
            flags.push('e');
        }
        match self.role.load(Relaxed) {
            ROLE_REPLICA => flags.push('S'),
            ROLE_MASTER => flags.push('M'),
            _ => {}
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let age = now_ms.saturating_sub(self.created_ms) / 1000;
        let idle = now_ms.saturating_sub(self.last_interaction_ms.load(Relaxed)) / 1000;
        let omem = self.queued_bytes.load(Relaxed);
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&name),
            age,
            idle,
            flags,
            self.db.load(Relaxed),
            sub,
            psub,
            if multi > 0 { multi as i64 - 1 } else { -1 },
            omem,
            omem + 20_000,
            command_names.get(self.last_cmd.load(Relaxed)).map_or("NULL", String::as_str),
            self.resp.load(Relaxed),
        )
    }
}

#[derive(Default)]
pub struct Clients {
    map: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
}

impl Clients {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed) + 1
    }
    pub fn register(&self, handle: Arc<ClientHandle>) {
        self.map.lock().insert(handle.id, handle);
    }
    pub fn unregister(&self, id: u64) {
        self.map.lock().remove(&id);
    }
    pub fn count(&self) -> usize {
        self.map.lock().len()
    }
    /// A snapshot, ordered by id, so callers never hold the registry lock long.
    /// Clients already killed are left out: Redis frees a killed client at once, so
    /// CLIENT LIST and the next CLIENT KILL must not see one whose task has not yet
    /// run to unregister it.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.map
            .lock()
            .values()
            .filter(|c| !c.killed.load(Relaxed))
            .cloned()
            .collect()
    }
}
