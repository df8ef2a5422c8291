//! INFO: the server's state in Redis's section/field format, so tools and the
//! management service that parse Redis's INFO read ours unchanged.

use crate::alloc;
use crate::server::{unix_us, Shared};
use ferrocache_keyspace::Keyspace;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

/// The Redis version we answer as: clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// INFO without arguments: every section but the per-command ones, as in Redis.
fn default_sections() -> impl Iterator<Item = &'static str> {
    ALL.iter()
        .copied()
        .filter(|s| !matches!(*s, "commandstats" | "latencystats"))
}

fn human(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    }
}

/// Renders the requested sections (none = default; "all", "everything" accepted).
pub fn render(srv: &Shared, ks: &Keyspace, requested: &[String]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    if requested.is_empty() {
        wanted.extend(default_sections());
    }
    for r in requested {
        match r.as_str() {
            "default" => wanted.extend(default_sections()),
            "all" | "everything" => wanted.extend(ALL),
            other => {
                if let Some(s) = ALL.iter().find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let mut out = String::new();
    for s in ALL.iter().filter(|s| wanted.contains(s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(srv, ks, s, &mut out);
    }
    out
}

fn cpu_times() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (ticks(11), ticks(12))
}

fn section(srv: &Shared, ks: &Keyspace, name: &str, o: &mut String) {
    let settings = srv.settings();
    let uptime = srv.started.elapsed().as_secs();
    let stats = &srv.stats;
    let _ = match name {
        "server" => write!(
            o,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:\r\nio_threads_active:0\r\nferrocache_version:{}\r\n",
            std::env::consts::OS,
            std::env::consts::ARCH,
            std::process::id(),
            srv.run_id,
            srv.port.load(Relaxed),
            unix_us(),
            uptime,
            uptime / 86400,
            settings.hz,
            settings.hz,
            (unix_us() / 1_000_000) & ((1 << 24) - 1),
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            env!("CARGO_PKG_VERSION"),
        ),
        "clients" => write!(
            o,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
            srv.clients.count(),
            settings.maxclients,
            srv.blocked_clients.load(Relaxed),
        ),
        "memory" => {
            let rss = alloc::rss();
            let used = alloc::allocated().unwrap_or(rss);
            let peak = srv.stats.peak_memory.fetch_max(used as u64, Relaxed).max(used as u64) as usize;
            let startup = srv.startup_memory.load(Relaxed) as usize;
            let dataset = used.saturating_sub(startup);
            write!(
                o,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{startup}\r\nused_memory_dataset:{dataset}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmaxmemory_reserved:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\n",
                human(used),
                human(rss),
                human(peak),
                if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 100.0 },
                used.saturating_sub(dataset),
                settings.maxmemory,
                human(settings.maxmemory as usize),
                settings.maxmemory_policy,
                settings.maxmemory_reserved,
                if used > 0 { rss as f64 / used as f64 } else { 1.0 },
            )
        }
        "persistence" => {
            crate::persist::jobs::info(srv, ks, o);
            Ok(())
        }
        "stats" => {
            let ps = srv.pubsub.lock();
            let (channels, patterns) = (ps.channel_count(), ps.numpat());
            drop(ps);
            write!(
                o,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{channels}\r\npubsub_patterns:{patterns}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nclient_query_buffer_limit_disconnections:{}\r\nclient_output_buffer_limit_disconnections:{}\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
                stats.connections_received.load(Relaxed),
                stats.commands_processed(),
                stats.instantaneous_ops.load(Relaxed),
                stats.net_input_bytes.load(Relaxed),
                stats.net_output_bytes.load(Relaxed),
                stats.rejected_connections.load(Relaxed),
                srv.repl.sync_full.load(Relaxed),
                srv.repl.sync_partial_ok.load(Relaxed),
                srv.repl.sync_partial_err.load(Relaxed),
                ks.expired_keys(),
                stats.evicted_keys.load(Relaxed),
                ks.hits_and_misses().0,
                ks.hits_and_misses().1,
                stats.latest_snapshot_usec.load(Relaxed),
                stats.snapshots.load(Relaxed),
                stats.error_replies.load(Relaxed),
                stats.commands_processed(),
                stats.commands_processed(),
                stats.client_query_limit_disconnections.load(Relaxed),
                stats.client_output_limit_disconnections.load(Relaxed),
            )
        }
        "replication" => o.write_str(&crate::repl::info::section(srv)),
        "cpu" => {
            let (user, sys) = cpu_times();
            write!(
                o,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{sys:.6}\r\nused_cpu_user_main_thread:{user:.6}\r\n"
            )
        }
        "modules" => write!(o, "# Modules\r\n"),
        "errorstats" => {
            let _ = write!(o, "# Errorstats\r\n");
            for (code, n) in stats.errors.lock().iter() {
                let _ = write!(o, "errorstat_{code}:count={n}\r\n");
            }
            Ok(())
        }
        "commandstats" => {
            let _ = write!(o, "# Commandstats\r\n");
            let c = &stats.commands;
            for (i, name) in c.names.iter().enumerate() {
                let calls = c.calls[i].load(Relaxed);
                let rejected = c.rejected[i].load(Relaxed);
                let failed = c.failed[i].load(Relaxed);
                if calls + rejected + failed == 0 {
                    continue;
                }
                let usec = c.usec[i].load(Relaxed);
                let per = if calls > 0 { usec as f64 / calls as f64 } else { 0.0 };
                let _ = write!(
                    o,
                    "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n"
                );
            }
            Ok(())
        }
        "latencystats" => {
            let _ = write!(o, "# Latencystats\r\n");
            let c = &stats.commands;
            for (i, name) in c.names.iter().enumerate() {
                if let Some(p) = c.latency[i].percentiles(&[50.0, 99.0, 99.9]) {
                    let us = |ns: u64| ns as f64 / 1000.0;
                    let _ = write!(
                        o,
                        "latency_percentiles_usec_{name}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
                        us(p[0]),
                        us(p[1]),
                        us(p[2])
                    );
                }
            }
            Ok(())
        }
        "cluster" => write!(o, "# Cluster\r\ncluster_enabled:0\r\n"),
        "keyspace" => {
            let _ = write!(o, "# Keyspace\r\n");
            for (i, db) in ks.dbs.iter().enumerate() {
                if !db.is_empty() {
                    let _ = write!(o, "db{i}:keys={},expires={},avg_ttl=0\r\n", db.len(), db.expires_len());
                }
            }
            Ok(())
        }
        _ => Ok(()),
    };
}
