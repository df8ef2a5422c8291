//! The primary's side of one replica connection, from PSYNC on: decide between a
//! partial resync (+CONTINUE, then the backlog from the replica's offset) and a
//! full one (+FULLRESYNC, a point-in-time snapshot as an RDB payload, then the
//! backlog from the snapshot's offset); then stream, and read the replica's
//! `REPLCONF ACK`s.
//!
//! The snapshot and its offset are taken under the keyspace lock (every write is
//! recorded under that lock), so the payload plus the stream after its offset is
//! exactly the primary's history. Serialising happens off the event loop.

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
            let snapshot = crate::persist::snapshot::take(&ks, unix_ms());
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
    let mut sent = match start {
        Start::Partial { from } => {
            tracing::info!(replica = id, offset = from, "partial resync accepted");
            let line = format!("+CONTINUE {replid}\r\n");
            stream
                .write_all(line.as_bytes())
                .await
                .map_err(|_| "write error")?;
            from
        }
        Start::Full { snapshot, offset } => {
            tracing::info!(replica = id, offset, keys = snapshot.keys(), "full resync");
            let line = format!("+FULLRESYNC {replid} {offset}\r\n");
            stream
                .write_all(line.as_bytes())
                .await
                .map_err(|_| "write error")?;
            set_state(srv, id, "send_bulk");
            let payload = snapshot_payload(snapshot, replid.to_string(), offset).await?;
            let header = format!("${}\r\n", payload.len());
            stream
                .write_all(header.as_bytes())
                .await
                .map_err(|_| "write error")?;
            stream
                .write_all(&payload)
                .await
                .map_err(|_| "write error")?;
            offset
        }
    };
    set_state(srv, id, "online");
    if let Some(r) = srv.repl.lock().replicas.get_mut(&id) {
        r.sent = sent;
    }
    let mut end_rx = srv.repl.subscribe_end();
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        // Send everything the backlog holds past what this replica has.
        loop {
            buf.clear();
            let got = {
                let st = srv.repl.lock();
                st.backlog()
                    .and_then(|b| b.read_after(sent, CHUNK, &mut buf))
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
                Some(n) => {
                    stream.write_all(&buf).await.map_err(|_| "write error")?;
                    sent += n as u64;
                    if let Some(r) = srv.repl.lock().replicas.get_mut(&id) {
                        r.sent = sent;
                    }
                }
            }
        }
        tokio::select! {
            changed = end_rx.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
            }
            read = stream.read_buf(inbuf) => match read {
                Ok(0) | Err(_) => return Err("replica closed the connection"),
                Ok(_) => read_acks(srv, id, inbuf),
            },
            _ = handle.kill.notified() => return Err("killed"),
            _ = srv.shutdown.cancelled() => return Ok(()),
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
