//! `cargo xtask bench-replication`: replication measured beside redis-server in
//! the same run, written to docs/benchmarks-replication.md — the write pause of
//! a planned FAILOVER, a full sync of a large dataset to a new replica, write
//! throughput with a replica attached, the RDB load rate, and how long BGSAVE
//! stalls clients. The load and the measurements are in `bench_repl_client`,
//! `bench_repl_parts` and `bench_repl_save`.

use crate::bench_repl_parts as parts;
use crate::bench_report::Machine;
use crate::bench_server::{free_ports, Server};
use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const READY_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Planned failovers per server kind (back and forth between two nodes).
    #[arg(long, default_value_t = 20)]
    pub failovers: u32,
    /// Size of the dataset for the full-sync and RDB-load measurements, in GB
    /// (1000-byte values).
    #[arg(long, default_value_t = 1.0)]
    pub sync_gb: f64,
    /// Requests per redis-benchmark run in the throughput comparison.
    #[arg(long, default_value_t = 500_000)]
    pub requests: u64,
    /// Runs of each throughput test per setup; the table shows the median.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Which parts to run, comma separated: failover, sync, throughput, load, bgsave.
    #[arg(long, value_delimiter = ',', default_values_t = ["failover", "sync", "throughput", "load", "bgsave"].map(String::from))]
    pub parts: Vec<String>,
    /// Where to write the report, relative to the workspace root.
    #[arg(long, default_value = "docs/benchmarks-replication.md")]
    pub out: PathBuf,
    /// Do not pin primaries to CPU 0 and the load to CPU 1.
    #[arg(long)]
    pub no_pin: bool,
}

/// Which implementation a server runs.
#[derive(Debug, Clone)]
pub enum Kind {
    Redis,
    Ours(PathBuf),
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Redis => "redis-server",
            Kind::Ours(_) => "ferrocache",
        }
    }

    /// The command line for a server on `port` with its data in `dir`. Redis gets
    /// the settings that make the comparison fair: no 5 s wait before a diskless
    /// full sync, and a 64 MB backlog like ours.
    fn command(&self, port: u16, dir: &Path) -> Command {
        match self {
            Kind::Redis => {
                let mut c = Command::new("redis-server");
                c.args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
                    .args([
                        "--repl-diskless-sync-delay",
                        "0",
                        "--repl-backlog-size",
                        "64mb",
                    ])
                    .arg("--port")
                    .arg(port.to_string())
                    .arg("--dir")
                    .arg(dir);
                c
            }
            Kind::Ours(bin) => {
                let mut c = Command::new(bin);
                c.args(["node", "--bind", "127.0.0.1", "--port"])
                    .arg(port.to_string())
                    .arg("--dir")
                    .arg(dir);
                c
            }
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            Kind::Redis => "redis-server --save '' --appendonly no --repl-diskless-sync-delay 0 --repl-backlog-size 64mb --port PORT --dir DIR",
            Kind::Ours(_) => "target/release/ferrocache node --port PORT --dir DIR",
        }
    }
}

/// Starts servers in a scratch directory, each in its own data directory.
pub struct Lab {
    pub tmp: tempfile::TempDir,
    pub server_cpu: Option<u32>,
    pub client_cpu: Option<u32>,
    count: usize,
}

impl Lab {
    /// Starts a server of `kind`; `pinned` puts it on the server CPU.
    pub fn start(&mut self, kind: &Kind, role: &str, pinned: bool) -> Result<Server> {
        let dir = self.dir(&format!("{}-{role}", kind.name()))?;
        self.start_in(kind, role, pinned, &dir)
    }

    pub fn start_in(
        &mut self,
        kind: &Kind,
        role: &str,
        pinned: bool,
        dir: &Path,
    ) -> Result<Server> {
        let port = free_ports(1)?[0];
        let cmd = kind.command(port, dir);
        let cmd = crate::bench_run::pinned(cmd, if pinned { self.server_cpu } else { None });
        let log = dir.join("server.log");
        let mut s = Server::spawn(
            &format!("{} {role}", kind.name()),
            cmd,
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            &log,
        )?;
        s.wait_ready(READY_TIMEOUT)?;
        Ok(s)
    }

    /// A fresh directory under the scratch directory.
    pub fn dir(&mut self, name: &str) -> Result<PathBuf> {
        self.count += 1;
        let d = self.tmp.path().join(format!("{}-{name}", self.count));
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        Ok(d)
    }
}

pub fn run(args: Args) -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow!("xtask has no parent directory"))?
        .to_path_buf();
    for tool in ["redis-server", "redis-benchmark"] {
        Command::new(tool)
            .arg("--version")
            .output()
            .with_context(|| format!("running {tool} --version (apt-get install redis-server)"))?;
    }
    let bin = crate::bench::build_ferrocache(&root)?;
    let pin = !args.no_pin
        && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && Command::new("taskset").arg("--version").output().is_ok();
    let mut lab = Lab {
        tmp: tempfile::Builder::new()
            .prefix("ferrocache-bench-repl-")
            .tempdir()
            .context("creating a scratch directory")?,
        server_cpu: pin.then_some(0),
        client_cpu: pin.then_some(1),
        count: 0,
    };
    let kinds = [Kind::Redis, Kind::Ours(bin)];
    let want = |p: &str| args.parts.iter().any(|a| a.eq_ignore_ascii_case(p));
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {spinner} {msg}")
            .map_err(|e| anyhow!("progress bar template: {e}"))?,
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let mut sections = Vec::new();
    if want("failover") {
        sections.push(parts::failover_pause(
            &mut lab,
            &kinds,
            args.failovers,
            &pb,
        )?);
    }
    let mut rdb = None;
    if want("sync") || want("load") {
        let (section, file) = parts::full_sync(&mut lab, &kinds, args.sync_gb, &pb)?;
        if want("sync") {
            sections.push(section);
        }
        rdb = Some(file);
    }
    if want("throughput") {
        sections.push(parts::throughput(
            &mut lab,
            &kinds,
            args.requests,
            args.repeat,
            &pb,
        )?);
    }
    if let (true, Some((file, keys))) = (want("load"), rdb) {
        sections.push(parts::rdb_load(&mut lab, &kinds, &file, keys, &pb)?);
    }
    if want("bgsave") {
        sections.push(crate::bench_repl_save::bgsave_stall(
            &mut lab,
            &kinds,
            args.sync_gb,
            &pb,
        )?);
    }
    pb.finish_and_clear();
    if sections.is_empty() {
        bail!("--parts names no part (failover, sync, throughput, load, bgsave)");
    }
    let doc = document(&root, &args, &kinds, &lab, &sections);
    let out = root.join(&args.out);
    std::fs::write(&out, &doc).with_context(|| format!("writing {}", out.display()))?;
    println!("{doc}");
    println!("wrote {}", out.display());
    Ok(())
}

fn document(root: &Path, args: &Args, kinds: &[Kind], lab: &Lab, sections: &[String]) -> String {
    let m = Machine::probe(root);
    let command = std::iter::once("cargo xtask".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut s = String::from("# Benchmarks: replication, ferrocache beside redis-server\n\n");
    s.push_str(
        "Generated by `cargo xtask bench-replication`; do not edit by hand. Both servers ran on \
         the same machine in the same run, with the same load, so the **ratios** are what carry \
         across machines.\n\n## How these numbers were produced\n\n",
    );
    s.push_str(&format!("- command: `{command}`\n"));
    s.push_str(&format!("- date: {}\n", m.date));
    s.push_str(&format!("- machine: {} CPUs, {}\n", m.nproc, m.cpu));
    s.push_str(&format!("- redis: `{}`\n", m.redis_version));
    s.push_str(&format!("- ferrocache commit: {}\n", m.commit));
    for k in kinds {
        s.push_str(&format!("- {}: `{}`\n", k.name(), k.description()));
    }
    s.push_str(&format!(
        "- CPUs: {}\n",
        match lab.server_cpu {
            Some(_) => "servers started as primaries pinned to CPU 0, the load (our writers, redis-benchmark) to CPU 1, servers started as replicas unpinned (taskset)",
            None => "nothing pinned",
        }
    ));
    s.push_str(&format!(
        "- failovers per kind: {}; full-sync dataset: {} GB; throughput runs: {} × {} requests\n\n",
        args.failovers, args.sync_gb, args.repeat, args.requests
    ));
    for sec in sections {
        s.push_str(sec);
        s.push('\n');
    }
    s
}
