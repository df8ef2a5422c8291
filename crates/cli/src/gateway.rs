//! `ferrocache gateway`: the endpoint's flags, turned into a `ferrocache_gateway::Config`,
//! and running it in the foreground until SIGINT/SIGTERM.

use anyhow::{bail, Context};
use ferrocache_gateway::{tls::Identity, Config, Gateway, TlsConfig, MAX_AUTH_KEYS};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub(crate) struct GatewayArgs {
    /// Address to bind the client ports (endpoint and direct node ports) on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The endpoint's plain port (0 picks a free one; the ready line says which).
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// A node as HOST:PORT (repeatable, at least one); the first starts as primary.
    #[arg(long = "node", value_name = "HOST:PORT", required = true)]
    nodes: Vec<String>,
    /// Node i's direct plain port is this + i (0 picks free ports).
    #[arg(long, default_value_t = 13000)]
    node_port_base: u16,
    /// Address of the admin HTTP API (unauthenticated: keep it on loopback).
    /// Port 0 picks a free one; the ready line says which.
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_addr: SocketAddr,
    /// An access key clients AUTH with (repeatable, at most two, both valid).
    /// Without one, clients need no AUTH.
    #[arg(long = "auth-key", value_name = "KEY")]
    auth_keys: Vec<String>,
    /// The password the gateway uses with the nodes (their `requirepass`).
    #[arg(long)]
    backend_password: Option<String>,
    /// The most client connections at once, over all ports.
    #[arg(long, default_value_t = 10_000)]
    maxclients: usize,
    /// Close a connection that sends nothing for this long, e.g. 600s, 10m (0: never).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// The longest a request is held during a switch or an outage before it is
    /// answered with a TRYAGAIN error, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    hold_deadline: Duration,
    /// The endpoint's TLS port (0 picks a free one).
    #[arg(long, default_value_t = 6380)]
    tls_port: u16,
    /// Node i's direct TLS port is this + i (0 picks free ports).
    #[arg(long, default_value_t = 15000)]
    tls_node_port_base: u16,
    /// PEM certificate (chain) for the TLS ports; with --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for the TLS ports; with --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve no TLS ports at all.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    no_tls: bool,
    /// Where a self-signed certificate is generated (and reused) when none is given.
    #[arg(long, default_value = "./data")]
    dir: PathBuf,
    /// Node I's handoff socket (its `ferrocache node --handoff-socket`), as I=PATH
    /// (repeatable): idle plain connections routed to that node are handed over to
    /// it, which then serves them directly (docs/gateway.md).
    #[arg(long = "node-handoff", value_name = "I=PATH", value_parser = parse_handoff)]
    node_handoff: Vec<(usize, PathBuf)>,
}

fn parse_handoff(s: &str) -> Result<(usize, PathBuf), String> {
    let (i, path) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': expected I=PATH, e.g. 0=/run/node0.sock"))?;
    let i = i
        .parse()
        .map_err(|_| format!("'{s}': the node index must be a number"))?;
    if path.is_empty() {
        return Err(format!("'{s}': the socket path is empty"));
    }
    Ok((i, PathBuf::from(path)))
}

/// Durations as operators write them: `500ms`, `10s`, `10m`, `1h`; a bare number is
/// seconds (like Redis's `timeout`).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}': expected e.g. 500ms, 10s, 10m, 1h"))?;
    let ms = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(format!("invalid duration unit in '{s}': use ms, s, m or h")),
    };
    ms.map(Duration::from_millis)
        .ok_or_else(|| format!("duration '{s}' is too long"))
}

fn gateway_config(args: GatewayArgs) -> anyhow::Result<Config> {
    if args.auth_keys.len() > MAX_AUTH_KEYS {
        bail!(
            "--auth-key: at most {MAX_AUTH_KEYS} keys (a primary and a secondary), got {}",
            args.auth_keys.len()
        );
    }
    if args.auth_keys.iter().any(|k| k.is_empty()) {
        bail!("--auth-key: a key cannot be empty");
    }
    if args.maxclients == 0 {
        bail!("--maxclients must be at least 1");
    }
    if args.hold_deadline.is_zero() {
        bail!("--hold-deadline must be above zero");
    }
    let tls = if args.no_tls {
        None
    } else {
        let identity = match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Identity::Files { cert, key },
            _ => Identity::SelfSigned { dir: args.dir },
        };
        Some(TlsConfig {
            port: args.tls_port,
            node_port_base: args.tls_node_port_base,
            identity,
        })
    };
    let mut handoff = vec![None; args.nodes.len()];
    for (i, path) in args.node_handoff {
        let slot = handoff.get_mut(i).with_context(|| {
            format!(
                "--node-handoff {i}=…: there are only {} nodes",
                args.nodes.len()
            )
        })?;
        *slot = Some(path);
    }
    let mut config = Config::new(args.nodes);
    config.handoff = handoff;
    config.bind = args.bind;
    config.port = args.port;
    config.node_port_base = args.node_port_base;
    config.admin_addr = args.admin_addr;
    config.auth_keys = args.auth_keys;
    config.backend_password = args.backend_password;
    config.maxclients = args.maxclients;
    config.idle_timeout = args.idle_timeout;
    config.hold_deadline = args.hold_deadline;
    config.tls = tls;
    Ok(config)
}

/// The one line scripts wait for: `key value` pairs, the endpoint last, so that (as
/// with the node's ready line) the last word is the address clients use.
fn ready_line(a: &ferrocache_gateway::Addrs) -> String {
    let list = |v: &[SocketAddr]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let tls = a.tls_endpoint.map_or("-".to_string(), |t| t.to_string());
    format!(
        "ferrocache gateway ready, admin {} nodes {} tls {} tls-nodes {} endpoint {}",
        a.admin,
        list(&a.nodes),
        tls,
        list(&a.tls_nodes),
        a.endpoint
    )
}

pub(crate) fn run_gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let config = gateway_config(args)?;
    let runtime = super::node_runtime()?;
    runtime.block_on(async move {
        let gateway = Gateway::bind(config)
            .await
            .context("cannot start the gateway")?;
        let stop = gateway.shutdown_token();
        tokio::spawn(async move {
            super::wait_for_signal().await;
            tracing::info!("signal received, shutting down");
            stop.cancel();
        });
        println!("{}", ready_line(gateway.addrs()));
        gateway.serve().await
    })?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("600s"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10d").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999h").is_err());
    }
}
