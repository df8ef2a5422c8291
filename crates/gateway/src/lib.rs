//! The endpoint (gateway): one address per cache. It forwards each client connection
//! to the shard's current primary over a backend connection of its own, and during a
//! planned switch holds requests, moves every connection to the new primary with its
//! state replayed, and releases them — so clients see a pause, not an error.
//!
//! `Gateway::bind` binds every port (endpoint, per-node ports, TLS variants, admin
//! API); `Gateway::serve` runs until the shutdown token is cancelled. The management
//! service drives it over the HTTP API in `admin` (see docs/gateway.md).

mod admin;
mod command;
mod handoff;
mod listener;
mod maint;
mod metrics;
mod reply;
mod route;
mod session;
mod state;
pub mod tls;
pub mod topology;

pub use admin::MAX_AUTH_KEYS;
use anyhow::Context;
use listener::Port;
use route::{RouteKey, Routes};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
pub use topology::Topology;

/// Everything `ferrocache gateway` is told on its command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: IpAddr,
    /// The endpoint's plain port (0 picks a free one).
    pub port: u16,
    /// The nodes as `host:port`; node 0 starts as the primary.
    pub nodes: Vec<String>,
    /// Node i's plain direct port is `node_port_base + i`; 0 picks free ports.
    pub node_port_base: u16,
    pub admin_addr: SocketAddr,
    /// Access keys clients AUTH with at start (then `PUT /keys`); empty means no
    /// authentication.
    pub auth_keys: Vec<String>,
    /// The password the gateway itself uses with the nodes.
    pub backend_password: Option<String>,
    pub maxclients: usize,
    /// Close connections without input for this long (zero: never).
    pub idle_timeout: Duration,
    /// The longest a request is held before it is answered with an error.
    pub hold_deadline: Duration,
    pub tls: Option<TlsConfig>,
    /// Node i's handoff socket (`ferrocache node --handoff-socket`), if it has one:
    /// idle plain connections are then handed over to it (docs/gateway.md).
    pub handoff: Vec<Option<std::path::PathBuf>>,
}

/// The TLS ports and identity.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The endpoint's TLS port (0 picks a free one).
    pub port: u16,
    /// Node i's TLS direct port is `node_port_base + i`; 0 picks free ports.
    pub node_port_base: u16,
    pub identity: tls::Identity,
}

impl Config {
    /// Defaults for the given nodes: the ports of SYSTEM.md, no keys, no TLS.
    pub fn new(nodes: Vec<String>) -> Config {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 6379,
            nodes,
            node_port_base: 13000,
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            auth_keys: Vec::new(),
            backend_password: None,
            maxclients: 10_000,
            idle_timeout: Duration::from_secs(600),
            hold_deadline: Duration::from_secs(10),
            tls: None,
            handoff: Vec::new(),
        }
    }
}

/// State every connection and the admin API share.
pub(crate) struct Shared {
    pub config: Config,
    pub routes: Routes,
    topology: Mutex<Topology>,
    pub metrics: metrics::Metrics,
    pub clients: AtomicUsize,
    pub shutdown: CancellationToken,
    pub switch: tokio::sync::Mutex<Option<admin::Switch>>,
    /// Maintenance notices for connections that opted in.
    pub maint: maint::Maint,
    /// The access keys, replaceable at run time (`PUT /keys`) so that rotating one
    /// does not drop every client.
    auth_keys: RwLock<Arc<Vec<String>>>,
    /// The endpoint's ports, where a `MOVING` notice sends direct-port clients.
    pub endpoint_port: u16,
    pub tls_endpoint_port: Option<u16>,
    /// Handoff links of the nodes that have a handoff socket.
    pub links: handoff::Links,
    /// Every connection's task, so that shutdown can wait for them.
    pub sessions: TaskTracker,
}

impl Shared {
    pub fn topology(&self) -> MutexGuard<'_, Topology> {
        self.topology.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn auth_keys(&self) -> Arc<Vec<String>> {
        self.auth_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_auth_keys(&self, keys: Vec<String>) {
        *self.auth_keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
    }
}

/// A bound gateway, ready to serve.
pub struct Gateway {
    shared: Arc<Shared>,
    ports: Vec<Port>,
    admin: TcpListener,
    addrs: Addrs,
}

/// The addresses the gateway listens on.
#[derive(Debug, Clone)]
pub struct Addrs {
    pub endpoint: SocketAddr,
    pub nodes: Vec<SocketAddr>,
    pub tls_endpoint: Option<SocketAddr>,
    pub tls_nodes: Vec<SocketAddr>,
    pub admin: SocketAddr,
}

impl Gateway {
    pub async fn bind(config: Config) -> anyhow::Result<Gateway> {
        let topology = Topology::from_nodes(&config.nodes);
        topology
            .validate(config.nodes.len())
            .map_err(|e| anyhow::anyhow!("--node: {e}"))?;
        let node_addrs: Vec<SocketAddr> = config
            .nodes
            .iter()
            .map(|n| topology::resolve(n).map_err(|e| anyhow::anyhow!("--node: {e}")))
            .collect::<Result<_, _>>()?;
        let bind = |port: u16| {
            let addr = SocketAddr::new(config.bind, port);
            async move {
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))
            }
        };
        let node_port = |base: u16, i: usize| -> anyhow::Result<u16> {
            if base == 0 {
                return Ok(0);
            }
            u16::try_from(base as usize + i).context("node port beyond 65535")
        };
        let mut ports = Vec::new();
        let mut addrs = Addrs {
            endpoint: SocketAddr::from(([0, 0, 0, 0], 0)),
            nodes: Vec::new(),
            tls_endpoint: None,
            tls_nodes: Vec::new(),
            admin: config.admin_addr,
        };
        let endpoint = bind(config.port).await?;
        addrs.endpoint = endpoint.local_addr()?;
        ports.push(Port {
            listener: endpoint,
            route: RouteKey::Endpoint,
            tls: None,
        });
        for i in 0..config.nodes.len() {
            let l = bind(node_port(config.node_port_base, i)?).await?;
            addrs.nodes.push(l.local_addr()?);
            ports.push(Port {
                listener: l,
                route: RouteKey::Node(i),
                tls: None,
            });
        }
        if let Some(tls) = &config.tls {
            let acceptor = tls::acceptor(&tls.identity)?;
            let l = bind(tls.port).await?;
            addrs.tls_endpoint = Some(l.local_addr()?);
            ports.push(Port {
                listener: l,
                route: RouteKey::Endpoint,
                tls: Some(acceptor.clone()),
            });
            for i in 0..config.nodes.len() {
                let l = bind(node_port(tls.node_port_base, i)?).await?;
                addrs.tls_nodes.push(l.local_addr()?);
                ports.push(Port {
                    listener: l,
                    route: RouteKey::Node(i),
                    tls: Some(acceptor.clone()),
                });
            }
        }
        let admin = TcpListener::bind(config.admin_addr)
            .await
            .with_context(|| format!("cannot listen on {} (admin API)", config.admin_addr))?;
        addrs.admin = admin.local_addr()?;
        if config.handoff.len() > config.nodes.len() {
            anyhow::bail!(
                "{} handoff sockets for {} nodes",
                config.handoff.len(),
                config.nodes.len()
            );
        }
        let links = handoff::Links::new(
            config
                .handoff
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let p = p.clone()?;
                    Some(Arc::new(handoff::NodeLink::new(i, node_addrs[i], p)))
                })
                .collect(),
        );
        let shared = Arc::new(Shared {
            links,
            sessions: TaskTracker::new(),
            routes: Routes::new(node_addrs.first().copied(), &node_addrs),
            topology: Mutex::new(topology),
            metrics: Default::default(),
            clients: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
            switch: tokio::sync::Mutex::new(None),
            maint: Default::default(),
            auth_keys: RwLock::new(Arc::new(config.auth_keys.clone())),
            endpoint_port: addrs.endpoint.port(),
            tls_endpoint_port: addrs.tls_endpoint.map(|a| a.port()),
            config,
        });
        Ok(Gateway {
            shared,
            ports,
            admin,
            addrs,
        })
    }

    pub fn addrs(&self) -> &Addrs {
        &self.addrs
    }

    /// Cancelling this token stops the gateway: listeners close, connections close.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then closes every connection.
    pub async fn serve(self) -> anyhow::Result<()> {
        let tasks = self.shared.sessions.clone();
        for link in self.shared.links.all() {
            tokio::spawn(handoff::run(self.shared.clone(), link.clone()));
        }
        for port in self.ports {
            tokio::spawn(listener::accept_loop(self.shared.clone(), port));
        }
        let stop = self.shared.shutdown.clone();
        let app = admin::router(self.shared.clone());
        let admin = tokio::spawn(async move {
            axum::serve(self.admin, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });
        self.shared.shutdown.cancelled().await;
        tasks.close();
        if tokio::time::timeout(Duration::from_secs(5), tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within 5 s of shutdown");
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), admin).await;
        Ok(())
    }
}
