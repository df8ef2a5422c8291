//! The maintenance commands: versions, channel, patch, schedule, diagnose, export and
//! import — clients of the service's HTTP API (docs/api.md).

use super::client::Api;
use super::commands::{follow_quietly, print_json, spinner};
use super::ApiFlags;
use anyhow::{bail, Context};
use ferrocache_api::diagnose::Diagnosis;
use ferrocache_api::http::{Imported, WorkflowInfo};
use ferrocache_api::time::format_utc;
use ferrocache_api::version::{ChannelChanged, Schedule, VersionInfo};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum MaintCmd {
    /// Node software versions the service can run and patch to.
    Versions {
        #[command(subcommand)]
        cmd: Option<VersionsCmd>,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// Set a cache's update channel; a change patches it to the channel's newest version.
    Channel {
        name: String,
        /// stable or preview
        channel: String,
        /// Patch at once instead of in the next maintenance window.
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// Patch a cache (or every cache of a resource group, one after another): each
    /// node in turn, replica first, restarted on the new version (without --to: on
    /// its own, a platform patch). Waits for the next maintenance window unless --now.
    Patch {
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        group: Option<String>,
        /// The version to patch to (see `ferrocache versions`).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// A cache's weekly maintenance windows (UTC, at least 5 hours).
    Schedule {
        name: String,
        /// A window, e.g. "Tue 02:00 5h".
        #[arg(long, conflicts_with_all = ["clear", "show"])]
        add: Option<String>,
        /// Remove every window.
        #[arg(long, conflicts_with = "show")]
        clear: bool,
        /// Show the windows and the next opening (the default).
        #[arg(long)]
        show: bool,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// What the last maintenance or failover did to a cache, and what to do about it.
    Diagnose {
        name: String,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// Write the cache's data to FILE as an RDB file (the cache keeps serving).
    Export {
        name: String,
        file: PathBuf,
        #[command(flatten)]
        api: ApiFlags,
    },
    /// Replace the cache's data with an RDB FILE (the cache is unavailable meanwhile).
    Import {
        name: String,
        file: PathBuf,
        #[command(flatten)]
        api: ApiFlags,
    },
}

#[derive(clap::Subcommand, Debug)]
pub(crate) enum VersionsCmd {
    /// Register a version: an engine and the binary that runs it.
    Add {
        name: String,
        /// builtin or redis
        #[arg(long)]
        engine: String,
        /// Absolute path of the binary (`ferrocache` or `redis-server`).
        #[arg(long)]
        binary: PathBuf,
        /// stable or preview
        #[arg(long, default_value = "stable")]
        channel: String,
    },
}

pub(crate) fn run_maint(cmd: MaintCmd) -> anyhow::Result<()> {
    match cmd {
        MaintCmd::Versions { cmd, api } => versions(cmd, &api),
        MaintCmd::Channel {
            name,
            channel,
            now,
            api,
        } => {
            let a = Api::new(&api)?;
            let c: ChannelChanged = a.call(
                "PUT",
                &format!("/caches/{name}/channel"),
                Some(json!({"channel": channel, "now": now})),
            )?;
            if api.json {
                return print_json(&c);
            }
            match &c.workflow {
                Some(w) => println!(
                    "{name}: channel {}, patching to {} ({})",
                    c.channel,
                    c.version,
                    describe(w)
                ),
                None => println!(
                    "{name}: channel {}; its nodes already run {}",
                    c.channel, c.version
                ),
            }
            Ok(())
        }
        MaintCmd::Patch {
            name,
            group,
            to,
            now,
            api,
        } => patch(name, group, to, now, &api),
        MaintCmd::Schedule {
            name,
            add,
            clear,
            show: _,
            api,
        } => {
            let a = Api::new(&api)?;
            let path = format!("/caches/{name}/schedule");
            let s: Schedule = match (add, clear) {
                (Some(w), _) => a.call("POST", &path, Some(json!({"add": w})))?,
                (None, true) => a.call("DELETE", &path, None)?,
                (None, false) => a.call("GET", &path, None)?,
            };
            if api.json {
                return print_json(&s);
            }
            if s.windows.is_empty() {
                println!("{name}: no maintenance windows (patches start when requested)");
            }
            for w in &s.windows {
                println!("{name}: window {} (UTC)", w.spec);
            }
            if let Some(t) = s.next_start_ms {
                println!("next opening {} UTC", format_utc(t / 1000));
            }
            Ok(())
        }
        MaintCmd::Diagnose { name, api } => {
            let a = Api::new(&api)?;
            let d: Diagnosis = a.call("GET", &format!("/caches/{name}/diagnose"), None)?;
            if api.json {
                return print_json(&d);
            }
            println!("{}\n\n{}\n", d.title, d.description);
            if !d.facts.is_empty() {
                println!("What we measured:");
                for f in &d.facts {
                    println!("  - {f}");
                }
                println!();
            }
            println!("Recommended steps:");
            for (i, s) in d.recommended_steps.iter().enumerate() {
                println!("  {}. {s}", i + 1);
            }
            Ok(())
        }
        MaintCmd::Export { name, file, api } => {
            let a = Api::new(&api)?;
            let bar = spinner(&api, &format!("exporting {name}"));
            let bytes = a.send("GET", &format!("/caches/{name}/export"), None)?;
            bar.finish_and_clear();
            // Whole or not at all: a temporary file renamed into place.
            let tmp = file.with_extension("part");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &file).with_context(|| format!("writing {}", file.display()))?;
            if api.json {
                return print_json(&json!({"cache": name, "file": file, "bytes": bytes.len()}));
            }
            println!(
                "exported {name} to {} ({} bytes)",
                file.display(),
                bytes.len()
            );
            Ok(())
        }
        MaintCmd::Import { name, file, api } => {
            let a = Api::new(&api)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let bar = spinner(
                &api,
                &format!("importing into {name} (unavailable meanwhile)"),
            );
            let body = a.send("POST", &format!("/caches/{name}/import"), Some(&bytes))?;
            bar.finish_and_clear();
            let r: Imported = serde_json::from_slice(&body)?;
            if api.json {
                return print_json(&r);
            }
            println!(
                "imported {} bytes into {name}: {} keys, {:.1} s",
                r.bytes,
                r.keys,
                r.duration_ms / 1000.0
            );
            Ok(())
        }
    }
}

fn versions(cmd: Option<VersionsCmd>, f: &ApiFlags) -> anyhow::Result<()> {
    let a = Api::new(f)?;
    match cmd {
        None => {
            let list: Vec<VersionInfo> = a.call("GET", "/versions", None)?;
            if f.json {
                return print_json(&list);
            }
            for v in &list {
                println!(
                    "{:<24} {:<8} {:<8} {}",
                    v.name, v.engine, v.channel, v.binary
                );
            }
            Ok(())
        }
        Some(VersionsCmd::Add {
            name,
            engine,
            binary,
            channel,
        }) => {
            let binary = std::fs::canonicalize(&binary)
                .with_context(|| format!("--binary {}", binary.display()))?;
            let v: VersionInfo = a.call(
                "POST",
                "/versions",
                Some(json!({"name": name, "engine": engine, "binary": binary, "channel": channel})),
            )?;
            if f.json {
                return print_json(&v);
            }
            println!(
                "added {} ({} {}, {})",
                v.name, v.engine, v.channel, v.binary
            );
            Ok(())
        }
    }
}

fn describe(w: &WorkflowInfo) -> String {
    match (w.state.as_str(), w.not_before_ms) {
        ("scheduled", Some(t)) => format!(
            "workflow {} scheduled for the window opening at {} UTC",
            w.id,
            format_utc(t / 1000)
        ),
        (state, _) => format!("workflow {} {state}", w.id),
    }
}

fn patch(
    name: Option<String>,
    group: Option<String>,
    to: Option<String>,
    now: bool,
    f: &ApiFlags,
) -> anyhow::Result<()> {
    let a = Api::new(f)?;
    let body = Some(json!({"to": to, "now": now}));
    let wfs: Vec<WorkflowInfo> = match (name, group) {
        (Some(n), None) => vec![a.call("POST", &format!("/caches/{n}/patch"), body)?],
        (None, Some(g)) => a.call("POST", &format!("/groups/{g}/patch"), body)?,
        _ => bail!("name a cache or a resource group (--group RG)"),
    };
    // Window-scheduled work: say when, and return (it runs in the service).
    if wfs.iter().any(|w| w.not_before_ms.is_some()) {
        if f.json {
            return if wfs.len() == 1 {
                print_json(&wfs[0])
            } else {
                print_json(&wfs)
            };
        }
        for w in &wfs {
            println!("patch of {}: {}", w.cache, describe(w));
        }
        return Ok(());
    }
    let mut done = Vec::new();
    for w in wfs {
        done.push(follow_quietly(&a, f, w)?);
    }
    if f.json {
        if done.len() == 1 {
            print_json(&done[0])?;
        } else {
            print_json(&done)?;
        }
    }
    if let Some(e) = done.iter().find_map(|w| w.error.clone()) {
        bail!("{e}");
    }
    Ok(())
}
