//! The endpoint's cost: the same redis-benchmark runs straight at a `ferrocache
//! node` and through a `ferrocache gateway` in front of that node, back to back,
//! so the ratio endpoint/direct is what a client pays for the endpoint.
//!
//! Both ways the endpoint works are measured: handing connections over to the node
//! (builtin nodes) and proxying them (redis-server nodes, TLS). The node is pinned
//! like the servers of the main tables; the gateway is not pinned: on a two-core
//! machine it shares the cores with the node and redis-benchmark, which makes the
//! proxying figure a pessimistic one for a host where the gateway has a core of its own.

use crate::bench::{Pair, Plan};
use crate::bench_run::pinned;
use crate::bench_server::{free_ports, Server};
use anyhow::{anyhow, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the comparison and returns its Markdown section.
pub fn run(
    bin: &Path,
    tmp: &Path,
    plan: &Plan,
    server_cpu: Option<u32>,
    notes: &mut Vec<String>,
    cmds: &mut Vec<String>,
) -> Result<String> {
    eprintln!("bench: endpoint: a node directly and through a gateway");
    let ports = free_ports(1)?;
    let addr = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let dir = tmp.join("endpoint");
    std::fs::create_dir_all(&dir)?;
    let socket = dir.join("node").join("handoff.sock");
    let mut node_cmd = Command::new(bin);
    node_cmd
        .args(["node", "--bind", "127.0.0.1", "--port"])
        .arg(ports[0].to_string())
        .arg("--dir")
        .arg(dir.join("node"))
        .arg("--handoff-socket")
        .arg(&socket);
    let mut node = Server::spawn(
        "ferrocache node",
        pinned(node_cmd, server_cpu),
        addr(ports[0]),
        &dir.join("node.log"),
    )?;
    node.wait_ready(READY_TIMEOUT)?;

    let mut s = String::from(
        "## Through the endpoint\n\nThe same tests straight at a `ferrocache node` (direct) and through a \
         `ferrocache gateway` in front of it (endpoint), back to back, alternating, in the endpoint's two \
         ways of working (docs/gateway.md): **handoff**, what a cache of builtin nodes does (each idle \
         connection's socket is passed to the node, which then serves it directly), and **proxying**, \
         what the endpoint does over `redis-server` nodes and for TLS (every request and reply goes \
         through the gateway). The node is pinned to CPU 0 like the servers above; the gateway is not \
         pinned, so on this two-core machine it shares the cores with the node and redis-benchmark. \
         Added latency is the p50 difference.\n\n\
         - gateway: `ferrocache gateway --no-tls --node-port-base 0 --port PORT --node 127.0.0.1:NODEPORT \
         [--node-handoff 0=SOCKET]`\n\n",
    );
    let variants = [
        ("handoff", Some(&socket)),
        ("proxying", None::<&std::path::PathBuf>),
    ];
    for (i, (name, handoff)) in variants.into_iter().enumerate() {
        let port = free_ports(1)?[0];
        let mut gw_cmd = Command::new(bin);
        gw_cmd
            .args([
                "gateway",
                "--bind",
                "127.0.0.1",
                "--no-tls",
                "--node-port-base",
                "0",
            ])
            .arg("--port")
            .arg(port.to_string())
            .arg("--node")
            .arg(format!("127.0.0.1:{}", ports[0]))
            .arg("--dir")
            .arg(dir.join(format!("gateway-{i}")));
        if let Some(socket) = handoff {
            gw_cmd
                .arg("--node-handoff")
                .arg(format!("0={}", socket.display()));
        }
        let mut gateway = Server::spawn(
            "ferrocache gateway",
            gw_cmd,
            addr(port),
            &dir.join(format!("gateway-{i}.log")),
        )?;
        gateway.wait_ready(READY_TIMEOUT)?;
        eprintln!("bench: endpoint ({name})");
        s.push_str(&section(&mut node, &mut gateway, name, plan, notes, cmds)?);
    }
    Ok(s)
}

/// One way of working: the tables and the added latency.
fn section(
    node: &mut Server,
    gateway: &mut Server,
    name: &str,
    plan: &Plan,
    notes: &mut Vec<String>,
    cmds: &mut Vec<String>,
) -> Result<String> {
    let total = (plan.modes.len() * plan.tests.len() * 2) as u64 * u64::from(plan.repeat);
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .map_err(|e| anyhow!("progress bar template: {e}"))?,
    );
    let mut pair = Pair {
        redis: node,
        ours: gateway,
        pb: &pb,
        notes,
    };
    let prefix = format!("Endpoint ({name}), ");
    let tables = pair.tables(plan, &prefix, ["direct", "endpoint"], cmds)?;
    pb.finish_and_clear();
    let mut s = String::new();
    for t in &tables {
        s.push_str(&t.markdown());
        s.push('\n');
        let added: Vec<String> = t
            .redis
            .iter()
            .filter_map(|d| {
                let e = t.ours.iter().find(|e| e.test == d.test)?;
                Some(format!(
                    "{} {:+.0} µs",
                    d.test,
                    (e.p50_ms - d.p50_ms) * 1000.0
                ))
            })
            .collect();
        s.push_str(&format!("Added p50 latency: {}.\n\n", added.join(", ")));
    }
    Ok(s)
}
