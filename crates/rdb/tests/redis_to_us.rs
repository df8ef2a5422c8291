//! Redis → us: a real redis-server 7.0 saves every type in every encoding it uses,
//! and our reader must see exactly what the server holds.

mod common;

use common::*;
use ferrocache_rdb::{read_all, RdbFile};
use ferrocache_testkit::{show, Frame, RedisServer, RespConn, Server, TempDir};
use std::collections::BTreeSet;
use std::path::Path;

const LIBRARY: &str =
    "#!lua name=rdbtestlib\nredis.register_function('answer', function() return 42 end)";

fn start(dir: &Path, extra: &[&str]) -> (RedisServer, RespConn) {
    let mut args = vec!["--dir", dir.to_str().expect("utf-8 temp path")];
    args.extend_from_slice(extra);
    let server = RedisServer::start_with(&args).expect("redis-server starts");
    let conn = server.connect().expect("connect");
    (server, conn)
}

fn save_and_read(c: &mut RespConn, dir: &Path) -> (RdbFile, Vec<u8>) {
    assert_eq!(q(c, &["SAVE"]), Frame::Simple("OK".into()));
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("dump.rdb written");
    let file =
        read_all(&bytes[..]).unwrap_or_else(|e| panic!("our reader refused redis's file: {e}"));
    (file, bytes)
}

#[test]
fn reads_every_type_and_encoding_redis_saves() {
    let dir = TempDir::new("rdb-redis-to-us").unwrap();
    // Small list nodes (many quicklist nodes), compressed inner nodes, and a low
    // threshold for plain (unpacked) nodes, so every list form appears.
    let (_server, mut c) = start(
        dir.path(),
        &[
            "--list-max-listpack-size",
            "4",
            "--list-compress-depth",
            "1",
            "--enable-debug-command",
            "yes",
        ],
    );
    q(&mut c, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"]);
    q(&mut c, &["FUNCTION", "LOAD", LIBRARY]);
    let data = dataset(now_ms());
    fill(&mut c, &data);

    // The server must really hold the encodings this test claims to cover.
    let mut encodings = BTreeSet::new();
    for e in data.iter().filter(|e| e.db == 0) {
        let f = q(&mut c, &[&b"OBJECT"[..], b"ENCODING", &e.key]);
        encodings.insert(String::from_utf8_lossy(f.as_bytes().unwrap_or_default()).into_owned());
    }
    for want in [
        "int",
        "embstr",
        "raw",
        "quicklist",
        "intset",
        "listpack",
        "hashtable",
        "skiplist",
    ] {
        assert!(
            encodings.contains(want),
            "no {want} value among {encodings:?}"
        );
    }
    // Six elements above the packed threshold make six plain nodes (packed, at four
    // per node, they would make two).
    let plain = show(&q(&mut c, &["DEBUG", "OBJECT", "list:long-elems"]));
    assert!(
        plain.contains("ql_nodes:6"),
        "expected plain quicklist nodes: {plain}"
    );

    let want = server_snapshot(&mut c);
    assert_eq!(
        diff(&snapshot_of(&data), &want),
        None,
        "the server holds the dataset"
    );

    let (file, bytes) = save_and_read(&mut c, dir.path());
    assert_eq!(file.version, 10);
    assert_eq!(diff(&want, &snapshot_of(&file.entries)), None);

    // Long repetitive strings were stored LZF-compressed, so they cannot appear raw.
    let needle = "compress me please ".repeat(4);
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
        "expected an LZF string"
    );

    assert!(
        file.aux("redis-ver")
            .is_some_and(|v| v.starts_with(b"7.0.")),
        "{:?}",
        file.aux
    );
    assert_eq!(file.aux("redis-bits").map(|v| &v[..]), Some(&b"64"[..]));
    for key in ["ctime", "used-mem", "aof-base"] {
        assert!(file.aux(key).is_some(), "aux {key} missing: {:?}", file.aux);
    }
    assert_eq!(file.functions.len(), 1);
    assert_eq!(&file.functions[0][..], LIBRARY.as_bytes());

    // RESIZEDB hints: one per non-empty database, with the exact key and TTL counts.
    for (db, keys, expires) in &file.resize {
        let in_db: Vec<_> = data.iter().filter(|e| e.db == *db).collect();
        assert_eq!(*keys as usize, in_db.len(), "db {db}");
        assert_eq!(
            *expires as usize,
            in_db.iter().filter(|e| e.expire_at_ms.is_some()).count(),
            "db {db}"
        );
    }
    assert_eq!(
        file.resize.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 1, 15]
    );
}

#[test]
fn reads_files_saved_without_compression_or_checksum() {
    let dir = TempDir::new("rdb-redis-plain").unwrap();
    let (_server, mut c) = start(
        dir.path(),
        &["--rdbcompression", "no", "--rdbchecksum", "no"],
    );
    let data = dataset(now_ms());
    fill(&mut c, &data);
    let want = server_snapshot(&mut c);
    let (file, bytes) = save_and_read(&mut c, dir.path());
    assert_eq!(&bytes[bytes.len() - 8..], &[0; 8], "no checksum written");
    assert_eq!(diff(&want, &snapshot_of(&file.entries)), None);
}

#[test]
fn reads_lru_idle_and_lfu_frequency() {
    for policy in ["allkeys-lru", "allkeys-lfu"] {
        let dir = TempDir::new("rdb-redis-lfu").unwrap();
        let (_server, mut c) = start(dir.path(), &["--maxmemory-policy", policy]);
        q(&mut c, &["SET", "k", "v"]);
        for _ in 0..50 {
            q(&mut c, &["GET", "k"]);
        }
        let (file, _) = save_and_read(&mut c, dir.path());
        let e = &file.entries[0];
        if policy == "allkeys-lfu" {
            let freq = match q(&mut c, &["OBJECT", "FREQ", "k"]) {
                Frame::Integer(i) => i,
                f => panic!("{}", show(&f)),
            };
            assert!(
                freq > 5,
                "50 hits give a counter above the initial 5: {freq}"
            );
            assert_eq!(e.lfu_freq.map(i64::from), Some(freq));
            assert_eq!(e.lru_idle_secs, None);
        } else {
            assert!(e.lru_idle_secs.is_some_and(|s| s < 60), "{e:?}");
            assert_eq!(e.lfu_freq, None);
        }
    }
}
