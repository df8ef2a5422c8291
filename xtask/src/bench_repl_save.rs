//! The BGSAVE part of `cargo xtask bench-replication`: how long a background
//! save of a large dataset stalls the server, beside redis-server's fork().

use crate::bench_repl::{Kind, Lab};
use crate::bench_repl_client::{load, wait_for, Conn};
use crate::bench_repl_parts::ratio;
use anyhow::Result;
use indicatif::ProgressBar;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One kind's figures.
struct Outcome {
    name: &'static str,
    /// Longest PING round trip while the save ran (the stall).
    longest_ping: Duration,
    /// Longest PING round trip in the same time before the save (the baseline).
    baseline_ping: Duration,
    save_time: Duration,
}

/// Runs `work` while a client pings `addr` back to back; returns what `work`
/// returned and the longest PING round trip meanwhile.
fn longest_ping_during<T>(
    addr: std::net::SocketAddr,
    work: impl FnOnce() -> Result<T>,
) -> Result<(T, Duration)> {
    let stop = Arc::new(AtomicBool::new(false));
    let pinger = {
        let stop = stop.clone();
        std::thread::spawn(move || -> Result<Duration> {
            let mut c = Conn::connect(addr)?;
            let mut longest = Duration::ZERO;
            while !stop.load(Relaxed) {
                let t = Instant::now();
                c.ok(&["PING"])?;
                longest = longest.max(t.elapsed());
            }
            Ok(longest)
        })
    };
    let out = work();
    stop.store(true, Relaxed);
    let longest = pinger
        .join()
        .map_err(|_| anyhow::anyhow!("pinger panicked"))??;
    Ok((out?, longest))
}

/// Loads `gb` GB of 1000-byte values into a fresh server of each kind, then runs
/// BGSAVE while a client pings: the longest ping is what the save cost clients.
pub fn bgsave_stall(lab: &mut Lab, kinds: &[Kind], gb: f64, pb: &ProgressBar) -> Result<String> {
    let keys = ((gb * 1e9) / 1000.0).max(1000.0) as u64;
    let mut rows = Vec::new();
    for k in kinds {
        pb.set_message(format!("BGSAVE: loading {keys} keys into {}", k.name()));
        let server = lab.start(k, "bgsave", true)?;
        load(server.addr(), keys, 1000, 2)?;
        let mut c = Conn::connect(server.addr())?;
        pb.set_message(format!("BGSAVE: {}", k.name()));
        // As long a baseline as the save will take is unknown beforehand: one second.
        let ((), baseline_ping) = longest_ping_during(server.addr(), || {
            std::thread::sleep(Duration::from_secs(1));
            Ok(())
        })?;
        let (save_time, longest_ping) = longest_ping_during(server.addr(), || {
            let start = Instant::now();
            c.ok(&["BGSAVE"])?;
            wait_for("BGSAVE to finish", Duration::from_secs(600), || {
                Ok(c.info_u64("persistence", "rdb_bgsave_in_progress")? == 0)
            })?;
            Ok(start.elapsed())
        })?;
        rows.push(Outcome {
            name: k.name(),
            longest_ping,
            baseline_ping,
            save_time,
        });
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut s = String::from("## BGSAVE: what a background save costs clients\n\n");
    s.push_str(&format!(
        "{keys} keys of 1000 bytes in a fresh server of each kind; one client sends PING after \
         PING, for a second before BGSAVE and then until INFO shows the save finished. \
         **longest PING** is the longest round trip while the save ran: redis-server's fork() \
         (copying page tables), our copy-on-write clone of the keyspace (a reference per \
         key). Milliseconds; the save time is BGSAVE until `rdb_bgsave_in_progress:0`.\n\n"
    ));
    s.push_str("| server | longest PING before | longest PING during BGSAVE | BGSAVE took (s) |\n|---|---|---|---|\n");
    for r in &rows {
        s.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.2} |\n",
            r.name,
            ms(r.baseline_ping),
            ms(r.longest_ping),
            r.save_time.as_secs_f64()
        ));
    }
    if rows.len() == 2 {
        s.push_str(&format!(
            "\nlongest PING during BGSAVE ours/redis: {}.\n",
            ratio(ms(rows[1].longest_ping), ms(rows[0].longest_ping))
        ));
    }
    Ok(s)
}
