//! Per-command normalisation of replies before they are compared: the explicit list
//! of replies that may legitimately differ between two correct servers, and how.
//! The rules are summarised in the doc comment of `differential.rs`; keep both in step.

use bytes::Bytes;
use ferrocache_testkit::Frame;

/// How a command's reply is compared. Whatever the rule, an error reply on either side
/// is always compared exactly (error texts are part of the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Byte-for-byte, frame for frame.
    Exact,
    /// An unordered collection: the elements are sorted before comparing (KEYS …).
    Sorted,
    /// An unordered map given as pairs (flat array in RESP2): pairs sorted by key;
    /// with `mask_config` the values of environment-dependent options are hidden.
    SortedPairs { mask_config: bool },
    /// Only the RESP type is compared (TIME, DEBUG, help texts …).
    Shape,
    /// Any integer (CLIENT ID, OBJECT IDLETIME …).
    AnyInteger,
    /// Any integer, or nil (MEMORY USAGE).
    IntegerOrNil,
    /// Integers within ±n when both are ≥ 0; negative integers (-1 no TTL, -2 no key)
    /// exactly (TTL, PTTL, EXPIRETIME, PEXPIRETIME).
    Tolerance(i64),
    /// INFO: the section headers, which of a checklist of commonly parsed fields are
    /// present, and the `dbN:keys=K,expires=E` lines of the keyspace section.
    Info,
    /// CLIENT LIST / CLIENT INFO: per line, the field names in order and the values of
    /// the deterministic fields.
    ClientList,
    /// HELLO: every key, and the values of `proto`, `mode`, `role`, `modules`.
    Hello,
    /// RANDOMKEY: nil on both, or on each side some key that EXISTS there.
    /// (Resolved by the harness, which asks each server.)
    RandomKey,
    /// SCAN with cursor 0: the harness iterates to cursor 0 on each side and compares
    /// the sorted set of keys seen, never the cursors. A non-zero cursor: shape only.
    Scan,
    /// COMMAND INFO: exact, except that the subcommands of a container command (the
    /// tenth element of its entry) are sorted (Redis lists them in dict order) and
    /// only those ferrocache's command table serves are kept: Redis has more
    /// (CLIENT TRACKING, CONFIG REWRITE …), which ferrocache deliberately lacks.
    CommandInfo,
    /// HSCAN (and the other key scans) with cursor 0: the harness iterates to cursor 0
    /// on each side and compares the sorted, deduplicated elements (field/value pairs
    /// when `pairs`), never the cursors. A non-zero cursor: shape only.
    ElementScan { pairs: bool },
    /// HRANDFIELD: the harness reads the hash (HGETALL) on the same connection and
    /// replaces every returned field (and value) that belongs to it by a placeholder;
    /// with a positive count it also notes whether the fields were distinct. The
    /// reply's structure and length are compared exactly.
    RandomFields,
    /// SPOP, SRANDMEMBER: the harness reads the set (SMEMBERS) on the same connection
    /// after the command; SRANDMEMBER's members that belong to it become `<member>`,
    /// SPOP's members that are no longer in it `<popped>`; anything else stays as
    /// sent, so a wrong member shows. Reply type and length are compared exactly;
    /// with `distinct` (SPOP, a positive count) a trailing `<distinct>`/`<repeated>`.
    RandomMembers { distinct: bool },
    /// ZRANDMEMBER: like `RandomFields`, with the sorted set read by ZRANGE … WITHSCORES
    /// (members as fields, scores as values).
    RandomZMembers,
    /// UNSUBSCRIBE / PUNSUBSCRIBE with no arguments: one frame per channel in an order
    /// Redis does not define: the channel names are compared as a sorted list and the
    /// remaining-subscription counts in order.
    UnsubscribeAll,
}

fn upper(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_uppercase()
}

/// The rule for a command, from its name and (for container commands) subcommand.
pub fn rule(args: &[Vec<u8>]) -> Rule {
    let name = args.first().map(|a| upper(a)).unwrap_or_default();
    let sub = args.get(1).map(|a| upper(a)).unwrap_or_default();
    match (name.as_str(), sub.as_str()) {
        ("KEYS" | "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "HKEYS" | "HVALS", _) => {
            Rule::Sorted
        }
        ("PUBSUB", "CHANNELS" | "SHARDCHANNELS") => Rule::Sorted,
        ("HGETALL", _) => Rule::SortedPairs { mask_config: false },
        ("CONFIG", "GET") => Rule::SortedPairs { mask_config: true },
        ("TIME" | "DEBUG", _) => Rule::Shape,
        (_, "HELP") => Rule::Shape,
        ("CLIENT", "ID") => Rule::AnyInteger,
        ("CLIENT", "LIST" | "INFO") => Rule::ClientList,
        ("INFO", _) => Rule::Info,
        ("HELLO", _) => Rule::Hello,
        ("RANDOMKEY", _) => Rule::RandomKey,
        ("SCAN", _) => Rule::Scan,
        ("HSCAN", _) => Rule::ElementScan { pairs: true },
        ("HRANDFIELD", _) => Rule::RandomFields,
        ("SSCAN", _) => Rule::ElementScan { pairs: false },
        ("SPOP", _) => Rule::RandomMembers { distinct: true },
        ("ZSCAN", _) => Rule::ElementScan { pairs: true },
        ("ZRANDMEMBER", _) => Rule::RandomZMembers,
        ("SRANDMEMBER", _) => Rule::RandomMembers {
            distinct: !args.get(2).is_some_and(|c| c.starts_with(b"-")),
        },
        ("OBJECT", "IDLETIME" | "FREQ") => Rule::AnyInteger,
        ("MEMORY", "USAGE") => Rule::IntegerOrNil,
        ("MEMORY", _) => Rule::Shape,
        ("LASTSAVE", _) => Rule::AnyInteger,
        // COMMAND with no subcommand, DOCS and LIST describe every command the server
        // has; ferrocache serves a subset. COUNT likewise. INFO and GETKEYS are exact.
        ("COMMAND", "" | "DOCS" | "LIST") => Rule::Shape,
        ("COMMAND", "INFO") if args.len() == 2 => Rule::Shape,
        ("COMMAND", "INFO") => Rule::CommandInfo,
        ("COMMAND", "COUNT") => Rule::AnyInteger,
        ("TTL" | "EXPIRETIME", _) => Rule::Tolerance(2),
        ("PTTL" | "PEXPIRETIME", _) => Rule::Tolerance(2000),
        ("UNSUBSCRIBE" | "PUNSUBSCRIBE" | "SUNSUBSCRIBE", _) if args.len() == 1 => {
            Rule::UnsubscribeAll
        }
        _ => Rule::Exact,
    }
}

fn simple(s: impl Into<String>) -> Frame {
    Frame::Simple(Bytes::from(s.into()))
}

/// The RESP type of a frame, as a placeholder frame.
pub fn shape(f: &Frame) -> Frame {
    let t = match f {
        Frame::Simple(_) => "simple",
        Frame::Error(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::Bulk(_) => "bulk",
        Frame::Null => "null",
        Frame::NullArray => "null-array",
        Frame::Array(_) => "array",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Push(_) => "push",
        Frame::Double(_) => "double",
        Frame::Boolean(_) => "boolean",
        Frame::BigNumber(_) => "big-number",
        Frame::Verbatim(..) => "verbatim",
        Frame::Attribute(..) => "attribute",
    };
    simple(format!("<{t}>"))
}

fn sort_frames(v: &mut [Frame]) {
    v.sort_by_key(ferrocache_testkit::show);
}

/// Options whose values depend on where and how each server was started.
const MASKED_CONFIG: &[&str] = &["dir", "port", "bind", "logfile", "pidfile", "unixsocket"];

/// Fields of INFO that monitoring tools and client libraries commonly parse: when the
/// section they belong to is present in the reference reply, their presence is compared.
const INFO_CHECKLIST: &[&str] = &[
    "redis_version",
    "redis_mode",
    "os",
    "arch_bits",
    "process_id",
    "tcp_port",
    "uptime_in_seconds",
    "connected_clients",
    "blocked_clients",
    "maxclients",
    "used_memory",
    "used_memory_human",
    "used_memory_peak",
    "maxmemory",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
    "loading",
    "rdb_changes_since_last_save",
    "rdb_last_save_time",
    "aof_enabled",
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "rejected_connections",
    "expired_keys",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
    "pubsub_channels",
    "pubsub_patterns",
    "role",
    "connected_slaves",
    "master_replid",
    "master_repl_offset",
    "used_cpu_sys",
    "used_cpu_user",
    "cluster_enabled",
];

fn text_of(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => Some(b),
        _ => None,
    }
}

fn info(f: &Frame) -> Frame {
    let Some(text) = text_of(f) else {
        return shape(f);
    };
    let text = String::from_utf8_lossy(text);
    let mut out = vec![shape(f)];
    for line in text.split("\r\n") {
        if let Some(section) = line.strip_prefix("# ") {
            out.push(simple(format!("section {section}")));
        } else if let Some((name, value)) = line.split_once(':') {
            if name.starts_with("db") && name[2..].bytes().all(|c| c.is_ascii_digit()) {
                // avg_ttl depends on the clock: keep keys and expires only.
                let kept: Vec<&str> = value
                    .split(',')
                    .filter(|kv| !kv.starts_with("avg_ttl="))
                    .collect();
                out.push(simple(format!("{name}:{}", kept.join(","))));
            } else if INFO_CHECKLIST.contains(&name) {
                out.push(simple(format!("field {name}")));
            }
        } else if !line.is_empty() {
            out.push(simple(format!("malformed line {line:?}")));
        }
    }
    Frame::Array(out)
}

/// CLIENT LIST fields whose values are the same on two servers given the same
/// connections and commands.
const CLIENT_STABLE: &[&str] = &[
    "name", "db", "sub", "psub", "ssub", "multi", "flags", "cmd", "user", "resp", "redir",
];

fn client_list(f: &Frame) -> Frame {
    let Some(text) = text_of(f) else {
        return shape(f);
    };
    let text = String::from_utf8_lossy(text);
    let mut out = vec![shape(f)];
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let mut names = Vec::new();
        let mut stable = Vec::new();
        for field in line.split(' ') {
            let (k, v) = field.split_once('=').unwrap_or((field, "<no value>"));
            names.push(k);
            if CLIENT_STABLE.contains(&k) {
                stable.push(format!("{k}={v}"));
            }
        }
        out.push(simple(format!(
            "fields {} | {}",
            names.join(","),
            stable.join(" ")
        )));
    }
    Frame::Array(out)
}

/// Pairs of a map reply: a RESP3 map, or a RESP2 flat array of even length.
fn pairs(f: &Frame) -> Option<Vec<(Frame, Frame)>> {
    match f {
        Frame::Map(p) => Some(p.clone()),
        Frame::Array(v) if v.len() % 2 == 0 => {
            Some(v.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect())
        }
        _ => None,
    }
}

fn rebuild(like: &Frame, pairs: Vec<(Frame, Frame)>) -> Frame {
    match like {
        Frame::Map(_) => Frame::Map(pairs),
        _ => Frame::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
    }
}

fn key_name(f: &Frame) -> String {
    f.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// Applies the rule to one reply (a single frame).
pub fn normalise(rule: Rule, f: &Frame) -> Frame {
    if matches!(f, Frame::Error(_)) {
        return f.clone();
    }
    match rule {
        Rule::Exact | Rule::Tolerance(_) | Rule::RandomKey | Rule::UnsubscribeAll => f.clone(),
        Rule::Scan | Rule::ElementScan { .. } => shape(f),
        Rule::RandomFields | Rule::RandomMembers { .. } | Rule::RandomZMembers => f.clone(),
        Rule::Sorted => match f {
            Frame::Array(v) => {
                let mut v = v.clone();
                sort_frames(&mut v);
                Frame::Array(v)
            }
            Frame::Set(v) => {
                let mut v = v.clone();
                sort_frames(&mut v);
                Frame::Set(v)
            }
            other => other.clone(),
        },
        Rule::SortedPairs { mask_config } => match pairs(f) {
            Some(mut p) => {
                if mask_config {
                    for (k, v) in p.iter_mut() {
                        if MASKED_CONFIG.contains(&key_name(k).as_str()) {
                            *v = simple("<masked>");
                        }
                    }
                }
                p.sort_by_key(|(k, _)| ferrocache_testkit::show(k));
                rebuild(f, p)
            }
            None => f.clone(),
        },
        Rule::Shape => shape(f),
        Rule::AnyInteger => match f {
            Frame::Integer(_) => simple("<integer>"),
            other => shape(other),
        },
        Rule::IntegerOrNil => match f {
            Frame::Integer(_) => simple("<integer>"),
            Frame::Null => Frame::Null,
            other => shape(other),
        },
        Rule::Info => info(f),
        Rule::CommandInfo => match f {
            Frame::Array(entries) => Frame::Array(entries.iter().map(command_entry).collect()),
            other => other.clone(),
        },
        Rule::ClientList => client_list(f),
        Rule::Hello => match pairs(f) {
            Some(p) => {
                let p = p
                    .into_iter()
                    .map(|(k, v)| match key_name(&k).as_str() {
                        "proto" | "mode" | "role" | "modules" => (k, v),
                        _ => {
                            let s = shape(&v);
                            (k, s)
                        }
                    })
                    .collect();
                rebuild(f, p)
            }
            None => f.clone(),
        },
    }
}

fn command_entry(e: &Frame) -> Frame {
    match e {
        Frame::Array(v) if v.len() >= 10 => {
            let mut v = v.clone();
            if let Frame::Array(subs) = &mut v[9] {
                subs.retain(|sub| match sub {
                    Frame::Array(fields) => fields
                        .first()
                        .and_then(Frame::as_bytes)
                        .and_then(|full| {
                            let full = String::from_utf8_lossy(full).into_owned();
                            let (container, name) = full.split_once('|')?;
                            ferrocache_commands::lookup(container.as_bytes())?
                                .subcommand(name.as_bytes())
                        })
                        .is_some(),
                    _ => true,
                });
                sort_frames(subs);
            }
            Frame::Array(v)
        }
        other => other.clone(),
    }
}

/// HRANDFIELD's reply with every field of `all` (the hash's HGETALL) replaced by
/// `<field>` and every value that is that field's by `<its value>`; anything else
/// stays as sent, so a wrong field shows. With a positive count, a trailing
/// `<distinct>` or `<repeated>` says whether the fields were distinct.
pub fn random_fields(args: &[Vec<u8>], reply: &Frame, all: &Frame) -> Frame {
    let hash: Vec<(Frame, Frame)> = pairs(all).unwrap_or_default();
    let value_of = |f: &Frame| hash.iter().find(|(k, _)| k == f).map(|(_, v)| v);
    let field = |f: &Frame| match value_of(f) {
        Some(_) => simple("<field>"),
        None => f.clone(),
    };
    let pair = |k: &Frame, v: &Frame| {
        let value = if value_of(k) == Some(v) {
            simple("<its value>")
        } else {
            v.clone()
        };
        [field(k), value]
    };
    let items = match reply {
        Frame::Array(items) => items,
        single => return field(single),
    };
    let with_values = args.len() == 4;
    let mut seen: Vec<&Frame> = Vec::new();
    let mut out = Vec::new();
    if with_values
        && items
            .iter()
            .all(|i| matches!(i, Frame::Array(p) if p.len() == 2))
    {
        // RESP3: one [field, value] array per entry.
        for i in items {
            if let Frame::Array(p) = i {
                seen.push(&p[0]);
                out.push(Frame::Array(pair(&p[0], &p[1]).to_vec()));
            }
        }
    } else if with_values && items.len() % 2 == 0 {
        for c in items.chunks(2) {
            seen.push(&c[0]);
            out.extend(pair(&c[0], &c[1]));
        }
    } else {
        for i in items {
            seen.push(i);
            out.push(field(i));
        }
    }
    let positive = args
        .get(2)
        .and_then(|c| std::str::from_utf8(c).ok()?.parse::<i64>().ok())
        .is_some_and(|c| c > 0);
    if positive && !items.is_empty() {
        let mut shown: Vec<String> = seen.iter().map(|f| ferrocache_testkit::show(f)).collect();
        shown.sort();
        let n = shown.len();
        shown.dedup();
        out.push(simple(if shown.len() == n {
            "<distinct>"
        } else {
            "<repeated>"
        }));
    }
    Frame::Array(out)
}

/// SPOP/SRANDMEMBER's reply with members checked against `all` (the set's SMEMBERS
/// read right after): see `Rule::RandomMembers`.
/// A ZRANGE … WITHSCORES reply as a flat [member, score, …] array (RESP3 nests
/// the pairs), the form `random_fields` reads.
pub fn flat_pairs(all: &Frame) -> Frame {
    match all {
        Frame::Array(items) => Frame::Array(
            items
                .iter()
                .flat_map(|i| match i {
                    Frame::Array(p) => p.clone(),
                    other => vec![other.clone()],
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn random_members(args: &[Vec<u8>], reply: &Frame, all: &Frame, distinct: bool) -> Frame {
    let members: &[Frame] = match all {
        Frame::Array(v) | Frame::Set(v) => v,
        _ => &[],
    };
    let popped = args[0].eq_ignore_ascii_case(b"SPOP");
    let mark = |f: &Frame| match (popped, members.contains(f)) {
        (false, true) => simple("<member>"),
        (true, false) => simple("<popped>"),
        _ => f.clone(),
    };
    let items = match reply {
        Frame::Array(items) | Frame::Set(items) => items,
        single => return mark(single),
    };
    let mut out: Vec<Frame> = items.iter().map(mark).collect();
    if distinct && !items.is_empty() {
        let mut shown: Vec<String> = items.iter().map(ferrocache_testkit::show).collect();
        shown.sort();
        shown.dedup();
        out.push(simple(if shown.len() == items.len() {
            "<distinct>"
        } else {
            "<repeated>"
        }));
    }
    match reply {
        Frame::Set(_) => Frame::Set(out),
        _ => Frame::Array(out),
    }
}

/// Applies the rule to a multi-frame reply (SUBSCRIBE a b …).
pub fn normalise_frames(rule: Rule, frames: &[Frame]) -> Vec<Frame> {
    if rule == Rule::UnsubscribeAll && frames.len() > 1 {
        let mut names = Vec::new();
        let mut rest = Vec::new();
        for f in frames {
            match f {
                Frame::Array(v) | Frame::Push(v) if v.len() == 3 => {
                    names.push(v[1].clone());
                    rest.push(match f {
                        Frame::Push(_) => Frame::Push(vec![v[0].clone(), v[2].clone()]),
                        _ => Frame::Array(vec![v[0].clone(), v[2].clone()]),
                    });
                }
                other => rest.push(other.clone()),
            }
        }
        sort_frames(&mut names);
        rest.push(Frame::Array(names));
        return rest;
    }
    frames.iter().map(|f| normalise(rule, f)).collect()
}

/// Equality after normalisation; `Tolerance` allows a difference between two
/// non-negative integers.
pub fn same(rule: Rule, a: &[Frame], b: &[Frame]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).all(|(x, y)| match (rule, x, y) {
        (Rule::Tolerance(t), Frame::Integer(x), Frame::Integer(y)) if *x >= 0 && *y >= 0 => {
            (x - y).abs() <= t
        }
        _ => x == y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn rules_by_command() {
        assert_eq!(rule(&words("keys *")), Rule::Sorted);
        assert_eq!(
            rule(&words("CONFIG get maxclients")),
            Rule::SortedPairs { mask_config: true }
        );
        assert_eq!(rule(&words("unsubscribe")), Rule::UnsubscribeAll);
        assert_eq!(rule(&words("unsubscribe a")), Rule::Exact);
        assert_eq!(rule(&words("GET k")), Rule::Exact);
    }

    #[test]
    fn tolerance_only_for_non_negative() {
        let r = Rule::Tolerance(2);
        assert!(same(r, &[Frame::Integer(100)], &[Frame::Integer(99)]));
        assert!(!same(r, &[Frame::Integer(-1)], &[Frame::Integer(-2)]));
        assert!(!same(r, &[Frame::Integer(100)], &[Frame::Integer(97)]));
    }

    #[test]
    fn info_keeps_sections_and_keyspace() {
        let text = "# Server\r\nredis_version:7.0.15\r\nfoo:1\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=123\r\n";
        let f = info(&Frame::Bulk(Bytes::from(text)));
        let shown = ferrocache_testkit::show(&f);
        assert_eq!(shown, "*[+<bulk>, +section Server, +field redis_version, +section Keyspace, +db0:keys=2,expires=1]");
    }
}
