//! The management commands: `up` and `serve` run the service; the others are clients
//! of its HTTP API (docs/api.md).

mod client;
mod commands;
mod drill;
mod maint;
mod serve;

pub(crate) use commands::{
    run_cache, run_events, run_failover, run_history, run_keys, run_reboot, CacheCmd,
};
pub(crate) use drill::{run_drill, DrillArgs};
pub(crate) use maint::{run_maint, MaintCmd};
pub(crate) use serve::{run_serve, run_up, ServeArgs, UpArgs};

/// Flags every API client command takes.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ApiFlags {
    /// The service's API address.
    #[arg(long, default_value = "http://127.0.0.1:7379", global = true)]
    pub api: String,
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Bearer token (needed when the API is not on loopback); defaults to
    /// $FERROCACHE_TOKEN.
    #[arg(long, env = "FERROCACHE_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
}
