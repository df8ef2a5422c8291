//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN …): clients waiting on keys.
//!
//! A blocking command that finds no data registers a waiter here and its
//! connection stops running commands. When a command writes a key that has
//! waiters (`Db::signal` marks it ready), the node serves them before the next
//! command runs — in the order they blocked, each by running its own command
//! again with the ready key — exactly where Redis does (after each command, after
//! EXEC as a whole). The served reply goes to the waiting connection through a
//! oneshot channel, so the writer's lock hold covers both the write and the pop:
//! no other client can slip in between.
//!
//! Lock order: keyspace, then this registry. Every access happens with the
//! keyspace locked, so a waiter can never miss a write.

use crate::clients::ClientHandle;
use crate::dispatch::{self, Command, Ctx, Flow};
use crate::server::{Clock, Shared};
use ferrocache_keyspace::{Key, Keyspace};
use ferrocache_resp::{Protocol, ReplyBuf};
use parking_lot::MutexGuard;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::oneshot;

/// What a blocked connection holds while it waits.
pub struct Pending {
    pub id: u64,
    pub reply: oneshot::Receiver<Vec<u8>>,
    /// Unix ms after which the client gets the timeout reply; None = never.
    pub deadline_ms: Option<u64>,
}

struct Waiter {
    handle: Arc<ClientHandle>,
    db: usize,
    keys: Vec<Key>,
    protocol: Protocol,
    /// The blocking command, filled in by dispatch once the handler returned.
    command: Option<(&'static Command, usize, Vec<Vec<u8>>)>,
    reply: oneshot::Sender<Vec<u8>>,
}

/// Every blocked client, and per (db, key) the order they blocked in.
#[derive(Default)]
pub struct Registry {
    next_id: u64,
    waiters: HashMap<u64, Waiter>,
    queues: HashMap<(usize, Key), VecDeque<u64>>,
}

impl Registry {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    fn remove(&mut self, ks: &mut Keyspace, id: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        for key in &w.keys {
            ks.dbs[w.db].unblock_on(key);
            let slot = (w.db, key.clone());
            if let Some(q) = self.queues.get_mut(&slot) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.queues.remove(&slot);
                }
            }
        }
        Some(w)
    }
}

/// Registers the client as blocked (see `Ctx::block`).
pub fn block(ctx: &mut Ctx, keys: &[&[u8]], timeout_ms: Option<u64>) -> bool {
    if ctx.ready_key.is_some() {
        // Serving a waiter and still nothing for it: it keeps waiting.
        ctx.flow = Flow::Block;
        return true;
    }
    if ctx.client.multi.is_some() || ctx.client.in_exec {
        return false;
    }
    let db = ctx.client.db;
    let mut unique: Vec<Key> = Vec::with_capacity(keys.len());
    for k in keys {
        if !unique.iter().any(|u| u.as_slice() == *k) {
            unique.push(Key::new(k));
        }
    }
    let (tx, rx) = oneshot::channel();
    let protocol = if ctx.out.is_resp3() {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let handle = ctx.client.handle.clone();
    let srv = ctx.srv;
    let ks = ctx.ks();
    for k in &unique {
        ks.dbs[db].block_on(k);
    }
    let mut reg = srv.blocking.lock();
    reg.next_id += 1;
    let id = reg.next_id;
    for k in &unique {
        reg.queues.entry((db, k.clone())).or_default().push_back(id);
    }
    reg.waiters.insert(
        id,
        Waiter {
            handle,
            db,
            keys: unique,
            protocol,
            command: None,
            reply: tx,
        },
    );
    srv.blocked_clients.store(reg.len(), Relaxed);
    drop(reg);
    ctx.client.blocked = Some(Pending {
        id,
        reply: rx,
        deadline_ms: timeout_ms.map(|t| ctx.now_ms + t),
    });
    ctx.flow = Flow::Block;
    true
}

/// Records the command a just-blocked client will run again when served.
pub fn set_command(srv: &Shared, id: u64, cmd: &'static Command, stat: usize, argv: &[&[u8]]) {
    if let Some(w) = srv.blocking.lock().waiters.get_mut(&id) {
        w.command = Some((cmd, stat, argv.iter().map(|a| a.to_vec()).collect()));
    }
}

/// Unregisters a waiter (timeout, disconnect, kill). True if it was still
/// waiting; false if a writer served it meanwhile (its reply is in the channel).
pub fn cancel(srv: &Shared, id: u64) -> bool {
    let mut ks = srv.keyspace.lock();
    let mut reg = srv.blocking.lock();
    let found = reg.remove(&mut ks, id).is_some();
    srv.blocked_clients.store(reg.len(), Relaxed);
    found
}

/// CLIENT UNBLOCK: ends client `client_id`'s wait with the timeout reply, or with
/// Redis's UNBLOCKED error. False if that client is not blocked.
pub fn unblock(srv: &Shared, client_id: u64, error: bool) -> bool {
    let mut ks = srv.keyspace.lock();
    let mut reg = srv.blocking.lock();
    let Some(id) = reg
        .waiters
        .iter()
        .find(|(_, w)| w.handle.id == client_id)
        .map(|(&id, _)| id)
    else {
        return false;
    };
    let Some(w) = reg.remove(&mut ks, id) else {
        return false;
    };
    srv.blocked_clients.store(reg.len(), Relaxed);
    let reply = if error {
        b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec()
    } else {
        timeout_reply(w.protocol)
    };
    let _ = w.reply.send(reply);
    true
}

/// Serves every waiter whose key became ready, until no key is ready. Called
/// with the keyspace locked (in `guard`) after each top-level command.
pub fn serve_ready<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    clock: &mut Clock,
) {
    let settings = srv.settings();
    // Serving can make more keys ready (BLMOVE pushes to its destination): repeat
    // until none is. Each round serves or skips a finite set of waiters.
    loop {
        let Some(ks) = guard.as_mut() else {
            return;
        };
        let Some(db) = ks.dbs.iter().position(|d| d.has_ready()) else {
            return;
        };
        for key in ks.dbs[db].take_ready() {
            serve_key(srv, guard, &settings, clock, db, &key);
        }
    }
}

/// Tries the waiters of one ready key in the order they blocked.
fn serve_key<'s>(
    srv: &'s Shared,
    guard: &mut Option<MutexGuard<'s, Keyspace>>,
    settings: &Arc<crate::config::Settings>,
    clock: &mut Clock,
    db: usize,
    key: &Key,
) {
    let order: Vec<u64> = match srv.blocking.lock().queues.get(&(db, key.clone())) {
        Some(q) => q.iter().copied().collect(),
        None => return,
    };
    for id in order {
        let ks = guard.as_mut().expect("locked");
        if !ks.dbs[db].contains(key, clock.now_ms()) {
            // Nothing left to hand out (the usual end: the list was emptied).
            return;
        }
        let (handle, protocol, command) = {
            let reg = srv.blocking.lock();
            let Some(w) = reg.waiters.get(&id) else {
                continue;
            };
            let Some(command) = w.command.clone() else {
                continue;
            };
            (w.handle.clone(), w.protocol, command)
        };
        let (cmd, stat, argv) = command;
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let mut client =
            crate::client::Client::new(handle, true, settings.clone(), srv.settings_generation());
        client.db = db;
        let mut out = ReplyBuf::new(protocol);
        let (flow, failed) = dispatch::run_with(
            srv,
            guard,
            &mut client,
            &mut out,
            settings,
            cmd,
            stat,
            &argv,
            clock,
            Some(key.clone()),
        );
        if flow == Flow::Block || failed {
            // Still nothing for it here (or the key now holds another type, which
            // Redis 7.0 also leaves blocked): it keeps its place in the queue.
            continue;
        }
        let ks = guard.as_mut().expect("locked");
        let mut reg = srv.blocking.lock();
        if let Some(w) = reg.remove(ks, id) {
            let _ = w.reply.send(out.buf.to_vec());
        }
        srv.blocked_clients.store(reg.len(), Relaxed);
    }
}

/// The reply a client gets when its blocking command times out.
pub fn timeout_reply(protocol: Protocol) -> Vec<u8> {
    let mut out = ReplyBuf::new(protocol);
    out.null_array();
    out.buf.to_vec()
}
