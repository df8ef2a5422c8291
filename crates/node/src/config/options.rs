//! The table of every option the node knows: its name, how its value is parsed,
//! its default and whether CONFIG SET may change it.

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
