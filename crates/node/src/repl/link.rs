//! The replica's side: the link to the primary named by REPLICAOF. Connect,
//! handshake (PING, AUTH, REPLCONF listening-port and capabilities), PSYNC with
//! this node's own replication ID and offset — which is what lets an old primary,
//! or a replica whose link broke, continue partially — then load the snapshot if
//! the primary sends one, and apply the stream as the "master client": its writes
//! are allowed on a read-only replica and nothing is replied. The stream's bytes
//! also go into this node's own backlog, so its offsets equal the primary's — a
//! transaction's only once its EXEC has been applied, as Redis counts a replica's
//! offset, so the backlog (and with it sub-replicas and the AOF) never holds half
//! of one.
//!
//! The link retries until REPLICAOF NO ONE (or another REPLICAOF) cancels it.

use crate::client::Client;
use crate::dispatch::{self, Flow};
use crate::server::{unix_ms, Clock, Shared};
use anyhow::{anyhow, bail, Context};
use bytes::{Buf, BytesMut};
use ferrocache_resp::{parse_request, ParseLimits, Protocol, ReplyBuf, Request};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long connecting and each handshake step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// Between attempts while the primary cannot be reached (Redis waits a second;
/// a failover wants the old primary back sooner).
const RETRY: Duration = Duration::from_millis(200);
/// How often the replica tells the primary its offset.
const ACK_PERIOD: Duration = Duration::from_secs(1);

use super::state::LinkState;

/// Room kept free in the stream buffer for each read from the primary.
const READ_ROOM: usize = 64 * 1024;

/// Starts following `host:port` (REPLICAOF): replaces any previous link,
/// disconnects this node's own replicas (they must resync with the new history),
/// and spawns the link task.
pub fn start(srv: &Arc<Shared>, host: String, port: u16) {
    let mut st = srv.repl.lock();
    start_locked(srv, &mut st, host, port);
}

/// `start` with the state already locked (FAILOVER demotes under the keyspace
/// lock, so that no write lands between its last check and the switch).
pub fn start_locked(srv: &Arc<Shared>, st: &mut super::state::ReplState, host: String, port: u16) {
    let (cancel, generation) = st.start_link(host.clone(), port);
    st.ensure_backlog(srv.settings().repl.backlog_size);
    srv.repl.sync_flags(st);
    for id in st.replicas.keys() {
        if let Some(c) = srv.clients.all().into_iter().find(|c| c.id == *id) {
            c.request_kill();
        }
    }
    tokio::spawn(run(srv.clone(), host, port, cancel, generation));
}

/// REPLICAOF NO ONE: stops following and starts a new history under a new ID
/// (the old one stays valid up to now, so others can continue from it).
pub fn promote(srv: &Shared) {
    let mut st = srv.repl.lock();
    if !matches!(st.role, super::Role::Replica { .. }) {
        return;
    }
    st.stop_link();
    st.role = super::Role::Primary;
    st.ensure_backlog(srv.settings().repl.backlog_size);
    st.shift_replid(super::wire::new_replid());
    srv.repl.sync_flags(&st);
    tracing::info!(replid = %st.replid, offset = st.offset(), "promoted to primary");
}

fn set_state(srv: &Shared, generation: u64, state: LinkState) {
    let mut st = srv.repl.lock();
    if let Some(l) = st.link_mut(generation) {
        if state != LinkState::Connected && l.state == LinkState::Connected {
            l.down_since = std::time::Instant::now();
        }
        l.state = state;
        l.last_io = std::time::Instant::now();
    }
}

async fn run(
    srv: Arc<Shared>,
    host: String,
    port: u16,
    cancel: CancellationToken,
    generation: u64,
) {
    let mut master = MasterClient::new(&srv);
    // Continuing the same stream (a partial resync) continues in its database.
    master.client.db = srv.repl.lock().applied_db;
    loop {
        set_state(&srv, generation, LinkState::Connecting);
        let session = session(&srv, &host, port, generation, &mut master);
        let result = tokio::select! {
            r = session => r,
            _ = cancel.cancelled() => Ok(()),
            _ = srv.shutdown.cancelled() => Ok(()),
        };
        if cancel.is_cancelled() || srv.shutdown.is_cancelled() {
            break;
        }
        if let Err(e) = result {
            tracing::info!(primary = %format!("{host}:{port}"), "replication link down: {e:#}");
            if super::failover::handing_to(&srv.repl.lock(), &host, port) {
                super::failover::link_failed(&srv);
            }
        }
        if master
            .client
            .handle
            .killed
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            // A killed link comes back as a new client that continues the stream.
            master = master.renewed(&srv);
        }
        set_state(&srv, generation, LinkState::Connect);
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = cancel.cancelled() => break,
            _ = srv.shutdown.cancelled() => break,
        }
    }
    master.close(&srv);
}

/// One connection to the primary, from connect to loss.
async fn session(
    srv: &Arc<Shared>,
    host: &str,
    port: u16,
    generation: u64,
    master: &mut MasterClient,
) -> anyhow::Result<()> {
    let mut stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .context("connect timed out")?
        .context("connect")?;
    let _ = stream.set_nodelay(true);
    let mut buf = BytesMut::with_capacity(READ_ROOM);
    let settings = srv.settings();
    // A transaction cut off by the last link's loss is not in the backlog, so
    // PSYNC asks for it again from its MULTI: what was queued of it goes.
    master.discard_transaction();
    command(&mut stream, &mut buf, &["PING"], |r| {
        // NOAUTH is fine here: AUTH follows.
        r.starts_with("+") || r.starts_with("-NOAUTH")
    })
    .await?;
    if let Some(pass) = &settings.repl.masterauth {
        let mut args = vec!["AUTH"];
        if let Some(user) = &settings.repl.masteruser {
            args.push(user);
        }
        args.push(pass);
        command(&mut stream, &mut buf, &args, |r| r.starts_with('+')).await?;
    }
    let my_port = srv
        .port
        .load(std::sync::atomic::Ordering::Relaxed)
        .to_string();
    command(
        &mut stream,
        &mut buf,
        &["REPLCONF", "listening-port", &my_port],
        |r| r.starts_with('+'),
    )
    .await?;
    command(
        &mut stream,
        &mut buf,
        &["REPLCONF", "capa", "eof", "capa", "psync2"],
        |r| r.starts_with('+'),
    )
    .await?;
    let (replid, next, failover) = {
        let st = srv.repl.lock();
        let failover = super::failover::handing_to(&st, host, port);
        (st.replid.clone(), st.offset() + 1, failover)
    };
    let next = next.to_string();
    let mut psync = vec!["PSYNC", &replid, &next];
    if failover {
        // The demoted primary asks its old replica to take over (Redis's FAILOVER).
        psync.push("FAILOVER");
    }
    send(&mut stream, &psync).await?;
    let reply = read_line(&mut stream, &mut buf, true).await?;
    if failover {
        let accepted = reply.starts_with("+CONTINUE") || reply.starts_with("+FULLRESYNC");
        super::failover::answered(srv, accepted, &reply);
    }
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split(' ');
        let id = parts.next().unwrap_or_default().to_string();
        let offset: u64 = parts
            .next()
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| anyhow!("bad FULLRESYNC line: {reply}"))?;
        set_state(srv, generation, LinkState::Sync);
        let payload = read_payload(&mut stream, &mut buf).await?;
        install_snapshot(srv, payload, id, offset).await?;
        master.reset_db();
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let mut st = srv.repl.lock();
        if !new_id.is_empty() && new_id != st.replid {
            st.shift_replid(new_id.to_string());
        }
        tracing::info!(offset = st.offset(), "partial resync with the primary");
    } else {
        bail!("the primary answered PSYNC with: {reply}");
    }
    set_state(srv, generation, LinkState::Connected);
    stream_loop(srv, &mut stream, &mut buf, generation, master).await
}

/// Applies the primary's stream until the link fails.
async fn stream_loop(
    srv: &Arc<Shared>,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    generation: u64,
    master: &mut MasterClient,
) -> anyhow::Result<()> {
    let mut ack_at = Instant::now();
    let mut last_io = Instant::now();
    loop {
        // Apply everything complete; a GETACK is answered as soon as it is reached.
        while !buf.is_empty() {
            let before = buf.len();
            master.apply(srv, buf);
            if master.ack_owed {
                master.ack_owed = false;
                send_ack(srv, stream).await?;
                ack_at = Instant::now() + ACK_PERIOD;
            }
            if buf.len() == before {
                break;
            }
        }
        if Instant::now() >= ack_at {
            send_ack(srv, stream).await?;
            ack_at = Instant::now() + ACK_PERIOD;
        }
        let timeout = Duration::from_secs(srv.settings().repl.timeout_secs);
        // Keep room for a large read: BytesMut only grows by 64 bytes once full, and
        // what `advance` consumed is reclaimed only by a reserve.
        if buf.capacity() - buf.len() < READ_ROOM / 2 {
            buf.reserve(READ_ROOM);
        }
        tokio::select! {
            r = stream.read_buf(buf) => match r {
                Ok(0) => bail!("the primary closed the connection"),
                Ok(_) => {
                    last_io = Instant::now();
                    set_io(srv, generation);
                }
                Err(e) => return Err(e.into()),
            },
            _ = tokio::time::sleep_until(ack_at) => {}
            _ = tokio::time::sleep_until(last_io + timeout) => bail!("no data from the primary for {} s (repl-timeout)", timeout.as_secs()),
            _ = master.client.handle.kill.notified() => bail!("the link was killed (CLIENT KILL)"),
        }
    }
}

fn set_io(srv: &Shared, generation: u64) {
    if let Some(l) = srv.repl.lock().link_mut(generation) {
        l.last_io = std::time::Instant::now();
    }
}

async fn send_ack(srv: &Shared, stream: &mut TcpStream) -> anyhow::Result<()> {
    let offset = srv.repl.lock().offset().to_string();
    send(stream, &["REPLCONF", "ACK", &offset]).await
}

/// Loads the primary's snapshot off the event loop, then swaps it in.
async fn install_snapshot(
    srv: &Arc<Shared>,
    payload: Vec<u8>,
    id: String,
    offset: u64,
) -> anyhow::Result<()> {
    let settings = srv.settings();
    let started = std::time::Instant::now();
    let databases = settings.databases;
    let load_settings = (*settings).clone();
    let (fresh, info) = tokio::task::spawn_blocking(move || {
        crate::persist::load::read_rdb(&payload[..], databases, &load_settings, unix_ms())
    })
    .await
    .map_err(|e| anyhow!("the snapshot loader failed: {e}"))?
    .context("loading the primary's snapshot")?;
    {
        let mut ks = srv.keyspace.lock();
        crate::persist::load::install(&mut ks, fresh);
        let mut st = srv.repl.lock();
        st.reset_history(id, offset, settings.repl.backlog_size);
        srv.repl.sync_flags(&st);
    }
    tracing::info!(
        keys = info.keys,
        offset,
        ms = started.elapsed().as_millis() as u64,
        "full resync: the primary's snapshot is loaded"
    );
    Ok(())
}

async fn send(stream: &mut TcpStream, args: &[&str]) -> anyhow::Result<()> {
    let mut out = Vec::new();
    super::wire::encode_command(&mut out, args);
    tokio::time::timeout(STEP_TIMEOUT, stream.write_all(&out))
        .await
        .context("write timed out")??;
    Ok(())
}

/// Sends a handshake command and checks its one-line reply.
async fn command(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    args: &[&str],
    ok: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    send(stream, args).await?;
    let reply = read_line(stream, buf, false).await?;
    if !ok(&reply) {
        bail!("the primary answered {} with: {reply}", args.join(" "));
    }
    Ok(())
}

/// Reads one line (without CRLF). With `skip_newlines`, the bare `\n` keepalives a
/// primary sends while it prepares a snapshot are skipped.
async fn read_line(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    skip_newlines: bool,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if skip_newlines {
            while buf.first() == Some(&b'\n') {
                buf.advance(1);
            }
        }
        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.advance(i + 2);
            return Ok(line);
        }
        if buf.len() > 64 * 1024 {
            bail!("the primary sent a line longer than 64 KiB");
        }
        let n = tokio::time::timeout_at(deadline, stream.read_buf(buf))
            .await
            .context("the primary did not answer in time")??;
        if n == 0 {
            bail!("the primary closed the connection");
        }
    }
}

/// Reads the snapshot after +FULLRESYNC: `$<len>\r\n` and that many bytes, or
/// `$EOF:<40-byte mark>\r\n` and bytes until the mark.
async fn read_payload(stream: &mut TcpStream, buf: &mut BytesMut) -> anyhow::Result<Vec<u8>> {
    // The primary may take a while to produce the snapshot: it sends "\n" to show
    // it is alive, so wait on repl-timeout-like patience rather than a step timeout.
    let header = loop {
        while buf.first() == Some(&b'\n') {
            buf.advance(1);
        }
        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.advance(i + 2);
            break line;
        }
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read_buf(buf))
            .await
            .context("no snapshot from the primary within 60 s")??;
        if n == 0 {
            bail!("the primary closed the connection before the snapshot");
        }
    };
    let spec = header
        .strip_prefix('$')
        .ok_or_else(|| anyhow!("expected the snapshot's length, got: {header}"))?;
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            bail!("bad EOF mark in: {header}");
        }
        let mut payload = Vec::new();
        loop {
            payload.extend_from_slice(buf);
            buf.clear();
            if payload.ends_with(&mark) {
                payload.truncate(payload.len() - mark.len());
                return Ok(payload);
            }
            if stream.read_buf(buf).await? == 0 {
                bail!("the primary closed the connection during the snapshot");
            }
        }
    }
    let len: usize = spec
        .parse()
        .map_err(|_| anyhow!("bad snapshot length: {header}"))?;
    let mut payload = Vec::with_capacity(len.min(1 << 30));
    while payload.len() + buf.len() < len {
        let take = buf.len();
        payload.extend_from_slice(&buf[..take]);
        buf.clear();
        if stream.read_buf(buf).await? == 0 {
            bail!("the primary closed the connection during the snapshot");
        }
    }
    let rest = len - payload.len();
    payload.extend_from_slice(&buf[..rest]);
    buf.advance(rest);
    Ok(payload)
}

/// The client the primary's stream runs as.
struct MasterClient {
    client: Client,
    out: ReplyBuf,
    /// A GETACK was applied: the primary wants our offset now.
    ack_owed: bool,
    /// The bytes of a transaction that has begun (MULTI) but not ended: applied
    /// (queued) but not yet in the backlog.
    unfed: Vec<u8>,
}

impl MasterClient {
    fn new(srv: &Arc<Shared>) -> MasterClient {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let accepted = crate::connection::register(srv, addr, addr);
        let mut client = Client::new(
            accepted.handle.clone(),
            true,
            srv.settings(),
            srv.settings_generation(),
        );
        client.is_master = true;
        client.handle.role.store(
            crate::clients::ROLE_MASTER,
            std::sync::atomic::Ordering::Relaxed,
        );
        MasterClient {
            client,
            out: ReplyBuf::new(Protocol::Resp2),
            ack_owed: false,
            unfed: Vec::new(),
        }
    }

    /// A fresh client (the old one was killed) in the same database.
    fn renewed(self, srv: &Arc<Shared>) -> MasterClient {
        self.close(srv);
        let mut next = MasterClient::new(srv);
        next.client.db = self.client.db;
        next
    }

    /// After a full resync the stream starts with no database selected.
    fn reset_db(&mut self) {
        self.client.db = 0;
        self.discard_transaction();
    }

    fn discard_transaction(&mut self) {
        self.client.multi = None;
        self.unfed.clear();
    }

    fn close(&self, srv: &Shared) {
        srv.clients.unregister(self.client.handle.id);
    }

    /// Runs the complete commands in `buf` and adds their bytes to this node's
    /// backlog (those of an unfinished transaction once it has ended). Stops after
    /// a GETACK, setting `ack_owed`, so the caller answers it before applying
    /// anything that follows.
    fn apply(&mut self, srv: &Arc<Shared>, buf: &mut BytesMut) {
        let settings = srv.settings();
        self.client.settings = settings.clone();
        let limits = ParseLimits {
            max_bulk_len: usize::MAX,
            ..ParseLimits::default()
        };
        let mut spans = ferrocache_resp::Spans::default();
        let mut guard = None;
        let mut clock = Clock::start();
        let mut pos = 0;
        // Where the last command after which no transaction was open ends.
        let mut whole = 0;
        self.client.lookahead.reset();
        let mut argv_store = std::mem::take(&mut self.client.argv_store);
        loop {
            let rest = &buf[pos..];
            match parse_request(rest, &mut spans, &limits) {
                Ok(Request::Complete(n)) => {
                    let mut argv = crate::connection::recycle(std::mem::take(&mut argv_store));
                    spans.collect(rest, &mut argv);
                    let getack = argv.len() >= 2
                        && argv[0].eq_ignore_ascii_case(b"replconf")
                        && argv[1].eq_ignore_ascii_case(b"getack");
                    if getack {
                        self.client.argv_store = crate::connection::recycle(argv);
                        // Answered before anything after it is applied.
                        pos += n;
                        if self.client.multi.is_none() {
                            whole = pos;
                        }
                        self.feed_applied(srv, &mut guard, buf, pos, whole);
                        self.ack_owed = true;
                        drop(guard);
                        srv.repl.publish();
                        return;
                    }
                    if !argv.is_empty() {
                        if let Some(ks) = guard.as_deref() {
                            self.client
                                .lookahead
                                .run(buf, pos, ks, self.client.db, &limits);
                        }
                        let flow = dispatch::submit(
                            srv,
                            &mut guard,
                            &mut self.client,
                            &mut self.out,
                            &settings,
                            &argv,
                            &mut clock,
                        );
                        if flow != Flow::Continue {
                            tracing::warn!(
                                ?flow,
                                "a command from the primary did not complete normally"
                            );
                        }
                        self.out.buf.clear();
                    }
                    argv_store = crate::connection::recycle(argv);
                    pos += n;
                    if self.client.multi.is_none() {
                        whole = pos;
                    }
                }
                Ok(Request::Incomplete(_)) => break,
                Err(e) => {
                    tracing::error!("the primary sent a malformed command ({e}); dropping the rest of the buffer");
                    pos = buf.len();
                    if self.client.multi.is_none() {
                        whole = pos;
                    }
                    break;
                }
            }
        }
        self.client.argv_store = argv_store;
        self.feed_applied(srv, &mut guard, buf, pos, whole);
        drop(guard);
        srv.repl.publish();
    }

    /// Consumes the `pos` applied bytes of `buf`: into the backlog up to `whole`
    /// (after what an earlier call held back), the rest (a transaction not ended
    /// yet) held back.
    fn feed_applied<'s>(
        &mut self,
        srv: &'s Shared,
        guard: &mut Option<parking_lot::MutexGuard<'s, ferrocache_keyspace::Keyspace>>,
        buf: &mut BytesMut,
        pos: usize,
        whole: usize,
    ) {
        if whole > 0 {
            // No SELECT inside a transaction has run yet (it is queued), so the
            // client's database is the stream's at `whole`.
            let held = std::mem::take(&mut self.unfed);
            feed(srv, guard, &[&held, &buf[..whole]], self.client.db);
            self.unfed = held;
            self.unfed.clear();
        }
        self.unfed.extend_from_slice(&buf[whole..pos]);
        buf.advance(pos);
    }
}

/// Adds applied stream bytes to this node's backlog (keyspace locked first, as
/// everywhere, so sub-replicas see the same order), with the database the stream
/// has selected after them.
fn feed<'s>(
    srv: &'s Shared,
    guard: &mut Option<parking_lot::MutexGuard<'s, ferrocache_keyspace::Keyspace>>,
    parts: &[&[u8]],
    db: usize,
) {
    if parts.iter().all(|p| p.is_empty()) {
        return;
    }
    let _ks = guard.get_or_insert_with(|| srv.keyspace.lock());
    let mut st = srv.repl.lock();
    for p in parts {
        st.feed_raw(p);
    }
    st.applied_db = db;
}
