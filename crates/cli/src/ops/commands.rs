//! The API client commands: cache, keys, failover, reboot, events, history. Text by
//! default, `--json` for scripts; workflows show progress until they finish.

use super::client::Api;
use super::ApiFlags;
use anyhow::bail;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use ferrocache_api::cache::Persistence;
use ferrocache_api::event::EventRecord;
use ferrocache_api::http::{Keys, WorkflowInfo};
use ferrocache_api::{CacheInfo, HistoryRecord};
use serde_json::json;
use std::time::Duration;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum CacheCmd {
    /// Create a cache (starts its nodes and endpoint).
    Create {
        name: String,
        #[arg(long, default_value = "standard")]
        tier: String,
        #[arg(long)]
        group: String,
        #[arg(long, default_value = "builtin")]
        engine: String,
        /// e.g. 100mb
        #[arg(long)]
        maxmemory: Option<String>,
        /// Seconds an idle client connection is kept.
        #[arg(long, default_value_t = 600)]
        idle_timeout: u64,
        /// What the nodes write to disk, so what a restarted node comes back with.
        #[arg(long, default_value = "rdb", value_parser = persistence_parser())]
        persistence: Persistence,
        /// Endpoint ports (0: chosen free at creation).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value_t = 0)]
        tls_port: u16,
    },
    /// List caches.
    List,
    /// Nodes, roles, versions, offsets, lag, ports, health.
    Show { name: String },
    /// Stop a cache and delete it with its data.
    Delete { name: String },
}

/// `none|rdb|aof|aof-always`, each described in `--help` and listed when a value is
/// refused.
pub(crate) fn persistence_parser() -> impl TypedValueParser<Value = Persistence> {
    PossibleValuesParser::new(
        Persistence::ALL.map(|p| PossibleValue::new(p.as_str()).help(p.describe())),
    )
    .try_map(|s| s.parse::<Persistence>())
}

pub(crate) fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".into(), |v| v.to_string())
}

fn show(c: &CacheInfo) {
    println!(
        "{}  tier {}  engine {}  persistence {}  group {}  epoch {}  endpoint {} (TLS {}){}",
        c.spec.name,
        c.spec.tier,
        c.spec.engine,
        c.spec.persistence,
        c.spec.group,
        c.epoch,
        c.endpoint,
        c.tls_endpoint,
        c.workflow
            .map_or(String::new(), |w| format!("  workflow {w} running"))
    );
    println!(
        "  {:<4} {:<5} {:<8} {:<8} {:<9} {:<11} {:<8} {:<12} {:<8} version",
        "node", "shard", "role", "health", "port", "direct/tls", "pid", "offset", "lag"
    );
    for n in &c.nodes {
        println!(
            "  {:<4} {:<5} {:<8} {:<8} {:<9} {:<11} {:<8} {:<12} {:<8} {}",
            n.index,
            n.shard,
            format!("{:?}", n.role).to_lowercase(),
            format!("{:?}", n.health).to_lowercase(),
            n.port,
            format!("{}/{}", n.direct_port, n.direct_tls_port),
            opt(&n.pid),
            opt(&n.offset),
            opt(&n.lag),
            opt(&n.version)
        );
    }
}

pub(crate) fn run_cache(cmd: CacheCmd, f: ApiFlags) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    match cmd {
        CacheCmd::Create {
            name,
            tier,
            group,
            engine,
            maxmemory,
            idle_timeout,
            persistence,
            port,
            tls_port,
        } => {
            let bar = spinner(&f, &format!("creating {name}"));
            let c: CacheInfo = api.call(
                "POST",
                "/caches",
                Some(json!({"name": name, "tier": tier, "group": group, "engine": engine,
                    "maxmemory": maxmemory, "idle_timeout_s": idle_timeout, "persistence": persistence,
                    "port": port, "tls_port": tls_port})),
            )?;
            bar.finish_and_clear();
            if f.json {
                print_json(&c)
            } else {
                show(&c);
                Ok(())
            }
        }
        CacheCmd::List => {
            let list: Vec<CacheInfo> = api.call("GET", "/caches", None)?;
            if f.json {
                return print_json(&list);
            }
            for c in &list {
                println!(
                    "{:<20} {:<9} {:<8} {:<12} epoch {:<4} {}",
                    c.spec.name, c.spec.tier, c.spec.engine, c.spec.group, c.epoch, c.endpoint
                );
            }
            Ok(())
        }
        CacheCmd::Show { name } => {
            let c: CacheInfo = api.call("GET", &format!("/caches/{name}"), None)?;
            if f.json {
                print_json(&c)
            } else {
                show(&c);
                Ok(())
            }
        }
        CacheCmd::Delete { name } => {
            let v: serde_json::Value = api.call("DELETE", &format!("/caches/{name}"), None)?;
            if f.json {
                print_json(&v)
            } else {
                println!("deleted {name}");
                Ok(())
            }
        }
    }
}

pub(crate) fn run_keys(
    name: String,
    regenerate: Option<String>,
    f: ApiFlags,
) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    let k: Keys = match regenerate {
        Some(which) => api.call(
            "POST",
            &format!("/caches/{name}/keys/regenerate"),
            Some(json!({"key": which})),
        )?,
        None => api.call("GET", &format!("/caches/{name}/keys"), None)?,
    };
    if f.json {
        return print_json(&k);
    }
    println!("primary   {}\nsecondary {}", k.primary, k.secondary);
    Ok(())
}

pub(crate) fn spinner(f: &ApiFlags, msg: &str) -> indicatif::ProgressBar {
    let bar = if f.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Follows a workflow to its end, showing its phase.
pub(crate) fn follow(api: &Api, f: &ApiFlags, wf: WorkflowInfo) -> anyhow::Result<()> {
    let wf = follow_quietly(api, f, wf)?;
    if f.json {
        print_json(&wf)?;
    }
    if let Some(e) = wf.error {
        bail!("{e}");
    }
    Ok(())
}

/// Follows a workflow to its end, showing progress; answers its final state.
pub(crate) fn follow_quietly(
    api: &Api,
    f: &ApiFlags,
    mut wf: WorkflowInfo,
) -> anyhow::Result<WorkflowInfo> {
    let bar = spinner(f, &format!("workflow {} ({})", wf.id, wf.kind));
    while !wf.finished() {
        bar.set_message(if wf.state == "scheduled" {
            format!(
                "workflow {} ({}) of {}: waiting for its resource group",
                wf.id, wf.kind, wf.cache
            )
        } else {
            format!(
                "workflow {} ({}) of {}: node operation {}/{}, {}",
                wf.id,
                wf.kind,
                wf.cache,
                wf.op + 1,
                wf.ops,
                wf.phase
            )
        });
        std::thread::sleep(Duration::from_millis(200));
        wf = api.call("GET", &format!("/workflows/{}", wf.id), None)?;
    }
    bar.finish_and_clear();
    if !f.json {
        println!(
            "workflow {} ({}) of {} {}",
            wf.id, wf.kind, wf.cache, wf.state
        );
    }
    Ok(wf)
}

pub(crate) fn run_failover(name: String, shard: usize, f: ApiFlags) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    let wf: WorkflowInfo = api.call(
        "POST",
        &format!("/caches/{name}/failover"),
        Some(json!({"shard": shard})),
    )?;
    follow(&api, &f, wf)
}

pub(crate) fn run_reboot(
    name: String,
    node: String,
    shard: usize,
    f: ApiFlags,
) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    let wf: WorkflowInfo = api.call(
        "POST",
        &format!("/caches/{name}/reboot"),
        Some(json!({"node": node, "shard": shard})),
    )?;
    follow(&api, &f, wf)
}

pub(crate) fn run_events(name: String, follow: bool, f: ApiFlags) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    let mut after = 0;
    loop {
        let evs: Vec<EventRecord> =
            api.call("GET", &format!("/caches/{name}/events?after={after}"), None)?;
        for e in &evs {
            if f.json {
                println!("{}", serde_json::to_string(e)?);
            } else {
                let t = ferrocache_api::time::format_utc(e.published_ms / 1000);
                println!("{t}  shard {} node {}  {}", e.shard, e.node, e.message);
            }
            after = e.id;
        }
        if !follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(crate) fn run_history(name: String, f: ApiFlags) -> anyhow::Result<()> {
    let api = Api::new(&f)?;
    let h: Vec<HistoryRecord> = api.call("GET", &format!("/caches/{name}/history"), None)?;
    if f.json {
        return print_json(&h);
    }
    for r in &h {
        let pause = r
            .write_pause_ms
            .map_or(String::new(), |p| format!("  write pause {p:.1} ms"));
        println!(
            "{}  {:<18} node {} ({:?})  {} ms  epoch {}{pause}\n    {}",
            ferrocache_api::time::format_utc(r.started_ms / 1000),
            r.kind,
            r.node,
            r.role,
            r.ended_ms - r.started_ms,
            r.epoch,
            r.detail
        );
    }
    // What is still to come: patches waiting for their window or resource group.
    let wfs: Vec<WorkflowInfo> = api.call("GET", &format!("/caches/{name}/workflows"), None)?;
    for w in wfs.iter().rev().filter(|w| w.state == "scheduled") {
        let when = w
            .not_before_ms
            .map_or("as soon as its resource group is free".into(), |t| {
                format!(
                    "at {} (maintenance window)",
                    ferrocache_api::time::format_utc(t / 1000)
                )
            });
        println!(
            "scheduled  {} (workflow {}) to {}, {when}",
            w.kind,
            w.id,
            w.version
                .as_deref()
                .unwrap_or("the current versions (platform patch)")
        );
    }
    Ok(())
}
