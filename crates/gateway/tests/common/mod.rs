//! Shared fixtures for the gateway's tests: a primary/replica pair of real
//! `redis-server`s, a gateway running in process on free ports, a small client for
//! the admin API, and the planned switch driven as the management service drives it.
#![allow(dead_code)] // each test file uses a different part of this module

use ferrocache_gateway::{tls::Identity, Addrs, Config, Gateway, TlsConfig};
use ferrocache_testkit::{poll_until, RedisServer, RespConn, Server, TempDir};
pub use ferrocache_testkit::{show, Frame};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The bound on every wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// `host:port` of a server, as the gateway's topology names it.
pub fn name(s: &dyn Server) -> String {
    s.addr().to_string()
}

/// A primary and a replica that has finished its initial sync: real `redis-server`s
/// by default, or ferrocache nodes (`Pair::builtin`).
pub struct Pair<S: Server = RedisServer> {
    pub primary: S,
    pub replica: S,
}

impl Pair {
    pub fn start() -> Pair {
        // Disk-based sync: after a diskless one Redis streams nothing to the replica
        // until its first once-a-second REPLCONF ACK, which would stall a switch
        // started right after setup for up to a second.
        let args = ["--repl-diskless-sync", "no"];
        let primary = RedisServer::start_with(&args).expect("start the primary");
        let replica = RedisServer::start_with(&args).expect("start the replica");
        Pair::replicate(primary, replica)
    }
}

impl Pair<InProcessNode> {
    /// Two `ferrocache node`s (the node's own code, in this process).
    pub fn builtin() -> Pair<InProcessNode> {
        Pair::replicate(InProcessNode::start(), InProcessNode::start())
    }
}

impl<S: Server> Pair<S> {
    /// Makes `replica` follow `primary` and waits until it is online and caught up.
    pub fn replicate(primary: S, replica: S) -> Pair<S> {
        let p = primary.addr();
        let mut c = replica.connect().expect("connect to the replica");
        let r = c
            .cmd(&["REPLICAOF", &p.ip().to_string(), &p.port().to_string()])
            .expect("REPLICAOF");
        assert_eq!(r, Frame::Simple("OK".into()), "REPLICAOF: {}", show(&r));
        let synced = poll_until(DEADLINE, || {
            info(replica.addr(), "replication", "master_link_status").as_deref() == Some("up")
        });
        assert!(synced, "the replica did not sync:\n{}", replica.log_tail());
        let online = poll_until(DEADLINE, || {
            info(primary.addr(), "replication", "slave0")
                .is_some_and(|s| s.contains("state=online"))
        });
        assert!(online, "the primary never saw its replica online");
        wait_caught_up(primary.addr(), replica.addr());
        Pair { primary, replica }
    }

    pub fn nodes(&self) -> Vec<String> {
        vec![name(&self.primary), name(&self.replica)]
    }
}

/// One field of one INFO section of the server at `addr` (a direct connection).
pub fn info(addr: SocketAddr, section: &str, field: &str) -> Option<String> {
    let mut c = RespConn::connect(addr).ok()?;
    let Frame::Bulk(text) = c.cmd(&["INFO", section]).ok()? else {
        return None;
    };
    let prefix = format!("{field}:");
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
}

/// Sends one command on a fresh direct connection and returns the reply.
pub fn direct(addr: SocketAddr, args: &[&str]) -> Frame {
    let mut c = RespConn::connect(addr).expect("connect to a node");
    c.cmd(args).expect("a reply from the node")
}

pub fn ok() -> Frame {
    Frame::Simple("OK".into())
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec().into())
}

/// A gateway config for tests: every port picked free, loopback only, no TLS.
pub fn config(nodes: Vec<String>) -> Config {
    let mut c = Config::new(nodes);
    c.port = 0;
    c.node_port_base = 0;
    c
}

/// `config` plus handoff to both nodes of a builtin pair (their handoff sockets).
pub fn with_handoff(mut c: Config, pair: &Pair<InProcessNode>) -> Config {
    c.handoff = vec![
        Some(pair.primary.handoff_socket()),
        Some(pair.replica.handoff_socket()),
    ];
    c
}

/// `config` plus TLS on free ports with a self-signed certificate in `dir`.
pub fn with_tls(mut c: Config, dir: &TempDir) -> Config {
    c.tls = Some(TlsConfig {
        port: 0,
        node_port_base: 0,
        identity: Identity::SelfSigned {
            dir: dir.path().to_path_buf(),
        },
    });
    c
}

/// A gateway serving on its own runtime thread; stopped (and joined) on drop.
pub struct TestGateway {
    pub addrs: Addrs,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestGateway {
    pub fn start(config: Config) -> TestGateway {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let gw = match Gateway::bind(config).await {
                    Ok(gw) => gw,
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let _ = tx.send(Ok((gw.addrs().clone(), gw.shutdown_token())));
                if let Err(e) = gw.serve().await {
                    eprintln!("gateway stopped with an error: {e:#}");
                }
            });
        });
        let (addrs, stop) = rx
            .recv_timeout(DEADLINE)
            .expect("the gateway thread answers")
            .expect("the gateway binds");
        TestGateway {
            addrs,
            stop,
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> SocketAddr {
        self.addrs.endpoint
    }

    pub fn connect(&self) -> RespConn {
        RespConn::connect(self.endpoint()).expect("connect to the endpoint")
    }

    /// One admin API request; the status and the JSON body (every answer is JSON).
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        http(self.addrs.admin, method, path, body)
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.http("POST", path, Some(body))
    }

    pub fn metrics(&self) -> Value {
        let (status, m) = self.http("GET", "/metrics", None);
        assert_eq!(status, 200, "{m}");
        m
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A minimal HTTP/1.1 client (one request per connection), so the tests need no
/// HTTP client crate. Panics if the answer is not JSON.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&addr, DEADLINE).expect("connect to the admin API");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = body {
        req += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        );
    } else {
        req += "Content-Length: 0\r\n\r\n";
    }
    s.write_all(req.as_bytes()).expect("send the request");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let json = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {path}: the body is not JSON ({e}): {body:?}"));
    (status, json)
}

/// Waits until the replica has applied everything the primary has (FAILOVER.md,
/// planned failover step 4): its processed offset equals the primary's.
pub fn wait_caught_up(primary: SocketAddr, replica: SocketAddr) {
    let caught_up = poll_until(DEADLINE, || {
        let p = info(primary, "replication", "master_repl_offset");
        let r = info(replica, "replication", "slave_repl_offset");
        p.is_some() && p == r
    });
    assert!(caught_up, "the replica did not catch up with the primary");
}

/// The planned switch of shard 0 from the pair's primary to its replica, driven as
/// the management service drives it (FAILOVER.md, planned failover steps 3–7).
/// Returns the answers of `/switch/start` and `/switch/finish`.
pub fn planned_switch<S: Server>(gw: &TestGateway, pair: &Pair<S>, epoch: u64) -> (Value, Value) {
    let (p, r) = (pair.primary.addr(), pair.replica.addr());
    let (status, started) = gw.post("/switch/start", &format!(r#"{{"shard":0,"target":"{r}"}}"#));
    assert_eq!(status, 200, "switch/start: {started}");
    wait_caught_up(p, r);
    assert_eq!(direct(r, &["REPLICAOF", "NO", "ONE"]), ok());
    let (status, finished) = gw.post(
        "/switch/finish",
        &format!(r#"{{"shard":0,"epoch":{epoch}}}"#),
    );
    assert_eq!(status, 200, "switch/finish: {finished}");
    let demoted = direct(
        p,
        &["REPLICAOF", &r.ip().to_string(), &r.port().to_string()],
    );
    assert_eq!(demoted, ok(), "REPLICAOF on the old primary");
    (started, finished)
}

/// A `ferrocache node` served in this process on its own runtime thread, on a free
/// port; stopped (and joined) on drop. The gateway's tests use it to show that the
/// endpoint treats ferrocache nodes exactly as it treats `redis-server`.
pub struct InProcessNode {
    addr: SocketAddr,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl InProcessNode {
    pub fn start() -> InProcessNode {
        let dir = TempDir::new("gw-node").expect("a temporary directory");
        let mut config = ferrocache_node::Config::default();
        for (name, value) in [
            ("port", "0"),
            ("bind", "127.0.0.1"),
            ("dir", &dir.path().display().to_string()),
        ] {
            config.set(name, value).expect("a node option");
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let socket = dir.path().join("handoff.sock");
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let node = match ferrocache_node::Node::bind(config).await {
                    Ok(n) => n.with_handoff_socket(socket),
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let _ = tx.send(Ok((node.local_addr(), node.shutdown_token())));
                if let Err(e) = node.serve().await {
                    eprintln!("node stopped with an error: {e:#}");
                }
            });
        });
        let (addr, stop) = rx
            .recv_timeout(DEADLINE)
            .expect("the node thread answers")
            .expect("the node binds");
        InProcessNode {
            addr,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl InProcessNode {
    /// Where a gateway can hand connections over to this node.
    pub fn handoff_socket(&self) -> std::path::PathBuf {
        self._dir.path().join("handoff.sock")
    }
}

impl Server for InProcessNode {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn pid(&self) -> u32 {
        std::process::id()
    }
    fn name(&self) -> &str {
        "ferrocache node (in process)"
    }
    fn log_tail(&self) -> String {
        "(in process: see the test's output)".into()
    }
}

impl Drop for InProcessNode {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
