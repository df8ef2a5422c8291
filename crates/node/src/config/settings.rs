//! The typed `Settings` snapshot the hot path reads, derived from the option
//! values whenever they change.

use super::limits::{parse_output_limits, parse_output_limits_base, OutputLimits};
use super::Config;
use std::path::PathBuf;

impl Config {
    fn int(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The typed snapshot the node reads on its hot path.
    pub fn settings(&self) -> Settings {
        let s = |n: &str| self.get(n).unwrap_or_default().to_string();
        Settings {
            bind: s("bind"),
            port: self.int("port") as u16,
            dir: PathBuf::from(s("dir")),
            dbfilename: s("dbfilename"),
            save_points: s("save")
                .split_whitespace()
                .filter_map(|n| n.parse::<u64>().ok())
                .collect::<Vec<_>>()
                .chunks_exact(2)
                .map(|p| (p[0], p[1]))
                .collect(),
            rdbcompression: s("rdbcompression") == "yes",
            aof: AofSettings {
                enabled: s("appendonly") == "yes",
                fsync: match s("appendfsync").as_str() {
                    "always" => AofFsync::Always,
                    "no" => AofFsync::No,
                    _ => AofFsync::EverySec,
                },
                filename: s("appendfilename"),
                dirname: s("appenddirname"),
                load_truncated: s("aof-load-truncated") == "yes",
                auto_rewrite_percentage: self.int("auto-aof-rewrite-percentage") as u64,
                auto_rewrite_min_size: self.int("auto-aof-rewrite-min-size") as u64,
            },
            requirepass: Some(s("requirepass"))
                .filter(|p| !p.is_empty())
                .map(String::into_bytes),
            timeout_secs: self.int("timeout") as u64,
            tcp_keepalive_secs: self.int("tcp-keepalive") as u64,
            maxclients: self.int("maxclients") as usize,
            databases: self.int("databases") as usize,
            proto_max_bulk_len: self.int("proto-max-bulk-len") as usize,
            client_query_buffer_limit: self.int("client-query-buffer-limit") as usize,
            output_limits: parse_output_limits(&s("client-output-buffer-limit"))
                .unwrap_or_else(|_| parse_output_limits_base()),
            maxmemory: self.int("maxmemory") as u64,
            maxmemory_reserved: {
                let max = self.int("maxmemory") as u64;
                let r = s("maxmemory-reserved");
                match r.strip_suffix('%') {
                    Some(p) => max / 100 * p.parse::<u64>().unwrap_or(0),
                    None => r.parse().unwrap_or(0),
                }
            },
            maxmemory_policy: s("maxmemory-policy"),
            policy: crate::evict::Policy::parse(&s("maxmemory-policy")),
            maxmemory_samples: self.int("maxmemory-samples") as usize,
            lfu: ferrocache_keyspace::lfu::Lfu {
                log_factor: self.int("lfu-log-factor") as u32,
                decay_minutes: self.int("lfu-decay-time") as u32,
            },
            hz: self.int("hz") as u32,
            hash_max_listpack_entries: self.int("hash-max-listpack-entries") as usize,
            hash_max_listpack_value: self.int("hash-max-listpack-value") as usize,
            zset_max_listpack_entries: self.int("zset-max-listpack-entries") as usize,
            zset_max_listpack_value: self.int("zset-max-listpack-value") as usize,
            set_max_intset_entries: self.int("set-max-intset-entries") as usize,
            hll_sparse_max_bytes: self.int("hll-sparse-max-bytes") as usize,
            notify: crate::notify::Flags::parse(&s("notify-keyspace-events")).unwrap_or_default(),
            repl: ReplSettings {
                backlog_size: self.int("repl-backlog-size") as usize,
                timeout_secs: self.int("repl-timeout") as u64,
                ping_period_secs: self.int("repl-ping-replica-period") as u64,
                masterauth: Some(s("masterauth")).filter(|p| !p.is_empty()),
                masteruser: Some(s("masteruser")).filter(|p| !p.is_empty()),
                min_replicas_to_write: self.int("min-replicas-to-write") as usize,
                min_replicas_max_lag: self.int("min-replicas-max-lag") as u64,
                read_only: s("replica-read-only") == "yes",
                serve_stale_data: s("replica-serve-stale-data") == "yes",
            },
        }
    }
}

/// Typed option values, rebuilt whenever CONFIG SET changes something.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub port: u16,
    pub dir: PathBuf,
    pub dbfilename: String,
    /// `save`: (seconds, changes) pairs; a background save starts when at least
    /// `changes` writes happened and `seconds` passed since the last save.
    pub save_points: Vec<(u64, u64)>,
    pub rdbcompression: bool,
    pub aof: AofSettings,
    pub requirepass: Option<Vec<u8>>,
    pub timeout_secs: u64,
    pub tcp_keepalive_secs: u64,
    pub maxclients: usize,
    pub databases: usize,
    pub proto_max_bulk_len: usize,
    pub client_query_buffer_limit: usize,
    pub output_limits: OutputLimits,
    pub maxmemory: u64,
    /// Bytes of maxmemory held back from the dataset (maxmemory-reserved resolved).
    pub maxmemory_reserved: u64,
    pub maxmemory_policy: String,
    pub policy: crate::evict::Policy,
    pub maxmemory_samples: usize,
    pub lfu: ferrocache_keyspace::lfu::Lfu,
    pub hz: u32,
    pub notify: crate::notify::Flags,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub hll_sparse_max_bytes: usize,
    pub repl: ReplSettings,
}

/// `appendfsync`: when the append-only file is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AofFsync {
    /// Before the reply to a write is sent.
    Always,
    /// Once a second.
    EverySec,
    /// When the operating system decides.
    No,
}

/// The append-only file's options, typed.
#[derive(Debug, Clone)]
pub struct AofSettings {
    pub enabled: bool,
    pub fsync: AofFsync,
    pub filename: String,
    pub dirname: String,
    pub load_truncated: bool,
    pub auto_rewrite_percentage: u64,
    pub auto_rewrite_min_size: u64,
}

/// The replication options, typed.
#[derive(Debug, Clone)]
pub struct ReplSettings {
    pub backlog_size: usize,
    pub timeout_secs: u64,
    pub ping_period_secs: u64,
    pub masterauth: Option<String>,
    pub masteruser: Option<String>,
    pub min_replicas_to_write: usize,
    pub min_replicas_max_lag: u64,
    pub read_only: bool,
    pub serve_stale_data: bool,
}
