//! `cargo xtask bench`: runs redis-benchmark against redis-server and against
//! ferrocache on the same machine, test by test, and writes docs/benchmarks.md.
//! Building blocks live in bench_server (processes), bench_run (one
//! redis-benchmark run) and bench_report (the document).

use crate::bench_report::{document, Comparison, Machine, Provenance, REDIS_VS_OURS};
use crate::bench_run::{median_rows, pinned, run_benchmark, BenchOpts, BenchTest, Row};
use crate::bench_server::{free_ports, Server};
use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a freshly started server may take to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests per test for `--quick`.
const QUICK_REQUESTS: u64 = 20_000;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Requests per test without pipelining (redis-benchmark -n).
    #[arg(long, default_value_t = 200_000)]
    requests: u64,
    /// Requests per test with pipelining [default: 5 × --requests, so that a
    /// pipelined run lasts long enough to measure].
    #[arg(long)]
    pipelined_requests: Option<u64>,
    /// Parallel connections (redis-benchmark -c).
    #[arg(long, default_value_t = 50)]
    clients: u32,
    /// Commands per round trip in the pipelined table (redis-benchmark -P).
    #[arg(long, default_value_t = 16)]
    pipeline: u32,
    /// Random key space for SET/GET/INCR/MSET (redis-benchmark -r).
    #[arg(long, default_value_t = 100_000)]
    keyspace: u64,
    /// Tests, comma separated: redis-benchmark -t names, plus `publish`
    /// (a PUBLISH command; redis-benchmark has no built-in test for it).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [
            "ping", "set", "get", "incr", "mset", "publish", "lpush", "lpop", "sadd", "hset",
            "zadd", "lrange_100"
        ].map(String::from)
    )]
    tests: Vec<String>,
    /// Where to write the report, relative to the workspace root.
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// Runs of each test per server; the tables show each figure's median.
    /// On a small or busy machine single runs vary by tens of percent.
    #[arg(long, default_value_t = 5)]
    repeat: u32,
    /// A smoke run: 20000 requests per test (5× that pipelined) and one run each,
    /// whatever --requests and --repeat say.
    #[arg(long)]
    quick: bool,
    /// Start "our" server with this shell command instead of building ferrocache;
    /// `{port}` and `{dir}` are replaced. For testing this xtask, e.g. with a second
    /// redis-server: `--ours-cmd "redis-server --port {port} --bind 127.0.0.1 --save ''"`.
    #[arg(long, hide = true)]
    ours_cmd: Option<String>,
    /// Do not pin the servers to CPU 0 and redis-benchmark to CPU 1 (pinning needs
    /// `taskset` and at least two CPUs, and is on by default when both exist).
    #[arg(long)]
    no_pin: bool,
    /// Skip the memory comparison (a million keys loaded into a fresh server of
    /// each kind, RSS compared).
    #[arg(long)]
    no_memory: bool,
    /// Skip the endpoint comparison (a node directly and through a gateway).
    #[arg(long)]
    no_endpoint: bool,
    /// Tests for the endpoint comparison, comma separated (names as for --tests).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = ["ping", "set", "get", "mset", "lrange_100"].map(String::from)
    )]
    endpoint_tests: Vec<String>,
    /// Planned switches through the endpoint to time, per kind of node (0: none).
    #[arg(long, default_value_t = 20)]
    switches: u32,
}

/// How "our" server is started.
enum Ours {
    /// The release build of `ferrocache node`.
    Binary(PathBuf),
    /// A shell command line with `{port}` and `{dir}` placeholders (`--ours-cmd`).
    Template(String),
}

/// The tests to run, by the names accepted on the command line.
fn tests_from_names(names: &[String]) -> Vec<BenchTest> {
    names
        .iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .map(|n| match n.as_str() {
            "publish" => BenchTest::command("PUBLISH", &["PUBLISH", "bench-channel", "hello"]),
            _ => BenchTest::builtin(&n),
        })
        .collect()
}

/// Whether `tool` can be started (it answers `--version`).
fn tool_exists(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

pub fn run(args: Args) -> Result<()> {
    let root = workspace_root()?;
    for tool in ["redis-server", "redis-benchmark"] {
        Command::new(tool)
            .arg("--version")
            .output()
            .with_context(|| {
                format!("running {tool} --version (Debian: apt-get install redis-server)")
            })?;
    }
    let tests = tests_from_names(&args.tests);
    if tests.is_empty() {
        bail!("--tests names no test");
    }
    let (requests, repeat) = match args.quick {
        true => (QUICK_REQUESTS, 1),
        false => (args.requests, args.repeat.max(1)),
    };
    let modes = [
        (1, requests, "Without pipelining".to_string()),
        (
            args.pipeline,
            args.pipelined_requests
                .filter(|_| !args.quick)
                .unwrap_or(requests * 5),
            format!("Pipelining -P {}", args.pipeline),
        ),
    ];

    // Built before ports are picked, so that nothing takes them during the build.
    let ours_kind = match &args.ours_cmd {
        Some(template) => Ours::Template(template.clone()),
        None => Ours::Binary(build_ferrocache(&root)?),
    };

    let tmp = tempfile::Builder::new()
        .prefix("ferrocache-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    let ports = free_ports(2)?;
    let addr = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let (redis_cmd, redis_desc, ours_cmd, ours_desc) =
        server_commands(&root, &ours_kind, &ports, tmp.path(), "")?;

    // Both servers share CPU 0 and the load generator runs on CPU 1: the same
    // conditions for each, and no core contention between server and client.
    let pin = !args.no_pin
        && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && tool_exists("taskset");
    let (server_cpu, client_cpu) = if pin {
        (Some(0), Some(1))
    } else {
        (None, None)
    };
    let redis_cmd = pinned(redis_cmd, server_cpu);
    let ours_cmd = pinned(ours_cmd, server_cpu);
    let mut redis = Server::spawn(
        "redis-server",
        redis_cmd,
        addr(ports[0]),
        &tmp.path().join("redis.log"),
    )?;
    let mut ours = Server::spawn(
        "ferrocache",
        ours_cmd,
        addr(ports[1]),
        &tmp.path().join("ours.log"),
    )?;
    redis.wait_ready(READY_TIMEOUT)?;
    ours.wait_ready(READY_TIMEOUT)?;

    let total = (modes.len() * tests.len() * 2) as u64 * u64::from(repeat);
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .map_err(|e| anyhow!("progress bar template: {e}"))?,
    );

    let mut tables = Vec::new();
    let mut benchmark_cmds = Vec::new();
    let mut notes = Vec::new();
    if args.quick {
        notes.push("a --quick smoke run: few requests, one run per test: noisy numbers".into());
    }
    let mut pair = Pair {
        redis: &mut redis,
        ours: &mut ours,
        pb: &pb,
        notes: &mut notes,
    };
    let plan = Plan {
        tests: &tests,
        modes: &modes,
        clients: args.clients,
        keyspace: args.keyspace,
        client_cpu,
        repeat,
    };
    tables.extend(pair.tables(&plan, "", REDIS_VS_OURS, &mut benchmark_cmds)?);
    pb.finish_and_clear();
    drop(ours);
    drop(redis);

    let mut sections = Vec::new();
    if !args.no_endpoint {
        if let Ours::Binary(bin) = &ours_kind {
            let endpoint_tests = tests_from_names(&args.endpoint_tests);
            let plan = Plan {
                tests: &endpoint_tests,
                ..plan
            };
            let section = crate::bench_endpoint::run(
                bin,
                tmp.path(),
                &plan,
                server_cpu,
                &mut notes,
                &mut benchmark_cmds,
            )?;
            println!("{section}");
            sections.push(section);
            if args.switches > 0 {
                let section = crate::bench_switch::run(bin, tmp.path(), args.switches)?;
                println!("{section}");
                sections.push(section);
            }
        }
    }

    if !args.no_memory {
        eprintln!("bench: memory: loading the same dataset into a fresh server of each kind");
        let ports = free_ports(2)?;
        let (redis_cmd, _, ours_cmd, _) =
            server_commands(&root, &ours_kind, &ports, tmp.path(), "-memory")?;
        let mut redis = Server::spawn(
            "redis-server",
            pinned(redis_cmd, server_cpu),
            addr(ports[0]),
            &tmp.path().join("redis-memory.log"),
        )?;
        let mut ours = Server::spawn(
            "ferrocache",
            pinned(ours_cmd, server_cpu),
            addr(ports[1]),
            &tmp.path().join("ours-memory.log"),
        )?;
        redis.wait_ready(READY_TIMEOUT)?;
        ours.wait_ready(READY_TIMEOUT)?;
        let r = crate::bench_memory::load_and_measure(&mut redis, client_cpu)?;
        let o = crate::bench_memory::load_and_measure(&mut ours, client_cpu)?;
        let section = crate::bench_memory::markdown(&r, &o);
        println!("{section}");
        sections.push(section);
    }

    let command = std::iter::once("cargo xtask".to_string())
        .chain(std::env::args().skip(1).map(|a| shell_quote(&a)))
        .collect::<Vec<_>>()
        .join(" ");
    let machine = Machine::probe(&root);
    let provenance = Provenance {
        command: &command,
        machine: &machine,
        redis_cmd: &redis_desc,
        ours_cmd: &ours_desc,
        benchmark_cmds: &benchmark_cmds,
        order: &format!(
            "for each test, redis-server and ferrocache ran back to back, alternating which \
             went first, {repeat} time(s) each; every figure is the median of those runs; {}",
            if pin {
                "both servers pinned to CPU 0 and redis-benchmark to CPU 1 (taskset)"
            } else {
                "nothing pinned to a CPU"
            }
        ),
        notes: &notes,
    };
    let doc = document(&provenance, &tables, &sections);
    let out = root.join(&args.out);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, &doc).with_context(|| format!("writing {}", out.display()))?;

    for t in &tables {
        println!("{}", t.markdown());
    }
    for n in &notes {
        println!("note: {n}");
    }
    println!("wrote {}", out.display());
    if tables
        .iter()
        .all(|t| t.ours.is_empty() || t.redis.is_empty())
    {
        bail!("no test produced numbers for both servers");
    }
    Ok(())
}

/// What to run against a pair: the tests, each in every mode (pipeline, requests, title).
#[derive(Clone, Copy)]
pub(crate) struct Plan<'a> {
    pub tests: &'a [BenchTest],
    pub modes: &'a [(u32, u64, String)],
    pub clients: u32,
    pub keyspace: u64,
    pub client_cpu: Option<u32>,
    pub repeat: u32,
}

/// Both servers (the baseline and the one measured against it), and where progress
/// and failures are reported.
pub(crate) struct Pair<'a> {
    pub redis: &'a mut Server,
    pub ours: &'a mut Server,
    pub pb: &'a ProgressBar,
    pub notes: &'a mut Vec<String>,
}

impl Pair<'_> {
    /// One table per mode, every test run on both sides; the redis-benchmark
    /// command lines are added to `cmds` (`tag` names the table's subject).
    pub fn tables(
        &mut self,
        plan: &Plan,
        tag: &str,
        labels: [&'static str; 2],
        cmds: &mut Vec<String>,
    ) -> Result<Vec<Comparison>> {
        let mut tables = Vec::new();
        for (pipeline, requests, title) in plan.modes {
            let title = format!("{tag}{title}");
            let opts = BenchOpts {
                clients: plan.clients,
                requests: *requests,
                pipeline: *pipeline,
                keyspace: plan.keyspace,
                client_cpu: plan.client_cpu,
            };
            let mut table = Comparison {
                title: title.clone(),
                redis: Vec::new(),
                ours: Vec::new(),
                labels,
            };
            for (i, test) in plan.tests.iter().enumerate() {
                cmds.push(format!("redis-benchmark {}", opts.args(test).join(" ")));
                let (r, o) = self.compare(&title, test, &opts, plan.repeat, i % 2 == 0)?;
                table.redis.extend(r);
                table.ours.extend(o);
            }
            tables.push(table);
        }
        Ok(tables)
    }

    /// Runs `test` on both servers `repeat` times and returns the median rows of
    /// each (redis, ours). The two run back to back, alternating who goes first,
    /// so that neither always runs on a warmer (or busier) machine. A failed run
    /// becomes a note and a gap in the table; a dead server ends the benchmark.
    pub fn compare(
        &mut self,
        title: &str,
        test: &BenchTest,
        opts: &BenchOpts,
        repeat: u32,
        redis_first: bool,
    ) -> Result<(Vec<Row>, Vec<Row>)> {
        let (mut redis_runs, mut ours_runs) = (Vec::new(), Vec::new());
        for run in 0..repeat {
            let redis_now = redis_first == (run % 2 == 0);
            for redis_turn in [redis_now, !redis_now] {
                let (server, rows) = match redis_turn {
                    true => (&mut *self.redis, &mut redis_runs),
                    false => (&mut *self.ours, &mut ours_runs),
                };
                let msg = format!(
                    "{title}: {} on {} (run {}/{repeat})",
                    test.label(),
                    server.name(),
                    run + 1
                );
                self.pb.set_message(msg.clone());
                if self.pb.is_hidden() {
                    eprintln!("bench: {msg}");
                }
                match run_benchmark(server, std::slice::from_ref(test), opts) {
                    Ok(got) => rows.extend(got),
                    Err(e) => {
                        server.check_alive()?;
                        let what = format!("{title}: {} on {}", test.label(), server.name());
                        let note = format!("{what} failed: {e:#}");
                        self.pb.println(format!("warning: {note}"));
                        // Repeated runs usually fail alike; the document says it once.
                        if !self.notes.contains(&note) {
                            self.notes.push(note);
                        }
                    }
                }
                self.pb.inc(1);
            }
        }
        Ok((median_rows(&redis_runs), median_rows(&ours_runs)))
    }
}

/// The command lines that start each server on `ports` (redis first), with
/// their descriptions for the report; data directories under `tmp`, suffixed
/// with `tag` so that a second pair does not reuse the first one's.
fn server_commands(
    root: &Path,
    ours_kind: &Ours,
    ports: &[u16],
    tmp: &Path,
    tag: &str,
) -> Result<(Command, String, Command, String)> {
    let redis_dir = subdir(tmp, &format!("redis{tag}"))?;
    let mut redis_cmd = Command::new("redis-server");
    redis_cmd
        .args(["--save", "", "--appendonly", "no", "--port"])
        .arg(ports[0].to_string())
        .args(["--bind", "127.0.0.1", "--dir"])
        .arg(&redis_dir)
        .current_dir(&redis_dir);
    let redis_desc =
        "redis-server --save '' --appendonly no --port PORT --bind 127.0.0.1 --dir TMP";

    let ours_dir = subdir(tmp, &format!("ours{tag}"))?;
    let (mut ours_cmd, ours_desc) = match ours_kind {
        Ours::Template(template) => {
            let line = template
                .replace("{port}", &ports[1].to_string())
                .replace("{dir}", &ours_dir.to_string_lossy());
            let mut c = Command::new("sh");
            // exec, so that killing the handle kills the server, not just the shell.
            c.arg("-c").arg(format!("exec {line}"));
            (
                c,
                template.replace("{port}", "PORT").replace("{dir}", "TMP"),
            )
        }
        Ours::Binary(bin) => {
            let mut c = Command::new(bin);
            c.args(["node", "--port"])
                .arg(ports[1].to_string())
                .args(["--bind", "127.0.0.1", "--dir"])
                .arg(&ours_dir);
            let shown = bin.strip_prefix(root).unwrap_or(bin).display().to_string();
            (
                c,
                format!("{shown} node --port PORT --bind 127.0.0.1 --dir TMP"),
            )
        }
    };
    ours_cmd.current_dir(&ours_dir);
    Ok((redis_cmd, redis_desc.to_string(), ours_cmd, ours_desc))
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("xtask's manifest dir {} has no parent", manifest.display()))
}

/// Builds the release binary and returns its path.
pub(crate) fn build_ferrocache(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "ferrocache"])
        .current_dir(root)
        .status()
        .context("running cargo build --release -p ferrocache")?;
    if !status.success() {
        bail!("cargo build --release -p ferrocache failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release").join("ferrocache");
    if !bin.is_file() {
        bail!(
            "cargo built ferrocache but {} does not exist",
            bin.display()
        );
    }
    Ok(bin)
}

fn subdir(parent: &Path, name: &str) -> Result<PathBuf> {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Quotes an argument for display in a shell command line.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@+%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--requests"), "--requests");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }

    #[test]
    fn test_names() {
        let t = tests_from_names(&["SET".into(), "publish".into(), " ".into()]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].label(), "set");
        assert_eq!(t[1].label(), "PUBLISH");
    }
}
