//! Command lines for node and gateway processes, per engine.

use crate::service::Ctl;
use ferrocache_api::{CacheSpec, Engine};
use std::path::Path;
use tokio::process::Command;

/// Replication timeouts in seconds, not Redis's 60 s / 10 s: a replica must notice a
/// silent primary quickly to serve as the second witness.
const REPL_TIMEOUT_S: &str = "2";
const REPL_PING_PERIOD_S: &str = "1";
/// Snapshot schedule: a restarted cache comes back with its data.
const SAVE: &str = "60 1";

/// A node process of `binary` (its version's) listening on 127.0.0.1:`port` with its
/// data in `dir`, requiring `requirepass` (the service's node password, or a fence
/// password while a returning node is being made a replica of `replica_of`).
pub fn node(
    ctl: &Ctl,
    spec: &CacheSpec,
    binary: &Path,
    port: u16,
    dir: &Path,
    requirepass: &str,
    replica_of: Option<u16>,
) -> Command {
    let mut opts: Vec<(&str, String)> = vec![
        ("masterauth", ctl.node_password.clone()),
        ("repl-timeout", REPL_TIMEOUT_S.into()),
        ("repl-ping-replica-period", REPL_PING_PERIOD_S.into()),
        ("save", SAVE.into()),
        // The gateway enforces the clients' idle timeout; its own backend connections
        // must never be closed by the node.
        ("timeout", "0".into()),
    ];
    if let Some(m) = &spec.maxmemory {
        opts.push(("maxmemory", m.clone()));
    }
    match spec.engine {
        Engine::Builtin => {
            let mut c = Command::new(binary);
            c.args([
                "node",
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--dir",
            ])
            .arg(dir)
            .args(["--requirepass", requirepass]);
            for (k, v) in opts {
                c.arg("--set").arg(format!("{k}={v}"));
            }
            c
        }
        Engine::Redis => {
            let mut c = Command::new(binary);
            c.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--dir"])
                .arg(dir)
                .args([
                    "--requirepass",
                    requirepass,
                    "--daemonize",
                    "no",
                    "--logfile",
                    "",
                ])
                .args(["--protected-mode", "no", "--appendonly", "no"])
                // Diskless, at once: Redis's default 5 s delay before a full sync would
                // hold up every resync gate.
                .args([
                    "--repl-diskless-sync",
                    "yes",
                    "--repl-diskless-sync-delay",
                    "0",
                ])
                .args(["--repl-backlog-size", "64mb"]);
            if let Some(p) = replica_of {
                // Started as a replica, redis-server keeps the replication ID and
                // offset its snapshot recorded, so a restarted node resyncs partially
                // (started as a primary it would forget them and copy everything).
                c.args(["--replicaof", "127.0.0.1", &p.to_string()]);
            }
            for (k, v) in opts {
                c.arg(format!("--{k}")).arg(v);
            }
            c
        }
    }
}

/// The cache's gateway: node i is `127.0.0.1:ports[i]`; the first starts as primary
/// (the service PUTs the real topology right after start).
pub fn gateway(
    ctl: &Ctl,
    spec: &CacheSpec,
    node_ports: &[u16],
    keys: (&str, &str),
    admin: &str,
    dir: &Path,
) -> Command {
    let mut c = Command::new(&ctl.config.ferrocache_bin);
    c.arg("gateway");
    for p in node_ports {
        c.arg("--node").arg(format!("127.0.0.1:{p}"));
    }
    c.args(["--port", &spec.port.to_string()])
        .args(["--tls-port", &spec.tls_port.to_string()])
        .args(["--node-port-base", &spec.node_port_base.to_string()])
        .args(["--tls-node-port-base", &spec.tls_node_port_base.to_string()])
        .args(["--auth-key", keys.0, "--auth-key", keys.1])
        .args(["--backend-password", &ctl.node_password])
        .args(["--admin-addr", admin])
        .args(["--idle-timeout", &format!("{}s", spec.idle_timeout_s)])
        .arg("--dir")
        .arg(dir);
    c
}
