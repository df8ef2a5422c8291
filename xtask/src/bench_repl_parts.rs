//! The four replication measurements of `cargo xtask bench-replication`, each
//! run for redis-server and ferrocache in turn and returned as a Markdown section.

use crate::bench_repl::{Kind, Lab};
use crate::bench_repl_client::{load, longest_gap, wait_for, Conn, Writer};
use crate::bench_run::{median_rows, run_benchmark, BenchOpts, BenchTest, Row};
use crate::bench_server::Server;
use anyhow::{bail, Result};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(120);

/// Makes `replica` follow `primary`; waits until its link is up.
fn follow(replica: &Server, primary: &Server) -> Result<()> {
    let mut c = Conn::connect(replica.addr())?;
    c.ok(&["REPLICAOF", "127.0.0.1", &primary.addr().port().to_string()])?;
    wait_for("the replica's link", STEP, || {
        Ok(c.info("replication", "master_link_status")? == "up")
    })
}

/// Waits until `replica` has everything `primary` has produced.
fn caught_up(primary: &Server, replica: &Server) -> Result<()> {
    let mut p = Conn::connect(primary.addr())?;
    let mut r = Conn::connect(replica.addr())?;
    wait_for("the replica to catch up", STEP, || {
        Ok(r.info_u64("replication", "slave_repl_offset")?
            >= p.info_u64("replication", "master_repl_offset")?)
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub fn ratio(ours: f64, redis: f64) -> String {
    if redis > 0.0 && ours.is_finite() {
        let r = ours / redis;
        // Failover pauses differ by orders of magnitude: keep a significant digit.
        if r < 0.1 {
            format!("{r:.4}")
        } else {
            format!("{r:.2}")
        }
    } else {
        "—".into()
    }
}

/// Planned FAILOVER back and forth under write load: the longest gap between
/// acknowledged writes of a client writing in a loop (it follows READONLY to
/// the other node), per failover.
pub fn failover_pause(lab: &mut Lab, kinds: &[Kind], n: u32, pb: &ProgressBar) -> Result<String> {
    let mut pairs = Vec::new();
    for k in kinds {
        let a = lab.start(k, "a", true)?;
        let b = lab.start(k, "b", false)?;
        follow(&b, &a)?;
        pairs.push([a, b]);
    }
    // pauses[kind] and durations[kind], in ms.
    let mut pauses = vec![Vec::new(); kinds.len()];
    let mut durations = vec![Vec::new(); kinds.len()];
    for round in 0..n {
        // Interleaved: each round fails over every kind once, alternating which goes first.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..kinds.len()).collect()
        } else {
            (0..kinds.len()).rev().collect()
        };
        for &k in &order {
            pb.set_message(format!("failover {}/{n} on {}", round + 1, kinds[k].name()));
            let [a, b] = &pairs[k];
            let (old, new) = if round % 2 == 0 { (a, b) } else { (b, a) };
            let nodes = [old.addr(), new.addr()];
            let probe = Writer::start(nodes, 0, 1, true);
            let load: Vec<Writer> = (1..4).map(|t| Writer::start(nodes, t, 16, false)).collect();
            let warm = Instant::now();
            wait_for("writes to flow", STEP, || {
                Ok(probe.acks.load(Relaxed) > 1000 || warm.elapsed() > Duration::from_millis(500))
            })?;
            let mut o = Conn::connect(old.addr())?;
            let mut w = Conn::connect(new.addr())?;
            let new_port = new.addr().port().to_string();
            let sent = Instant::now();
            o.ok(&["FAILOVER", "TO", "127.0.0.1", &new_port])?;
            wait_for("the failover to complete", STEP, || {
                Ok(w.info("replication", "role")? == "master"
                    && o.info("replication", "role")? == "slave"
                    && o.info("replication", "master_link_status")? == "up"
                    && o.info("replication", "master_failover_state")? == "no-failover")
            })?;
            let done = Instant::now();
            let before = probe.acks.load(Relaxed);
            wait_for("writes to resume", STEP, || {
                Ok(probe.acks.load(Relaxed) > before + 100)
            })?;
            let times = probe.stop()?;
            for l in load {
                l.stop()?;
            }
            pauses[k].push(longest_gap(&times, sent, done).as_secs_f64() * 1000.0);
            durations[k].push((done - sent).as_secs_f64() * 1000.0);
        }
    }
    let mut s = String::from("## Planned FAILOVER: the write pause under load\n\n");
    s.push_str(&format!(
        "Two nodes of each kind, {n} failovers back and forth (`FAILOVER TO 127.0.0.1 PORT`), \
         while four clients write SETs in a loop (one unpipelined, three with 16 per round trip), \
         each following READONLY to the other node. **Write pause** is the longest gap between \
         consecutive acknowledged writes of the unpipelined client around each failover (it \
         includes the READONLY round trip and the move to the new primary); **done after** is \
         from sending FAILOVER until INFO shows the old primary following the new one with its \
         link up. Milliseconds.\n\n"
    ));
    s.push_str("| measure | redis p50 | redis p99 | redis max | ours p50 | ours p99 | ours max | p99 ours/redis |\n|---|---|---|---|---|---|---|---|\n");
    for (label, v) in [("write pause", &mut pauses), ("done after", &mut durations)] {
        for x in v.iter_mut() {
            x.sort_by(f64::total_cmp);
        }
        let (r, o) = (&v[0], &v[1]);
        s.push_str(&format!(
            "| {label} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |\n",
            percentile(r, 0.5),
            percentile(r, 0.99),
            percentile(r, 1.0),
            percentile(o, 0.5),
            percentile(o, 0.99),
            percentile(o, 1.0),
            ratio(percentile(o, 0.99), percentile(r, 0.99)),
        ));
    }
    Ok(s)
}

/// Loads `gb` GB into a primary of each kind, then attaches a fresh replica
/// while clients keep writing: time until the link is up and the replica has
/// caught up, and the primary's write throughput meanwhile against before.
/// Also returns the dataset saved by redis-server as an RDB file (and its key
/// count) for the load-rate measurement.
pub fn full_sync(
    lab: &mut Lab,
    kinds: &[Kind],
    gb: f64,
    pb: &ProgressBar,
) -> Result<(String, (PathBuf, u64))> {
    let keys = ((gb * 1e9) / 1000.0).max(1000.0) as u64;
    let mut rows = Vec::new();
    let mut rdb = None;
    for k in kinds {
        pb.set_message(format!(
            "full sync: loading {keys} keys of 1000 bytes into {}",
            k.name()
        ));
        let p = lab.start(k, "sync-primary", true)?;
        load(p.addr(), keys, 1000, 2)?;
        let mut pc = Conn::connect(p.addr())?;
        let used = pc.info_u64("memory", "used_memory")?;
        let r = lab.start(k, "sync-replica", false)?;
        let nodes = [p.addr(), p.addr()];
        let writers: Vec<Writer> = (0..2).map(|t| Writer::start(nodes, t, 16, false)).collect();
        let ops = || writers.iter().map(|w| w.acks.load(Relaxed)).sum::<u64>();
        // Throughput before: two seconds of the same writers.
        std::thread::sleep(Duration::from_millis(200));
        let (t0, o0) = (Instant::now(), ops());
        std::thread::sleep(Duration::from_secs(2));
        let before = (ops() - o0) as f64 / t0.elapsed().as_secs_f64();
        pb.set_message(format!("full sync: {} replica syncing", k.name()));
        let mut rc = Conn::connect(r.addr())?;
        let (start, o1) = (Instant::now(), ops());
        rc.ok(&["REPLICAOF", "127.0.0.1", &p.addr().port().to_string()])?;
        wait_for("the link", Duration::from_secs(1800), || {
            Ok(rc.info("replication", "master_link_status")? == "up")
        })?;
        let up = start.elapsed();
        let target = pc.info_u64("replication", "master_repl_offset")?;
        wait_for("catching up", Duration::from_secs(600), || {
            Ok(rc.info_u64("replication", "slave_repl_offset")? >= target)
        })?;
        let caught = start.elapsed();
        let during = (ops() - o1) as f64 / caught.as_secs_f64();
        for w in writers {
            w.stop()?;
        }
        rows.push((k.name(), used, up, caught, before, during));
        if matches!(k, Kind::Redis) {
            pb.set_message("full sync: saving redis-server's dataset for the load test");
            pc.ok(&["SAVE"])?;
            let dir = PathBuf::from(pc.ok(&["CONFIG", "GET", "dir"]).map(|f| {
                match f {
                    ferrocache_resp::Frame::Array(v) => v
                        .get(1)
                        .and_then(|x| {
                            x.as_bytes()
                                .map(|b| String::from_utf8_lossy(b).into_owned())
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                }
            })?);
            let dbsize = pc.ok(&["DBSIZE"]).map(|f| match f {
                ferrocache_resp::Frame::Integer(i) => i as u64,
                _ => 0,
            })?;
            rdb = Some((dir.join("dump.rdb"), dbsize));
        }
    }
    let Some(rdb) = rdb else {
        bail!("redis-server did not run")
    };
    let mut s = String::from("## Full sync of a large dataset to a new replica\n\n");
    s.push_str(&format!(
        "{keys} keys of 1000 bytes loaded into a primary of each kind; then a fresh replica of \
         the same kind runs REPLICAOF while two clients keep writing SETs (16 per round trip) to \
         the primary. **link up**: REPLICAOF until `master_link_status:up`; **caught up**: until \
         the replica's offset reached the primary's offset at that moment. Throughput is the \
         writers' acknowledged SETs per second, before and during the sync. redis-server syncs \
         diskless with no delay.\n\n"
    ));
    s.push_str("| server | used_memory | link up (s) | caught up (s) | writes/s before | writes/s during sync | during/before |\n|---|---|---|---|---|---|---|\n");
    for (name, used, up, caught, before, during) in &rows {
        s.push_str(&format!(
            "| {name} | {:.2} GB | {:.2} | {:.2} | {:.0} | {:.0} | {} |\n",
            *used as f64 / 1e9,
            up.as_secs_f64(),
            caught.as_secs_f64(),
            before,
            during,
            ratio(*during, *before)
        ));
    }
    if rows.len() == 2 {
        s.push_str(&format!(
            "\nours/redis: caught-up time {}, writes/s during sync {}.\n",
            ratio(rows[1].3.as_secs_f64(), rows[0].3.as_secs_f64()),
            ratio(rows[1].5, rows[0].5)
        ));
    }
    Ok((s, rdb))
}

/// SET throughput of a primary without and with one replica, pipelined and not.
pub fn throughput(
    lab: &mut Lab,
    kinds: &[Kind],
    requests: u64,
    repeat: u32,
    pb: &ProgressBar,
) -> Result<String> {
    let tests = [BenchTest::builtin("set")];
    let modes = [(1u32, "SET"), (16, "SET -P 16")];
    // Per kind, a primary that stays alone and one with a replica of its own kind,
    // measured turn about: a slow spell of the machine (its neighbours, steal
    // time) then falls on both sides of the with/without ratio alike, which a
    // phase alone followed by a phase with the replica did not guarantee.
    let (mut alone, mut primaries, mut replicas) = (Vec::new(), Vec::new(), Vec::new());
    for k in kinds {
        alone.push(lab.start(k, "tput-alone", true)?);
        let p = lab.start(k, "tput-primary", true)?;
        let r = lab.start(k, "tput-replica", false)?;
        follow(&r, &p)?;
        primaries.push(p);
        replicas.push(r);
    }
    let client_cpu = lab.client_cpu;
    // Pipelined runs are faster: more requests keep them as long as the others.
    let requests_per_run = |pipeline: u32| requests * u64::from(pipeline).min(4);
    // [mode][kind] → runs' rows, alone and with a replica.
    let mut runs_alone = vec![vec![Vec::new(); kinds.len()]; modes.len()];
    let mut runs_with = runs_alone.clone();
    // CPU seconds over the runs with a replica, per kind.
    let (mut primary_cpu, mut replica_cpu) = (vec![0.0; kinds.len()], vec![0.0; kinds.len()]);
    for (m, (pipeline, label)) in modes.iter().enumerate() {
        let opts = BenchOpts {
            clients: 50,
            requests: requests_per_run(*pipeline),
            pipeline: *pipeline,
            keyspace: 100_000,
            client_cpu,
        };
        for r in 0..repeat {
            let mut order: Vec<(usize, bool)> = (0..kinds.len())
                .flat_map(|k| [(k, false), (k, true)])
                .collect();
            if r % 2 == 1 {
                order.reverse();
            }
            for (k, replicated) in order {
                pb.set_message(format!(
                    "throughput: {label} on {} {} (run {}/{repeat})",
                    kinds[k].name(),
                    if replicated {
                        "with a replica"
                    } else {
                        "alone"
                    },
                    r + 1
                ));
                if !replicated {
                    runs_alone[m][k].extend(run_benchmark(&mut alone[k], &tests, &opts)?);
                    continue;
                }
                let (p0, r0) = (primaries[k].cpu_seconds()?, replicas[k].cpu_seconds()?);
                runs_with[m][k].extend(run_benchmark(&mut primaries[k], &tests, &opts)?);
                caught_up(&primaries[k], &replicas[k])?;
                primary_cpu[k] += primaries[k].cpu_seconds()? - p0;
                replica_cpu[k] += replicas[k].cpu_seconds()? - r0;
            }
        }
    }
    let median = |runs: &[Vec<Vec<Row>>]| -> Vec<Vec<f64>> {
        runs.iter()
            .map(|per_kind| {
                per_kind
                    .iter()
                    .map(|rows| median_rows(rows).first().map_or(0.0, |r| r.rps))
                    .collect()
            })
            .collect()
    };
    let (without, with) = (median(&runs_alone), median(&runs_with));
    // CPU per million replicated writes: what the replica costs the machine.
    let writes: u64 = modes
        .iter()
        .map(|(pipeline, _)| requests_per_run(*pipeline) * u64::from(repeat))
        .sum();
    let per_million =
        |v: Vec<f64>| -> Vec<f64> { v.iter().map(|c| c * 1e6 / writes as f64).collect() };
    let (primary_cpu, replica_cpu) = (per_million(primary_cpu), per_million(replica_cpu));
    let mut s = String::from("## Write throughput with one replica attached\n\n");
    s.push_str(&format!(
        "`redis-benchmark -c 50 -r 100000 -t set` (and `-P 16`), median of {repeat} runs, \
         against two primaries of each kind: one alone, one with a replica of its own kind \
         attached (which has caught up with every write after each run), measured turn \
         about so that the machine's slow moments fall on both alike. ops/s. The replica is \
         not pinned: on a machine with two CPUs it takes CPU time from the primary or from \
         redis-benchmark, for both kinds alike.\n\n"
    ));
    s.push_str("| test | redis alone | redis + replica | ours alone | ours + replica | ours with/without | ours/redis with replica |\n|---|---|---|---|---|---|---|\n");
    for (m, (_, label)) in modes.iter().enumerate() {
        let (ra, rw, oa, ow) = (without[m][0], with[m][0], without[m][1], with[m][1]);
        s.push_str(&format!(
            "| {label} | {ra:.0} | {rw:.0} | {oa:.0} | {ow:.0} | {} | {} |\n",
            ratio(ow, oa),
            ratio(ow, rw)
        ));
    }
    s.push_str(&format!(
        "\nThe replica competes for the same two CPUs, so what it costs decides how much the \
         primary keeps. CPU time (user + system, /proc/PID/stat) over the {writes} SETs of the \
         runs with a replica, in seconds per million writes:\n\n\
         | process | redis | ours | ours/redis |\n|---|---|---|---|\n"
    ));
    for (label, v) in [("primary", &primary_cpu), ("replica", &replica_cpu)] {
        s.push_str(&format!(
            "| {label} | {:.2} | {:.2} | {} |\n",
            v[0],
            v[1],
            ratio(v[1], v[0])
        ));
    }
    Ok(s)
}

/// How fast each kind loads the same RDB file at start: from spawning the
/// server on a copy of it until it answers PING.
pub fn rdb_load(
    lab: &mut Lab,
    kinds: &[Kind],
    file: &Path,
    keys: u64,
    pb: &ProgressBar,
) -> Result<String> {
    let size = std::fs::metadata(file)?.len();
    let mut rows = Vec::new();
    for k in kinds {
        let mut best = Duration::MAX;
        for run in 0..2 {
            pb.set_message(format!("RDB load: {} (run {}/2)", k.name(), run + 1));
            let dir = lab.dir(&format!("load-{}", k.name()))?;
            std::fs::copy(file, dir.join("dump.rdb"))?;
            let start = Instant::now();
            let server = lab.start_in(k, "load", true, &dir)?;
            let took = start.elapsed();
            let mut c = Conn::connect(server.addr())?;
            let got = match c.ok(&["DBSIZE"])? {
                ferrocache_resp::Frame::Integer(i) => i as u64,
                _ => 0,
            };
            if got != keys {
                bail!("{} loaded {got} keys of {keys}", k.name());
            }
            best = best.min(took);
            drop(server);
            std::fs::remove_dir_all(&dir)?;
        }
        rows.push((k.name(), best));
    }
    let mut s = String::from("## RDB load rate\n\n");
    s.push_str(&format!(
        "The RDB file redis-server saved of the full-sync dataset ({keys} keys, {:.2} GB on disk), \
         copied into a fresh directory and loaded at start: time from starting the process until \
         it answers PING (best of two).\n\n",
        size as f64 / 1e9
    ));
    s.push_str("| server | load time (s) | keys/s |\n|---|---|---|\n");
    for (name, t) in &rows {
        s.push_str(&format!(
            "| {name} | {:.2} | {:.0} |\n",
            t.as_secs_f64(),
            keys as f64 / t.as_secs_f64()
        ));
    }
    if rows.len() == 2 {
        s.push_str(&format!(
            "\nkeys/s ours/redis: {}.\n",
            ratio(rows[0].1.as_secs_f64(), rows[1].1.as_secs_f64())
        ));
    }
    Ok(s)
}
