//! One redis-benchmark run against one server, and its CSV parsed into rows.
//! Kept separate from the report so later benchmarks (lists, memory, replicas)
//! can reuse it with their own tests.

use crate::bench_server::Server;
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What redis-benchmark runs: one of its built-in tests (`-t name`, which may
/// produce several rows, e.g. `ping` gives PING_INLINE and PING_MBULK), or an
/// arbitrary command line whose single row gets `label` as its name.
#[derive(Debug, Clone)]
pub enum BenchTest {
    Builtin(String),
    Command { label: String, argv: Vec<String> },
}

impl BenchTest {
    pub fn builtin(name: &str) -> Self {
        BenchTest::Builtin(name.to_string())
    }

    pub fn command(label: &str, argv: &[&str]) -> Self {
        BenchTest::Command {
            label: label.to_string(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// A short name for progress messages.
    pub fn label(&self) -> &str {
        match self {
            BenchTest::Builtin(name) => name,
            BenchTest::Command { label, .. } => label,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            BenchTest::Builtin(name) => vec!["-t".into(), name.clone()],
            BenchTest::Command { argv, .. } => argv.clone(),
        }
    }
}

/// The redis-benchmark settings shared by both servers in a comparison.
#[derive(Debug, Clone)]
pub struct BenchOpts {
    pub clients: u32,
    pub requests: u64,
    /// Commands per round trip (`-P`); 1 means no pipelining.
    pub pipeline: u32,
    /// Random keys in `0..keyspace` (`-r`) so that SET/GET/INCR touch many keys.
    pub keyspace: u64,
    /// The CPU redis-benchmark is pinned to (the servers get another), if pinning.
    pub client_cpu: Option<u32>,
}

/// Runs `cmd` pinned to one CPU with `taskset` when `cpu` is given. Pinning keeps the
/// server and the load generator off each other's core, which on a 2-core machine
/// is the difference between ±20% run-to-run noise and a few percent.
pub fn pinned(cmd: Command, cpu: Option<u32>) -> Command {
    let Some(cpu) = cpu else { return cmd };
    let mut wrapped = Command::new("taskset");
    wrapped
        .arg("-c")
        .arg(cpu.to_string())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

impl BenchOpts {
    /// The redis-benchmark arguments for `test`, without host and port.
    pub fn args(&self, test: &BenchTest) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-c".into(),
            self.clients.to_string(),
            "-n".into(),
            self.requests.to_string(),
            "-r".into(),
            self.keyspace.to_string(),
        ];
        if self.pipeline > 1 {
            a.extend(["-P".into(), self.pipeline.to_string()]);
        }
        a.push("--csv".into());
        a.extend(test.args());
        a
    }

    /// A hang guard, not a measurement: redis-benchmark spins forever when its
    /// server goes away, so a run gets a minute plus 0.5 ms per request.
    fn timeout(&self) -> Duration {
        Duration::from_secs(60) + Duration::from_micros(self.requests.saturating_mul(500))
    }
}

/// One row of redis-benchmark's CSV output. Latencies are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub test: String,
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs each test in turn against `server` and returns all their rows.
/// Fails if redis-benchmark fails (it exits at the first error reply), prints no
/// rows, outlives its time limit, or the server dies meanwhile.
pub fn run_benchmark(
    server: &mut Server,
    tests: &[BenchTest],
    opts: &BenchOpts,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for test in tests {
        server.check_alive()?;
        let mut cmd = pinned(Command::new("redis-benchmark"), opts.client_cpu);
        cmd.arg("-h").arg(server.addr().ip().to_string());
        cmd.arg("-p").arg(server.addr().port().to_string());
        cmd.args(opts.args(test));
        let what = format!("redis-benchmark {} on {}", test.label(), server.name());
        let csv = run_with_deadline(cmd, server, opts.timeout()).with_context(|| what.clone())?;
        let mut got = parse_csv(&csv).with_context(|| format!("parsing the output of {what}"))?;
        if got.is_empty() {
            bail!("{what} printed no results (unknown test name?)");
        }
        if let BenchTest::Command { label, .. } = test {
            got.iter_mut().for_each(|r| r.test = label.clone());
        }
        rows.extend(got);
    }
    Ok(rows)
}

/// Runs `cmd` to completion and returns its stdout, killing it at the deadline
/// or when `server` exits (redis-benchmark would otherwise wait forever).
fn run_with_deadline(mut cmd: Command, server: &mut Server, timeout: Duration) -> Result<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting redis-benchmark (is it on PATH? Debian: apt-get install redis-tools)")?;
    // Drained on threads so that a full pipe never stalls the benchmark.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for redis-benchmark")? {
            break status;
        }
        let gone = server.check_alive().err();
        if gone.is_some() || Instant::now() >= deadline {
            // Killing an exited child fails harmlessly.
            let _ = child.kill();
            let _ = child.wait();
            match gone {
                Some(e) => return Err(e),
                None => bail!("still running after {timeout:?}; killed"),
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = join(out)?;
    let err = join(err)?;
    if !status.success() {
        bail!("exited with {status}: {}", err.trim());
    }
    Ok(out)
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<std::io::Result<String>> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            p.read_to_string(&mut s)?;
        }
        Ok(s)
    })
}

fn join(h: JoinHandle<std::io::Result<String>>) -> Result<String> {
    match h.join() {
        Ok(r) => r.context("reading redis-benchmark's output"),
        Err(_) => bail!("the thread reading redis-benchmark's output panicked"),
    }
}

/// Combines repeated runs of the same tests: one row per test name (in the order
/// first seen), each field the median of that test's runs, taken independently.
pub fn median_rows(runs: &[Row]) -> Vec<Row> {
    let mut names: Vec<&str> = Vec::new();
    for r in runs {
        if !names.contains(&r.test.as_str()) {
            names.push(&r.test);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let same: Vec<&Row> = runs.iter().filter(|r| r.test == name).collect();
            let median = |get: fn(&Row) -> f64| {
                let mut v: Vec<f64> = same.iter().map(|r| get(r)).collect();
                v.sort_by(f64::total_cmp);
                let mid = v.len() / 2;
                if v.len() % 2 == 1 {
                    v[mid]
                } else {
                    (v[mid - 1] + v[mid]) / 2.0
                }
            };
            Row {
                test: name.to_string(),
                rps: median(|r| r.rps),
                avg_ms: median(|r| r.avg_ms),
                min_ms: median(|r| r.min_ms),
                p50_ms: median(|r| r.p50_ms),
                p95_ms: median(|r| r.p95_ms),
                p99_ms: median(|r| r.p99_ms),
                max_ms: median(|r| r.max_ms),
            }
        })
        .collect()
}

/// The header redis-benchmark 7 prints with `--csv`.
const COLUMNS: [&str; 8] = [
    "test",
    "rps",
    "avg_latency_ms",
    "min_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "max_latency_ms",
];

/// Parses redis-benchmark's `--csv` output: a header line, then one quoted row per test.
pub fn parse_csv(text: &str) -> Result<Vec<Row>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Ok(Vec::new());
    };
    let header = split_csv_line(header);
    if header != COLUMNS {
        bail!(
            "unexpected CSV header {header:?}; this parser knows redis-benchmark 7's {COLUMNS:?}"
        );
    }
    lines
        .map(|line| {
            let f = split_csv_line(line);
            if f.len() != COLUMNS.len() {
                bail!("expected {} fields in {line:?}", COLUMNS.len());
            }
            let num = |i: usize| -> Result<f64> {
                f[i].parse()
                    .with_context(|| format!("{} = {:?} in {line:?}", COLUMNS[i], f[i]))
            };
            Ok(Row {
                test: f[0].clone(),
                rps: num(1)?,
                avg_ms: num(2)?,
                min_ms: num(3)?,
                p50_ms: num(4)?,
                p95_ms: num(5)?,
                p99_ms: num(6)?,
                max_ms: num(7)?,
            })
        })
        .collect()
}

/// Splits one CSV line into fields, unquoting `"..."` (with `""` for a quote).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_7_csv() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                    \"PING_INLINE\",\"74074.07\",\"0.346\",\"0.056\",\"0.343\",\"0.423\",\"0.503\",\"0.551\"\n\
                    \"MSET (10 keys)\",\"95238.09\",\"0.435\",\"0.144\",\"0.399\",\"0.799\",\"1.015\",\"1.255\"\n";
        let rows = parse_csv(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].test, "PING_INLINE");
        assert_eq!(rows[1].test, "MSET (10 keys)");
        assert_eq!(rows[1].rps, 95238.09);
        assert_eq!(rows[1].p99_ms, 1.015);
        assert_eq!(parse_csv("").unwrap(), vec![]);
        assert!(parse_csv("\"a\",\"b\"\n").is_err());
    }

    #[test]
    fn medians_per_test() {
        let row = |test: &str, rps: f64| Row {
            test: test.into(),
            rps,
            avg_ms: rps / 10.0,
            min_ms: 0.0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
        };
        let runs = [
            row("A", 3.0),
            row("B", 10.0),
            row("A", 1.0),
            row("A", 2.0),
            row("B", 20.0),
        ];
        let m = median_rows(&runs);
        assert_eq!(
            m.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
        assert_eq!((m[0].rps, m[0].avg_ms), (2.0, 0.2));
        assert_eq!(m[1].rps, 15.0);
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(
            split_csv_line(r#""a,b","c""d",e"#),
            vec!["a,b", "c\"d", "e"]
        );
    }
}
