//! The Unix socket the gateway connects to, and one task pair per gateway link:
//! the reader adopts sockets and takes leases and release requests; the writer
//! sends released sockets and closes back.

use super::{Adopted, Outgoing};
use crate::connection::{self, Adoption};
use crate::server::Shared;
use ferrocache_handoff::{Link, LinkReader, LinkWriter, ToGateway, ToNode};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use tokio::net::UnixListener;
use tokio::sync::mpsc;

/// Listens on `path` (a stale socket file is replaced) and serves gateway links
/// until shutdown.
pub fn listen(srv: &Arc<Shared>, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .with_context(|| format!("cannot listen on handoff socket {}", path.display()))?;
    let srv = srv.clone();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = srv.shutdown.cancelled() => return,
                r = listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "handoff accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let (rd, wr) = Link::split(stream);
            let (tx, rx) = mpsc::unbounded_channel();
            srv.handoff.set_link(tx);
            tracing::info!("gateway handoff link connected");
            tokio::spawn(write_loop(srv.clone(), wr, rx));
            tokio::spawn(read_loop(srv.clone(), rd));
        }
    });
    Ok(())
}

async fn read_loop(srv: Arc<Shared>, mut rd: LinkReader) {
    loop {
        let r = match rd.recv::<ToNode>().await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "handoff link broken");
                break;
            }
        };
        match r.msg {
            ToNode::Lease { until_ms } => srv.handoff.extend_lease(until_ms),
            ToNode::Release { via } => srv.handoff.release(via),
            ToNode::Adopt {
                id,
                via,
                state,
                keys,
                idle_timeout_ms,
            } => {
                let Some(fd) = r.fd else {
                    continue;
                };
                if srv.handoff.is_draining() {
                    // Shutting down: straight back, untouched.
                    let outgoing = Outgoing::Released {
                        gw_id: id,
                        via,
                        state,
                        pending: r.payload,
                        stream: fd.into(),
                    };
                    srv.handoff.finish(0, outgoing);
                    continue;
                }
                let adoption = Adoption {
                    state,
                    pending: r.payload,
                    idle_timeout_ms,
                    adopted: Adopted {
                        gw_id: id,
                        via,
                        keys: Arc::new(keys),
                        blocked_raw: None,
                    },
                };
                if let Err(e) = connection::adopt(&srv, fd.into(), adoption) {
                    tracing::warn!(error = %e, "cannot adopt a connection");
                    srv.handoff.finish(0, Outgoing::Closed { gw_id: id });
                }
            }
        }
    }
    tracing::info!("gateway handoff link closed");
}

async fn write_loop(
    srv: Arc<Shared>,
    mut wr: LinkWriter,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) {
    while let Some(out) = rx.recv().await {
        let released = matches!(out, Outgoing::Released { .. });
        let sent = match out {
            Outgoing::Released {
                gw_id,
                via,
                state,
                pending,
                stream,
            } => {
                let msg = ToGateway::Released {
                    id: gw_id,
                    via,
                    state,
                };
                // Our descriptor closes when `stream` drops after the send: the
                // connection itself lives on in the gateway.
                wr.send(&msg, &pending, Some(stream.as_raw_fd())).await
            }
            Outgoing::Closed { gw_id } => {
                wr.send(&ToGateway::Closed { id: gw_id }, b"", None).await
            }
            Outgoing::Draining => wr.send(&ToGateway::Draining, b"", None).await,
        };
        if released {
            srv.handoff.sent();
        }
        if let Err(e) = sent {
            tracing::warn!(error = %e, "handoff link write failed");
            return;
        }
    }
}
