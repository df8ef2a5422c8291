//! Command lines for node and gateway processes, per engine.

use crate::service::Ctl;
use ferrocache_api::cache::Persistence;
use ferrocache_api::{CacheSpec, Engine};
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Replication timeouts in seconds, not Redis's 60 s / 10 s: a replica must notice a
/// silent primary quickly to serve as the second witness.
const REPL_TIMEOUT_S: &str = "2";
const REPL_PING_PERIOD_S: &str = "1";
/// Snapshot schedule of `rdb` persistence: a snapshot a minute after any change.
const SAVE: &str = "60 1";

/// The persistence options, given to both engines the same way (an empty value is
/// `save ""`: no schedule; both `--set save=` and redis-server's `--save ""` take it).
///
/// The AOF modes set no `save` schedule: on start both engines load the AOF and never
/// read dump.rdb, so scheduled snapshots would cost a fork (redis-server) or a copy of
/// the dataset (ours) after every busy minute, only to be ignored. Nothing else needs
/// them: an export runs its own BGSAVE, and a full sync sends a snapshot made for it
/// (diskless on redis-server, from memory on ours).
fn persistence_opts(p: Persistence) -> Vec<(&'static str, &'static str)> {
    match p {
        Persistence::None => vec![("save", ""), ("appendonly", "no")],
        Persistence::Rdb => vec![("save", SAVE), ("appendonly", "no")],
        Persistence::Aof => vec![
            ("save", ""),
            ("appendonly", "yes"),
            ("appendfsync", "everysec"),
        ],
        Persistence::AofAlways => vec![
            ("save", ""),
            ("appendonly", "yes"),
            ("appendfsync", "always"),
        ],
    }
}

/// How one start of a node departs from its cache's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Start {
    /// The cache's own options: what every restart uses.
    #[default]
    Normal,
    /// `appendonly no` for this start only, so that the node loads dump.rdb: with
    /// `appendonly yes` both engines read the AOF instead, and redis-server 7.0 ignores
    /// the dump even when there is no AOF at all. An import starts the primary so and
    /// turns the AOF on at run time once the data is in (`data::enable_aof`).
    LoadDump,
}

/// The options every node of the cache gets, whatever its engine.
fn node_opts(spec: &CacheSpec, masterauth: &str, start: Start) -> Vec<(&'static str, String)> {
    let mut opts: Vec<(&str, String)> = vec![
        ("masterauth", masterauth.into()),
        ("repl-timeout", REPL_TIMEOUT_S.into()),
        ("repl-ping-replica-period", REPL_PING_PERIOD_S.into()),
        // The gateway enforces the clients' idle timeout; its own backend connections
        // must never be closed by the node.
        ("timeout", "0".into()),
    ];
    opts.extend(
        persistence_opts(spec.persistence)
            .into_iter()
            .map(|(k, v)| match (k, start) {
                // appendfsync stays: CONFIG SET appendonly yes then fsyncs as the cache says.
                ("appendonly", Start::LoadDump) => (k, "no".to_string()),
                _ => (k, v.to_string()),
            }),
    );
    if let Some(m) = &spec.maxmemory {
        opts.push(("maxmemory", m.clone()));
    }
    opts
}

/// A node process of `binary` (its version's) listening on 127.0.0.1:`port` with its
/// data in `dir`, requiring `requirepass` (the service's node password, or a fence
/// password while a returning node is being made a replica of `replica_of`);
/// `start` says whether this one start departs from the cache's options.
#[allow(clippy::too_many_arguments)]
pub fn node(
    ctl: &Ctl,
    spec: &CacheSpec,
    binary: &Path,
    port: u16,
    dir: &Path,
    requirepass: &str,
    replica_of: Option<u16>,
    start: Start,
) -> Command {
    let opts = node_opts(spec, &ctl.node_password, start);
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
            if let Some(socket) = handoff_socket(dir) {
                c.arg("--handoff-socket").arg(socket);
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
                .args(["--protected-mode", "no"])
                // Diskless, at once: Redis's default 5 s delay before a full sync would
                // hold up every resync gate.
                .args([
                    "--repl-diskless-sync",
                    "yes",
                    "--repl-diskless-sync-delay",
                    "0",
                ])
                .args(["--repl-backlog-size", "64mb"]);
            if spec.persistence == Persistence::None {
                // A replica writes the snapshot of its full sync to dump.rdb before
                // loading it; without persistence it must not keep it (ours loads
                // the snapshot from memory and never writes it).
                c.args(["--rdb-del-sync-files", "yes"]);
            }
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
/// Where a builtin node takes connections handed over by its gateway: in its data
/// directory, unless that path is too long for a Unix socket (108 bytes with the
/// terminator), in which case the gateway simply proxies.
pub fn handoff_socket(node_dir: &Path) -> Option<PathBuf> {
    let p = node_dir.join("handoff.sock");
    (p.as_os_str().len() < 100).then_some(p)
}

/// A node's data directory inside its cache's.
pub fn node_dir(cache_dir: &Path, i: usize) -> PathBuf {
    cache_dir.join(format!("node-{i}"))
}

pub fn gateway(
    ctl: &Ctl,
    spec: &CacheSpec,
    node_ports: &[u16],
    keys: (&str, &str),
    admin: &str,
    cache_dir: &Path,
    dir: &Path,
) -> Command {
    let mut c = Command::new(&ctl.config.ferrocache_bin);
    c.arg("gateway");
    for (i, p) in node_ports.iter().enumerate() {
        c.arg("--node").arg(format!("127.0.0.1:{p}"));
        // Builtin nodes serve idle connections themselves (docs/gateway.md).
        if spec.engine == Engine::Builtin {
            if let Some(socket) = handoff_socket(&node_dir(cache_dir, i)) {
                c.arg("--node-handoff")
                    .arg(format!("{i}={}", socket.display()));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocache_api::Tier;

    fn opts_of(p: Persistence) -> Vec<(&'static str, String)> {
        opts_started(p, Start::Normal)
    }

    fn opts_started(p: Persistence, start: Start) -> Vec<(&'static str, String)> {
        let mut spec = CacheSpec::new("c", Tier::Basic, Engine::Builtin);
        spec.persistence = p;
        node_opts(&spec, "pw", start)
            .into_iter()
            .filter(|(k, _)| k.starts_with("save") || k.starts_with("append"))
            .collect()
    }

    #[test]
    fn persistence_becomes_node_options() {
        let o = |v: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            v.iter().map(|(k, v)| (*k, v.to_string())).collect()
        };
        assert_eq!(
            opts_of(Persistence::None),
            o(&[("save", ""), ("appendonly", "no")])
        );
        assert_eq!(
            opts_of(Persistence::Rdb),
            o(&[("save", "60 1"), ("appendonly", "no")])
        );
        assert_eq!(
            opts_of(Persistence::Aof),
            o(&[
                ("save", ""),
                ("appendonly", "yes"),
                ("appendfsync", "everysec")
            ])
        );
        assert_eq!(
            opts_of(Persistence::AofAlways),
            o(&[
                ("save", ""),
                ("appendonly", "yes"),
                ("appendfsync", "always")
            ])
        );
    }

    #[test]
    fn load_dump_start_turns_only_the_aof_off() {
        let o = |v: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            v.iter().map(|(k, v)| (*k, v.to_string())).collect()
        };
        assert_eq!(
            opts_started(Persistence::AofAlways, Start::LoadDump),
            o(&[
                ("save", ""),
                ("appendonly", "no"),
                ("appendfsync", "always")
            ])
        );
        assert_eq!(
            opts_started(Persistence::Rdb, Start::LoadDump),
            opts_of(Persistence::Rdb)
        );
    }
}
