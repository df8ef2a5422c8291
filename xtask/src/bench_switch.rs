//! The planned switch through the endpoint, measured: while redis-benchmark writes
//! through a gateway, the shard is switched back and forth between a primary and
//! its replica, driven as the management service drives it (docs/gateway.md:
//! `/switch/start`, the replica catches up, `REPLICAOF NO ONE`, `/switch/finish`,
//! the old primary follows the new one). For each switch the time from start to
//! finish bounds how long any request was held. Over ferrocache nodes and over
//! redis-server nodes, in the same run.

use crate::bench_repl_client::{wait_for, Conn};
use crate::bench_server::{free_ports, Server};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(30);

/// The nodes a switch runs between.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Builtin,
    Redis,
}

impl Engine {
    fn label(self) -> &'static str {
        match self {
            Engine::Builtin => "ferrocache node",
            Engine::Redis => "redis-server",
        }
    }
}

struct Outcome {
    engine: Engine,
    durations_ms: Vec<f64>,
    hold_max_ms: f64,
    held_failed: u64,
}

/// Runs `switches` switches per engine and returns the Markdown section.
pub fn run(bin: &Path, tmp: &Path, switches: u32) -> Result<String> {
    let mut outcomes = Vec::new();
    for engine in [Engine::Builtin, Engine::Redis] {
        eprintln!(
            "bench: switch: {switches} planned switches over {}",
            engine.label()
        );
        outcomes.push(measure(bin, tmp, engine, switches)?);
    }
    let mut s = String::from(
        "## Planned switch through the endpoint\n\n\
         While `redis-benchmark -c 20 -t set` writes through a gateway, the shard is switched \
         back and forth between a primary and its replica as the management service does it. \
         The switch time (from `/switch/start` to the answer of `/switch/finish`) bounds how \
         long any request was held; the longest hold is the gateway's own measurement \
         (`/metrics`). Over ferrocache nodes the connections are handed over to the primary, \
         so each switch first takes them back from it (docs/gateway.md, Handoff). \
         Held requests that failed counts TRYAGAIN (hold deadline) and lost-node \
         errors: a planned switch must have none.\n\n\
         | nodes | switches | switch p50 ms | switch p99 ms | switch max ms | longest hold ms | held requests failed |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for o in &outcomes {
        let mut d = o.durations_ms.clone();
        d.sort_by(f64::total_cmp);
        let pct = |p: f64| d[((p / 100.0 * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1];
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |\n",
            o.engine.label(),
            d.len(),
            pct(50.0),
            pct(99.0),
            d.last().copied().unwrap_or(0.0),
            o.hold_max_ms,
            o.held_failed
        ));
    }
    Ok(s)
}

fn node(bin: &Path, engine: Engine, port: u16, dir: &Path, log: &Path) -> Result<Server> {
    std::fs::create_dir_all(dir)?;
    let mut c = match engine {
        Engine::Builtin => {
            let mut c = Command::new(bin);
            c.args(["node", "--bind", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .arg("--dir")
                .arg(dir)
                .arg("--handoff-socket")
                .arg(dir.join("handoff.sock"));
            c
        }
        Engine::Redis => {
            let mut c = Command::new("redis-server");
            c.args([
                "--save",
                "",
                "--bind",
                "127.0.0.1",
                "--repl-diskless-sync",
                "no",
            ])
            .args(["--repl-backlog-size", "64mb", "--port"])
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir);
            c
        }
    };
    c.current_dir(dir);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = Server::spawn(engine.label(), c, addr, log)?;
    s.wait_ready(READY)?;
    Ok(s)
}

fn measure(bin: &Path, tmp: &Path, engine: Engine, switches: u32) -> Result<Outcome> {
    let dir = tmp.join(format!("switch-{}", engine.label().replace(' ', "-")));
    let ports = free_ports(4)?;
    let a = node(bin, engine, ports[0], &dir.join("a"), &dir.join("a.log"))?;
    let b = node(bin, engine, ports[1], &dir.join("b"), &dir.join("b.log"))?;
    let nodes = [a.addr(), b.addr()];
    follow(nodes[1], nodes[0])?;
    let admin = SocketAddr::from((Ipv4Addr::LOCALHOST, ports[3]));
    let mut gw = Command::new(bin);
    gw.args([
        "gateway",
        "--bind",
        "127.0.0.1",
        "--no-tls",
        "--node-port-base",
        "0",
    ])
    .arg("--port")
    .arg(ports[2].to_string())
    .arg("--admin-addr")
    .arg(admin.to_string())
    .arg("--dir")
    .arg(dir.join("gateway"));
    for n in nodes {
        gw.arg("--node").arg(n.to_string());
    }
    // As a cache of builtin nodes runs: connections handed over to the primary.
    if engine == Engine::Builtin {
        for (i, d) in ["a", "b"].iter().enumerate() {
            gw.arg("--node-handoff").arg(format!(
                "{i}={}",
                dir.join(d).join("handoff.sock").display()
            ));
        }
    }
    let endpoint = SocketAddr::from((Ipv4Addr::LOCALHOST, ports[2]));
    let mut gateway = Server::spawn("ferrocache gateway", gw, endpoint, &dir.join("gateway.log"))?;
    gateway.wait_ready(READY)?;
    let load = Load::start(endpoint)?;
    let mut durations_ms = Vec::new();
    for i in 0..switches {
        let (from, to) = if i % 2 == 0 {
            (nodes[0], nodes[1])
        } else {
            (nodes[1], nodes[0])
        };
        let t0 = Instant::now();
        post(
            admin,
            "/switch/start",
            &format!(r#"{{"shard":0,"target":"{to}"}}"#),
        )?;
        wait_caught_up(from, to)?;
        Conn::connect(to)?.ok(&["REPLICAOF", "NO", "ONE"])?;
        post(
            admin,
            "/switch/finish",
            &format!(r#"{{"shard":0,"epoch":{}}}"#, i + 1),
        )?;
        durations_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        follow(from, to)?;
        gateway.check_alive()?;
    }
    load.stop();
    let metrics = get(admin, "/metrics")?;
    let number = |path: &[&str]| -> f64 {
        let mut v = &metrics;
        for p in path {
            v = &v[*p];
        }
        v.as_f64().unwrap_or(0.0)
    };
    Ok(Outcome {
        engine,
        durations_ms,
        hold_max_ms: number(&["holds", "max_ms"]),
        held_failed: (number(&["requests", "hold_timed_out"])
            + number(&["requests", "failed_backend_lost"])) as u64,
    })
}

/// `replica` follows `primary`, online and caught up.
fn follow(replica: SocketAddr, primary: SocketAddr) -> Result<()> {
    let mut r = Conn::connect(replica)?;
    r.ok(&[
        "REPLICAOF",
        &primary.ip().to_string(),
        &primary.port().to_string(),
    ])?;
    wait_for("the replica's link", STEP, || {
        Ok(r.info("replication", "master_link_status")? == "up")
    })?;
    wait_caught_up(primary, replica)
}

fn wait_caught_up(primary: SocketAddr, replica: SocketAddr) -> Result<()> {
    let (mut p, mut r) = (Conn::connect(primary)?, Conn::connect(replica)?);
    wait_for("the replica to catch up", STEP, || {
        let po = p.info_u64("replication", "master_repl_offset")?;
        Ok(po > 0 && po == r.info_u64("replication", "slave_repl_offset")?)
    })
}

/// redis-benchmark writing through the endpoint until stopped.
struct Load(Child);

impl Load {
    fn start(endpoint: SocketAddr) -> Result<Load> {
        let child = Command::new("redis-benchmark")
            .args(["-h", "127.0.0.1", "-p"])
            .arg(endpoint.port().to_string())
            .args([
                "-c",
                "20",
                "-n",
                "2000000000",
                "-r",
                "100000",
                "-t",
                "set",
                "-q",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-benchmark")?;
        Ok(Load(child))
    }

    fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(addr: SocketAddr, path: &str, body: &str) -> Result<serde_json::Value> {
    http(addr, "POST", path, body)
}

fn get(addr: SocketAddr, path: &str) -> Result<serde_json::Value> {
    http(addr, "GET", path, "")
}

/// One HTTP/1.1 request on its own connection to the gateway's admin API; a status
/// other than 200 is an error carrying the JSON error.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(STEP))?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .context("an HTTP answer without a body")?;
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "{method} {path}: {} {json}",
            head.lines().next().unwrap_or("")
        );
    }
    Ok(json)
}
