//! `ferrocache up` (the service plus a cache `local`) and `ferrocache serve` (the
//! service alone): run in the foreground until Ctrl-C/SIGTERM, which stops every
//! child process cleanly.

use anyhow::Context;
use ferrocache_api::cache::Persistence;
use ferrocache_api::{CacheSpec, Engine, Tier};
use ferrocache_control::{Config, Service};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// Where the service keeps its database, the caches' data and logs.
    #[arg(long, default_value = "./ferrocache-data")]
    data_dir: PathBuf,
    /// The HTTP API's address; on a non-loopback address it requires the bearer token
    /// written to DATA_DIR/api-token.
    #[arg(long, default_value = "127.0.0.1:7379")]
    api_addr: SocketAddr,
    /// NodeMaintenanceStarting is published this long before maintenance.
    #[arg(long, default_value = "20s", value_parser = crate::gateway::parse_duration)]
    starting_lead: Duration,
    /// NodeMaintenanceStart is published this long before maintenance.
    #[arg(long, default_value = "5s", value_parser = crate::gateway::parse_duration)]
    start_lead: Duration,
    /// NodeMaintenanceScheduled is published this long before window-scheduled
    /// patches (seed: 10–15 min).
    #[arg(long, default_value = "15m", value_parser = crate::gateway::parse_duration)]
    scheduled_lead: Duration,
    /// A primary is declared lost when probes and its replica agree for this long.
    #[arg(long, default_value = "1500ms", value_parser = crate::gateway::parse_duration)]
    down_after: Duration,
}

#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The endpoint's plain port.
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// The endpoint's TLS port.
    #[arg(long, default_value_t = 6380)]
    tls_port: u16,
    /// Node i's direct plain port is this + i.
    #[arg(long, default_value_t = 13000)]
    node_port_base: u16,
    /// Node i's direct TLS port is this + i.
    #[arg(long, default_value_t = 15000)]
    tls_node_port_base: u16,
    /// Tier of the cache `local` (basic or standard).
    #[arg(long, default_value = "standard")]
    tier: Tier,
    /// Node software: builtin (`ferrocache node`) or redis (Debian's redis-server).
    #[arg(long, default_value = "builtin")]
    engine: Engine,
    /// Persistence of the cache `local` when it is created (kept as it was when `up`
    /// runs again).
    #[arg(long, default_value = "rdb", value_parser = super::commands::persistence_parser())]
    persistence: Persistence,
}

fn config(a: &ServeArgs) -> anyhow::Result<Config> {
    if a.start_lead > a.starting_lead {
        anyhow::bail!("--start-lead must not exceed --starting-lead");
    }
    let mut c = Config::new(a.data_dir.clone())?;
    c.api_addr = a.api_addr;
    c.starting_lead = a.starting_lead;
    c.start_lead = a.start_lead;
    c.scheduled_lead = a.scheduled_lead;
    c.down_after = a.down_after;
    Ok(c)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

async fn run(service: Service) -> anyhow::Result<()> {
    let stop = service.shutdown_token();
    tokio::spawn(async move {
        crate::wait_for_signal().await;
        tracing::info!("signal received: stopping every cache");
        stop.cancel();
    });
    service.serve().await
}

pub(crate) fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = config(&args)?;
    runtime()?.block_on(async move {
        let service = Service::start(cfg).await?;
        println!(
            "ferrocache service ready, api http://{}",
            service.api_addr()
        );
        run(service).await
    })
}

pub(crate) fn run_up(args: UpArgs) -> anyhow::Result<()> {
    let cfg = config(&args.serve)?;
    runtime()?.block_on(async move {
        let service = Service::start(cfg).await?;
        let mut spec = CacheSpec::new("local", args.tier, args.engine);
        spec.port = args.port;
        spec.tls_port = args.tls_port;
        spec.node_port_base = args.node_port_base;
        spec.tls_node_port_base = args.tls_node_port_base;
        spec.persistence = args.persistence;
        let info = service
            .ensure_cache(spec)
            .await
            .context("cannot start the cache `local`")?;
        let (key, _) = service.keys("local").context("no keys")?;
        println!(
            "cache      local ({} tier, engine {}, persistence {}, {} nodes)",
            info.spec.tier,
            info.spec.engine,
            info.spec.persistence,
            info.nodes.len()
        );
        println!("endpoint   {} (TLS {})", info.endpoint, info.tls_endpoint);
        println!("access key {key}");
        println!(
            "try        redis-cli -p {} -a {key}",
            info.endpoint.rsplit(':').next().unwrap_or("6379")
        );
        println!("api        http://{}", service.api_addr());
        println!("ferrocache up ready; Ctrl-C stops everything");
        run(service).await
    })
}
