//! One client connection: read a buffer, run every complete command in it under a
//! single keyspace lock, write all replies at once; deliver pub/sub messages;
//! close on QUIT, kill, idle timeout, protocol error or shutdown.

use crate::client::Client;
use crate::clients::{ClientHandle, Delivery};
use crate::dispatch::{self, Flow};
use crate::handoff::{Adopted, Outgoing};
use crate::server::{unix_ms, Clock, Shared};
use bytes::{Buf, BytesMut};
use ferrocache_handoff::{ConnState, Via};
use ferrocache_resp::{parse_request, ParseLimits, Protocol, ReplyBuf, Request};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const READ_CHUNK: usize = 16 * 1024;
/// The reason a connection's task ends when the gateway takes it back.
const RELEASED: &str = "released to the gateway";

/// A connection handed over by the gateway, with what it brought along.
pub struct Adoption {
    pub state: ConnState,
    /// Input the gateway read and did not forward: run first.
    pub pending: Vec<u8>,
    pub idle_timeout_ms: u64,
    pub adopted: Adopted,
}

/// A connection registered in the client registry, not yet served.
pub struct Accepted {
    pub(crate) handle: Arc<ClientHandle>,
    pub(crate) rx: mpsc::UnboundedReceiver<Delivery>,
}

/// Registers a just-accepted connection at once, in the accept loop, so that
/// CLIENT LIST/KILL see it as soon as the peer's connect() returns (as in Redis),
/// not only once its task first runs.
pub fn register(srv: &Shared, addr: SocketAddr, laddr: SocketAddr) -> Accepted {
    let (tx, rx) = mpsc::unbounded_channel();
    let now = unix_ms();
    let handle = Arc::new(ClientHandle {
        id: srv.clients.next_id(),
        addr,
        laddr,
        created_ms: now,
        name: Default::default(),
        db: Default::default(),
        last_interaction_ms: now.into(),
        last_cmd: usize::MAX.into(),
        subscriptions: Default::default(),
        psubscriptions: Default::default(),
        multi: Default::default(),
        resp: 2.into(),
        no_evict: Default::default(),
        blocked: Default::default(),
        queued_bytes: Default::default(),
        soft_limit_since_ms: Default::default(),
        kill: Default::default(),
        killed: Default::default(),
        role: Default::default(),
        release: Default::default(),
        idle_timeout_ms: u64::MAX.into(),
        tx,
    });
    srv.clients.register(handle.clone());
    Accepted { handle, rx }
}

/// Serves one registered connection until it ends.
pub async fn serve(srv: Arc<Shared>, stream: TcpStream, accepted: Accepted) {
    serve_inner(srv, stream, accepted, None).await
}

/// Takes over a connection the gateway handed over (its socket, state and unread
/// input) and serves it like any other.
pub fn adopt(
    srv: &Arc<Shared>,
    stream: std::net::TcpStream,
    adoption: Adoption,
) -> std::io::Result<()> {
    stream.set_nonblocking(true)?;
    let stream = TcpStream::from_std(stream)?;
    let addr = stream.peer_addr()?;
    let laddr = stream.local_addr()?;
    srv.stats.connections_received.fetch_add(1, Relaxed);
    let accepted = register(srv, addr, laddr);
    srv.handoff
        .register(accepted.handle.clone(), adoption.adopted.via);
    tokio::spawn(serve_inner(srv.clone(), stream, accepted, Some(adoption)));
    Ok(())
}

async fn serve_inner(
    srv: Arc<Shared>,
    mut stream: TcpStream,
    accepted: Accepted,
    adoption: Option<Adoption>,
) {
    let _ = stream.set_nodelay(true);
    let Accepted { handle, mut rx } = accepted;
    let addr = handle.addr;
    let authenticated = srv.settings().requirepass.is_none();
    let mut client = Client::new(
        handle.clone(),
        authenticated,
        srv.settings(),
        srv.settings_generation(),
    );
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = ReplyBuf::new(Protocol::Resp2);
    if let Some(a) = adoption {
        client.authenticated = true;
        let db = (a.state.db.max(0) as usize).min(client.settings.databases.saturating_sub(1));
        client.db = db;
        handle.db.store(db as u32, Relaxed);
        if a.state.resp3 {
            out.proto = Protocol::Resp3;
            handle.resp.store(3, Relaxed);
        }
        *handle.name.lock() = a.state.name.map(bytes::Bytes::from);
        handle.idle_timeout_ms.store(a.idle_timeout_ms, Relaxed);
        inbuf.extend_from_slice(&a.pending);
        client.adopted = Some(a.adopted);
    }

    let reason = run(
        &srv,
        &mut stream,
        &mut rx,
        &mut client,
        &mut inbuf,
        &mut out,
    )
    .await
    .err()
    .unwrap_or("done");
    tracing::debug!(client = handle.id, %addr, reason, "connection closed");
    if reason == "output buffer limit" {
        srv.stats
            .client_output_limit_disconnections
            .fetch_add(1, Relaxed);
    }
    let gw_id = client.adopted.as_ref().map(|a| a.gw_id);
    if let (Some(_), RELEASED) = (gw_id, reason) {
        return hand_back(&srv, stream, &mut rx, &mut client, &inbuf, &mut out).await;
    }
    cleanup(&srv, &mut client);
    if let Some(gw_id) = gw_id {
        srv.handoff.finish(handle.id, Outgoing::Closed { gw_id });
    }
    let _ = stream.shutdown().await;
}

/// Gives an adopted connection back to the gateway: messages already queued for it
/// are written first, then its socket goes back with its state and unread input.
async fn hand_back(
    srv: &Shared,
    mut stream: TcpStream,
    rx: &mut mpsc::UnboundedReceiver<Delivery>,
    client: &mut Client,
    inbuf: &BytesMut,
    out: &mut ReplyBuf,
) {
    let handle = client.handle.clone();
    let Some(adopted) = client.adopted.as_ref() else {
        return;
    };
    let (gw_id, via) = (adopted.gw_id, adopted.via);
    while let Ok(msg) = rx.try_recv() {
        encode_delivery(&handle, out, msg);
    }
    let flushed = flush(srv, &mut stream, &handle, out).await.is_ok();
    let state = crate::handoff::state_of(client);
    cleanup(srv, client);
    let outgoing = match stream.into_std() {
        Ok(stream) if flushed => Outgoing::Released {
            gw_id,
            via,
            state,
            pending: inbuf.to_vec(),
            stream,
        },
        _ => Outgoing::Closed { gw_id },
    };
    srv.handoff.finish(handle.id, outgoing);
}

async fn run(
    srv: &Arc<Shared>,
    stream: &mut TcpStream,
    rx: &mut mpsc::UnboundedReceiver<Delivery>,
    client: &mut Client,
    inbuf: &mut BytesMut,
    out: &mut ReplyBuf,
) -> Result<(), &'static str> {
    let handle = client.handle.clone();
    // An adopted connection may bring input along: run it before waiting for more.
    let mut kick = !inbuf.is_empty();
    let needs_lease = client
        .adopted
        .as_ref()
        .is_some_and(|a| a.via == Via::Endpoint);
    loop {
        // Kill and shutdown also arrive as a wake-up on `rx`; the flags say which.
        // The gateway takes a connection back at a command boundary, never inside MULTI.
        if handle.release.load(Relaxed) && client.multi.is_none() {
            return Err(RELEASED);
        }
        if handle.killed.load(Relaxed) {
            return Err(kill_reason(&handle));
        }
        tokio::select! {
            biased;
            ready = async { if kick { Ok(()) } else { stream.readable().await } } => {
                ready.map_err(|_| "read error")?;
                if kick {
                    kick = false;
                } else {
                    let n = match read_some(stream, inbuf) {
                        Ok(0) => return Err("closed by peer"),
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(_) => return Err("read error"),
                    };
                    srv.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                }
                srv.busy.touch();
                handle.last_interaction_ms.store(unix_ms(), Relaxed);
                // Endpoint connections run only while the gateway's lease holds: a
                // primary that was frozen and replaced must not serve them on waking.
                if needs_lease && !srv.handoff.lease_valid() {
                    wait_for_lease(srv, &handle).await;
                    kick = true;
                    continue;
                }
                loop {
                    let flow = if inbuf.len() >= client.need { process(srv, client, inbuf, out) } else { Flow::Continue };
                    if let Flow::Sleep(ms) = flow {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    // appendfsync always: no reply before the batch's writes are fsynced.
                    if srv.aof.must_wait(&client.settings) && !crate::aof::wait_durable(srv, &handle).await {
                        return Err("killed while waiting for the AOF fsync");
                    }
                    // Writes reach the replicas' sockets before their acknowledgements
                    // reach the client: the feeders, just woken, run first. A primary
                    // that crashes or freezes right after replying then has not
                    // acknowledged anything its replica cannot have.
                    if std::mem::take(&mut client.stream_grew) {
                        tokio::task::yield_now().await;
                    }
                    flush(srv, stream, &handle, out).await?;
                    match flow {
                        Flow::Continue => break,
                        Flow::Close => return Err("quit or protocol error"),
                        Flow::Paused => wait_for_unpause(srv).await,
                        Flow::Sleep(_) => {}
                        Flow::Block => {
                            let reply = wait_blocked(srv, stream, rx, client, inbuf).await?;
                            if let Some(a) = client.adopted.as_mut() {
                                a.blocked_raw = None;
                            }
                            if srv.aof.must_wait(&client.settings) && !crate::aof::wait_durable(srv, &handle).await {
                                return Err("killed while waiting for the AOF fsync");
                            }
                            out.raw(&reply);
                            flush(srv, stream, &handle, out).await?;
                        }
                        Flow::Replica => {
                            return crate::repl::feeder::serve(srv.clone(), stream, client, inbuf).await;
                        }
                        Flow::Release => return Err(RELEASED),
                        Flow::Wait { offset, replicas, deadline_ms } => {
                            let n = crate::repl::wait_acks(srv, &handle, offset, replicas, deadline_ms).await;
                            out.int(n as i64);
                            flush(srv, stream, &handle, out).await?;
                        }
                    }
                }
                let limit = client.settings.client_query_buffer_limit;
                if inbuf.len() > limit {
                    srv.stats.client_query_limit_disconnections.fetch_add(1, Relaxed);
                    tracing::warn!(client = handle.id, "query buffer over client-query-buffer-limit: closing");
                    return Err("query buffer limit");
                }
                // Make room for a large bulk argument in one go instead of growing piecemeal.
                if client.need > inbuf.len() {
                    inbuf.reserve((client.need - inbuf.len()).min(limit));
                }
            }
            Some(msg) = rx.recv() => {
                encode_delivery(&handle, out, msg);
                while let Ok(msg) = rx.try_recv() {
                    encode_delivery(&handle, out, msg);
                    if out.len() > 64 * 1024 {
                        break;
                    }
                }
                flush(srv, stream, &handle, out).await?;
            }
        }
    }
}

/// Waits while the client is blocked (BLPOP …) until a writer serves it, its
/// timeout passes, or the connection ends; returns the reply to send. The socket
/// is still read meanwhile, as Redis does, so a peer that hangs up is noticed at
/// once (its later pipelined commands wait in the buffer until it is unblocked).
async fn wait_blocked(
    srv: &Shared,
    stream: &mut TcpStream,
    rx: &mut mpsc::UnboundedReceiver<Delivery>,
    client: &mut Client,
    inbuf: &mut BytesMut,
) -> Result<Vec<u8>, &'static str> {
    let handle = client.handle.clone();
    let protocol = match handle.resp.load(Relaxed) {
        3 => Protocol::Resp3,
        _ => Protocol::Resp2,
    };
    let Some(pending) = client.blocked.as_mut() else {
        return Ok(Vec::new());
    };
    let deadline = pending.deadline_ms;
    handle.blocked.store(true, Relaxed);
    let result = loop {
        if handle.killed.load(Relaxed) {
            break Err(kill_reason(&handle));
        }
        let left = deadline.map(|d| Duration::from_millis(d.saturating_sub(unix_ms())));
        let timeout = async {
            match left {
                Some(left) => tokio::time::sleep(left).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            served = &mut pending.reply => {
                break Ok(served.unwrap_or_else(|_| crate::blocking::timeout_reply(protocol)));
            }
            _ = timeout => {
                if crate::blocking::cancel(srv, pending.id) {
                    break Ok(crate::blocking::timeout_reply(protocol));
                }
                // A writer served it just now: its reply is in the channel.
            }
            ready = stream.readable() => {
                ready.map_err(|_| "read error")?;
                match read_some(stream, inbuf) {
                    Ok(0) => break Err("closed by peer"),
                    Ok(n) => {
                        srv.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                        if inbuf.len() > client.settings.client_query_buffer_limit {
                            srv.stats.client_query_limit_disconnections.fetch_add(1, Relaxed);
                            break Err("query buffer limit");
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break Err("read error"),
                }
            }
            Some(msg) = rx.recv() => {
                let mut out = ReplyBuf::new(protocol);
                encode_delivery(&handle, &mut out, msg);
                flush(srv, stream, &handle, &mut out).await?;
                // Asked back by the gateway: the blocked request goes back unrun,
                // ahead of the input behind it, unless a writer served it just now.
                if handle.release.load(Relaxed) && crate::blocking::cancel(srv, pending.id) {
                    if let Some(raw) = client.adopted.as_mut().and_then(|a| a.blocked_raw.take()) {
                        let mut both = BytesMut::with_capacity(raw.len() + inbuf.len());
                        both.extend_from_slice(&raw);
                        both.extend_from_slice(inbuf);
                        *inbuf = both;
                    }
                    break Err(RELEASED);
                }
            }
        }
    };
    handle.blocked.store(false, Relaxed);
    handle.last_interaction_ms.store(unix_ms(), Relaxed);
    if result.is_ok() || result == Err(RELEASED) {
        client.blocked = None;
    }
    result
}

/// Waits until the gateway renews the lease, or asks for the connection back.
async fn wait_for_lease(srv: &Shared, handle: &ClientHandle) {
    loop {
        let changed = srv.handoff.lease_changed.notified();
        if srv.handoff.lease_valid() || handle.release.load(Relaxed) || handle.killed.load(Relaxed)
        {
            return;
        }
        tokio::select! {
            _ = changed => {}
            _ = handle.kill.notified() => return,
            // A notification missed between the check and the wait costs at most this.
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// Reads what the socket has. A short read means the receive queue is empty, so
/// the readiness is cleared right here (race-free: tokio clears it only if no new
/// event arrived meanwhile) instead of paying another read() that returns EAGAIN,
/// which is what plain `read_buf` would do on every request.
fn read_some(stream: &TcpStream, inbuf: &mut BytesMut) -> std::io::Result<usize> {
    if inbuf.capacity() - inbuf.len() < READ_CHUNK / 2 {
        inbuf.reserve(READ_CHUNK);
    }
    let room = inbuf.capacity() - inbuf.len();
    let mut got = 0;
    let result = stream.try_io(Interest::READABLE, || {
        got = stream.try_read_buf(inbuf)?;
        if got > 0 && got < room {
            Err(std::io::ErrorKind::WouldBlock.into())
        } else {
            Ok(got)
        }
    });
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && got > 0 => Ok(got),
        other => other,
    }
}

fn kill_reason(handle: &ClientHandle) -> &'static str {
    if handle.queued_bytes.load(Relaxed) > 0 {
        "output buffer limit"
    } else {
        "killed"
    }
}

/// Writes the buffered replies: one `write()` when the socket takes it all (the
/// usual case); otherwise waits for room, but a peer that stops reading must not
/// pin the task here, so a kill (output buffer limit, CLIENT KILL, shutdown) ends it.
async fn flush(
    srv: &Shared,
    stream: &mut TcpStream,
    handle: &ClientHandle,
    out: &mut ReplyBuf,
) -> Result<(), &'static str> {
    let total = out.len();
    let mut done = 0;
    while done < total {
        match stream.try_write(&out.buf[done..]) {
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                tokio::select! {
                    ready = stream.writable() => ready.map_err(|_| "write error")?,
                    _ = handle.kill.notified() => return Err(kill_reason(handle)),
                }
            }
            Err(_) => return Err("write error"),
        }
    }
    srv.stats.net_output_bytes.fetch_add(total as u64, Relaxed);
    out.buf.clear();
    Ok(())
}

/// Waits until CLIENT PAUSE ends (or its deadline passes), without holding anything.
async fn wait_for_unpause(srv: &Shared) {
    loop {
        let notified = srv.pause.released.notified();
        let Some((_, until)) = srv.pause.current(unix_ms()) else {
            return;
        };
        let left = until.saturating_sub(unix_ms());
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(Duration::from_millis(left.max(1))) => {}
        }
    }
}

fn encode_delivery(handle: &ClientHandle, out: &mut ReplyBuf, msg: Delivery) {
    match msg {
        Delivery::Wake => {}
        Delivery::Message {
            pattern,
            channel,
            payload,
        } => {
            let size = crate::pubsub::cost(&channel, &payload, pattern.as_deref());
            handle
                .queued_bytes
                .fetch_sub(size.min(handle.queued_bytes.load(Relaxed)), Relaxed);
            encode_message(out, pattern.as_deref(), &channel, &payload);
        }
    }
}

/// A pub/sub message as Redis sends it: `message` or `pmessage` (with the pattern).
pub fn encode_message(out: &mut ReplyBuf, pattern: Option<&[u8]>, channel: &[u8], payload: &[u8]) {
    match pattern {
        Some(p) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
        None => {
            out.push(3);
            out.bulk(b"message");
        }
    }
    out.bulk(channel);
    out.bulk(payload);
}

/// Runs every complete command in the buffer; consumes what it ran.
fn process(srv: &Shared, client: &mut Client, inbuf: &mut BytesMut, out: &mut ReplyBuf) -> Flow {
    if client.settings_gen != srv.settings_generation() {
        client.settings = srv.settings();
        client.settings_gen = srv.settings_generation();
    }
    let settings = client.settings.clone();
    let limits = ParseLimits {
        max_bulk_len: settings.proto_max_bulk_len,
        ..ParseLimits::default()
    };
    let mut spans = std::mem::take(&mut client.spans);
    let mut guard = None;
    let mut clock = Clock::start();
    let mut pos = 0;
    let mut argv_store = std::mem::take(&mut client.argv_store);
    client.lookahead.reset();
    let flow = loop {
        let rest = &inbuf[pos..];
        match parse_request(rest, &mut spans, &limits) {
            Ok(Request::Complete(n)) => {
                client.need = 0;
                let mut argv = recycle(std::mem::take(&mut argv_store));
                spans.collect(rest, &mut argv);
                if argv.is_empty() {
                    pos += n;
                    continue;
                }
                // Only the gateway answers this: hand the connection back with it unrun.
                if client.adopted.is_some() && client.multi.is_none() && is_maint_opt_in(&argv) {
                    argv_store = recycle(argv);
                    break Flow::Release;
                }
                if let Some(ks) = guard.as_deref() {
                    client.lookahead.run(inbuf, pos, ks, client.db, &limits);
                }
                let flow =
                    dispatch::submit(srv, &mut guard, client, out, &settings, &argv, &mut clock);
                argv_store = recycle(argv);
                if flow == Flow::Block {
                    if let Some(a) = client.adopted.as_mut() {
                        a.blocked_raw = Some(rest[..n].to_vec());
                    }
                }
                if flow != Flow::Paused {
                    pos += n;
                }
                if flow != Flow::Continue {
                    break flow;
                }
            }
            Ok(Request::Incomplete(need)) => {
                client.need = pos + need - pos;
                break Flow::Continue;
            }
            Err(e) => {
                out.error(format!("ERR {e}"));
                srv.stats.record_error(b"ERR");
                break Flow::Close;
            }
        }
    };
    client.argv_store = argv_store;
    drop(guard);
    client.stream_grew = srv.repl.publish();
    inbuf.advance(pos);
    client.spans = spans;
    flow
}

fn is_maint_opt_in(argv: &[&[u8]]) -> bool {
    argv.len() >= 2
        && argv[0].eq_ignore_ascii_case(b"client")
        && argv[1].eq_ignore_ascii_case(b"maint_notifications")
}

/// Empties an argument vector and re-types its borrow, keeping the allocation
/// (the in-place collect reuses it), so no command allocates one.
pub(crate) fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| -> &'b [u8] { &[] }).collect()
}

/// Removes every trace of the client from shared registries.
fn cleanup(srv: &Shared, client: &mut Client) {
    let id = client.handle.id;
    if let Some(pending) = client.blocked.take() {
        crate::blocking::cancel(srv, pending.id);
    }
    if !client.channels.is_empty() || !client.patterns.is_empty() {
        let mut ps = srv.pubsub.lock();
        for c in client.channels.drain() {
            ps.unsubscribe(&c, id);
        }
        for p in client.patterns.drain() {
            ps.punsubscribe(&p, id);
        }
    }
    if !client.watched.is_empty() {
        let mut ks = srv.keyspace.lock();
        for (db, key, _) in client.watched.drain(..) {
            ks.dbs[db].unwatch(&key, &client.watch_flag);
        }
    }
    srv.clients.unregister(id);
}
