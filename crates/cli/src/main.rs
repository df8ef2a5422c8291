//! The `ferrocache` binary: parses flags and environment, installs logging, and
//! hands each subcommand to its crate. Nothing else lives here.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

mod gateway;
mod ops;

#[global_allocator]
static ALLOC: ferrocache_node::alloc::Counting = ferrocache_node::alloc::Counting;

#[derive(Parser)]
#[command(
    name = "ferrocache",
    version,
    about = "A Redis-compatible cache that keeps serving while it is maintained"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one data node in the foreground (stops cleanly on Ctrl-C / SIGTERM).
    Node(NodeArgs),
    /// Run the endpoint for one cache's nodes in the foreground (see docs/gateway.md).
    Gateway(gateway::GatewayArgs),
    /// Start the management service and (if none exists yet) a cache `local`; prints
    /// the endpoint, an access key and the API address (see docs/api.md).
    Up(ops::UpArgs),
    /// Run the management service alone.
    Serve(ops::ServeArgs),
    /// Create, list, show and delete caches.
    Cache {
        #[command(subcommand)]
        cmd: ops::CacheCmd,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// Show a cache's access keys, or regenerate one.
    Keys {
        name: String,
        /// primary or secondary
        #[arg(long)]
        regenerate: Option<String>,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// Planned failover of a shard's primary to its replica.
    Failover {
        name: String,
        #[arg(long, default_value_t = 0)]
        shard: usize,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// Reboot the primary, the replica, or all nodes of a shard, one at a time.
    Reboot {
        name: String,
        /// primary, replica or all
        #[arg(long)]
        node: String,
        #[arg(long, default_value_t = 0)]
        shard: usize,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// The maintenance events published for a cache, as clients receive them.
    Events {
        name: String,
        /// Keep printing new events.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// What the service did to a cache: failovers, reboots, repairs.
    History {
        name: String,
        #[command(flatten)]
        api: ops::ApiFlags,
    },
    /// Run a verifiable workload while a fault is applied, and report what clients saw
    /// (docs/resilience.md).
    Drill(ops::DrillArgs),
    #[command(flatten)]
    Maint(ops::MaintCmd),
}

#[derive(clap::Args)]
struct NodeArgs {
    /// TCP port to listen on (0 picks a free one; the ready line says which).
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Working directory for data files (created if missing).
    #[arg(long, default_value = "./data")]
    dir: PathBuf,
    /// A TOML file of `option = value` pairs (the same names as CONFIG SET).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Require clients to AUTH with this password.
    #[arg(long)]
    requirepass: Option<String>,
    /// Any other option, as NAME=VALUE (repeatable), e.g. --set timeout=300.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// A Unix socket on which a gateway on this machine hands client connections
    /// over, so that the node serves them directly (see docs/gateway.md).
    #[arg(long, value_name = "PATH")]
    handoff_socket: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FERROCACHE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Node(args) => run_node(args),
        Command::Gateway(args) => gateway::run_gateway(args),
        Command::Up(args) => ops::run_up(args),
        Command::Serve(args) => ops::run_serve(args),
        Command::Cache { cmd, api } => ops::run_cache(cmd, api),
        Command::Keys {
            name,
            regenerate,
            api,
        } => ops::run_keys(name, regenerate, api),
        Command::Failover { name, shard, api } => ops::run_failover(name, shard, api),
        Command::Reboot {
            name,
            node,
            shard,
            api,
        } => ops::run_reboot(name, node, shard, api),
        Command::Events { name, follow, api } => ops::run_events(name, follow, api),
        Command::History { name, api } => ops::run_history(name, api),
        Command::Maint(cmd) => ops::run_maint(cmd),
        Command::Drill(args) => ops::run_drill(args),
    }
}

fn node_config(args: &NodeArgs) -> anyhow::Result<ferrocache_node::Config> {
    let mut config = ferrocache_node::Config::default();
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        config
            .load_toml(&text)
            .with_context(|| format!("in {}", path.display()))?;
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let mut set = |name: &str, value: &str| {
        config
            .set(name, value)
            .map_err(|e| anyhow::anyhow!("--{name}: {e}"))
    };
    set("port", &args.port.to_string())?;
    set("bind", &args.bind)?;
    set("dir", &args.dir.display().to_string())?;
    if let Some(pass) = &args.requirepass {
        set("requirepass", pass)?;
    }
    for pair in &args.set {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--set {pair}: expected NAME=VALUE"))?;
        set(name, value)?;
    }
    Ok(config)
}

fn run_node(args: NodeArgs) -> anyhow::Result<()> {
    let config = node_config(&args)?;
    let runtime = node_runtime()?;
    runtime.block_on(async move {
        let mut node = ferrocache_node::Node::bind(config).await?;
        if let Some(path) = args.handoff_socket {
            node = node.with_handoff_socket(path);
        }
        let stop = node.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal received, shutting down");
            stop.cancel();
        });
        // Tests and scripts wait for this line; its last word is the bound address.
        println!("ferrocache node ready, listening on {}", node.local_addr());
        node.serve().await
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// The node's runtime. FERROCACHE_THREADS=N picks a multi-threaded runtime with N
/// workers; the default is chosen by measurement (see docs/benchmarks.md).
fn node_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let threads: usize = std::env::var("FERROCACHE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rt = if threads == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    Ok(rt)
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
