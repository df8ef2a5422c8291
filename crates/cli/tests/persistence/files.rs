//! Whole files between ferrocache and redis-server, and files refused at start.

use super::data::bin;
use super::data::{assert_same, cmd, contents, node_on, ok, populate, server_dir};
use ferrocache_testkit::{poll_until, FerroNode, RedisServer, Server, TempDir};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// What redis-server itself holds after loading its own dump of the dataset: the
/// reference both directions are compared with (a load re-encodes values, e.g.
/// a string grown by SETRANGE comes back as embstr, in Redis as here).
fn redis_reference() -> (RedisServer, std::collections::BTreeMap<String, String>) {
    let redis = RedisServer::start_with(&["--enable-debug-command", "yes"]).unwrap();
    let mut c = redis.connect().unwrap();
    populate(&mut c);
    ok(&mut c, "DEBUG RELOAD");
    let expected = contents(&mut c);
    (redis, expected)
}

fn copy_dump(from_dir: &Path, to_dir: &Path) {
    std::fs::copy(from_dir.join("dump.rdb"), to_dir.join("dump.rdb")).expect("copy dump.rdb");
}

#[test]
fn redis_file_loads_in_ferrocache_identically() {
    let (redis, expected) = redis_reference();
    let mut c = redis.connect().unwrap();
    ok(&mut c, "SAVE");
    let dir = TempDir::new("from-redis").unwrap();
    copy_dump(&server_dir(&redis), dir.path());
    let node = node_on(dir.path(), &[]).unwrap();
    let got = contents(&mut node.connect().unwrap());
    assert_same("redis-server's file loaded by ferrocache", &expected, &got);
}

#[test]
fn ferrocache_file_loads_in_redis_identically() {
    let (_redis, expected) = redis_reference();
    let dir = TempDir::new("ferro-save").unwrap();
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    populate(&mut c);
    ok(&mut c, "SAVE");

    let redis_dir = TempDir::new("redis-load").unwrap();
    copy_dump(dir.path(), redis_dir.path());
    let dir_arg = redis_dir.path().display().to_string();
    let loaded = RedisServer::start_with(&["--dir", &dir_arg, "--dbfilename", "dump.rdb"]).unwrap();
    let got = contents(&mut loaded.connect().unwrap());
    assert_same("ferrocache's file loaded by redis-server", &expected, &got);

    // And ferrocache's own round trip gives what Redis's does.
    ok(&mut c, "DEBUG RELOAD");
    assert_same("DEBUG RELOAD in ferrocache", &expected, &contents(&mut c));
}

#[test]
fn uncompressed_files_load_both_ways() {
    let dir = TempDir::new("ferro-nocomp").unwrap();
    let node = node_on(dir.path(), &["--set", "rdbcompression=no"]).unwrap();
    let mut c = node.connect().unwrap();
    populate(&mut c);
    ok(&mut c, "SAVE");
    let before = contents(&mut c);
    let redis_dir = TempDir::new("redis-nocomp").unwrap();
    copy_dump(dir.path(), redis_dir.path());
    let dir_arg = redis_dir.path().display().to_string();
    let loaded = RedisServer::start_with(&["--dir", &dir_arg, "--dbfilename", "dump.rdb"]).unwrap();
    let mut r = loaded.connect().unwrap();
    assert_eq!(
        contents(&mut r).len(),
        before.len(),
        "redis-server loaded every key of an uncompressed file"
    );
}

/// Starts the node on a directory holding `file` as its dump and returns what it
/// printed: it must exit with an error, within a deadline, without serving.
fn start_fails_with(file: &[u8]) -> String {
    let dir = TempDir::new("corrupt").unwrap();
    std::fs::write(dir.path().join("dump.rdb"), file).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["node", "--port", "0", "--bind", "127.0.0.1", "--dir"])
        .arg(dir.path())
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    let exited = poll_until(Duration::from_secs(20), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the node kept running with a bad dump file");
    }
    assert!(!status.unwrap().success(), "the node must refuse to start");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(!out.contains("ready"), "the node served: {out}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn corrupt_and_truncated_files_stop_the_start() {
    // A good file to damage: one saved by ferrocache.
    let dir = TempDir::new("good").unwrap();
    let node = node_on(dir.path(), &[]).unwrap();
    let mut c = node.connect().unwrap();
    populate(&mut c);
    ok(&mut c, "SAVE");
    drop(c);
    node.stop().unwrap();
    let good = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    // It loads as it is.
    let again = node_on(dir.path(), &[]).unwrap();
    assert_eq!(
        cmd(&mut again.connect().unwrap(), "DBSIZE"),
        ferrocache_testkit::Frame::Integer(26)
    );
    drop(again);

    let truncated = start_fails_with(&good[..good.len() / 2]);
    assert!(
        truncated.contains("cannot load") && truncated.contains("truncated input"),
        "{truncated}"
    );

    let mut flipped = good.clone();
    let at = good.len() / 3;
    flipped[at] ^= 0x5a;
    // Where the flipped byte lands depends on the key order, which the hash seed
    // of the saving process decides: a string's bytes (caught by the checksum), a
    // length (the input then ends too soon) or an encoding (caught while parsing),
    // or an intset member turned into a duplicate of another (caught as Redis's
    // loader catches it). Each is a refusal that names its cause.
    let corrupt = start_fails_with(&flipped);
    assert!(
        corrupt.contains("cannot load")
            && [
                "checksum mismatch",
                "corrupt input",
                "corrupt RDB",
                "truncated input"
            ]
            .iter()
            .any(|cause| corrupt.contains(cause)),
        "{corrupt}"
    );

    let garbage = start_fails_with(b"this is not an RDB file at all");
    assert!(garbage.contains("the first 9 bytes"), "{garbage}");

    let no_checksum_end = start_fails_with(&good[..good.len() - 4]);
    assert!(no_checksum_end.contains("cannot load"), "{no_checksum_end}");
}

#[test]
fn missing_file_starts_empty() {
    let dir = TempDir::new("empty").unwrap();
    let node: FerroNode = node_on(dir.path(), &[]).unwrap();
    assert_eq!(
        cmd(&mut node.connect().unwrap(), "DBSIZE"),
        ferrocache_testkit::Frame::Integer(0)
    );
}
