//! What the replication tests share: reading INFO fields, waiting for a link and
//! for offsets to meet, a writer that keeps writing until told to stop, and a
//! dataset dump that two servers of either kind can be compared by.

use ferrocache_testkit::{poll_until, Frame, RespConn, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferrocache"))
}

pub fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Integer(i) => i.to_string(),
        Frame::Null => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

/// One field of `INFO section`, if present.
pub fn info(c: &mut RespConn, section: &str, field: &str) -> Option<String> {
    let t = text(c.cmd(&["INFO", section]).ok()?);
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

pub fn info_u64(c: &mut RespConn, section: &str, field: &str) -> u64 {
    info(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn ok(f: Frame) {
    assert!(
        matches!(&f, Frame::Simple(s) if s.starts_with(b"OK")),
        "expected OK, got {f:?}"
    );
}

/// Makes `replica` follow `primary` and waits until the link is up.
pub fn follow(replica: &dyn Server, primary: &dyn Server) {
    let mut c = replica.connect().unwrap();
    ok(
        c.cmd(&["REPLICAOF", "127.0.0.1", &primary.port().to_string()])
            .unwrap(),
    );
    wait_link_up(replica);
}

pub fn wait_link_up(replica: &dyn Server) {
    let mut c = replica.connect().unwrap();
    assert!(
        poll_until(DEADLINE, || info(
            &mut c,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "{} never got its link up:\n{}",
        replica.name(),
        replica.log_tail()
    );
}

/// Waits until the replica has applied everything the primary has produced.
pub fn wait_caught_up(primary: &dyn Server, replica: &dyn Server) {
    let mut p = primary.connect().unwrap();
    let mut r = replica.connect().unwrap();
    assert!(
        poll_until(DEADLINE, || {
            let po = info_u64(&mut p, "replication", "master_repl_offset");
            let ro = info_u64(&mut r, "replication", "slave_repl_offset");
            po > 0 && po == ro
        }),
        "the replica never caught up: primary {:?}, replica {:?}\n{}",
        info(&mut p, "replication", "master_repl_offset"),
        info(&mut r, "replication", "slave_repl_offset"),
        replica.log_tail()
    );
}

/// Every key of db 0 with its type, its value in a canonical form and whether it
/// has a TTL (the TTL itself to the second: both sides compute it from the same
/// absolute time).
pub fn dataset(server: &dyn Server) -> BTreeMap<String, String> {
    let mut c = server.connect().unwrap();
    let Frame::Array(keys) = c.cmd(&["KEYS", "*"]).unwrap() else {
        panic!("KEYS is an array");
    };
    let mut out = BTreeMap::new();
    for k in keys {
        let k = text(k);
        let ty = text(c.cmd(&["TYPE", &k]).unwrap());
        let mut items = |args: &[&str]| match c.cmd(args).unwrap() {
            Frame::Array(v) | Frame::Set(v) => v.into_iter().map(text).collect::<Vec<_>>(),
            other => vec![format!("{other:?}")],
        };
        let value = match ty.as_str() {
            "string" => vec![text(c.cmd(&["GET", &k]).unwrap())],
            "list" => items(&["LRANGE", &k, "0", "-1"]),
            "set" => {
                let mut v = items(&["SMEMBERS", &k]);
                v.sort();
                v
            }
            "hash" => {
                let flat = items(&["HGETALL", &k]);
                let mut pairs: Vec<String> = flat
                    .chunks(2)
                    .map(|p| format!("{}={}", p[0], p[1]))
                    .collect();
                pairs.sort();
                pairs
            }
            "zset" => items(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
            other => vec![other.to_string()],
        };
        let ttl = text(c.cmd(&["PEXPIRETIME", &k]).unwrap());
        out.insert(k, format!("{ty} {value:?} expire={ttl}"));
    }
    out
}

/// A thread that writes a mix of every data type until stopped; every write it
/// made was acknowledged.
pub struct Writer {
    stop: Arc<AtomicBool>,
    pub writes: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(server: &dyn Server, tag: &str) -> Writer {
        let mut c = server.connect().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let (s, w, tag) = (stop.clone(), writes.clone(), tag.to_string());
        let thread = std::thread::spawn(move || {
            let mut i = 0u64;
            while !s.load(Ordering::Relaxed) {
                let n = i.to_string();
                let key = format!("{tag}:k{}", i % 500);
                let batch: Vec<Vec<Vec<u8>>> = [
                    vec!["SET", &key, &n],
                    vec!["INCR", "counter"],
                    vec!["RPUSH", "list", &n],
                    vec!["SADD", "set", &n],
                    vec!["HSET", "hash", &format!("f{}", i % 300), &n],
                    vec!["ZADD", "zset", &n, &format!("m{}", i % 300)],
                    vec!["EXPIRE", &key, "1000"],
                    vec!["INCRBYFLOAT", "float", "0.1"],
                    vec!["LTRIM", "list", "-200", "-1"],
                ]
                .iter()
                .map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect())
                .collect();
                let replies = c.pipeline(&batch).expect("the writer's pipeline");
                for r in &replies {
                    assert!(!matches!(r, Frame::Error(_)), "a write failed: {r:?}");
                }
                w.fetch_add(batch.len() as u64, Ordering::Relaxed);
                i += 1;
            }
        });
        Writer {
            stop,
            writes,
            thread: Some(thread),
        }
    }

    /// Waits until at least `n` writes have been acknowledged.
    pub fn wait_writes(&self, n: u64) {
        assert!(poll_until(DEADLINE, || self.writes.load(Ordering::Relaxed) >= n));
    }

    /// Waits for `n` acknowledged writes, then stops.
    pub fn wait_then_stop(self, n: u64) -> u64 {
        self.wait_writes(n);
        self.stop()
    }

    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the writer thread");
        }
        self.writes.load(Ordering::Relaxed)
    }
}
