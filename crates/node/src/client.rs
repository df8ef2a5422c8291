//! A connection's own state (database, auth, transaction, watches, subscriptions,
//! reply mode): owned by its task, never shared.

use crate::clients::ClientHandle;
use bytes::Bytes;
use ferrocache_keyspace::{Key, WatchFlag};
use ferrocache_resp::Spans;
use std::collections::HashSet;
use std::sync::Arc;

/// A MULTI in progress.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<Vec<Vec<u8>>>,
    /// Set when a command was rejected while queueing: EXEC then aborts.
    pub aborted: bool,
    /// Whether a queued command may grow memory (EXEC is then refused under OOM).
    pub denyoom: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
}

pub struct Client {
    pub handle: Arc<ClientHandle>,
    pub db: usize,
    pub authenticated: bool,
    pub multi: Option<Multi>,
    pub watch_flag: WatchFlag,
    /// Watched (db, key), and whether the key was already expired when watched.
    pub watched: Vec<(usize, Key, bool)>,
    pub channels: HashSet<Bytes>,
    pub patterns: HashSet<Bytes>,
    pub reply_mode: ReplyMode,
    /// CLIENT REPLY SKIP: drop the reply of the next command only.
    pub skip_next: bool,
    /// Parser scratch, kept to avoid reallocating per batch.
    pub spans: Spans,
    /// Prefetches the keys of the commands ahead in a pipelined batch.
    pub lookahead: crate::lookahead::Lookahead,
    /// The command this connection ran last, to skip the table lookup when it repeats.
    pub last_resolved: Option<(&'static crate::dispatch::Command, usize)>,
    /// Reused storage for a command's argument slices.
    pub argv_store: Vec<&'static [u8]>,
    /// The configuration as of `settings_gen`, refreshed when CONFIG SET changes it.
    pub settings: std::sync::Arc<crate::config::Settings>,
    pub settings_gen: u64,
    /// Bytes the read buffer must hold before parsing is worth trying again.
    pub need: usize,
    /// The last batch grew the replication stream: its replies wait until the
    /// feeders have had a turn (see `connection::run`).
    pub stream_grew: bool,
    /// Set while EXEC runs the queued commands (blocking commands must not block).
    pub in_exec: bool,
    /// The registration of a blocking command that is waiting.
    pub blocked: Option<crate::blocking::Pending>,
    /// What a replica told us with REPLCONF, and its PSYNC request.
    pub replconf: ReplConf,
    /// This is the link to our own primary: its writes are allowed on a read-only
    /// replica and its replies are not sent.
    pub is_master: bool,
    /// Handed over by the gateway: what it brought along.
    pub adopted: Option<crate::handoff::Adopted>,
}

/// REPLCONF and PSYNC as received from a replica, before the connection is handed
/// to the replication feeder.
#[derive(Debug, Default, Clone)]
pub struct ReplConf {
    pub listening_port: Option<u16>,
    pub ip_address: Option<std::net::IpAddr>,
    /// The replica accepts a snapshot ended by an EOF marker.
    pub capa_eof: bool,
    /// PSYNC's replication ID and offset (SYNC: `?` and -1).
    pub psync: Option<(String, i64)>,
}

impl Client {
    pub fn new(
        handle: Arc<ClientHandle>,
        authenticated: bool,
        settings: Arc<crate::config::Settings>,
        settings_gen: u64,
    ) -> Self {
        Client {
            handle,
            db: 0,
            authenticated,
            multi: None,
            watch_flag: WatchFlag::default(),
            watched: Vec::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            reply_mode: ReplyMode::On,
            skip_next: false,
            spans: Spans::default(),
            lookahead: Default::default(),
            argv_store: Vec::with_capacity(16),
            last_resolved: None,
            settings,
            settings_gen,
            need: 0,
            stream_grew: false,
            in_exec: false,
            blocked: None,
            replconf: ReplConf::default(),
            is_master: false,
            adopted: None,
        }
    }
    pub fn subscription_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}
