//! A node's data across restarts, the `save` schedule, and BGSAVE under load.

use super::data::{cmd, node_on, ok, send};
use ferrocache_testkit::{poll_until, Frame, RespConn, Server, TempDir};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec().into())
}

fn info_field(c: &mut RespConn, field: &str) -> String {
    info_in(c, "persistence", field)
}

fn info_in(c: &mut RespConn, section: &str, field: &str) -> String {
    let text = match cmd(c, &format!("INFO {section}")) {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

#[test]
fn shutdown_save_and_restart_keeps_data() {
    let dir = TempDir::new("restart").unwrap();
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    ok(&mut c, "SET k v");
    ok(&mut c, "SET t v PX 100000000");
    c.write_command(&["SHUTDOWN", "SAVE"]).unwrap();
    assert!(c.wait_closed(Duration::from_secs(10)).unwrap());
    assert!(node.wait_exit(Duration::from_secs(10)).unwrap().success());

    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "GET k"), bulk("v"));
    assert!(matches!(cmd(&mut c, "PTTL t"), Frame::Integer(ms) if ms > 99_000_000));
    assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), "2");
}

#[test]
fn save_then_sigterm_and_sigterm_with_save_points() {
    let dir = TempDir::new("sigterm").unwrap();
    // No save points (the default): SIGTERM does not save, SAVE does.
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    ok(&mut c, "SET saved 1");
    ok(&mut c, "SAVE");
    ok(&mut c, "SET unsaved 1");
    drop(c);
    assert!(node.stop().unwrap().success());
    let node = node_on(dir.path(), &["--set", "save=3600 1"]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "EXISTS saved unsaved"), Frame::Integer(1));
    // With save points, SIGTERM saves (as Redis does).
    ok(&mut c, "SET at-exit 1");
    drop(c);
    assert!(node.stop().unwrap().success());
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "EXISTS saved at-exit"), Frame::Integer(2));
}

#[test]
fn save_schedule_from_config_file_and_config_set() {
    let dir = TempDir::new("schedule").unwrap();
    let conf = dir.path().join("node.toml");
    std::fs::write(&conf, "save = \"1 2\"\n").unwrap();
    let conf_arg = conf.display().to_string();
    let node = node_on(dir.path(), &["--config", &conf_arg]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(
        cmd(&mut c, "CONFIG GET save"),
        Frame::Array(vec![bulk("save"), bulk("1 2")])
    );
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    ok(&mut c, "SET a 1");
    ok(&mut c, "SET b 2");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "2");
    // More than a second later with two changes, cron saves by itself.
    assert!(
        poll_until(Duration::from_secs(10), || info_field(&mut c, "rdb_saves")
            != "0"),
        "no scheduled save"
    );
    assert!(poll_until(Duration::from_secs(5), || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    }));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(dir.path().join("dump.rdb").exists());
    assert_eq!(
        send(&mut c, &[b"CONFIG", b"SET", b"save", b"3600 1 300 100"]),
        Frame::Simple("OK".into())
    );
    assert_eq!(
        cmd(&mut c, "CONFIG GET save"),
        Frame::Array(vec![bulk("save"), bulk("3600 1 300 100")])
    );
}

#[test]
fn bgsave_serves_writers_and_writes_a_point_in_time_copy() {
    let dir = TempDir::new("bgsave").unwrap();
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    // Enough data that the write takes a while.
    let batch: Vec<Vec<Vec<u8>>> = (0..200_000)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("fill:{i}").into_bytes(),
                format!("value-{i}-{}", "x".repeat(40)).into_bytes(),
            ]
        })
        .collect();
    for chunk in batch.chunks(20_000) {
        c.pipeline(chunk).unwrap();
    }

    // A writer bumps x then y, one command each: any point-in-time copy has
    // x == y or x == y + 1.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let addr = node.addr();
        std::thread::spawn(move || {
            let mut w = RespConn::connect(addr).unwrap();
            let mut n = 0u64;
            while !stop.load(Relaxed) {
                n += 1;
                for k in ["x", "y"] {
                    let r = w.send(&["SET", k, &n.to_string()]).unwrap();
                    assert_eq!(r, Frame::Simple("OK".into()), "writer refused");
                }
            }
            n
        })
    };
    assert!(poll_until(Duration::from_secs(5), || cmd(
        &mut c, "EXISTS y"
    ) == Frame::Integer(
        1
    )));
    assert_eq!(
        cmd(&mut c, "BGSAVE"),
        Frame::Simple("Background saving started".into())
    );
    let second = cmd(&mut c, "BGSAVE");
    assert!(
        second == Frame::Error("ERR Background save already in progress".into())
            || second == Frame::Simple("Background saving started".into()),
        "{second:?}"
    );
    assert!(poll_until(Duration::from_secs(30), || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    }));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // The keyspace clone stands in for fork(): INFO stats counts and times it in
    // the fields tools read for the fork stall.
    let forks: u64 = info_in(&mut c, "stats", "total_forks").parse().unwrap();
    assert!(forks >= 1, "total_forks {forks}");
    assert!(info_in(&mut c, "stats", "latest_fork_usec")
        .parse::<u64>()
        .is_ok());
    stop.store(true, Relaxed);
    let writes = writer.join().unwrap();
    assert!(writes > 0);

    // Load the file in a second node and check the pair.
    let copy = TempDir::new("bgsave-copy").unwrap();
    std::fs::copy(dir.path().join("dump.rdb"), copy.path().join("dump.rdb")).unwrap();
    let loaded = node_on(copy.path(), &[]).unwrap();
    let mut l = loaded.connect().unwrap();
    let num = |f: Frame| match f {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).parse::<u64>().unwrap(),
        other => panic!("{other:?}"),
    };
    let (x, y) = (num(cmd(&mut l, "GET x")), num(cmd(&mut l, "GET y")));
    assert!(
        x == y || x == y + 1,
        "not a point-in-time copy: x={x} y={y}"
    );
    assert_eq!(cmd(&mut l, "DBSIZE"), Frame::Integer(200_002));
}

#[test]
fn bgsave_schedule_lastsave_and_errors() {
    let dir = TempDir::new("bgsave-misc").unwrap();
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    let Frame::Integer(before) = cmd(&mut c, "LASTSAVE") else {
        panic!("LASTSAVE")
    };
    assert_eq!(
        cmd(&mut c, "BGSAVE NOW"),
        Frame::Error("ERR syntax error".into())
    );
    ok(&mut c, "SET k v");
    let r = cmd(&mut c, "BGSAVE SCHEDULE");
    assert!(
        r == Frame::Simple("Background saving started".into())
            || r == Frame::Simple("Background saving scheduled".into()),
        "{r:?}"
    );
    assert!(poll_until(Duration::from_secs(10), || {
        info_field(&mut c, "rdb_saves") == "1"
            && info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    }));
    let Frame::Integer(after) = cmd(&mut c, "LASTSAVE") else {
        panic!("LASTSAVE")
    };
    assert!(after >= before);
    // A directory that cannot be written: SAVE fails with Redis's bare ERR, the
    // old dump stays.
    let missing = dir.path().join("no-such-dir");
    let r = send(
        &mut c,
        &[
            b"CONFIG",
            b"SET",
            b"dir",
            missing.display().to_string().as_bytes(),
        ],
    );
    if r == Frame::Simple("OK".into()) {
        assert_eq!(cmd(&mut c, "SAVE"), Frame::Error("ERR".into()));
    }
}
