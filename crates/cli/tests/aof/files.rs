//! The AOF's files: a truncated last command is tolerated (and cut away), real
//! corruption refuses the start with the file and offset named, and the
//! directory loads in `redis-server` (and Redis's in ferrocache) with identical
//! contents.

use super::common::{last_incr, shutdown};
use super::data::{assert_same, cmd, contents, node_on, ok, populate};
use ferrocache_testkit::{poll_until, Frame, RedisServer, Server, TempDir};
use std::io::Write;
use std::time::Duration;

const AOF: [&str; 2] = ["--set", "appendonly=yes"];

fn append(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// A node with AOF that wrote `keep` (complete) and was stopped cleanly.
fn written(dir: &std::path::Path) -> u64 {
    let node = node_on(dir, &AOF).unwrap();
    let mut c = node.connect().unwrap();
    ok(&mut c, "SET keep 1");
    ok(&mut c, "SET keep2 2");
    shutdown(node);
    std::fs::metadata(last_incr(dir)).unwrap().len()
}

#[test]
fn a_truncated_last_command_is_tolerated_and_cut_away() {
    let dir = TempDir::new("aof-trunc").unwrap();
    let good = written(dir.path());
    let incr = last_incr(dir.path());
    // Killed in the middle of appending a command …
    append(&incr, b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1");

    // … refused when truncation is not tolerated, naming the file …
    let err = start_fails(dir.path(), &["--set", "aof-load-truncated=no"]);
    assert!(err.contains("Unexpected end of file"), "{err}");
    assert!(err.contains("appendonly.aof.1.incr.aof"), "{err}");

    // … and loaded by default, with the file cut back to the last whole command.
    let node = node_on(dir.path(), &AOF).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "EXISTS keep keep2 lost"), Frame::Integer(2));
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), good);
    ok(&mut c, "SET after 1");
    shutdown(node);

    // A transaction without its EXEC at the end is dropped whole.
    append(
        &incr,
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$5\r\nhalf1\r\n$1\r\n1\r\n",
    );
    let node = node_on(dir.path(), &AOF).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(cmd(&mut c, "EXISTS keep after half1"), Frame::Integer(2));
}

#[test]
fn corruption_in_the_middle_refuses_the_start() {
    let dir = TempDir::new("aof-corrupt").unwrap();
    let good = written(dir.path());
    let incr = last_incr(dir.path());
    append(
        &incr,
        b"garbage that is no command\r\n*2\r\n$3\r\nDEL\r\n$4\r\nkeep\r\n",
    );
    let err = start_fails(dir.path(), &[]);
    assert!(err.contains("Bad file format"), "{err}");
    assert!(err.contains("appendonly.aof.1.incr.aof"), "{err}");
    assert!(err.contains(&format!("offset {good}")), "{err}");
    // Nothing was changed: the file is as it was.
    assert!(std::fs::metadata(&incr).unwrap().len() > good);
}

#[test]
fn redis_server_loads_our_aof_directory_and_we_load_its() {
    // Ours: the dataset in the base (after a rewrite) and more in the
    // incremental file, in several databases.
    let dir = TempDir::new("aof-ours").unwrap();
    let node = node_on(dir.path(), &AOF).unwrap();
    let mut c = node.connect().unwrap();
    populate(&mut c);
    let rewrites = |c: &mut _| super::common::info_field(c, "aof_rewrites");
    let before = rewrites(&mut c);
    assert_eq!(
        cmd(&mut c, "BGREWRITEAOF"),
        Frame::Simple("Background append only file rewriting started".into())
    );
    assert!(poll_until(Duration::from_secs(20), || rewrites(&mut c) != before));
    ok(&mut c, "SET after:rewrite 1");
    cmd(&mut c, "SELECT 5");
    ok(&mut c, "SET db5:after 2");
    cmd(&mut c, "HSET db5:h f v");
    cmd(&mut c, "SELECT 0");
    cmd(&mut c, "INCRBYFLOAT after:float 2.5");
    drop(c);
    shutdown(node);
    // What the AOF holds, as ferrocache loads it back.
    let node = node_on(dir.path(), &AOF).unwrap();
    let mut c = node.connect().unwrap();
    let ours = contents(&mut c);
    drop(c);
    shutdown(node);

    let aof_dir = dir.path().join("appendonlydir");
    let redis_dir = TempDir::new("aof-redis").unwrap();
    copy_dir(&aof_dir, &redis_dir.path().join("appendonlydir"));
    let d = redis_dir.path().display().to_string();
    let redis = RedisServer::start_with(&["--appendonly", "yes", "--dir", &d]).unwrap();
    let mut r = redis.connect().unwrap();
    let theirs = contents(&mut r);
    assert_same("redis-server loading ferrocache's AOF", &ours, &theirs);

    // Theirs: redis-server appends to the directory; ferrocache loads the result.
    cmd(&mut r, "SET from:redis 1");
    cmd(&mut r, "SELECT 7");
    cmd(&mut r, "RPUSH from:redis:list a b c");
    cmd(&mut r, "EXPIRE from:redis:list 100000");
    cmd(&mut r, "SELECT 0");
    let theirs = contents(&mut r);
    r.write_command(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(r.wait_closed(Duration::from_secs(10)).unwrap());
    drop(redis);
    let back = TempDir::new("aof-back").unwrap();
    copy_dir(
        &redis_dir.path().join("appendonlydir"),
        &back.path().join("appendonlydir"),
    );
    let node = node_on(back.path(), &AOF).unwrap();
    let mut c = node.connect().unwrap();
    let again = contents(&mut c);
    // TTLs were relative in Redis's file and made absolute by each loader: allow
    // the key with a TTL to differ only in its expiry.
    let strip = |m: &std::collections::BTreeMap<String, String>| {
        let mut m = m.clone();
        m.remove("7/from:redis:list");
        m
    };
    assert_same(
        "ferrocache loading redis-server's AOF",
        &strip(&theirs),
        &strip(&again),
    );
    assert_eq!(cmd(&mut c, "SELECT 7"), Frame::Simple("OK".into()));
    assert!(matches!(cmd(&mut c, "TTL from:redis:list"), Frame::Integer(t) if t > 99_000));
}

/// Starts a node with AOF on `dir` that must refuse to start; returns what it
/// printed (without backtraces).
fn start_fails(dir: &std::path::Path, extra: &[&str]) -> String {
    let mut child = std::process::Command::new(super::data::bin())
        .args(["node", "--port", "0", "--bind", "127.0.0.1", "--dir"])
        .arg(dir)
        .args(AOF)
        .args(extra)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    poll_until(Duration::from_secs(30), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the node started although its AOF is damaged");
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}
