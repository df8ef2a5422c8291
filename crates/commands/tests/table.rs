//! The command table through its public API: names and lookup, arity, flags and key
//! positions. Pure: the comparison with a live redis-server lives elsewhere.

use ferrocache_commands::*;
use std::collections::BTreeSet;

fn args(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

fn cmd(name: &str) -> &'static CommandSpec {
    lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} not in the table"))
}

fn sub(container: &str, name: &str) -> &'static CommandSpec {
    cmd(container)
        .subcommand(name.as_bytes())
        .unwrap_or_else(|| panic!("{container} {name} not in the table"))
}

/// Key indexes for a request, resolving a container's subcommand like the node does.
fn keys(line: &str) -> Vec<usize> {
    let a = args(line);
    let spec = lookup_request(&a).unwrap().unwrap();
    key_indexes(spec, &a)
}

/// Every entry and subcommand, with its full name (`client|getname`).
fn all() -> Vec<(String, &'static CommandSpec)> {
    let mut out = Vec::new();
    for c in COMMANDS {
        out.push((c.name.to_string(), c));
        for s in c.subcommands {
            out.push((format!("{}|{}", c.name, s.name), s));
        }
    }
    out
}

#[test]
fn the_table_holds_exactly_the_planned_commands() {
    let planned = "ping echo quit select swapdb hello auth client info dbsize flushdb flushall \
        config time command shutdown debug memory object del unlink exists type rename renamenx \
        keys scan randomkey expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime \
        persist touch copy move get set setnx setex psetex getset getdel getex mget mset msetnx \
        append strlen incr decr incrby decrby incrbyfloat getrange setrange setbit getbit \
        bitcount bitpos subscribe unsubscribe psubscribe punsubscribe publish pubsub multi exec \
        discard watch unwatch lastsave reset substr \
        lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove \
        rpoplpush lmpop blpop brpop blmove brpoplpush blmpop \
        hset hsetnx hget hmget hmset hdel hexists hlen hkeys hvals hgetall hincrby hincrbyfloat \
        hstrlen hrandfield hscan \
        sadd srem smembers sismember smismember scard spop srandmember smove sinter sintercard \
        sunion sdiff sinterstore sunionstore sdiffstore sscan \
        zadd zrem zscore zmscore zincrby zcard zcount zlexcount zrange zrangestore zrangebyscore \
        zrevrange zrevrangebyscore zrangebylex zrevrangebylex zrank zrevrank zpopmin zpopmax \
        zmpop zrandmember zremrangebyrank zremrangebyscore zremrangebylex zunion zinter zdiff \
        zunionstore zinterstore zdiffstore zintercard zscan bzpopmin bzpopmax bzmpop \
        pfadd pfcount pfmerge \
        save bgsave bgrewriteaof dump restore \
        replicaof slaveof role replconf psync sync wait failover";
    let planned: BTreeSet<&str> = planned.split_whitespace().collect();
    let have: BTreeSet<&str> = COMMANDS.iter().map(|c| c.name).collect();
    assert_eq!(have, planned);

    let subs =
        |name: &str| -> BTreeSet<&str> { cmd(name).subcommands.iter().map(|s| s.name).collect() };
    let set = |s: &'static str| -> BTreeSet<&str> { s.split_whitespace().collect() };
    assert_eq!(
        subs("client"),
        set("id setname getname list info kill pause unpause reply no-evict unblock help")
    );
    assert_eq!(subs("config"), set("get set resetstat help"));
    assert_eq!(subs("command"), set("count info docs list getkeys help"));
    assert_eq!(subs("memory"), set("usage help"));
    assert_eq!(subs("object"), set("encoding idletime freq refcount help"));
    assert_eq!(subs("pubsub"), set("channels numsub numpat help"));
    for c in COMMANDS {
        let containers = ["client", "config", "command", "memory", "object", "pubsub"];
        assert_eq!(c.is_container(), containers.contains(&c.name), "{}", c.name);
    }
}

#[test]
fn names_are_lowercase_unique_and_found_in_any_case() {
    let mut seen = BTreeSet::new();
    for c in COMMANDS {
        assert_eq!(c.name, c.name.to_ascii_lowercase());
        assert!(seen.insert(c.name), "{} twice", c.name);
        for name in [
            c.name.to_string(),
            c.name.to_ascii_uppercase(),
            // Mixed case: every other letter upper.
            c.name
                .chars()
                .enumerate()
                .map(|(i, ch)| {
                    if i % 2 == 0 {
                        ch.to_ascii_uppercase()
                    } else {
                        ch
                    }
                })
                .collect(),
        ] {
            let found = lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} not found"));
            assert!(std::ptr::eq(found, c), "{name} found the wrong entry");
        }
        let mut sub_seen = BTreeSet::new();
        for s in c.subcommands {
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            assert!(sub_seen.insert(s.name), "{}|{} twice", c.name, s.name);
            assert!(s.subcommands.is_empty(), "subcommands do not nest");
            let upper = s.name.to_ascii_uppercase();
            assert!(std::ptr::eq(c.subcommand(upper.as_bytes()).unwrap(), s));
        }
    }
}

#[test]
fn unknown_names_are_not_found() {
    for name in [
        &b""[..],
        b"nosuchcommand",
        b"gett",
        b"ge",
        b"get ",
        b"\xff\x00",
        &[b'a'; 100],
    ] {
        assert!(lookup(name).is_none(), "{name:?}");
    }
    assert!(cmd("client").subcommand(b"nosuch").is_none());
    assert!(cmd("get").subcommand(b"get").is_none());
}

#[test]
fn lookup_request_resolves_subcommands() {
    let getname = sub("client", "getname");
    assert!(std::ptr::eq(
        lookup_request(&args("CLIENT GetName")).unwrap().unwrap(),
        getname
    ));
    // No subcommand given: the container, whose arity (-2) then refuses the request.
    let client = lookup_request(&args("client")).unwrap().unwrap();
    assert_eq!(client.name, "client");
    assert!(!client.arity_ok(1));
    // Unknown subcommand: the container, as an error.
    assert_eq!(
        lookup_request(&args("client nosuch"))
            .unwrap()
            .unwrap_err()
            .name,
        "client"
    );
    // Not a container: extra arguments are just arguments.
    assert_eq!(
        lookup_request(&args("get getname")).unwrap().unwrap().name,
        "get"
    );
    assert!(lookup_request(&args("nosuch x")).is_none());
    assert!(lookup_request(&[]).is_none());
}

#[test]
fn arity_follows_the_redis_convention() {
    // Exactly N.
    let get = cmd("get");
    assert_eq!(get.arity, 2);
    assert!(get.arity_ok(2));
    assert!(!get.arity_ok(1));
    assert!(!get.arity_ok(3));
    // At least N.
    let set = cmd("set");
    assert_eq!(set.arity, -3);
    assert!(!set.arity_ok(2));
    assert!(set.arity_ok(3));
    assert!(set.arity_ok(8));
    let ping = cmd("ping");
    assert!(!ping.arity_ok(0));
    assert!(ping.arity_ok(1));
    assert!(ping.arity_ok(2));
    assert!(cmd("multi").arity_ok(1));
    assert!(!cmd("multi").arity_ok(2));
    // A subcommand's arity counts the container's name.
    let getname = sub("client", "getname");
    assert_eq!(getname.arity, 2);
    assert!(getname.arity_ok(2));
    assert!(!getname.arity_ok(3));
    assert!(sub("config", "set").arity_ok(4));
    assert!(!sub("config", "set").arity_ok(3));
    assert!(sub("memory", "usage").arity_ok(5));
}

#[test]
fn flags_are_ones_redis_shows_plus_may_replicate() {
    let shown = FLAG_NAMES.iter().fold(0, |acc, (bit, _)| acc | bit);
    let mut bits = BTreeSet::new();
    for (bit, name) in FLAG_NAMES {
        assert_eq!(bit.count_ones(), 1, "{name}");
        assert!(bits.insert(bit), "{name} shares a bit");
    }
    for (name, c) in all() {
        // MAY_REPLICATE is Redis-internal but the node needs it (CLIENT PAUSE WRITE).
        let hidden = c.flags & !shown;
        assert!(
            hidden == 0 || (name == "publish" && hidden == MAY_REPLICATE),
            "{name}"
        );
        // Movable keys come only as a key count in the arguments (ZUNION, LMPOP …).
        assert_eq!(
            c.has(MOVABLE_KEYS),
            c.key_specs
                .iter()
                .any(|k| matches!(k.find_keys, FindKeys::Keynum { .. })),
            "{name}"
        );
        assert!(!(c.has(WRITE) && c.has(READONLY)), "{name}");
    }
    assert!(cmd("set").has(WRITE) && cmd("set").has(DENYOOM));
    assert!(cmd("get").has(READONLY) && cmd("get").has(FAST));
    assert!(cmd("subscribe").has(PUBSUB));
    assert!(cmd("publish").has(MAY_REPLICATE));
    // Hidden flags are not named: rendering COMMAND INFO matches Redis.
    assert_eq!(
        flag_names(cmd("publish").flags).collect::<Vec<_>>(),
        ["pubsub", "loading", "stale", "fast"]
    );
    assert!(cmd("auth").has(NO_AUTH));
    assert!(cmd("shutdown").has(NO_MULTI));
    assert_eq!(
        flag_names(cmd("get").flags).collect::<Vec<_>>(),
        ["readonly", "fast"]
    );
    assert_eq!(flag_names(0).count(), 0);
}

#[test]
fn every_entry_has_docs_and_categories() {
    for (name, c) in all() {
        assert!(!c.group.is_empty(), "{name}");
        assert!(!c.summary.is_empty(), "{name}");
        assert!(!c.since.is_empty(), "{name}");
        // Redis documents no complexity for its internal replication commands.
        let internal = matches!(name.as_str(), "psync" | "sync" | "replconf");
        assert!(internal || !c.complexity.is_empty(), "{name}");
        assert!(!c.acl.is_empty(), "{name}");
        assert!(c.acl.iter().all(|a| !a.starts_with('@')), "{name}");
        assert_eq!(
            c.deprecated_since.is_empty(),
            !c.doc_flags.contains(&"deprecated"),
            "{name}"
        );
    }
    assert_eq!(cmd("getset").deprecated_since, "6.2.0");
    assert_eq!(cmd("setbit").group, "bitmap");
    assert_eq!(cmd("del").group, "generic");
}

#[test]
fn key_indexes_of_the_brief() {
    // One key.
    assert_eq!(keys("SET k v"), [1]);
    assert_eq!(keys("set k v EX 10 GET"), [1]);
    assert_eq!(keys("get k"), [1]);
    // Every other argument to the end.
    assert_eq!(keys("MSET k1 v1 k2 v2 k3 v3"), [1, 3, 5]);
    assert_eq!(keys("msetnx k1 v1"), [1]);
    // All arguments to the end.
    assert_eq!(keys("DEL a"), [1]);
    assert_eq!(keys("DEL a b c"), [1, 2, 3]);
    assert_eq!(keys("unlink a b"), [1, 2]);
    assert_eq!(keys("exists a a"), [1, 2]);
    assert_eq!(keys("mget a b c"), [1, 2, 3]);
    assert_eq!(keys("watch a b"), [1, 2]);
    // Two keys with two roles.
    assert_eq!(keys("RENAME src dst"), [1, 2]);
    assert_eq!(keys("renamenx src dst"), [1, 2]);
    assert_eq!(keys("COPY src dst DB 2 REPLACE"), [1, 2]);
    // No keys: database numbers, channels, patterns.
    for line in [
        "SWAPDB 0 1",
        "select 1",
        "move k 1",
        "SUBSCRIBE ch1 ch2",
        "psubscribe p*",
        "unsubscribe ch1",
        "punsubscribe",
        "publish ch msg",
        "pubsub numsub ch1 ch2",
        "pubsub channels",
        "keys *",
        "scan 0 MATCH k*",
        "ping",
        "flushall",
        "client getname",
        "config get maxmemory",
    ] {
        let want: &[usize] = if line.starts_with("move") { &[1] } else { &[] };
        assert_eq!(keys(line), want, "{line}");
    }
    // Subcommands count the container's name.
    assert_eq!(keys("MEMORY USAGE k SAMPLES 5"), [2]);
    assert_eq!(keys("object encoding k"), [2]);
    assert_eq!(keys("object help"), Vec::<usize>::new());
    // Too few arguments: keys that are there, nothing beyond.
    assert_eq!(keys("get"), Vec::<usize>::new());
    assert_eq!(keys("rename a"), [1]);
    // Key counts (movable keys), with a destination key or a trailing timeout.
    assert_eq!(keys("zunionstore d 2 a b WEIGHTS 1 2"), [1, 3, 4]);
    assert_eq!(keys("lmpop 2 a b LEFT"), [2, 3]);
    assert_eq!(keys("blmpop 0 2 a b LEFT"), [3, 4]);
    assert_eq!(keys("zinter 1 a"), [2]);
    assert_eq!(keys("sintercard 2 a b LIMIT 1"), [2, 3]);
    assert_eq!(keys("blpop a b 0"), [1, 2]);
    assert_eq!(keys("blmove a b LEFT RIGHT 0"), [1, 2]);
}

/// For every command here the Redis 7 key specs and the legacy first/last/step
/// triple agree, whatever the number of arguments.
#[test]
fn key_specs_agree_with_the_legacy_triple() {
    for (name, c) in all() {
        if c.has(MOVABLE_KEYS) {
            // The legacy triple cannot describe a key count; checked by example below.
            continue;
        }
        if c.first_key == 0 {
            assert!(c.key_specs.is_empty(), "{name}");
            continue;
        }
        assert!(!c.key_specs.is_empty(), "{name}");
        let legacy = CommandSpec {
            key_specs: &[],
            ..*c
        };
        for argc in 0..10 {
            let a: Vec<&[u8]> = (0..argc).map(|_| &b"x"[..]).collect();
            assert_eq!(
                key_indexes(c, &a),
                key_indexes(&legacy, &a),
                "{name} with {argc} args"
            );
        }
    }
}
