//! The node's configuration as one declarative table of options: CONFIG GET/SET,
//! the TOML config file and the command-line overrides all go through it, and the
//! typed `Settings` snapshot the hot path reads is derived from it.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// How an option's value is parsed and shown.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// Bytes, accepting Redis's units (`100mb`, `1gb`, `10k`); shown as a plain number.
    Memory {
        min: u64,
    },
    Enum(&'static [&'static str]),
    Str,
    /// `client-output-buffer-limit`: class hard soft seconds, repeated.
    OutputBufferLimit,
    /// `save`: pairs of seconds and changes, or empty.
    SavePoints,
    /// `notify-keyspace-events`: class letters, shown in Redis's canonical order.
    KeyspaceEvents,
    /// A memory amount or a percentage (`maxmemory-reserved`: `100mb` or `10%`).
    MemoryOrPercent,
}

#[derive(Debug)]
pub struct OptionDef {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub mutable: bool,
    /// The option's older name (`hash-max-ziplist-entries`): accepted everywhere
    /// and listed by CONFIG GET beside the new one, as Redis 7 does.
    pub alias: Option<&'static str>,
}

const fn opt(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> OptionDef {
    OptionDef {
        name,
        kind,
        default,
        mutable,
        alias: None,
    }
}

const fn aliased(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        kind,
        default,
        mutable: true,
        alias: Some(alias),
    }
}

const INT_MAX: i64 = i32::MAX as i64;
const SIZE: Kind = Kind::Int {
    min: 0,
    max: i64::MAX,
};
const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

pub static OPTIONS: &[OptionDef] = &[
    opt("bind", Kind::Str, "127.0.0.1", false),
    opt("port", Kind::Int { min: 0, max: 65535 }, "6379", false),
    opt("dir", Kind::Str, ".", true),
    opt("dbfilename", Kind::Str, "dump.rdb", true),
    opt("rdbcompression", Kind::Bool, "yes", true),
    // Files always carry a CRC-64 (a reader that skips it loses nothing); accepted
    // for compatibility with Redis config files.
    opt("rdbchecksum", Kind::Bool, "yes", true),
    opt("requirepass", Kind::Str, "", true),
    opt(
        "timeout",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "0",
        true,
    ),
    opt(
        "tcp-keepalive",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "300",
        true,
    ),
    opt(
        "tcp-backlog",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "511",
        false,
    ),
    opt(
        "maxclients",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
        "10000",
        true,
    ),
    opt(
        "databases",
        Kind::Int {
            min: 1,
            max: INT_MAX,
        },
        "16",
        false,
    ),
    opt(
        "proto-max-bulk-len",
        Kind::Memory { min: 1024 * 1024 },
        "536870912",
        true,
    ),
    opt(
        "client-query-buffer-limit",
        Kind::Memory { min: 1024 * 1024 },
        "1073741824",
        true,
    ),
    opt(
        "client-output-buffer-limit",
        Kind::OutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        true,
    ),
    opt("maxmemory", Kind::Memory { min: 0 }, "0", true),
    opt("maxmemory-policy", Kind::Enum(POLICIES), "noeviction", true),
    // Memory held back from the dataset for replication and failover work, as
    // managed caches do: the data limit is maxmemory minus this.
    opt("maxmemory-reserved", Kind::MemoryOrPercent, "0", true),
    opt(
        "maxmemory-samples",
        Kind::Int { min: 1, max: 64 },
        "5",
        true,
    ),
    opt("hz", Kind::Int { min: 1, max: 500 }, "10", true),
    opt("save", Kind::SavePoints, "", true),
    opt("appendonly", Kind::Bool, "no", true),
    opt(
        "appendfsync",
        Kind::Enum(&["always", "everysec", "no"]),
        "everysec",
        true,
    ),
    opt("appendfilename", Kind::Str, "appendonly.aof", false),
    // The append-only file's directory, inside `dir` (Redis 7's multi-part AOF).
    opt("appenddirname", Kind::Str, "appendonlydir", false),
    opt("aof-load-truncated", Kind::Bool, "yes", true),
    // The base is always an RDB file (Redis's default); accepted for config compatibility.
    opt("aof-use-rdb-preamble", Kind::Bool, "yes", true),
    opt(
        "auto-aof-rewrite-percentage",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "100",
        true,
    ),
    opt(
        "auto-aof-rewrite-min-size",
        Kind::Memory { min: 0 },
        "67108864",
        true,
    ),
    opt("notify-keyspace-events", Kind::KeyspaceEvents, "", true),
    opt(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        "notice",
        true,
    ),
    opt("daemonize", Kind::Bool, "no", false),
    opt("protected-mode", Kind::Bool, "no", true),
    opt("io-threads", Kind::Int { min: 1, max: 128 }, "1", false),
    aliased("replica-read-only", "slave-read-only", Kind::Bool, "yes"),
    aliased(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        Kind::Bool,
        "yes",
    ),
    // Replication. The backlog is 64 MB rather than Redis's 1 MB, so that a replica
    // restarted under load (a patch) still resyncs partially.
    opt(
        "repl-backlog-size",
        Kind::Memory { min: 16 * 1024 },
        "67108864",
        true,
    ),
    opt(
        "repl-timeout",
        Kind::Int {
            min: 1,
            max: INT_MAX,
        },
        "60",
        true,
    ),
    aliased(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        Kind::Int {
            min: 1,
            max: INT_MAX,
        },
        "10",
    ),
    opt("masterauth", Kind::Str, "", true),
    opt("masteruser", Kind::Str, "", true),
    aliased(
        "min-replicas-to-write",
        "min-slaves-to-write",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "0",
    ),
    aliased(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "10",
    ),
    // Encoding thresholds (OBJECT ENCODING reports the result, so they match Redis 7.0).
    aliased(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        SIZE,
        "512",
    ),
    aliased(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        SIZE,
        "64",
    ),
    aliased(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        SIZE,
        "128",
    ),
    aliased(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        SIZE,
        "64",
    ),
    aliased(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        Kind::Int {
            min: i32::MIN as i64,
            max: INT_MAX,
        },
        "-2",
    ),
    opt(
        "list-compress-depth",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "0",
        true,
    ),
    opt("set-max-intset-entries", SIZE, "512", true),
    opt("hll-sparse-max-bytes", SIZE, "3000", true),
    opt("lazyfree-lazy-user-flush", Kind::Bool, "no", true),
    opt(
        "lfu-log-factor",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "10",
        true,
    ),
    opt(
        "lfu-decay-time",
        Kind::Int {
            min: 0,
            max: INT_MAX,
        },
        "1",
        true,
    ),
    opt(
        "slowlog-log-slower-than",
        Kind::Int {
            min: -1,
            max: i64::MAX,
        },
        "10000",
        true,
    ),
    opt(
        "slowlog-max-len",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        "128",
        true,
    ),
];

/// CONFIG SET/GET failures, worded as Redis 7.0 words them.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    Unknown(String),
    Immutable(String),
    Invalid { name: String, reason: String },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Unknown(n) => {
                write!(f, "ERR Unknown option or number of arguments for CONFIG SET - '{n}'")
            }
            ConfigError::Immutable(n) => write!(
                f,
                "ERR CONFIG SET failed (possibly related to argument '{n}') - can't set immutable config"
            ),
            ConfigError::Invalid { name, reason } => write!(
                f,
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Current option values in canonical text form.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: OPTIONS
                .iter()
                .map(|o| (o.name, o.default.to_string()))
                .collect(),
        }
    }
}

fn find(name: &str) -> Option<&'static OptionDef> {
    let name = name.to_ascii_lowercase();
    OPTIONS
        .iter()
        .find(|o| o.name == name || o.alias == Some(name.as_str()))
}

/// Parses a memory amount the way Redis's `memtoull` does.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| lower.strip_suffix(suffix).map(|n| (n.to_string(), *mul)))
    .unwrap_or((lower.clone(), 1));
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn canonical(def: &OptionDef, value: &str) -> Result<String, String> {
    match def.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let v: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer")?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Memory { min } => {
            let v = parse_memory(value).ok_or("argument must be a memory value")?;
            if v < min {
                return Err(format!(
                    "argument must be between {min} and {} inclusive",
                    i64::MAX
                ));
            }
            Ok(v.to_string())
        }
        Kind::Enum(choices) => {
            let lower = value.to_ascii_lowercase();
            if choices.contains(&lower.as_str()) {
                Ok(lower)
            } else {
                Err("argument(s) must be one of the following: ".to_string() + &choices.join(", "))
            }
        }
        Kind::Str => Ok(value.to_string()),
        Kind::KeyspaceEvents => crate::notify::Flags::parse(value).map(|f| f.store()),
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= 100 => Ok(format!("{p}%")),
                _ => Err("argument must be a memory value or a percentage from 0% to 100%".into()),
            },
            None => parse_memory(value).map(|v| v.to_string()).ok_or_else(|| {
                "argument must be a memory value or a percentage from 0% to 100%".into()
            }),
        },
        Kind::SavePoints => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<u64>().is_err()) {
                return Err("Invalid save parameters".into());
            }
            Ok(parts.join(" "))
        }
        Kind::OutputBufferLimit => parse_output_limits(value).map(|l| l.render()),
    }
}

/// Limits per client class for `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    pub normal: OutputLimit,
    pub replica: OutputLimit,
    pub pubsub: OutputLimit,
}

impl OutputLimits {
    fn render(&self) -> String {
        let one =
            |n: &str, l: &OutputLimit| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds);
        format!(
            "{} {} {}",
            one("normal", &self.normal),
            one("slave", &self.replica),
            one("pubsub", &self.pubsub)
        )
    }
}

fn parse_output_limits(value: &str) -> Result<OutputLimits, String> {
    let mut limits = parse_output_limits_base();
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.is_empty() || !parts.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for chunk in parts.chunks(4) {
        let mem = |s: &str| {
            parse_memory(s)
                .ok_or("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        };
        let limit = OutputLimit {
            hard: mem(chunk[1])?,
            soft: mem(chunk[2])?,
            soft_seconds: chunk[3].parse().map_err(|_| {
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            })?,
        };
        match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => limits.normal = limit,
            "slave" | "replica" => limits.replica = limit,
            "pubsub" => limits.pubsub = limit,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    Ok(limits)
}

fn parse_output_limits_base() -> OutputLimits {
    let zero = OutputLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };
    OutputLimits {
        normal: zero,
        replica: OutputLimit {
            hard: 256 << 20,
            soft: 64 << 20,
            soft_seconds: 60,
        },
        pubsub: OutputLimit {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_seconds: 60,
        },
    }
}

impl Config {
    /// Sets several options at once; nothing changes unless all are valid
    /// (CONFIG SET with several pairs is atomic in Redis 7).
    pub fn set_many(
        &mut self,
        pairs: &[(&str, &str)],
        at_runtime: bool,
    ) -> Result<(), ConfigError> {
        let mut staged = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let def = find(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
            if at_runtime && !def.mutable {
                return Err(ConfigError::Immutable(def.name.to_string()));
            }
            let v = canonical(def, value).map_err(|reason| ConfigError::Invalid {
                name: def.name.to_string(),
                reason,
            })?;
            staged.push((def.name, v));
        }
        for (name, v) in staged {
            self.values.insert(name, v);
        }
        Ok(())
    }

    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_many(&[(name, value)], false)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        find(name)
            .and_then(|d| self.values.get(d.name))
            .map(String::as_str)
    }

    /// How CONFIG GET shows a stored value (only notify-keyspace-events differs:
    /// Redis shows `A` for the whole set of classes).
    pub fn display(name: &str, value: &str) -> String {
        match find(name).map(|d| d.kind) {
            Some(Kind::KeyspaceEvents) => crate::notify::Flags::parse(value)
                .map(|f| f.render())
                .unwrap_or_default(),
            _ => value.to_string(),
        }
    }

    /// Options whose names match a glob pattern (CONFIG GET).
    pub fn matching<'a>(
        &'a self,
        pattern: &'a [u8],
    ) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        let alias_of = |n: &str| find(n).and_then(|d| d.alias);
        self.values
            .iter()
            .flat_map(move |(n, v)| {
                [Some(*n), alias_of(n)]
                    .into_iter()
                    .flatten()
                    .map(move |name| (name, v.as_str()))
            })
            .filter(move |(n, _)| ferrocache_keyspace::glob::matches(pattern, n.as_bytes(), true))
    }

    /// Loads a TOML file of `option = value` pairs (values: strings, integers or booleans).
    pub fn load_toml(&mut self, text: &str) -> anyhow::Result<()> {
        let table: toml::Table = toml::from_str(text)?;
        for (name, value) in table {
            let v = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => if b { "yes" } else { "no" }.to_string(),
                other => anyhow::bail!("option '{name}': unsupported value {other}"),
            };
            self.set(&name, &v)
                .map_err(|e| anyhow::anyhow!("option '{name}': {e}"))?;
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("10k"), Some(10_000));
        assert_eq!(parse_memory("100MB"), Some(100 << 20));
        assert_eq!(parse_memory("x"), None);
        assert_eq!(parse_memory("-1"), None);
    }

    #[test]
    fn set_is_atomic_and_worded_like_redis() {
        let mut c = Config::default();
        let err = c
            .set_many(&[("timeout", "5"), ("maxmemory", "lots")], true)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(c.get("timeout"), Some("0"));
        assert!(matches!(
            c.set_many(&[("databases", "3")], true),
            Err(ConfigError::Immutable(_))
        ));
        c.set_many(&[("maxmemory", "1mb"), ("TIMEOUT", "5")], true)
            .unwrap();
        assert_eq!(c.settings().maxmemory, 1 << 20);
        assert_eq!(c.settings().timeout_secs, 5);
        let names: Vec<_> = c.matching(b"maxmemory*").map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                "maxmemory",
                "maxmemory-policy",
                "maxmemory-reserved",
                "maxmemory-samples"
            ]
        );
    }

    #[test]
    fn toml_file() {
        let mut c = Config::default();
        c.load_toml("timeout = 30\nappendonly = true\nmaxmemory = \"2mb\"\n")
            .unwrap();
        assert_eq!(c.get("appendonly"), Some("yes"));
        assert!(c.load_toml("nonsense = 1").is_err());
    }
}
