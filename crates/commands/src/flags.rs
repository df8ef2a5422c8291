//! Command flags, as Redis reports them in `COMMAND INFO`.

pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
pub const NOSCRIPT: u32 = 1 << 5;
pub const BLOCKING: u32 = 1 << 6;
pub const LOADING: u32 = 1 << 7;
pub const STALE: u32 = 1 << 8;
pub const SKIP_MONITOR: u32 = 1 << 9;
pub const SKIP_SLOWLOG: u32 = 1 << 10;
pub const FAST: u32 = 1 << 11;
pub const NO_AUTH: u32 = 1 << 12;
/// Redis keeps this flag internal: `COMMAND INFO` never shows it, so the generated
/// table never sets it either (see `FLAG_NAMES`).
pub const MAY_REPLICATE: u32 = 1 << 13;
pub const NO_MULTI: u32 = 1 << 14;
pub const MOVABLE_KEYS: u32 = 1 << 15;
pub const ALLOW_BUSY: u32 = 1 << 16;
/// Internal to Redis like `MAY_REPLICATE`; not in `FLAG_NAMES`.
pub const SENTINEL: u32 = 1 << 17;
pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
pub const MODULE: u32 = 1 << 19;
pub const ASKING: u32 = 1 << 20;
pub const NO_ASYNC_LOADING: u32 = 1 << 21;

/// The flags `COMMAND INFO` shows, with their names, in the order Redis lists them.
/// Rendering a spec's flags in this order reproduces Redis's reply exactly.
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (MODULE, "module"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLE_KEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
];

/// The names of the flags set in `flags`, in `FLAG_NAMES` order.
pub fn flag_names(flags: u32) -> impl Iterator<Item = &'static str> {
    FLAG_NAMES
        .iter()
        .filter(move |(bit, _)| flags & bit != 0)
        .map(|&(_, name)| name)
}
