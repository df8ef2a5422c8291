//! The primary's side of one replica connection, from PSYNC on: decide between a
//! partial resync (+CONTINUE, then the backlog from the replica's offset) and a
//! full one (+FULLRESYNC, a point-in-time snapshot as an RDB payload, then the
//! backlog from the snapshot's offset); then stream, and read the replica's
//! `REPLCONF ACK`s.
//!
//! The snapshot and its offset are taken under the keyspace lock (every write is
//! recorded under that lock), so the payload plus the stream after its offset is
//! exactly the primary's history. Serialising happens off the event loop, and
//! meanwhile the stream is taken out of the backlog into this replica's output
//! buffer (`Outgoing`), so a sync that takes longer than the backlog lasts does
//! not end in another full sync.

use super::state::ReplicaInfo;
use crate::client::Client;
use crate::server::{unix_ms, Shared};
use bytes::{Buf, BytesMut};
use ferrocache_resp::{parse_request, ParseLimits, Request};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// At most this much of the stream per write.
const CHUNK: usize = 256 * 1024;

/// How the replica will be brought up to date.
enum Start {
    Partial {
        from: u64,
    },
    Full {
        snapshot: crate::persist::snapshot::Snapshot,
        offset: u64,
    },
}

/// Serves a replica until it disconnects, falls too far behind, is killed, or the
/// node shuts down.
pub async fn serve(
    srv: Arc<Shared>,
    stream: &mut TcpStream,
    client: &mut Client,
    inbuf: &mut BytesMut,
) -> Result<(), &'static str> {
    let id = client.handle.id;
    client
        .handle
        .role
        .store(crate::clients::ROLE_REPLICA, Relaxed);
    let (replid, offset) = client
        .replconf
        .psync
        .take()
        .unwrap_or_else(|| ("?".into(), -1));
    let ip = client
        .replconf
        .ip_address
        .unwrap_or_else(|| client.handle.addr.ip());
    let listening_port = client.replconf.listening_port.unwrap_or(0);
    let settings = srv.settings();
    let (start, our_replid) = {
        let mut ks = crate::dispatch::lock_keyspace(&srv, &settings);
        let mut st = srv.repl.lock();
        st.ensure_backlog(settings.repl.backlog_size);
        srv.repl.sync_flags(&st);
        ks.log_expired(true);
        let next = u64::try_from(offset).unwrap_or(0);
        let start = if offset > 0 && st.can_continue(&replid, next) {
            srv.repl.sync_partial_ok.fetch_add(1, Relaxed);
            Start::Partial { from: next - 1 }
        } else {
            // Redis counts a refused PSYNC as an error, a plain SYNC not.
            if replid != "?" {
                srv.repl.sync_partial_err.fetch_add(1, Relaxed);
            }
            srv.repl.sync_full.fetch_add(1, Relaxed);
            let snapshot = crate::persist::snapshot::take(&srv, &ks, unix_ms());
            // The replica starts with no database selected: say it again.
            st.force_select();
            Start::Full {
                snapshot,
                offset: st.offset(),
            }
        };
        st.replicas.insert(
            id,
            ReplicaInfo {
                ip,
                listening_port,
                state: match start {
                    Start::Partial { .. } => "online",
                    Start::Full { .. } => "wait_bgsave",
                },
                ack_offset: 0,
                ack_time: Instant::now(),
                sent: 0,
            },
        );
        (start, st.replid.clone())
    };
    let handle = client.handle.clone();
    let result = run(&srv, stream, &handle, start, &our_replid, inbuf).await;
    srv.repl.lock().replicas.remove(&id);
    result
}

async fn run(
    srv: &Arc<Shared>,
    stream: &mut TcpStream,
    handle: &crate::clients::ClientHandle,
    start: Start,
    replid: &str,
    inbuf: &mut BytesMut,
) -> Result<(), &'static str> {
    let id = handle.id;
    let mut end_rx = srv.repl.subscribe_end();
    let mut out = Outgoing::new(srv.settings().output_limits.replica);
    let mut head = Vec::new();
    match start {
        Start::Partial { from } => {
            tracing::info!(replica = id, offset = from, "partial resync accepted");
            head.extend_from_slice(format!("+CONTINUE {replid}\r\n").as_bytes());
            out.sent = from;
            out.taken = from;
        }
        Start::Full { snapshot, offset } => {
            tracing::info!(replica = id, offset, keys = snapshot.keys(), "full resync");
            let line = format!("+FULLRESYNC {replid} {offset}\r\n");
            stream
                .write_all(line.as_bytes())
                .await
                .map_err(|_| "write error")?;
            set_state(srv, id, "send_bulk");
            out.sent = offset;
            out.taken = offset;
            // The stream goes on while the snapshot is serialised: keep taking it
            // out of the backlog, so a backlog smaller than what is written
            // during the sync cannot force another full resync.
            let serialise = snapshot_payload(snapshot, replid.to_string(), offset);
            tokio::pin!(serialise);
            let payload = loop {
                out.take(srv, id)?;
                tokio::select! {
                    payload = &mut serialise => break payload?,
                    changed = end_rx.changed() => {
                        if changed.is_err() {
                            return Ok(());
                        }
                    }
                    _ = handle.kill.notified() => return Err("killed"),
                    _ = srv.shutdown.cancelled() => return Ok(()),
                }
            };
            head.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
            head.extend_from_slice(&payload);
        }
    }
    let mut head = &head[..];
    let mut online = false;
    let (mut rd, mut wr) = stream.split();
    loop {
        out.take(srv, id)?;
        if head.is_empty() && !online {
            online = true;
            set_state(srv, id, "online");
        }
        let next: &[u8] = if head.is_empty() { &out.pending } else { head };
        tokio::select! {
            written = wr.write(next), if !next.is_empty() => {
                let n = written.map_err(|_| "write error")?;
                if n == 0 {
                    return Err("write error");
                }
                if head.is_empty() {
                    out.written(srv, id, n);
                } else {
                    head = &head[n..];
                }
            }
            changed = end_rx.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
            }
            read = rd.read_buf(inbuf) => match read {
                Ok(0) | Err(_) => return Err("replica closed the connection"),
                Ok(_) => read_acks(srv, id, inbuf),
            },
            _ = handle.kill.notified() => return Err("killed"),
            _ = srv.shutdown.cancelled() => return Ok(()),
        }
    }
}

/// The stream on its way to one replica: taken out of the shared backlog as soon
/// as it is there, and held here until the socket takes it. This is Redis's
/// replica output buffer, with its limits (`client-output-buffer-limit replica`):
/// it holds what arrives while a full sync is serialised and sent and while the
/// replica loads it, which can be more than the backlog keeps.
struct Outgoing {
    pending: BytesMut,
    /// Stream offset written to the socket, and taken into `pending`.
    sent: u64,
    taken: u64,
    limit: crate::config::OutputLimit,
    /// Since when `pending` has been over the soft limit.
    over_soft_since: Option<Instant>,
}

impl Outgoing {
    fn new(limit: crate::config::OutputLimit) -> Self {
        Outgoing {
            pending: BytesMut::new(),
            sent: 0,
            taken: 0,
            limit,
            over_soft_since: None,
        }
    }

    /// Moves everything the backlog holds past `taken` into `pending`.
    fn take(&mut self, srv: &Shared, id: u64) -> Result<(), &'static str> {
        loop {
            let got = {
                let st = srv.repl.lock();
                st.backlog()
                    .and_then(|b| b.read_after(self.taken, CHUNK, &mut self.pending))
            };
            match got {
                None => {
                    tracing::warn!(
                        replica = id,
                        "replica fell behind the backlog; disconnecting"
                    );
                    return Err("replica fell behind the backlog");
                }
                Some(0) => break,
                Some(n) => self.taken += n as u64,
            }
        }
        self.check_limits(id)
    }

    fn check_limits(&mut self, id: u64) -> Result<(), &'static str> {
        let held = self.pending.len() as u64;
        let l = self.limit;
        let over_hard = l.hard > 0 && held > l.hard;
        let over_soft = l.soft > 0 && held > l.soft;
        if !over_soft {
            self.over_soft_since = None;
        } else if self.over_soft_since.is_none() {
            self.over_soft_since = Some(Instant::now());
        }
        let since = self.over_soft_since;
        let soft_expired = since.is_some_and(|t| t.elapsed().as_secs() >= l.soft_seconds);
        if over_hard || soft_expired {
            tracing::warn!(
                replica = id,
                held,
                "replica output buffer over its limit (client-output-buffer-limit replica); disconnecting"
            );
            return Err("replica output buffer limit reached");
        }
        Ok(())
    }

    /// The socket took `n` bytes of `pending`.
    fn written(&mut self, srv: &Shared, id: u64, n: usize) {
        self.pending.advance(n);
        self.sent += n as u64;
        if let Some(r) = srv.repl.lock().replicas.get_mut(&id) {
            r.sent = self.sent;
        }
    }
}

fn set_state(srv: &Shared, id: u64, state: &'static str) {
    if let Some(r) = srv.repl.lock().replicas.get_mut(&id) {
        r.state = state;
        r.ack_time = Instant::now();
    }
}

/// Serialises the snapshot on a blocking thread.
async fn snapshot_payload(
    snapshot: crate::persist::snapshot::Snapshot,
    replid: String,
    offset: u64,
) -> Result<Vec<u8>, &'static str> {
    let aux = crate::persist::snapshot::Aux {
        repl_id: replid,
        repl_offset: offset,
        ..Default::default()
    };
    let started = Instant::now();
    let payload = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        crate::persist::snapshot::write_rdb(&snapshot, &mut out, &aux).map(|_| out)
    })
    .await
    .map_err(|_| "snapshot task failed")?
    .map_err(|e| {
        tracing::error!("cannot write the snapshot for a replica: {e:#}");
        "snapshot failed"
    })?;
    tracing::info!(
        bytes = payload.len(),
        ms = started.elapsed().as_millis() as u64,
        "snapshot for a replica serialised"
    );
    Ok(payload)
}

/// Takes every complete `REPLCONF ACK <offset>` the replica sent; anything else is
/// ignored (a replica sends nothing else once streaming).
fn read_acks(srv: &Shared, id: u64, inbuf: &mut BytesMut) {
    let mut spans = ferrocache_resp::Spans::default();
    let limits = ParseLimits::default();
    loop {
        match parse_request(inbuf, &mut spans, &limits) {
            Ok(Request::Complete(n)) => {
                let mut args = Vec::new();
                spans.collect(&inbuf[..n], &mut args);
                if args.len() >= 3
                    && args[0].eq_ignore_ascii_case(b"replconf")
                    && args[1].eq_ignore_ascii_case(b"ack")
                {
                    if let Some(off) = std::str::from_utf8(args[2])
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                    {
                        srv.repl.ack(id, off);
                    }
                }
                inbuf.advance(n);
            }
            Ok(Request::Incomplete(_)) => return,
            Err(_) => {
                inbuf.clear();
                return;
            }
        }
    }
}
