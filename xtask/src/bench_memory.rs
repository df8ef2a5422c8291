//! The memory comparison: a fresh redis-server and a fresh ferrocache each load
//! the same dataset with redis-benchmark (about a million 32-byte string keys),
//! then their resident set sizes are read from /proc and compared.

use crate::bench_run::pinned;
use crate::bench_server::Server;
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The load: `-r` random keys, `-n` SETs of `-d`-byte values, pipelined.
pub const LOAD_ARGS: &[&str] = &[
    "-t", "set", "-r", "1000000", "-n", "2000000", "-d", "32", "-P", "16", "-c", "50", "-q",
];

/// What one server holds after the load.
#[derive(Debug, Clone, Copy)]
pub struct Footprint {
    pub keys: u64,
    pub rss: u64,
    pub used_memory: u64,
}

/// Loads the dataset into `server` and measures it.
pub fn load_and_measure(server: &mut Server, client_cpu: Option<u32>) -> Result<Footprint> {
    let mut cmd = pinned(Command::new("redis-benchmark"), client_cpu);
    cmd.arg("-h")
        .arg(server.addr().ip().to_string())
        .arg("-p")
        .arg(server.addr().port().to_string())
        .args(LOAD_ARGS)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd
        .output()
        .context("running redis-benchmark for the memory load")?;
    server.check_alive()?;
    if !out.status.success() {
        bail!(
            "redis-benchmark (memory load) on {} failed: {}",
            server.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let keys = query(server, "DBSIZE")?
        .trim_start_matches(':')
        .trim()
        .parse()
        .context("DBSIZE reply")?;
    let info = query(server, "INFO memory")?;
    let used_memory = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .context("used_memory in INFO")?
        .trim()
        .parse()
        .context("used_memory value")?;
    Ok(Footprint {
        keys,
        rss: rss_of(server.pid())?,
        used_memory,
    })
}

/// Resident set size of a process in bytes.
fn rss_of(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("VmRSS in /proc status")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .context("VmRSS value")?;
    Ok(kb * 1024)
}

/// Sends an inline command and returns the reply's text (a bulk string's
/// payload, or the raw line otherwise).
fn query(server: &Server, line: &str) -> Result<String> {
    let mut s = TcpStream::connect(server.addr()).context("connecting for a query")?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(format!("{line}\r\n").as_bytes())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(text) = complete_reply(&got) {
            return Ok(text);
        }
    }
    bail!("incomplete reply to {line}")
}

/// The reply's text once all of it has arrived.
fn complete_reply(got: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(got);
    let (head, rest) = text.split_once("\r\n")?;
    if let Some(len) = head.strip_prefix('$') {
        let len: usize = len.parse().ok()?;
        return (rest.len() >= len + 2).then(|| rest[..len].to_string());
    }
    Some(head.to_string())
}

/// The Markdown section for the two footprints.
pub fn markdown(redis: &Footprint, ours: &Footprint) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut s = String::from("### Memory: the same dataset loaded into each\n\n");
    let _ = writeln!(
        s,
        "Load: `redis-benchmark {}` into a freshly started server of each kind; RSS from \
         /proc/PID/status afterwards.\n",
        LOAD_ARGS.join(" ")
    );
    s.push_str("| measure | redis | ours | ratio ours/redis |\n| --- | ---: | ---: | ---: |\n");
    let _ = writeln!(s, "| keys | {} | {} | |", redis.keys, ours.keys);
    let ratio = |a: u64, b: u64| if a > 0 { b as f64 / a as f64 } else { 0.0 };
    let _ = writeln!(
        s,
        "| process RSS (MiB) | {:.1} | {:.1} | {:.2} |",
        mib(redis.rss),
        mib(ours.rss),
        ratio(redis.rss, ours.rss)
    );
    let per_key = |f: &Footprint| f.rss as f64 / f.keys.max(1) as f64;
    let _ = writeln!(
        s,
        "| RSS per key (bytes) | {:.0} | {:.0} | {:.2} |",
        per_key(redis),
        per_key(ours),
        per_key(ours) / per_key(redis).max(1.0)
    );
    let _ = writeln!(
        s,
        "| INFO used_memory (MiB) | {:.1} | {:.1} | {:.2} |",
        mib(redis.used_memory),
        mib(ours.used_memory),
        ratio(redis.used_memory, ours.used_memory)
    );
    let _ = writeln!(
        s,
        "| used_memory / RSS | {:.2} | {:.2} | |",
        ratio(redis.rss, redis.used_memory),
        ratio(ours.rss, ours.used_memory)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(complete_reply(b":42\r\n").as_deref(), Some(":42"));
        assert_eq!(complete_reply(b"$5\r\nhel"), None);
        assert_eq!(complete_reply(b"$5\r\nhello\r\n").as_deref(), Some("hello"));
    }

    #[test]
    fn table() {
        let r = Footprint {
            keys: 1000,
            rss: 100 << 20,
            used_memory: 90 << 20,
        };
        let o = Footprint {
            keys: 1000,
            rss: 80 << 20,
            used_memory: 75 << 20,
        };
        let md = markdown(&r, &o);
        assert!(
            md.contains("| process RSS (MiB) | 100.0 | 80.0 | 0.80 |"),
            "{md}"
        );
    }
}
