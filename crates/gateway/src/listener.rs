//! Accepting client connections on one port (the endpoint, a node port, plain or
//! TLS): the maxclients check, the TLS handshake, and starting the session.

use crate::route::RouteKey;
use crate::session::{ClientConn, ClientRead, ClientWrite, Session};
use crate::Shared;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A bound port and what its connections reach.
pub(crate) struct Port {
    pub listener: TcpListener,
    pub route: RouteKey,
    pub tls: Option<TlsAcceptor>,
}

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn accept_loop(shared: Arc<Shared>, port: Port) {
    let tasks = shared.sessions.clone();
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = port.listener.accept() => r,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of descriptors and the like: back off briefly, keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let max = shared.config.maxclients;
        if shared.clients.fetch_add(1, Ordering::AcqRel) >= max {
            shared.clients.fetch_sub(1, Ordering::AcqRel);
            shared
                .metrics
                .connections_rejected_maxclients
                .fetch_add(1, Ordering::Relaxed);
            tasks.spawn(refuse(stream, port.tls.clone()));
            continue;
        }
        shared
            .metrics
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        let guard = ClientCount::counted(&shared);
        let shared = shared.clone();
        let tls = port.tls.clone();
        let route = port.route;
        // The endpoint as this client reaches the gateway: the address it dialled,
        // the endpoint's port of the same kind (plain or TLS).
        let endpoint_port = match tls {
            Some(_) => shared.tls_endpoint_port,
            None => Some(shared.endpoint_port),
        };
        let moving_to = stream
            .local_addr()
            .ok()
            .zip(endpoint_port)
            .map(|(a, p)| SocketAddr::new(a.ip(), p));
        tasks.spawn(async move {
            let Some((rd, wr)) = split(stream, tls).await else {
                return;
            };
            let Some((id, slot, rx)) = shared.routes.register(route) else {
                return;
            };
            let client = ClientConn {
                rd,
                wr,
                moving_to,
                count: guard,
            };
            Session::new(shared, id, slot, rx, client).run().await;
        });
    }
}

/// Splits a plain or TLS stream into the session's two halves.
async fn split(stream: TcpStream, tls: Option<TlsAcceptor>) -> Option<(ClientRead, ClientWrite)> {
    match tls {
        None => {
            let (r, w) = stream.into_split();
            Some((ClientRead::Tcp(r), ClientWrite::Tcp(w)))
        }
        Some(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let (r, w) = tokio::io::split(s);
                    Some((
                        ClientRead::Other(Box::new(r)),
                        ClientWrite::Other(Box::new(w)),
                    ))
                }
                Ok(Err(e)) => {
                    tracing::debug!("TLS handshake failed: {e}");
                    None
                }
                Err(_) => None,
            }
        }
    }
}

/// Over maxclients: Redis's error, then close.
async fn refuse(stream: TcpStream, tls: Option<TlsAcceptor>) {
    if let Some((_, mut wr)) = split(stream, tls).await {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = wr
                .write_all(b"-ERR max number of clients reached\r\n")
                .await;
            let _ = wr.flush().await;
            let _ = wr.shutdown().await;
        })
        .await;
    }
}

/// Keeps the client count right however the connection ends (here, or on the node
/// it was handed over to).
pub(crate) struct ClientCount(Arc<Shared>);

impl ClientCount {
    /// Counts a connection already counted in `clients` (the maxclients check did).
    fn counted(shared: &Arc<Shared>) -> ClientCount {
        shared
            .metrics
            .connections_current
            .fetch_add(1, Ordering::Relaxed);
        ClientCount(shared.clone())
    }

    /// Counts a connection from now on.
    pub(crate) fn new(shared: &Arc<Shared>) -> ClientCount {
        shared.clients.fetch_add(1, Ordering::AcqRel);
        ClientCount::counted(shared)
    }
}

impl Drop for ClientCount {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::AcqRel);
        self.0
            .metrics
            .connections_current
            .fetch_sub(1, Ordering::Relaxed);
    }
}
