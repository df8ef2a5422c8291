//! Us → Redis: files from our writer are loaded by a real redis-server 7.0, which
//! must then hold exactly what we wrote.

mod common;

use common::*;
use ferrocache_rdb::{read_all, Entry, RdbValue, RdbWriter, WriteOptions};
use ferrocache_testkit::{show, Frame, RedisServer, RespConn, Server, TempDir};
use std::path::Path;

const LIBRARY: &str =
    "#!lua name=ourlib\nredis.register_function('seven', function() return 7 end)";

/// Writes `entries` the way the node will: standard aux fields, then per database
/// SELECTDB + RESIZEDB and its keys.
fn write_file(path: &Path, entries: &[Entry], opts: WriteOptions) {
    let mut w = RdbWriter::new(Vec::new(), opts).unwrap();
    w.standard_aux("7.0.15", now_ms() / 1000, 1_000_000)
        .unwrap();
    w.function(LIBRARY.as_bytes()).unwrap();
    let mut dbs: Vec<u32> = entries.iter().map(|e| e.db).collect();
    dbs.dedup();
    for db in dbs {
        let in_db: Vec<&Entry> = entries.iter().filter(|e| e.db == db).collect();
        let expires = in_db.iter().filter(|e| e.expire_at_ms.is_some()).count();
        w.select_db(db, in_db.len() as u64, expires as u64).unwrap();
        for e in in_db {
            w.write_entry(e).unwrap();
        }
    }
    let bytes = w.finish().unwrap();
    // Our own reader agrees with what we meant to write.
    assert_eq!(read_all(&bytes[..]).unwrap().entries, entries);
    std::fs::write(path, bytes).unwrap();
}

fn load(dir: &Path, file: &str, extra: &[&str]) -> (RedisServer, RespConn) {
    let mut args = vec![
        "--dir",
        dir.to_str().expect("utf-8 path"),
        "--dbfilename",
        file,
    ];
    args.extend_from_slice(extra);
    let server = RedisServer::start_with(&args).expect("redis-server loads our file");
    let conn = server.connect().expect("connect");
    (server, conn)
}

#[test]
fn redis_loads_every_type_we_write() {
    for compress in [true, false] {
        let dir = TempDir::new("rdb-us-to-redis").unwrap();
        let now = now_ms();
        let mut data = dataset(now);
        // Sorted by db, as a snapshot writes them.
        data.sort_by_key(|e| e.db);
        let mut gone = Entry::new(0, "expired:long-ago", RdbValue::String("x".into()));
        gone.expire_at_ms = Some(1_000);
        let mut all = data.clone();
        all.insert(0, gone);
        write_file(
            &dir.path().join("ours.rdb"),
            &all,
            WriteOptions { compress },
        );

        let (server, mut c) = load(dir.path(), "ours.rdb", &[]);
        let got = server_snapshot(&mut c);
        // A key already expired is dropped on load, as Redis does with its own files.
        assert_eq!(
            diff(&snapshot_of(&data), &got),
            None,
            "compress={compress}\n{}",
            server.log_tail()
        );
        let libs = show(&q(&mut c, &["FUNCTION", "LIST"]));
        assert!(libs.contains("ourlib"), "{libs}");
        assert_eq!(q(&mut c, &["FCALL", "seven", "0"]), Frame::Integer(7));
    }
}

#[test]
fn redis_loads_lru_and_lfu_metadata() {
    let dir = TempDir::new("rdb-us-lfu").unwrap();
    let mut hot = Entry::new(0, "hot", RdbValue::String("v".into()));
    hot.lfu_freq = Some(77);
    write_file(&dir.path().join("lfu.rdb"), &[hot], WriteOptions::default());
    let (_s, mut c) = load(
        dir.path(),
        "lfu.rdb",
        &["--maxmemory-policy", "allkeys-lfu"],
    );
    assert_eq!(q(&mut c, &["OBJECT", "FREQ", "hot"]), Frame::Integer(77));

    let mut idle = Entry::new(0, "idle", RdbValue::String("v".into()));
    idle.lru_idle_secs = Some(5000);
    write_file(
        &dir.path().join("lru.rdb"),
        &[idle],
        WriteOptions::default(),
    );
    let (_s, mut c) = load(
        dir.path(),
        "lru.rdb",
        &["--maxmemory-policy", "allkeys-lru"],
    );
    match q(&mut c, &["OBJECT", "IDLETIME", "idle"]) {
        Frame::Integer(i) => assert!((5000..5060).contains(&i), "idle {i}"),
        f => panic!("{}", show(&f)),
    }
}

#[test]
fn writer_refuses_values_redis_would_reject() {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
    for v in [
        RdbValue::List(vec![]),
        RdbValue::Hash(vec![]),
        RdbValue::ZSet(vec![("m".into(), f64::NAN)]),
    ] {
        let err = w.write_entry(&Entry::new(0, "k", v)).unwrap_err();
        assert!(err.to_string().contains("key \"k\""), "{err}");
    }
}
