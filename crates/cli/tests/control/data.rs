//! End-to-end tests of export and import (SYSTEM.md §8) against a real redis-server:
//! an exported file loads in redis-server with identical contents (while the cache
//! keeps serving writes), and a file written by redis-server, imported, is served
//! through the endpoint in place of the old data.

use super::load::Writer;
use super::patch::cli_fails;
use super::support::{addr, Up};
use ferrocache_testkit::{poll_until, Frame, RedisServer, RespConn, Server, TempDir};
use std::time::Duration;

fn fill(c: &mut RespConn, prefix: &str) {
    let ok = |f: Frame| assert!(!matches!(f, Frame::Error(_)), "{f:?}");
    for i in 0..50 {
        ok(c.cmd(&["SET", &format!("{prefix}s:{i}"), &format!("v{i}")])
            .unwrap());
    }
    ok(c.cmd(&["HSET", &format!("{prefix}h"), "a", "1", "b", "2"])
        .unwrap());
    ok(c.cmd(&["RPUSH", &format!("{prefix}l"), "x", "y", "z"])
        .unwrap());
    ok(c.cmd(&["SADD", &format!("{prefix}set"), "p", "q"]).unwrap());
    ok(
        c.cmd(&["ZADD", &format!("{prefix}z"), "1.5", "m", "2", "n"])
            .unwrap(),
    );
    ok(c.cmd(&["SET", &format!("{prefix}ttl"), "t", "EX", "3600"])
        .unwrap());
}

/// Everything `fill` wrote, as one comparable text.
fn contents(c: &mut RespConn, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut read = |args: &[&str]| out.push(format!("{:?}", c.cmd(args).unwrap()));
    for i in 0..50 {
        read(&["GET", &format!("{prefix}s:{i}")]);
    }
    read(&["HGETALL", &format!("{prefix}h")]);
    read(&["LRANGE", &format!("{prefix}l"), "0", "-1"]);
    // Set order is unspecified: ask for the members instead.
    read(&["SMISMEMBER", &format!("{prefix}set"), "p", "q", "r"]);
    read(&["SCARD", &format!("{prefix}set")]);
    read(&["ZRANGE", &format!("{prefix}z"), "0", "-1", "WITHSCORES"]);
    read(&["GET", &format!("{prefix}ttl")]);
    out
}

fn has_ttl(c: &mut RespConn, key: &str) -> bool {
    matches!(c.cmd(&["TTL", key]).unwrap(), Frame::Integer(t) if t > 3000)
}

fn export_loads_in_redis_server(engine: &str) {
    let dir = TempDir::new("export").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let mut c = up.connect();
    fill(&mut c, "e:");
    // The replica must hold it all (the export is taken from it).
    assert!(poll_until(Duration::from_secs(10), || up.show()["nodes"]
        [1]["lag"]
        == 0));
    let writer = Writer::start(addr(up.endpoint), &up.key("primary"));
    assert!(poll_until(Duration::from_secs(10), || writer.acked() > 50));
    let file = dir.path().join("export.rdb");
    let r = up.cli(&["export", "local", file.to_str().unwrap()]);
    assert!(r["bytes"].as_u64().unwrap() > 0);
    let report = writer.stop();
    assert_eq!(
        report.errors,
        Vec::<String>::new(),
        "the cache kept serving"
    );

    let rdir = TempDir::new("export-load").unwrap();
    std::fs::copy(&file, rdir.path().join("dump.rdb")).unwrap();
    let server = RedisServer::start_with(&[
        "--dir",
        rdir.path().to_str().unwrap(),
        "--dbfilename",
        "dump.rdb",
    ])
    .unwrap();
    let mut r = RespConn::connect(server.addr()).unwrap();
    assert_eq!(contents(&mut r, "e:"), contents(&mut c, "e:"));
    assert!(has_ttl(&mut r, "e:ttl"));
}

#[test]
fn export_loads_in_redis_server_builtin() {
    export_loads_in_redis_server("builtin");
}

#[test]
fn export_loads_in_redis_server_redis() {
    export_loads_in_redis_server("redis");
}

fn import_from_redis_server(engine: &str) {
    let dir = TempDir::new("import").unwrap();
    let up = Up::start(&dir, engine, &[]);
    let mut c = up.connect();
    assert_eq!(
        c.cmd(&["SET", "old", "1"]).unwrap(),
        Frame::Simple("OK".into())
    );

    // A file written by redis-server.
    let server = RedisServer::start().unwrap();
    let mut r = RespConn::connect(server.addr()).unwrap();
    fill(&mut r, "i:");
    let expected = contents(&mut r, "i:");
    assert_eq!(r.cmd(&["SAVE"]).unwrap(), Frame::Simple("OK".into()));
    let dir_of = match r.cmd(&["CONFIG", "GET", "dir"]).unwrap() {
        Frame::Array(v) => String::from_utf8(v[1].as_bytes().unwrap().to_vec()).unwrap(),
        other => panic!("{other:?}"),
    };
    let file = std::path::Path::new(&dir_of).join("dump.rdb");

    // Not an RDB file: refused, and the cache keeps its data.
    let junk = dir.path().join("junk.rdb");
    std::fs::write(&junk, b"hello").unwrap();
    let err = cli_fails(&up, &["import", "local", junk.to_str().unwrap()]);
    assert!(err.contains("not an RDB file"), "{err}");
    assert_eq!(c.cmd(&["GET", "old"]).unwrap(), Frame::Bulk("1".into()));

    let imported = up.cli(&["import", "local", file.to_str().unwrap()]);
    assert_eq!(imported["keys"].as_u64(), Some(55), "{imported}");
    // Served through the endpoint (a new connection: the old one was closed).
    let mut c = up.connect();
    assert_eq!(contents(&mut c, "i:"), expected);
    assert!(has_ttl(&mut c, "i:ttl"));
    assert_eq!(
        c.cmd(&["EXISTS", "old"]).unwrap(),
        Frame::Integer(0),
        "replaced"
    );
    // The replica resynchronised from the new data.
    assert!(poll_until(Duration::from_secs(20), || {
        let s = up.show();
        s["nodes"][1]["health"] == "up" && s["nodes"][1]["lag"] == 0
    }));
    let h = up.get("/caches/local/history");
    assert_eq!(h.as_array().unwrap().last().unwrap()["kind"], "import");
}

#[test]
fn import_from_redis_server_builtin() {
    import_from_redis_server("builtin");
}

#[test]
fn import_from_redis_server_redis() {
    import_from_redis_server("redis");
}
