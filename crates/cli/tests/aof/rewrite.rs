//! BGREWRITEAOF and `CONFIG SET appendonly yes` while writers write: no write is
//! refused or stalled for good, and a restart gives exactly the data.

use super::common::{assert_present, info_field, shutdown, Writers};
use super::data::{assert_same, cmd, contents, node_on};
use ferrocache_testkit::{poll_until, Frame, Server, TempDir};
use std::time::Duration;

const SIGKILL: i32 = 9;

#[test]
fn bgrewriteaof_under_writers_keeps_exactly_the_data() {
    let dir = TempDir::new("aof-rewrite").unwrap();
    let args = ["--set", "appendonly=yes", "--set", "appendfsync=always"];
    let node = node_on(dir.path(), &args).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    let writers = Writers::start(node.addr(), 4);
    for round in 1..=3 {
        let seen = writers.total();
        assert!(poll_until(Duration::from_secs(30), || writers.total() >= seen + 500));
        assert_eq!(
            cmd(&mut c, "BGREWRITEAOF"),
            Frame::Simple("Background append only file rewriting started".into())
        );
        assert!(
            poll_until(Duration::from_secs(30), || {
                info_field(&mut c, "aof_rewrites") == round.to_string()
                    && info_field(&mut c, "aof_rewrite_in_progress") == "0"
            }),
            "rewrite {round} did not finish"
        );
        assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    }
    // Writers kept being acknowledged after the last rewrite.
    let seen = writers.total();
    assert!(poll_until(Duration::from_secs(30), || writers.total() >= seen + 200));
    assert_eq!(writers.errors(), 0, "a write was refused during a rewrite");
    let acked = writers.finish();
    let before = contents(&mut c);
    let base: u64 = info_field(&mut c, "aof_base_size").parse().unwrap();
    assert!(base > 0);
    drop(c);
    shutdown(node);

    // One base and one incremental file remain.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    let node = node_on(dir.path(), &args).unwrap();
    let mut c = node.connect().unwrap();
    assert_same(
        "after BGREWRITEAOF and a restart",
        &before,
        &contents(&mut c),
    );
    for (w, times) in acked.iter().enumerate() {
        assert_present(&mut c, w, times.len());
    }
}

#[test]
fn config_set_appendonly_yes_at_runtime_then_kill_9() {
    let dir = TempDir::new("aof-runtime").unwrap();
    let node = node_on(dir.path(), &["--set", "appendfsync=always"]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    cmd(&mut c, "SET before:enable 1");
    let writers = Writers::start(node.addr(), 2);
    assert!(poll_until(Duration::from_secs(30), || writers.total() >= 200));
    assert_eq!(
        cmd(&mut c, "CONFIG SET appendonly yes"),
        Frame::Simple("OK".into())
    );
    assert!(poll_until(Duration::from_secs(30), || {
        info_field(&mut c, "aof_rewrites") == "1"
    }));
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    let seen = writers.total();
    assert!(poll_until(Duration::from_secs(30), || writers.total() >= seen + 300));
    node.stop_with_signal(SIGKILL).unwrap();
    let acked = writers.finish();

    let node = node_on(dir.path(), &["--set", "appendonly=yes"]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "EXISTS before:enable"), Frame::Integer(1));
    for (w, times) in acked.iter().enumerate() {
        assert_present(&mut c, w, times.len());
    }
    // And off again: the writer stops, INFO says so.
    assert_eq!(
        cmd(&mut c, "CONFIG SET appendonly no"),
        Frame::Simple("OK".into())
    );
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
}
