//! `cargo xtask drill-matrix`: every drill scenario × (endpoint, direct) × (engine
//! builtin, engine redis) against a fresh `ferrocache up` per engine, the figures
//! written as the table in docs/resilience.md (between its markers), and one
//! timeline picture (patch, or failover where patch is not available).

use anyhow::{bail, Context};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIOS: [&str; 8] = [
    "patch",
    "reboot-primary",
    "reboot-replica",
    "reboot-all",
    "failover",
    "kill-primary",
    "kill-replica",
    "freeze-primary",
];
const BEGIN: &str = "<!-- drill-matrix:begin -->";
const END: &str = "<!-- drill-matrix:end -->";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ferrocache binary (build it first: `cargo build --release -p ferrocache`).
    #[arg(long, default_value = "target/release/ferrocache")]
    bin: PathBuf,
    /// Workload length of each drill.
    #[arg(long, default_value = "8s")]
    duration: String,
    #[arg(long, default_value = "16")]
    clients: String,
    /// The document whose table is replaced.
    #[arg(long, default_value = "docs/resilience.md")]
    doc: PathBuf,
    /// Where the timeline picture goes.
    #[arg(long, default_value = "docs/drill-timeline.svg")]
    svg: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Up {
    child: Child,
    api: String,
    _dir: tempfile::TempDir,
}

impl Drop for Up {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child; SIGTERM lets it stop its nodes.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn start(bin: &Path, engine: &str) -> anyhow::Result<Up> {
    let dir = tempfile::tempdir()?;
    // Node bases need two consecutive free ports.
    let base = |_: ()| -> anyhow::Result<u16> {
        loop {
            let p = free_port()?;
            if TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                return Ok(p);
            }
        }
    };
    let (port, tls, api, nb, tnb) = (
        free_port()?,
        free_port()?,
        free_port()?,
        base(())?,
        base(())?,
    );
    let out = dir.path().join("up.out");
    let child = Command::new(bin)
        .args([
            "up",
            "--engine",
            engine,
            "--starting-lead",
            "1s",
            "--start-lead",
            "200ms",
        ])
        .args(["--data-dir", &dir.path().display().to_string()])
        .args(["--port", &port.to_string(), "--tls-port", &tls.to_string()])
        .args(["--api-addr", &format!("127.0.0.1:{api}")])
        .args([
            "--node-port-base",
            &nb.to_string(),
            "--tls-node-port-base",
            &tnb.to_string(),
        ])
        .stdout(Stdio::from(std::fs::File::create(&out)?))
        .stderr(Stdio::from(std::fs::File::create(
            dir.path().join("up.err"),
        )?))
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let up = Up {
        child,
        api: format!("http://127.0.0.1:{api}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&out)?.contains("ferrocache up ready") {
        if Instant::now() > deadline {
            bail!("ferrocache up ({engine}) did not get ready");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(up)
}

fn drill(
    a: &Args,
    up: &Up,
    scenario: &str,
    direct: bool,
    plot: Option<&Path>,
) -> anyhow::Result<serde_json::Value> {
    let mut cmd = Command::new(&a.bin);
    cmd.args([
        "drill",
        "--cache",
        "local",
        "--api",
        &up.api,
        "--json",
        "--scenario",
        scenario,
    ])
    .args([
        "--duration",
        &a.duration,
        "--clients",
        &a.clients,
        "--warmup",
        "2s",
    ])
    .args(["--freeze-for", "4s", "--command-timeout", "1s"])
    .env("FERROCACHE_LOG", "error");
    if direct {
        cmd.arg("--direct");
    }
    if let Some(p) = plot {
        cmd.arg("--plot").arg(p);
    }
    let out = cmd.output()?;
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        serde_json::json!({"fault_error": String::from_utf8_lossy(&out.stderr).trim().to_string()})
    });
    Ok(r)
}

fn cell(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(f) => format!("{f}"),
        None => "–".into(),
    }
}

fn row(engine: &str, scenario: &str, direct: bool, r: &serde_json::Value) -> String {
    let path = if direct { "direct" } else { "endpoint" };
    if let Some(e) = r["fault_error"].as_str() {
        if r["ops"].is_null() || e.contains("not available") {
            let short = if e.contains("not available") {
                "not available on this service"
            } else {
                e
            };
            return format!("| {scenario} | {path} | {engine} | {short} | | | | |\n");
        }
    }
    let kinds: Vec<String> = r["errors_by_kind"]
        .as_object()
        .map(|m| m.iter().map(|(k, n)| format!("{k} {n}")).collect())
        .unwrap_or_default();
    format!(
        "| {scenario} | {path} | {engine} | {}{} | {} of {} | {} | {} | {} |\n",
        cell(&r["errors"]),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        },
        cell(&r["lost_writes"]),
        cell(&r["acked_writes"]),
        cell(&r["max_write_pause_ms"]),
        cell(&r["failover_ms"]),
        cell(&r["errors_absorbed"]),
    )
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !a.bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p ferrocache",
            a.bin.display()
        );
    }
    let mut table = String::from(
        "| scenario | path | engine | client-visible errors | acked writes lost | longest write pause ms | failover ms | errors absorbed by retries |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut pictured = false;
    for engine in ["builtin", "redis"] {
        let up = start(&a.bin, engine)?;
        for scenario in SCENARIOS {
            for direct in [false, true] {
                // The picture: the first patch through the endpoint (failover if patch
                // is not available), on the builtin engine.
                let plot = (!pictured
                    && !direct
                    && engine == "builtin"
                    && matches!(scenario, "patch" | "failover"))
                .then_some(a.svg.as_path());
                let r = drill(&a, &up, scenario, direct, plot)?;
                if plot.is_some() && r["fault_error"].is_null() {
                    pictured = true;
                }
                eprintln!("{engine} {scenario} direct={direct}: {r}");
                table.push_str(&row(engine, scenario, direct, &r));
            }
        }
    }
    let doc = std::fs::read_to_string(&a.doc).with_context(|| format!("{}", a.doc.display()))?;
    let (head, rest) = doc
        .split_once(BEGIN)
        .context("no drill-matrix:begin marker")?;
    let (_, tail) = rest.split_once(END).context("no drill-matrix:end marker")?;
    std::fs::write(&a.doc, format!("{head}{BEGIN}\n{table}{END}{tail}"))?;
    println!("{table}");
    Ok(())
}
