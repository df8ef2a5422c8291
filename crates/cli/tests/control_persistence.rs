//! `--persistence` end to end on the real `ferrocache up`: what each mode sets on the
//! nodes of both engines, that an `aof-always` cache keeps every acknowledged write
//! through a SIGKILL of its node and a restart of the service, that `none` comes back
//! empty (also after an export or an import), that an import into an `aof` cache
//! replaces what every node keeps on disk, and that a bad value is refused with
//! nothing created.

#[allow(dead_code)]
#[path = "control/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "control/support.rs"]
mod support;

use ferrocache_testkit::{poll_until, Frame, RedisServer, RespConn, Server, TempDir};
use load::Writer;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{addr, Up, BIN};

/// How long the service may take to notice a killed node and start it again.
const RESTART_DEADLINE: Duration = Duration::from_secs(30);

/// One node's setting, through its direct port (the gateway forwards CONFIG).
fn config_get(direct_port: u16, key: &str, name: &str) -> String {
    let mut c = RespConn::connect(addr(direct_port)).unwrap();
    assert_eq!(c.cmd(&["AUTH", key]).unwrap(), Frame::Simple("OK".into()));
    match c.cmd(&["CONFIG", "GET", name]).unwrap() {
        Frame::Array(v) if v.len() == 2 => {
            String::from_utf8_lossy(v[1].as_bytes().unwrap()).into_owned()
        }
        other => panic!("CONFIG GET {name}: {other:?}"),
    }
}

/// A connection through `endpoint` that has answered a command: after a restart the
/// endpoint may refuse for a moment, until it reaches the new node.
fn serving(endpoint: u16, key: &str) -> RespConn {
    let mut conn = None;
    let ok = poll_until(RESTART_DEADLINE, || {
        let Ok(mut c) = RespConn::connect_timeout(addr(endpoint), Duration::from_secs(2)) else {
            return false;
        };
        let authed = matches!(c.cmd(&["AUTH", key]), Ok(Frame::Simple(_)));
        if authed && matches!(c.cmd(&["DBSIZE"]), Ok(Frame::Integer(_))) {
            conn = Some(c);
            return true;
        }
        false
    });
    assert!(ok, "the endpoint 127.0.0.1:{endpoint} never served again");
    conn.unwrap()
}

/// SIGKILLs the cache's only node and waits until the service has started another.
fn kill_node_and_wait_restart(up: &Up, cache: &str) {
    let path = format!("/caches/{cache}");
    let before = up.get(&path);
    let pid = before["nodes"][0]["pid"].as_u64().expect("node has a pid");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let restarted = poll_until(RESTART_DEADLINE, || {
        let c = up.get(&path);
        let n = &c["nodes"][0];
        n["pid"].as_u64().is_some_and(|p| p != pid) && n["health"] == "up"
    });
    assert!(restarted, "node not restarted: {}", up.get(&path));
}

/// `POST path` with a raw body: (status, JSON answer).
fn http_post(api: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, answer) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(answer).unwrap())
}

/// A basic cache created with `cache create --persistence aof-always`: writes run
/// through the endpoint while its node is SIGKILLed; once the service has started it
/// again, every acknowledged write is back, and again after the service itself was
/// stopped and run again.
fn aof_always_survives_sigkill(engine: &str) {
    let dir = TempDir::new("persist-aof").unwrap();
    let mut up = Up::start(&dir, engine, &["--tier", "basic"]);
    let created = up.cli(&[
        "cache",
        "create",
        "durable",
        "--tier",
        "basic",
        "--group",
        "g",
        "--engine",
        engine,
        "--persistence",
        "aof-always",
    ]);
    assert_eq!(created["spec"]["persistence"], "aof-always", "{created}");
    let shown = up.cli(&["cache", "show", "durable"]);
    assert_eq!(shown["spec"]["persistence"], "aof-always");
    let text = Command::new(BIN)
        .args([
            "cache",
            "show",
            "durable",
            "--api",
            &format!("http://{}", up.api),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("persistence aof-always"), "{text}");

    let key = up.cli(&["keys", "durable"])["primary"]
        .as_str()
        .unwrap()
        .to_string();
    let endpoint: u16 = created["endpoint"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let direct = created["nodes"][0]["direct_port"].as_u64().unwrap() as u16;
    assert_eq!(config_get(direct, &key, "appendonly"), "yes");
    assert_eq!(config_get(direct, &key, "appendfsync"), "always");
    assert_eq!(config_get(direct, &key, "save"), "");

    let writer = Writer::start(addr(endpoint), &key);
    assert!(poll_until(Duration::from_secs(10), || writer.acked() > 300));
    let acked_at_kill = writer.acked();
    kill_node_and_wait_restart(&up, "durable");
    let report = writer.stop();
    report.verify(&mut serving(endpoint, &key));
    println!(
        "{engine}: all {} acknowledged writes back ({acked_at_kill} before the SIGKILL; \
         {} errors while the node was down)",
        report.acked,
        report.errors.len()
    );

    // `ferrocache up` run again: the cache comes back from its AOF once more.
    up.stop();
    up.restart();
    report.verify(&mut serving(endpoint, &key));
}

#[test]
fn aof_always_survives_sigkill_builtin() {
    aof_always_survives_sigkill("builtin");
}

#[test]
fn aof_always_survives_sigkill_redis() {
    aof_always_survives_sigkill("redis");
}

/// `up --persistence none`: nodes run without a save schedule or AOF (redis-server's
/// own default would snapshot), and a killed node comes back empty.
fn none_keeps_nothing(engine: &str) {
    let dir = TempDir::new("persist-none").unwrap();
    let up = Up::start(&dir, engine, &["--tier", "basic", "--persistence", "none"]);
    assert_eq!(up.show()["spec"]["persistence"], "none");
    let key = up.key("primary");
    assert_eq!(config_get(up.node_base, &key, "save"), "");
    assert_eq!(config_get(up.node_base, &key, "appendonly"), "no");

    let mut conn = up.connect();
    assert_eq!(
        conn.cmd(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    kill_node_and_wait_restart(&up, "local");
    let mut conn = serving(up.endpoint, &key);
    assert_eq!(conn.cmd(&["DBSIZE"]).unwrap(), Frame::Integer(0));
    let files: Vec<String> = std::fs::read_dir(dir.path().join("caches/local/node-0"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files
            .iter()
            .any(|f| f == "dump.rdb" || f == "appendonlydir"),
        "{files:?}"
    );
}

#[test]
fn none_keeps_nothing_builtin() {
    none_keeps_nothing("builtin");
}

#[test]
fn none_keeps_nothing_redis() {
    none_keeps_nothing("redis");
}

/// A standard cache without persistence: the replica's full sync leaves no
/// snapshot file behind either.
fn none_replica_keeps_no_sync_file(engine: &str) {
    let dir = TempDir::new("persist-none-replica").unwrap();
    let up = Up::start(&dir, engine, &["--persistence", "none"]);
    let mut conn = up.connect();
    assert_eq!(
        conn.cmd(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    assert_eq!(conn.cmd(&["WAIT", "1", "5000"]).unwrap(), Frame::Integer(1));
    assert!(poll_until(Duration::from_secs(20), || all_synced(&up)));
    for node in ["node-0", "node-1"] {
        let files = file_names(&dir.path().join("caches/local").join(node));
        assert!(
            !files
                .iter()
                .any(|f| f.ends_with(".rdb") || f == "appendonlydir"),
            "{node}: {files:?}"
        );
    }
}

#[test]
fn none_replica_keeps_no_sync_file_builtin() {
    none_replica_keeps_no_sync_file("builtin");
}

#[test]
fn none_replica_keeps_no_sync_file_redis() {
    none_replica_keeps_no_sync_file("redis");
}

/// A bad value is refused by the API (400, the allowed values named, nothing created)
/// and by the CLI; `aof` through the API fsyncs every second; a cache created without
/// the field snapshots as before.
#[test]
fn bad_persistence_refused_aof_everysec_rdb_default() {
    let dir = TempDir::new("persist-bad").unwrap();
    let up = Up::start(&dir, "builtin", &["--tier", "basic"]);
    let (status, answer) = http_post(
        &up.api,
        "/caches",
        r#"{"name":"bogus","tier":"basic","group":"g","persistence":"bogus"}"#,
    );
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("unknown persistence 'bogus': expected one of none, rdb, aof, aof-always"),
        "{error}"
    );
    let caches = up.get("/caches");
    let names: Vec<&str> = caches
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["spec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["local"]);
    assert!(!dir.path().join("caches/bogus").exists());

    let out = Command::new(BIN)
        .args([
            "cache",
            "create",
            "bogus",
            "--group",
            "g",
            "--persistence",
            "bogus",
        ])
        .args(["--api", &format!("http://{}", up.api)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[possible values: none, rdb, aof, aof-always]"),
        "{stderr}"
    );

    let (status, answer) = http_post(
        &up.api,
        "/caches",
        r#"{"name":"everysec","tier":"basic","group":"g","persistence":"aof"}"#,
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["spec"]["persistence"], "aof");
    let direct = answer["nodes"][0]["direct_port"].as_u64().unwrap() as u16;
    let key = up.cli(&["keys", "everysec"])["primary"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(config_get(direct, &key, "appendonly"), "yes");
    assert_eq!(config_get(direct, &key, "appendfsync"), "everysec");
    assert_eq!(config_get(direct, &key, "save"), "");

    // `local` was created with no persistence given: today's snapshot schedule.
    assert_eq!(up.show()["spec"]["persistence"], "rdb");
    let key = up.key("primary");
    assert_eq!(config_get(up.node_base, &key, "save"), "60 1");
    assert_eq!(config_get(up.node_base, &key, "appendonly"), "no");
}

fn ok(c: &mut RespConn, args: &[&str]) {
    assert_eq!(c.cmd(args).unwrap(), Frame::Simple("OK".into()), "{args:?}");
}

/// The data the import tests expect: `x` (in the exported file), not `y` (written
/// after the export).
fn assert_only_x(c: &mut RespConn, what: &str) {
    assert_eq!(
        c.cmd(&["GET", "x"]).unwrap(),
        Frame::Bulk("1".into()),
        "{what}"
    );
    assert_eq!(
        c.cmd(&["EXISTS", "y"]).unwrap(),
        Frame::Integer(0),
        "{what}"
    );
    assert_eq!(c.cmd(&["DBSIZE"]).unwrap(), Frame::Integer(1), "{what}");
}

fn file_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every node of the standard cache `local` up, with its replica caught up.
fn all_synced(up: &Up) -> bool {
    let c = up.get("/caches/local");
    c["nodes"].as_array().is_some_and(|nodes| {
        nodes
            .iter()
            .all(|n| n["health"] == "up" && (n["role"] == "primary" || n["lag"] == 0))
    })
}

/// What a node's AOF directory holds, loaded by a redis-server of its own (both
/// engines write Redis's multi-part layout): the copy keeps the cache's files intact.
fn assert_aof_holds_only_x(aof_dir: &Path, what: &str) {
    let copy = TempDir::new("aof-copy").unwrap();
    let into = copy.path().join("appendonlydir");
    std::fs::create_dir(&into).unwrap();
    for name in file_names(aof_dir) {
        std::fs::copy(aof_dir.join(&name), into.join(&name)).unwrap();
    }
    let server = RedisServer::start_with(&[
        "--dir",
        copy.path().to_str().unwrap(),
        "--appendonly",
        "yes",
    ])
    .unwrap();
    assert_only_x(&mut RespConn::connect(server.addr()).unwrap(), what);
}

/// A standard `aof` cache: `x` written, exported, `y` written; a truncated copy of
/// the export is refused with `x` and `y` kept; the export imported: only `x` is served — through the endpoint and by each node — and only `x` is in
/// each node's AOF on disk; it stays so after the service and every node restart
/// and after a SIGKILL of the primary.
fn import_into_aof(engine: &str) {
    let dir = TempDir::new("persist-import-aof").unwrap();
    let mut up = Up::start(&dir, engine, &["--persistence", "aof"]);
    assert_eq!(up.show()["spec"]["persistence"], "aof");
    let key = up.key("primary");
    let mut c = up.connect();
    ok(&mut c, &["SET", "x", "1"]);
    let file = dir.path().join("x.rdb");
    up.cli(&["export", "local", file.to_str().unwrap()]);
    ok(&mut c, &["SET", "y", "2"]);

    // A file the primary cannot load: refused, and the AOF set aside is put back;
    // the node's exit at start is the import's to handle, not a failover.
    let epoch = up.show()["epoch"].clone();
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.rdb");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = Command::new(BIN)
        .args(["import", "local", cut.to_str().unwrap()])
        .args(["--api", &format!("http://{}", up.api)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a truncated file was imported");
    assert!(stderr.contains("the previous data is back"), "{stderr}");
    let mut c = serving(up.endpoint, &key);
    assert_eq!(
        c.cmd(&["DBSIZE"]).unwrap(),
        Frame::Integer(2),
        "x and y back"
    );
    assert!(
        poll_until(RESTART_DEADLINE, || all_synced(&up)),
        "{}",
        up.show()
    );
    assert_eq!(up.show()["epoch"], epoch, "no failover");

    let imported = up.cli(&["import", "local", file.to_str().unwrap()]);
    assert_eq!(imported["keys"].as_u64(), Some(1), "{imported}");

    assert_only_x(&mut serving(up.endpoint, &key), "endpoint after the import");
    assert!(
        poll_until(RESTART_DEADLINE, || all_synced(&up)),
        "{}",
        up.show()
    );
    for i in 0..2 {
        let direct = up.node_base + i;
        assert_only_x(&mut serving(direct, &key), &format!("node {i}"));
        // The primary got it at run time; restarts take it from the command line.
        assert_eq!(config_get(direct, &key, "appendonly"), "yes", "node {i}");
    }

    // What each node would load at its next start.
    up.stop();
    let nodes = dir.path().join("caches/local");
    for i in 0..2 {
        let node_dir = nodes.join(format!("node-{i}"));
        assert_aof_holds_only_x(&node_dir.join("appendonlydir"), &format!("node {i}'s AOF"));
        let files = file_names(&node_dir);
        assert!(
            !files.iter().any(|f| f.contains("before-import")),
            "node {i}: {files:?}"
        );
    }
    // The primary's dump served the import once and went (a replica of redis-server
    // keeps the file its full sync arrived in; it never loads it with appendonly yes).
    let files = file_names(&nodes.join("node-0"));
    assert!(!files.iter().any(|f| f == "dump.rdb"), "{files:?}");

    up.restart();
    assert_only_x(
        &mut serving(up.endpoint, &key),
        "after the service restarted",
    );
    assert!(
        poll_until(RESTART_DEADLINE, || all_synced(&up)),
        "{}",
        up.show()
    );

    // SIGKILL of the primary: the replica takes over, the old primary comes back
    // from its own AOF as a replica.
    let (index, pid) = up.primary_pid();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let back = poll_until(RESTART_DEADLINE, || {
        let n = &up.show()["nodes"][index];
        n["pid"].as_u64().is_some_and(|p| p != u64::from(pid)) && all_synced(&up)
    });
    assert!(back, "{}", up.show());
    assert_only_x(&mut serving(up.endpoint, &key), "after the SIGKILL");
    for i in 0..2 {
        assert_only_x(
            &mut serving(up.node_base + i, &key),
            &format!("node {i} after the SIGKILL"),
        );
    }
}

#[test]
fn import_into_aof_builtin() {
    import_into_aof("builtin");
}

#[test]
fn import_into_aof_redis() {
    import_into_aof("redis");
}

/// A basic `none` cache: an export leaves no snapshot behind, so the killed node comes
/// back empty; the export imported back is loaded (though the node has no save
/// schedule) and served, and a later kill finds nothing again.
fn none_export_and_import(engine: &str) {
    let dir = TempDir::new("persist-none-export").unwrap();
    let up = Up::start(&dir, engine, &["--tier", "basic", "--persistence", "none"]);
    let key = up.key("primary");
    let node_dir = dir.path().join("caches/local/node-0");
    let mut c = up.connect();
    ok(&mut c, &["SET", "x", "1"]);
    let file = dir.path().join("x.rdb");
    let exported = up.cli(&["export", "local", file.to_str().unwrap()]);
    assert!(exported["bytes"].as_u64().unwrap() > 0, "{exported}");
    let files = file_names(&node_dir);
    assert!(!files.iter().any(|f| f == "dump.rdb"), "{files:?}");

    kill_node_and_wait_restart(&up, "local");
    let mut c = serving(up.endpoint, &key);
    assert_eq!(
        c.cmd(&["DBSIZE"]).unwrap(),
        Frame::Integer(0),
        "no stale dump"
    );

    let imported = up.cli(&["import", "local", file.to_str().unwrap()]);
    assert_eq!(imported["keys"].as_u64(), Some(1), "{imported}");
    let mut c = serving(up.endpoint, &key);
    assert_eq!(c.cmd(&["GET", "x"]).unwrap(), Frame::Bulk("1".into()));
    let files = file_names(&node_dir);
    assert!(
        !files
            .iter()
            .any(|f| f == "dump.rdb" || f.contains("before-import")),
        "{files:?}"
    );

    kill_node_and_wait_restart(&up, "local");
    let mut c = serving(up.endpoint, &key);
    assert_eq!(c.cmd(&["DBSIZE"]).unwrap(), Frame::Integer(0), "none again");
}

#[test]
fn none_export_and_import_builtin() {
    none_export_and_import("builtin");
}

#[test]
fn none_export_and_import_redis() {
    none_export_and_import("redis");
}
