//! One cache at run time: its processes, the roles the service assigned, what the
//! last probes saw; and the operations that start, adopt, restart and stop them.

use crate::api::ApiError;
use crate::gateway_client::GatewayClient;
use crate::resp::{ReplInfo, RespClient};
use crate::service::Ctl;
use crate::store::{GatewayRecord, NodeRow};
use crate::supervisor::{alive, Exit, Member, Proc};
use crate::{launch, ports, secret};
use anyhow::{bail, Context};
use ferrocache_api::gateway::{Topology, TopologyShard};
use ferrocache_api::{CacheInfo, CacheSpec, Health, NodeInfo, Role, Tier};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const READY_DEADLINE: Duration = Duration::from_secs(30);
/// Starts of a gateway that exits at once before the cache reports it failed.
const GATEWAY_START_ATTEMPTS: u32 = 3;

/// How one start of the gateway ended.
enum Launch {
    /// Its API answers on this admin address.
    Ready(Arc<Proc>, String),
    /// It exited before answering (a port taken under it, most often).
    Exited,
    /// It neither answered nor exited within `READY_DEADLINE`.
    TimedOut,
}
pub const STEP: Duration = Duration::from_millis(500);

pub struct NodeRt {
    pub index: usize,
    pub shard: usize,
    pub port: u16,
    pub role: Role,
    pub proc: Option<Arc<Proc>>,
    pub health: Health,
    pub seen: Option<ReplInfo>,
    pub version: Option<String>,
    /// Seen linked and past its initial sync since it last started: it holds a
    /// complete copy, so it may be promoted.
    pub synced: bool,
    /// Stopped on purpose (a reboot): its exit is not a failure.
    pub maintenance: bool,
    pub down_since: Option<Instant>,
}

pub struct CacheState {
    pub epoch: u64,
    pub keys: (String, String),
    pub nodes: Vec<NodeRt>,
    pub gateway: Option<GatewayRecord>,
    pub gateway_proc: Option<Arc<Proc>>,
    pub gateway_maintenance: bool,
}

/// How one start of a node departs from the usual one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Starting {
    /// Options of its command line that differ this once.
    pub launch: launch::Start,
    /// An exit before the node answers is the caller's to handle (an import puts the
    /// previous data back): the health monitor must not take it for a crash as well,
    /// fail over and start a second process.
    pub caller_handles_exit: bool,
}

pub struct CacheRt {
    pub name: String,
    pub spec: CacheSpec,
    pub dir: PathBuf,
    pub state: Mutex<CacheState>,
    /// Held by whatever changes roles (a planned switch, an unplanned failover), so
    /// two never interleave.
    pub op_lock: tokio::sync::Mutex<()>,
    pub exits: mpsc::UnboundedSender<Exit>,
    exits_rx: Mutex<Option<mpsc::UnboundedReceiver<Exit>>>,
    pub stop: CancellationToken,
}

impl CacheRt {
    pub fn load(ctl: &Ctl, name: &str) -> anyhow::Result<Arc<CacheRt>> {
        let row = ctl
            .store
            .cache(name)?
            .with_context(|| format!("no cache {name}"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let nodes = row
            .nodes
            .iter()
            .map(|n| NodeRt {
                index: n.index,
                shard: n.shard,
                port: n.port,
                role: n.role,
                proc: None,
                health: Health::Down,
                seen: None,
                version: None,
                synced: false,
                maintenance: false,
                down_since: None,
            })
            .collect();
        Ok(Arc::new(CacheRt {
            name: name.to_string(),
            dir: ctl.config.data_dir.join("caches").join(name),
            spec: row.spec,
            state: Mutex::new(CacheState {
                epoch: row.epoch,
                keys: row.keys,
                nodes,
                gateway: row.gateway,
                gateway_proc: None,
                gateway_maintenance: false,
            }),
            op_lock: tokio::sync::Mutex::new(()),
            exits: tx,
            exits_rx: Mutex::new(Some(rx)),
            stop: ctl.shutdown.child_token(),
        }))
    }

    pub fn node_addr(&self, i: usize) -> SocketAddr {
        let port = self.state.lock().nodes[i].port;
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    pub fn primary_of(&self, shard: usize) -> Option<usize> {
        let st = self.state.lock();
        st.nodes
            .iter()
            .find(|n| n.shard == shard && n.role == Role::Primary)
            .map(|n| n.index)
    }

    pub fn replicas_of(&self, shard: usize) -> Vec<usize> {
        let st = self.state.lock();
        st.nodes
            .iter()
            .filter(|n| n.shard == shard && n.role == Role::Replica)
            .map(|n| n.index)
            .collect()
    }

    pub async fn client(&self, ctl: &Ctl, i: usize) -> anyhow::Result<RespClient> {
        RespClient::connect(self.node_addr(i), &ctl.node_password, STEP).await
    }

    pub fn topology(&self) -> Topology {
        let st = self.state.lock();
        let addr = |p: u16| format!("127.0.0.1:{p}");
        let mut shards: Vec<TopologyShard> = Vec::new();
        for n in &st.nodes {
            while shards.len() <= n.shard {
                shards.push(TopologyShard {
                    primary: String::new(),
                    replicas: vec![],
                });
            }
            match n.role {
                Role::Primary => shards[n.shard].primary = addr(n.port),
                Role::Replica => shards[n.shard].replicas.push(addr(n.port)),
            }
        }
        Topology {
            epoch: st.epoch,
            nodes: st.nodes.iter().map(|n| addr(n.port)).collect(),
            shards,
        }
    }

    pub fn gateway_client(&self) -> Option<GatewayClient> {
        self.state
            .lock()
            .gateway
            .as_ref()
            .map(|g| GatewayClient::new(&g.admin))
    }

    /// Brings every process up: adopts those still running from a previous instance
    /// of the service, starts the others (primaries first), then the gateway, and
    /// starts the health monitor.
    pub async fn bring_up(self: &Arc<Self>, ctl: &Arc<Ctl>) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let rows = ctl.store.cache(&self.name)?.context("cache vanished")?;
        let mut order: Vec<&NodeRow> = rows.nodes.iter().collect();
        order.sort_by_key(|n| n.role != Role::Primary);
        for n in order {
            if let Some(pid) = n.pid.filter(|p| alive(*p)) {
                if let Ok(mut c) = self.client(ctl, n.index).await {
                    if c.ok(&["PING"]).await.is_ok() {
                        tracing::info!(cache = %self.name, node = n.index, pid, "adopting running node");
                        let proc = Proc::adopt(pid, Member::Node(n.index), self.exits.clone());
                        self.state.lock().nodes[n.index].proc = Some(Arc::new(proc));
                        continue;
                    }
                }
            }
            let primary = match n.role {
                Role::Primary => None,
                Role::Replica => self
                    .primary_of(n.shard)
                    .map(|p| self.state.lock().nodes[p].port),
            };
            self.start_node(ctl, n.index, primary).await?;
        }
        let adopted = match &rows.gateway {
            Some(g) if g.pid.is_some_and(alive) && GatewayClient::new(&g.admin).healthy().await => {
                let pid = g.pid.unwrap_or_default();
                tracing::info!(cache = %self.name, pid, "adopting running gateway");
                self.state.lock().gateway_proc = Some(Arc::new(Proc::adopt(
                    pid,
                    Member::Gateway,
                    self.exits.clone(),
                )));
                true
            }
            _ => false,
        };
        if adopted {
            self.push_topology().await?;
        } else {
            self.start_gateway(ctl).await?;
        }
        if let Some(rx) = self.exits_rx.lock().take() {
            tokio::spawn(crate::health::monitor(ctl.clone(), self.clone(), rx));
        }
        Ok(())
    }

    /// Starts node `i`. With `replica_of`, the node starts fenced (a password nobody
    /// else knows), is made a replica, and only then gets the real password: nothing
    /// can write to it, and nothing sees it claim to be a primary, before it follows.
    pub async fn start_node(
        &self,
        ctl: &Ctl,
        i: usize,
        replica_of: Option<u16>,
    ) -> anyhow::Result<()> {
        self.start_node_with(ctl, i, replica_of, Starting::default())
            .await
    }

    /// `start_node`, with `how` saying how this one start departs from the usual one
    /// (the next start, by whoever, is the usual one again).
    pub async fn start_node_with(
        &self,
        ctl: &Ctl,
        i: usize,
        replica_of: Option<u16>,
        how: Starting,
    ) -> anyhow::Result<()> {
        let start = how.launch;
        let dir = launch::node_dir(&self.dir, i);
        std::fs::create_dir_all(&dir)?;
        let port = self.state.lock().nodes[i].port;
        let fence = secret::random_hex(16)?;
        let pass = if replica_of.is_some() {
            fence.as_str()
        } else {
            ctl.node_password.as_str()
        };
        let version = crate::versions::of_node(ctl, &self.name, self.spec.engine, i)?;
        let binary = PathBuf::from(&version.binary);
        let cmd = launch::node(
            ctl, &self.spec, &binary, port, &dir, pass, replica_of, start,
        );
        let proc = Arc::new(Proc::spawn(
            cmd,
            &dir.join("node.log"),
            Member::Node(i),
            self.exits.clone(),
        )?);
        {
            let mut st = self.state.lock();
            let n = &mut st.nodes[i];
            n.proc = Some(proc.clone());
            n.health = Health::Starting;
            n.synced = false;
            n.seen = None;
            n.maintenance = how.caller_handles_exit;
        }
        ctl.store.set_node_pid(&self.name, i, Some(proc.pid))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + READY_DEADLINE;
        let mut client = loop {
            if proc.has_exited() {
                bail!(
                    "node {i} exited at start; see {}",
                    dir.join("node.log").display()
                );
            }
            if let Ok(mut c) = RespClient::connect(addr, pass, STEP).await {
                if c.ok(&["PING"]).await.is_ok() {
                    break c;
                }
            }
            if Instant::now() > deadline {
                bail!("node {i} did not answer within {READY_DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if let Some(p) = replica_of {
            client
                .ok(&["REPLICAOF", "127.0.0.1", &p.to_string()])
                .await?;
            client
                .ok(&["CONFIG", "SET", "requirepass", &ctl.node_password])
                .await?;
        }
        if how.caller_handles_exit {
            let mut st = self.state.lock();
            let n = &mut st.nodes[i];
            if n.proc.as_ref().is_some_and(|p| p.pid == proc.pid) {
                n.maintenance = false;
            }
        }
        // An exit before the flag dropped was not the monitor's: it is the caller's.
        if how.caller_handles_exit && proc.has_exited() {
            bail!(
                "node {i} exited right after its start; see {}",
                dir.join("node.log").display()
            );
        }
        tracing::info!(cache = %self.name, node = i, pid = proc.pid, ?replica_of, ?start, "node started");
        Ok(())
    }

    /// Stops node `i` on purpose (its exit is not a failure).
    pub async fn stop_node(&self, i: usize) {
        let proc = {
            let mut st = self.state.lock();
            let n = &mut st.nodes[i];
            n.maintenance = true;
            n.health = Health::Stopped;
            n.synced = false;
            n.proc.clone()
        };
        if let Some(p) = proc {
            p.stop(Duration::from_secs(20)).await;
        }
    }

    /// One start of the gateway on a fresh admin port, waited for until its API
    /// answers; a gateway that does not get there is stopped.
    async fn launch_gateway(
        &self,
        ctl: &Ctl,
        node_ports: &[u16],
        keys: &(String, String),
        gdir: &std::path::Path,
    ) -> anyhow::Result<Launch> {
        let admin = format!("127.0.0.1:{}", ports::free_port()?);
        let cmd = launch::gateway(
            ctl,
            &self.spec,
            node_ports,
            (&keys.0, &keys.1),
            &admin,
            &self.dir,
            gdir,
        );
        let proc = Arc::new(Proc::spawn(
            cmd,
            &gdir.join("gateway.log"),
            Member::Gateway,
            self.exits.clone(),
        )?);
        let gw = GatewayClient::new(&admin);
        let deadline = Instant::now() + READY_DEADLINE;
        while !gw.healthy().await {
            let exited = proc.has_exited();
            if exited || Instant::now() > deadline {
                proc.stop(Duration::from_secs(2)).await;
                return Ok(if exited {
                    Launch::Exited
                } else {
                    Launch::TimedOut
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Launch::Ready(proc, admin))
    }

    /// Starts the gateway on the cache's ports, waits for its API, and sends it the
    /// current topology.
    pub async fn start_gateway(&self, ctl: &Ctl) -> anyhow::Result<()> {
        let (node_ports, keys) = {
            let st = self.state.lock();
            (
                st.nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
                st.keys.clone(),
            )
        };
        let gdir = self.dir.join("gateway");
        std::fs::create_dir_all(&gdir)?;
        // The admin port is found free here and bound by the gateway a moment
        // later; another process can take it in between. A gateway that exits at
        // start is therefore tried again on a new admin port before giving up.
        let mut attempt = 1;
        let (proc, admin) = loop {
            match self.launch_gateway(ctl, &node_ports, &keys, &gdir).await? {
                Launch::Ready(proc, admin) => break (proc, admin),
                Launch::Exited if attempt < GATEWAY_START_ATTEMPTS => {
                    tracing::warn!(cache = %self.name, attempt, "the gateway exited at start; trying again on another admin port");
                    attempt += 1;
                }
                Launch::Exited | Launch::TimedOut => bail!(
                    "the gateway did not start; see {}",
                    gdir.join("gateway.log").display()
                ),
            }
        };
        let n = node_ports.len() as u16;
        let rec = GatewayRecord {
            pid: Some(proc.pid),
            admin,
            endpoint: format!("127.0.0.1:{}", self.spec.port),
            tls_endpoint: format!("127.0.0.1:{}", self.spec.tls_port),
            node_ports: (0..n).map(|i| self.spec.node_port_base + i).collect(),
            tls_node_ports: (0..n).map(|i| self.spec.tls_node_port_base + i).collect(),
        };
        ctl.store.set_gateway(&self.name, &rec)?;
        {
            let mut st = self.state.lock();
            st.gateway = Some(rec);
            st.gateway_proc = Some(proc);
            st.gateway_maintenance = false;
        }
        self.push_topology().await
    }

    pub async fn push_topology(&self) -> anyhow::Result<()> {
        let gw = self.gateway_client().context("no gateway")?;
        gw.put_topology(&self.topology()).await
    }

    /// Gives the running gateway the cache's current access keys.
    pub async fn push_keys(&self) -> anyhow::Result<()> {
        let gw = self.gateway_client().context("no gateway")?;
        let (primary, secondary) = self.state.lock().keys.clone();
        gw.set_keys(&[&primary, &secondary]).await
    }

    pub async fn restart_gateway(&self, ctl: &Ctl) -> anyhow::Result<()> {
        let proc = {
            let mut st = self.state.lock();
            st.gateway_maintenance = true;
            st.gateway_proc.clone()
        };
        if let Some(p) = proc {
            p.stop(Duration::from_secs(10)).await;
        }
        self.start_gateway(ctl).await
    }

    /// Stops the gateway, then every node (they save their data on SIGTERM).
    pub async fn shut_down(&self, ctl: &Ctl) {
        self.stop.cancel();
        let (gw, nodes) = {
            let mut st = self.state.lock();
            st.gateway_maintenance = true;
            for n in st.nodes.iter_mut() {
                n.maintenance = true;
            }
            (
                st.gateway_proc.clone(),
                st.nodes
                    .iter()
                    .filter_map(|n| n.proc.clone())
                    .collect::<Vec<_>>(),
            )
        };
        if let Some(g) = gw {
            g.stop(Duration::from_secs(10)).await;
        }
        for n in nodes {
            n.stop(Duration::from_secs(30)).await;
        }
        for i in 0..self.state.lock().nodes.len() {
            let _ = ctl.store.set_node_pid(&self.name, i, None);
        }
    }

    pub fn info(&self, ctl: &Ctl) -> CacheInfo {
        let st = self.state.lock();
        let primary_offset = |shard: usize| {
            st.nodes
                .iter()
                .find(|n| n.shard == shard && n.role == Role::Primary)
                .and_then(|n| n.seen.as_ref())
                .map(|s| s.offset)
        };
        let g = st.gateway.as_ref();
        let nodes = st
            .nodes
            .iter()
            .map(|n| NodeInfo {
                index: n.index,
                shard: n.shard,
                role: n.role,
                reported_role: n.seen.as_ref().map(|s| {
                    if s.is_primary {
                        Role::Primary
                    } else {
                        Role::Replica
                    }
                }),
                port: n.port,
                direct_port: self.spec.node_port_base + n.index as u16,
                direct_tls_port: self.spec.tls_node_port_base + n.index as u16,
                pid: n.proc.as_ref().filter(|p| !p.has_exited()).map(|p| p.pid),
                health: n.health,
                offset: n.seen.as_ref().map(|s| s.offset),
                lag: match (n.role, &n.seen, primary_offset(n.shard)) {
                    (Role::Replica, Some(s), Some(p)) => Some(p.saturating_sub(s.offset)),
                    _ => None,
                },
                version: ctl.store.node_version(&self.name, n.index).ok().flatten(),
                reported_version: n.version.clone(),
            })
            .collect();
        let workflow = ctl.store.workflows(Some(&self.name)).ok().and_then(|w| {
            w.into_iter()
                .find(|w| w.info.state == "running")
                .map(|w| w.info.id)
        });
        CacheInfo {
            spec: self.spec.clone(),
            endpoint: g.map_or(String::new(), |g| g.endpoint.clone()),
            tls_endpoint: g.map_or(String::new(), |g| g.tls_endpoint.clone()),
            epoch: st.epoch,
            nodes,
            workflow,
        }
    }
}

/// Creates a cache: resolves its ports, stores it, starts it. If it cannot start,
/// everything is undone (nothing half-applied).
pub async fn create(ctl: &Arc<Ctl>, mut spec: CacheSpec) -> Result<Arc<CacheRt>, ApiError> {
    spec.validate().map_err(ApiError::bad_request)?;
    if ctl
        .store
        .cache(&spec.name)
        .map_err(ApiError::internal)?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "cache {} already exists",
            spec.name
        )));
    }
    if spec.engine == ferrocache_api::Engine::Redis && !redis_available(ctl) {
        return Err(ApiError::bad_request(
            "engine redis needs redis-server: install it with `apt-get install redis-server`",
        ));
    }
    let n = spec.tier.nodes_per_shard();
    let mut resolve = || -> anyhow::Result<()> {
        if spec.port == 0 {
            spec.port = ports::free_port()?;
        }
        if spec.tls_port == 0 {
            spec.tls_port = ports::free_port()?;
        }
        if spec.node_port_base == 0 {
            spec.node_port_base = ports::free_base(n)?;
        }
        if spec.tls_node_port_base == 0 {
            spec.tls_node_port_base = ports::free_base(n)?;
        }
        Ok(())
    };
    resolve().map_err(ApiError::internal)?;
    let mut nodes = Vec::new();
    for i in 0..n {
        let port = ports::free_port().map_err(ApiError::internal)?;
        let role = if i == 0 { Role::Primary } else { Role::Replica };
        nodes.push(NodeRow {
            index: i,
            shard: 0,
            port,
            role,
            pid: None,
        });
    }
    let keys = (
        secret::random_hex(22).map_err(ApiError::internal)?,
        secret::random_hex(22).map_err(ApiError::internal)?,
    );
    ctl.store
        .insert_cache(&spec, &nodes, (&keys.0, &keys.1), secret::now_ms())
        .map_err(ApiError::internal)?;
    let rt = CacheRt::load(ctl, &spec.name).map_err(ApiError::internal)?;
    if let Err(e) = rt.bring_up(ctl).await {
        tracing::error!(cache = %spec.name, "cannot start: {e:#}");
        rt.shut_down(ctl).await;
        let _ = ctl.store.delete_cache(&spec.name);
        let _ = std::fs::remove_dir_all(&rt.dir);
        return Err(ApiError::internal(format!(
            "cannot start cache {}: {e:#}",
            spec.name
        )));
    }
    if spec.tier == Tier::Basic {
        tracing::info!(cache = %spec.name, "basic tier: one node, no replica");
    }
    ctl.caches.lock().insert(spec.name.clone(), rt.clone());
    Ok(rt)
}

fn redis_available(ctl: &Ctl) -> bool {
    std::process::Command::new(&ctl.config.redis_server)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
