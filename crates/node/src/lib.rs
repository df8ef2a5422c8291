//! The data node: a Redis-compatible server. `Node::bind` opens the listener,
//! `Node::serve` runs it until the shutdown token is cancelled.

pub mod alloc;
mod aof;
mod blocking;
mod busy;
mod client;
mod clients;
mod cmd;
pub mod config;
mod connection;
mod cron;
mod dispatch;
mod evict;
mod handoff;
mod info;
mod latency;
mod lookahead;
mod notify;
pub mod persist;
mod pubsub;
mod repl;
mod server;
mod ticks;

pub use config::Config;

use anyhow::Context;
use server::Shared;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct Node {
    listener: TcpListener,
    shared: Arc<Shared>,
    /// Where the gateway hands connections over (`handoff`), if anywhere.
    handoff_socket: Option<std::path::PathBuf>,
}

impl Node {
    /// Binds the configured address (port 0 picks a free port).
    pub async fn bind(config: Config) -> anyhow::Result<Node> {
        let settings = config.settings();
        let addr = format!("{}:{}", settings.bind, settings.port);
        let listener = TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let shared = Shared::new(config);
        // Before anyone is served: a dump that cannot be loaded stops the start.
        // With appendonly yes, the AOF takes precedence over the dump (as in Redis).
        if !aof::load_at_start(&shared)? {
            persist::jobs::load_at_start(&shared)?;
        }
        aof::start_at_boot(&shared)?;
        shared
            .port
            .store(listener.local_addr()?.port() as u64, Relaxed);
        Ok(Node {
            listener,
            shared,
            handoff_socket: None,
        })
    }

    /// Also take connections handed over by a gateway on this Unix socket.
    pub fn with_handoff_socket(mut self, path: std::path::PathBuf) -> Node {
        self.handoff_socket = Some(path);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// A token that stops the node when cancelled (SHUTDOWN cancels it too).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Accepts and serves connections until shutdown; returns when all are closed.
    pub async fn serve(self) -> anyhow::Result<()> {
        let Node {
            listener,
            shared,
            handoff_socket,
        } = self;
        if let Some(path) = &handoff_socket {
            handoff::listen(&shared, path)?;
        }
        let tracker = tokio_util::task::TaskTracker::new();
        tracker.spawn(cron::run(shared.clone()));
        tracker.spawn(busy::spin(shared.clone()));
        loop {
            tokio::select! {
                _ = shared.shutdown.cancelled() => break,
                accepted = listener.accept() => {
                    let (mut stream, addr) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and similar: keep serving the others.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    shared.stats.connections_received.fetch_add(1, Relaxed);
                    if shared.clients.count() >= shared.settings().maxclients {
                        shared.stats.rejected_connections.fetch_add(1, Relaxed);
                        tracker.spawn(async move {
                            let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
                            let _ = stream.shutdown().await;
                        });
                        continue;
                    }
                    let laddr = stream.local_addr().unwrap_or(addr);
                    let accepted = connection::register(&shared, addr, laddr);
                    tracker.spawn(connection::serve(shared.clone(), stream, accepted));
                }
            }
        }
        drop(listener);
        // Connections the gateway handed over go back to it rather than closing:
        // it holds their requests until this node (or another) serves again.
        shared.handoff.drain();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while !shared.handoff.drained() && tokio::time::Instant::now() < deadline {
            let left = shared.handoff.left.notified();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(20), left).await;
        }
        for client in shared.clients.all() {
            client.request_kill();
        }
        tracker.close();
        tracker.wait().await;
        aof::stop(&shared).await;
        persist::jobs::save_on_exit(&shared);
        Ok(())
    }
}
