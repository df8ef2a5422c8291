//! `ferrocache drill`: flags only; the drill itself is `ferrocache-drill`
//! (docs/resilience.md).

use crate::gateway::parse_duration;
use ferrocache_drill::{Config, Scenario};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub(crate) struct DrillArgs {
    /// What to do to the cache: patch, reboot-primary, reboot-replica, reboot-all,
    /// failover, kill-primary, kill-replica, freeze-primary (or none).
    #[arg(long)]
    scenario: Scenario,
    /// Send the workload here (default: the cache's endpoint).
    #[arg(long, value_name = "HOST:PORT")]
    endpoint: Option<String>,
    /// The cache to drill (faults go through its management service).
    #[arg(long, value_name = "NAME")]
    cache: Option<String>,
    /// The management service's API.
    #[arg(long, default_value = "http://127.0.0.1:7379")]
    api: String,
    /// Bearer token for an API off loopback; defaults to $FERROCACHE_TOKEN.
    #[arg(long, env = "FERROCACHE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// AUTH password (default: the cache's primary access key from the API).
    #[arg(long, value_name = "KEY")]
    password: Option<String>,
    /// How long the workload runs in all (longer if a workflow is still running).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Workload before the fault is applied.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Send the workload to the primary's direct node port instead of the endpoint.
    #[arg(long)]
    direct: bool,
    /// The clients' command timeout.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    command_timeout: Duration,
    /// freeze-primary: how long the node stays stopped before SIGCONT.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    freeze_for: Duration,
    /// Bound on waiting for a workflow and for the cache to settle.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    settle_timeout: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Draw the timeline into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
}

pub(crate) fn run_drill(a: DrillArgs) -> anyhow::Result<()> {
    let cfg = Config {
        scenario: a.scenario,
        endpoint: a.endpoint,
        cache: a.cache,
        api: a.api,
        token: a.token,
        password: a.password,
        duration: a.duration,
        warmup: a.warmup,
        clients: a.clients,
        direct: a.direct,
        command_timeout: a.command_timeout,
        freeze_for: a.freeze_for,
        settle_timeout: a.settle_timeout,
        progress: !a.json && std::io::stderr().is_terminal(),
        plot: a.plot,
    };
    let report = ferrocache_drill::run_blocking(cfg)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    if let Some(e) = &report.fault_error {
        anyhow::bail!("the fault was not applied: {e}");
    }
    Ok(())
}
