//! The node's replication state: its role, replication IDs and offset, the
//! backlog, the replicas attached to it and the link to its primary.
//!
//! Lock order: the keyspace, then this. Writes are recorded while the keyspace is
//! locked, so the stream's order is the order in which commands ran.

use super::backlog::Backlog;
use super::wire::{encode_command, new_replid};
use parking_lot::{Mutex, MutexGuard};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What this node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Primary,
    /// Following `host:port` (REPLICAOF).
    Replica {
        host: String,
        port: u16,
    },
}

/// Where the link to the primary stands (ROLE's and INFO's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; will try.
    Connect,
    /// Connecting and handshaking.
    Connecting,
    /// Receiving the primary's snapshot.
    Sync,
    /// Streaming.
    Connected,
}

impl LinkState {
    pub fn role_word(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// A replica attached to this node, as INFO and ROLE show it.
#[derive(Debug, Clone)]
pub struct ReplicaInfo {
    pub ip: IpAddr,
    pub listening_port: u16,
    /// `wait_bgsave`, `send_bulk` or `online`.
    pub state: &'static str,
    /// The offset the replica last acknowledged.
    pub ack_offset: u64,
    pub ack_time: Instant,
    /// The stream offset written to its socket so far (FAILOVER demotes only once
    /// the target has been sent everything, GETACK included).
    pub sent: u64,
}

/// The link to the primary, while this node is a replica.
#[derive(Debug)]
pub struct Link {
    pub state: LinkState,
    pub last_io: Instant,
    /// When the link went down (INFO master_link_down_since_seconds).
    pub down_since: Instant,
    pub cancel: CancellationToken,
    /// Bumped on every REPLICAOF, so a link task that lost the race stops.
    pub generation: u64,
}

#[derive(Debug)]
pub struct ReplState {
    pub role: Role,
    pub replid: String,
    /// The replication ID this node had before its last promotion, valid up to
    /// `second_offset`: the old primary and siblings resync partially with it.
    pub replid2: String,
    /// The last offset valid under `replid2` + 1 (-1 when there is none), as Redis
    /// reports `second_repl_offset`.
    pub second_offset: i64,
    /// master_repl_offset while there is no backlog (there is one as soon as a
    /// replica attaches, or this node becomes a replica).
    offset: u64,
    backlog: Option<Backlog>,
    /// The database the stream last selected (None: the next command needs SELECT).
    stream_db: Option<usize>,
    /// On a replica: the database its primary's stream has selected at the
    /// backlog's end (an AOF file that starts there must select it first).
    pub applied_db: usize,
    /// Inside EXEC: a MULTI is owed before the first write, and an EXEC after.
    exec: ExecWrap,
    pub replicas: BTreeMap<u64, ReplicaInfo>,
    pub link: Option<Link>,
    link_generation: u64,
    scratch: Vec<u8>,
    /// When the primary last put a PING in the stream for its replicas.
    pub last_ping: Option<Instant>,
    /// A FAILOVER in progress, if any.
    pub failover: super::failover::Failover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExecWrap {
    None,
    Pending,
    Open,
}

impl ReplState {
    pub fn offset(&self) -> u64 {
        self.backlog.as_ref().map_or(self.offset, Backlog::end)
    }

    pub fn backlog(&self) -> Option<&Backlog> {
        self.backlog.as_ref()
    }

    /// Creates the backlog if there is none (a replica is attaching, or this node
    /// follows a primary). True if it was created now.
    pub fn ensure_backlog(&mut self, size: usize) -> bool {
        if self.backlog.is_some() {
            return false;
        }
        self.backlog = Some(Backlog::new(size, self.offset));
        self.stream_db = None;
        true
    }

    pub fn resize_backlog(&mut self, size: usize) {
        if let Some(b) = self.backlog.as_mut() {
            b.resize(size);
        }
    }

    /// Appends one command (run in `db`) to the stream.
    pub fn feed<A: AsRef<[u8]>>(&mut self, db: usize, args: &[A]) {
        let Some(backlog) = self.backlog.as_mut() else {
            return;
        };
        let out = &mut self.scratch;
        out.clear();
        if self.exec == ExecWrap::Pending {
            encode_command(out, &["MULTI"]);
            self.exec = ExecWrap::Open;
        }
        if self.stream_db != Some(db) {
            encode_command(
                out,
                &[
                    b"SELECT" as &[u8],
                    itoa::Buffer::new().format(db).as_bytes(),
                ],
            );
            self.stream_db = Some(db);
        }
        encode_command(out, args);
        backlog.append(out);
    }

    /// The next command recorded will select its database again.
    pub fn force_select(&mut self) {
        self.stream_db = None;
    }

    /// Appends a command that belongs to no database (PING, REPLCONF GETACK).
    pub fn feed_global<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let Some(backlog) = self.backlog.as_mut() else {
            return;
        };
        self.scratch.clear();
        encode_command(&mut self.scratch, args);
        backlog.append(&self.scratch);
    }

    /// Appends bytes received from this node's own primary, as they came, so that
    /// this node's offsets stay equal to the primary's.
    pub fn feed_raw(&mut self, bytes: &[u8]) {
        if let Some(b) = self.backlog.as_mut() {
            b.append(bytes);
        }
    }

    /// EXEC begins: its writes are wrapped in MULTI … EXEC if there are any.
    pub fn begin_exec(&mut self) {
        self.exec = ExecWrap::Pending;
    }

    pub fn end_exec(&mut self) {
        if self.exec == ExecWrap::Open {
            self.exec = ExecWrap::None;
            self.feed_global(&["EXEC"]);
        }
        self.exec = ExecWrap::None;
    }

    /// At start, after loading a snapshot that names the history it belongs to (the
    /// RDB's `repl-id`/`repl-offset`): this node continues that history, so that when
    /// it follows a primary again (a restarted replica, or an old primary after a
    /// failover) it asks for a partial resync instead of copying everything, as
    /// Redis does. Ignored once a backlog exists (the node has moved on since).
    /// `db` is the database the stream had selected there (`repl-stream-db`): the
    /// primary sends SELECT only when the database changes, so what continues the
    /// stream is applied in it. One this node does not have (of `databases`) makes
    /// the history unusable: better a full resync than writes in the wrong one.
    pub fn restore_history(&mut self, replid: &str, offset: u64, db: usize, databases: usize) {
        if self.backlog.is_some()
            || replid.len() != 40
            || replid.bytes().all(|b| b == b'0')
            || db >= databases
        {
            return;
        }
        self.replid = replid.to_string();
        self.offset = offset;
        self.applied_db = db;
    }

    /// The database the stream has selected at its end (`repl-stream-db` of a
    /// snapshot): this node's own choice as a primary, its primary's as a replica.
    pub fn stream_db_at_end(&self) -> usize {
        self.stream_db.unwrap_or(self.applied_db)
    }

    /// Starts a new history (a full resync from a primary, or a fresh start).
    pub fn reset_history(&mut self, replid: String, offset: u64, backlog_size: usize) {
        self.replid = replid;
        self.replid2 = "0".repeat(40);
        self.second_offset = -1;
        self.offset = offset;
        self.backlog = Some(Backlog::new(backlog_size, offset));
        self.stream_db = None;
        self.applied_db = 0;
    }

    /// A primary changed its replication ID (PSYNC answered +CONTINUE with a new
    /// one, or this node was promoted): the old ID stays valid up to now.
    pub fn shift_replid(&mut self, new_id: String) {
        let offset = self.offset();
        self.replid2 = std::mem::replace(&mut self.replid, new_id);
        self.second_offset = offset as i64 + 1;
        // A new history: whoever continues it must be told the database again.
        self.stream_db = None;
    }

    /// Whether a replica asking for `replid` from `offset` (its next byte) can
    /// continue from the backlog.
    pub fn can_continue(&self, replid: &str, next: u64) -> bool {
        let Some(backlog) = self.backlog.as_ref() else {
            return false;
        };
        let known =
            replid == self.replid || (replid == self.replid2 && next as i64 <= self.second_offset);
        known && next >= 1 && backlog.can_continue_from(next - 1)
    }

    /// Starts following a new primary; returns the link's cancellation token and
    /// generation.
    pub fn start_link(&mut self, host: String, port: u16) -> (CancellationToken, u64) {
        self.stop_link();
        self.link_generation += 1;
        let cancel = CancellationToken::new();
        let now = Instant::now();
        self.link = Some(Link {
            state: LinkState::Connect,
            last_io: now,
            down_since: now,
            cancel: cancel.clone(),
            generation: self.link_generation,
        });
        self.role = Role::Replica { host, port };
        (cancel, self.link_generation)
    }

    pub fn stop_link(&mut self) {
        if let Some(link) = self.link.take() {
            link.cancel.cancel();
        }
    }

    /// The link of generation `generation`, if it is still the current one.
    pub fn link_mut(&mut self, generation: u64) -> Option<&mut Link> {
        self.link.as_mut().filter(|l| l.generation == generation)
    }

    /// How many replicas have acknowledged at least `offset`.
    pub fn acked_at_least(&self, offset: u64) -> usize {
        self.replicas
            .values()
            .filter(|r| r.state == "online" && r.ack_offset >= offset)
            .count()
    }

    /// Replicas online whose last ACK is at most `max_lag_secs` old.
    pub fn good_replicas(&self, max_lag_secs: u64) -> usize {
        self.replicas
            .values()
            .filter(|r| r.state == "online" && r.ack_time.elapsed().as_secs() <= max_lag_secs)
            .count()
    }
}

/// The replication state shared by every task, with lock-free flags for the hot path.
pub struct Repl {
    inner: Mutex<ReplState>,
    /// This node is a primary with a backlog: its writes are recorded.
    active: AtomicBool,
    /// A backlog exists (on a replica it holds the primary's stream).
    has_backlog: AtomicBool,
    /// This node is a replica: normal clients may not write.
    replica: AtomicBool,
    /// The stream's end offset, published to feeders after each batch.
    end_tx: watch::Sender<u64>,
    /// Bumped whenever a replica acknowledges (WAIT and FAILOVER wait on it).
    ack_tx: watch::Sender<u64>,
    acks: AtomicU64,
    /// Resyncs served to replicas (INFO stats `sync_full`, `sync_partial_ok`,
    /// `sync_partial_err`).
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
}

impl Default for Repl {
    fn default() -> Self {
        Repl {
            inner: Mutex::new(ReplState {
                role: Role::Primary,
                replid: new_replid(),
                replid2: "0".repeat(40),
                second_offset: -1,
                offset: 0,
                backlog: None,
                stream_db: None,
                applied_db: 0,
                exec: ExecWrap::None,
                replicas: BTreeMap::new(),
                link: None,
                link_generation: 0,
                scratch: Vec::new(),
                last_ping: None,
                failover: Default::default(),
            }),
            active: AtomicBool::new(false),
            has_backlog: AtomicBool::new(false),
            replica: AtomicBool::new(false),
            end_tx: watch::Sender::new(0),
            ack_tx: watch::Sender::new(0),
            acks: AtomicU64::new(0),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
        }
    }
}

impl Repl {
    /// Locks the state. Call with the keyspace locked first if both are needed.
    pub fn lock(&self) -> MutexGuard<'_, ReplState> {
        self.inner.lock()
    }

    /// Whether writes must be recorded (one relaxed load on the hot path).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Relaxed)
    }

    #[inline]
    pub fn is_replica(&self) -> bool {
        self.replica.load(Relaxed)
    }

    /// Brings the lock-free flags in line with the state (after a change of role
    /// or the creation of the backlog).
    pub fn sync_flags(&self, state: &ReplState) {
        let replica = matches!(state.role, Role::Replica { .. });
        self.has_backlog.store(state.backlog.is_some(), Relaxed);
        self.active
            .store(state.backlog.is_some() && !replica, Relaxed);
        self.replica.store(replica, Relaxed);
    }

    /// Tells feeders the stream has grown (cheap when it has not); true if it had
    /// and replicas are attached (their feeders should send before the replies go).
    pub fn publish(&self) -> bool {
        if !self.has_backlog.load(Relaxed) {
            return false;
        }
        let (end, replicas) = {
            let st = self.inner.lock();
            (st.offset(), !st.replicas.is_empty())
        };
        let grew = self.end_tx.send_if_modified(|v| {
            let changed = *v != end;
            *v = end;
            changed
        });
        grew && replicas
    }

    pub fn subscribe_end(&self) -> watch::Receiver<u64> {
        self.end_tx.subscribe()
    }

    /// Records a replica's acknowledgement and wakes WAIT/FAILOVER.
    pub fn ack(&self, id: u64, offset: u64) {
        {
            let mut st = self.inner.lock();
            if let Some(r) = st.replicas.get_mut(&id) {
                r.ack_offset = r.ack_offset.max(offset);
                r.ack_time = Instant::now();
            }
        }
        let n = self.acks.fetch_add(1, Relaxed) + 1;
        self.ack_tx.send_replace(n);
    }

    /// Whether this replica's link to its primary is streaming.
    pub fn link_up(&self) -> bool {
        self.inner
            .lock()
            .link
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Connected)
    }

    pub fn subscribe_acks(&self) -> watch::Receiver<u64> {
        self.ack_tx.subscribe()
    }
}
