//! Staying inside maxmemory, against the real binary: for each eviction policy,
//! fill past the limit and check what was evicted, what writers see, and that
//! memory never goes more than 5% over the data limit (maxmemory minus
//! maxmemory-reserved).

use ferrocache_testkit::{FerroNode, Frame, RespConn, Server};
use std::path::Path;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const VALUE: usize = 1000;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferrocache"))
}

fn info_field(c: &mut RespConn, section: &str, field: &str) -> u64 {
    let Frame::Bulk(text) = c.cmd(&["INFO", section]).expect("INFO") else {
        panic!("INFO is a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .parse()
        .expect("a number")
}

/// A node whose data limit sits `room` bytes above what it uses empty.
fn node_with_room(policy: &str, room: u64) -> (FerroNode, RespConn, u64) {
    let n = FerroNode::start(bin(), &[]).expect("node starts");
    let mut c = n.connect().expect("connect");
    let base = info_field(&mut c, "memory", "used_memory");
    let limit = base + room;
    let ok = |f: Frame| assert_eq!(f, Frame::Simple("OK".into()));
    ok(c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy])
        .unwrap());
    ok(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()])
        .unwrap());
    (n, c, limit)
}

/// Writes `count` keys `prefix:i` (optionally with a TTL of `ttl + i` seconds);
/// returns how many writes got the OOM error. Memory is checked all along.
fn fill(c: &mut RespConn, prefix: &str, count: usize, ttl: Option<u64>, limit: u64) -> usize {
    let value = "x".repeat(VALUE);
    let mut refused = 0;
    for i in 0..count {
        let key = format!("{prefix}:{i}");
        let reply = match ttl {
            Some(t) => c.cmd(&["SET", &key, &value, "EX", &(t + i as u64).to_string()]),
            None => c.cmd(&["SET", &key, &value]),
        }
        .expect("reply");
        match reply {
            Frame::Simple(_) => {}
            Frame::Error(e) => {
                assert_eq!(&e[..], OOM.as_bytes());
                refused += 1;
            }
            other => panic!("SET: {other:?}"),
        }
        if i % 100 == 0 {
            let used = info_field(c, "memory", "used_memory");
            assert!(
                used <= limit + limit / 20,
                "used_memory {used} is more than 5% over the limit {limit}"
            );
        }
    }
    refused
}

fn exists(c: &mut RespConn, prefix: &str, range: std::ops::Range<usize>) -> usize {
    range
        .filter(|i| c.cmd(&["EXISTS", &format!("{prefix}:{i}")]).unwrap() == Frame::Integer(1))
        .count()
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let (_n, mut c, limit) = node_with_room("noeviction", 2 << 20);
    let refused = fill(&mut c, "k", 4000, None, limit);
    assert!(refused > 0, "writes past the limit must be refused");
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    // Reads and deletes still work; growing commands inside MULTI abort EXEC.
    assert!(matches!(c.cmd(&["GET", "k:0"]).unwrap(), Frame::Bulk(_)));
    assert_eq!(c.cmd(&["MULTI"]).unwrap(), Frame::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["SET", "x", "y"]).unwrap(),
        Frame::Error(OOM.as_bytes().to_vec().into())
    );
    assert!(matches!(c.cmd(&["EXEC"]).unwrap(), Frame::Error(e) if e.starts_with(b"EXECABORT")));
    assert_eq!(c.cmd(&["DEL", "k:0"]).unwrap(), Frame::Integer(1));
    assert_eq!(c.cmd(&["FLUSHALL"]).unwrap(), Frame::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["SET", "x", "y"]).unwrap(),
        Frame::Simple("OK".into())
    );
}

#[test]
fn allkeys_lru_keeps_what_is_used() {
    let (_n, mut c, limit) = node_with_room("allkeys-lru", 2 << 20);
    assert_eq!(fill(&mut c, "cold", 1000, None, limit), 0);
    assert_eq!(fill(&mut c, "hot", 200, None, limit), 0);
    c.cmd(&["CONFIG", "SET", "maxmemory-samples", "10"])
        .unwrap();
    // The idle clock has one-second resolution: make the cold keys older first.
    c.cmd(&["DEBUG", "SLEEP", "1.1"]).unwrap();
    for i in 0..200 {
        c.cmd(&["GET", &format!("hot:{i}")]).unwrap();
    }
    assert_eq!(fill(&mut c, "new", 3000, None, limit), 0);
    assert!(info_field(&mut c, "stats", "evicted_keys") > 0);
    let hot = exists(&mut c, "hot", 0..200) as f64 / 200.0;
    let cold = exists(&mut c, "cold", 0..1000) as f64 / 1000.0;
    assert!(
        hot > cold,
        "hot keys survive more ({hot:.2}) than cold ones ({cold:.2})"
    );
}

#[test]
fn allkeys_lfu_keeps_what_is_used_often() {
    let (_n, mut c, limit) = node_with_room("allkeys-lfu", 2 << 20);
    c.cmd(&["CONFIG", "SET", "maxmemory-samples", "10"])
        .unwrap();
    assert_eq!(fill(&mut c, "rare", 1000, None, limit), 0);
    assert_eq!(fill(&mut c, "often", 100, None, limit), 0);
    for _ in 0..20 {
        for i in 0..100 {
            c.cmd(&["GET", &format!("often:{i}")]).unwrap();
        }
    }
    assert!(matches!(c.cmd(&["OBJECT", "FREQ", "often:1"]).unwrap(), Frame::Integer(f) if f > 5));
    assert_eq!(fill(&mut c, "new", 3000, None, limit), 0);
    let often = exists(&mut c, "often", 0..100) as f64 / 100.0;
    let rare = exists(&mut c, "rare", 0..1000) as f64 / 1000.0;
    assert!(
        often > rare,
        "frequent keys survive more ({often:.2}) than rare ones ({rare:.2})"
    );
}

#[test]
fn allkeys_random_evicts_without_refusing() {
    let (_n, mut c, limit) = node_with_room("allkeys-random", 2 << 20);
    assert_eq!(fill(&mut c, "k", 5000, None, limit), 0);
    assert!(info_field(&mut c, "stats", "evicted_keys") > 0);
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let (_n, mut c, limit) = node_with_room(policy, 2 << 20);
        assert_eq!(fill(&mut c, "keep", 500, None, limit), 0, "{policy}");
        assert_eq!(fill(&mut c, "ttl", 1000, Some(1000), limit), 0, "{policy}");
        // Fills with TTL keys: the old TTL keys go, the persistent ones stay.
        assert_eq!(fill(&mut c, "more", 1000, Some(5000), limit), 0, "{policy}");
        assert_eq!(exists(&mut c, "keep", 0..500), 500, "{policy}");
        assert!(info_field(&mut c, "stats", "evicted_keys") > 0, "{policy}");
        if policy == "volatile-ttl" {
            // The nearest expiries go first: the early "ttl" keys before "more".
            let early = exists(&mut c, "ttl", 0..1000);
            let late = exists(&mut c, "more", 0..1000);
            assert!(
                early < late,
                "{policy}: {early} early vs {late} late survivors"
            );
        }
        // With no key left that the policy may evict, writes are refused.
        let refused = fill(&mut c, "plain", 4000, None, limit);
        assert!(refused > 0, "{policy}: persistent keys alone must hit OOM");
    }
}

#[test]
fn maxmemory_reserved_holds_memory_back_from_the_data() {
    let n = FerroNode::start(bin(), &[]).expect("node starts");
    let mut c = n.connect().expect("connect");
    let base = info_field(&mut c, "memory", "used_memory");
    let max = base + (4 << 20);
    c.cmd(&["CONFIG", "SET", "maxmemory", &max.to_string()])
        .unwrap();
    c.cmd(&["CONFIG", "SET", "maxmemory-reserved", "2mb"])
        .unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory-reserved"]).unwrap(),
        Frame::Array(vec![
            Frame::Bulk("maxmemory-reserved".into()),
            Frame::Bulk("2097152".into())
        ])
    );
    assert!(matches!(
        c.cmd(&["CONFIG", "SET", "maxmemory-reserved", "120%"])
            .unwrap(),
        Frame::Error(_)
    ));
    let refused = fill(&mut c, "k", 5000, None, max - (2 << 20));
    assert!(refused > 0);
    assert!(info_field(&mut c, "memory", "used_memory") <= max - (2 << 20) + (max / 20));
    assert_eq!(info_field(&mut c, "memory", "maxmemory_reserved"), 2 << 20);
    // A percentage of maxmemory works as well.
    c.cmd(&["CONFIG", "SET", "maxmemory-reserved", "50%"])
        .unwrap();
    assert_eq!(
        info_field(&mut c, "memory", "maxmemory_reserved"),
        max / 100 * 50
    );
}
