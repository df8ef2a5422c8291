//! Tests of `FerroNode`'s process handling with stand-in scripts, so they run before
//! (and independently of) the real node: ready-line parsing, clean stop, early exit.

use ferrocache_testkit::{FerroNode, Server, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn script(dir: &TempDir, body: &str) -> PathBuf {
    let path = dir.path().join("fake-node");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `FerroNode::start` on a script just written. A test thread beside this one can
/// fork while the script's file is still open for writing here; its child holds
/// the descriptor until it execs, and exec of the script meanwhile fails with
/// "Text file busy". That is tried again; every other outcome is returned.
fn start(bin: &Path, args: &[&str]) -> anyhow::Result<FerroNode> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match FerroNode::start(bin, args) {
            Err(e) if format!("{e:#}").contains("Text file busy") && Instant::now() < deadline => {}
            other => return other,
        }
    }
}

#[test]
fn parses_ready_line_and_stops_cleanly_on_sigterm() {
    let dir = TempDir::new("fake").unwrap();
    // Checks its arguments, logs a line first, then announces readiness.
    let bin = script(
        &dir,
        r#"[ "$1 $2 $3 $4 $5 $6" = "node --port 0 --bind 127.0.0.1 --dir" ] || exit 3
[ -d "$7" ] || exit 4
[ "$8" = "--extra" ] || exit 5
echo "starting up"
echo "ferrocache node ready, listening on 127.0.0.1:43211"
trap 'exit 0' TERM
while :; do sleep 0.05; done"#,
    );
    let node = start(&bin, &["--extra"]).unwrap();
    assert_eq!(node.addr(), "127.0.0.1:43211".parse().unwrap());
    assert_eq!(node.port(), 43211);
    assert!(node.pid() > 0);
    assert!(node.log_tail().contains("starting up"));
    let status = node.stop().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn early_exit_is_an_error_with_the_log() {
    let dir = TempDir::new("fake").unwrap();
    let bin = script(&dir, "echo 'bad flag' >&2; exit 2");
    let err = start(&bin, &[]).unwrap_err().to_string();
    assert!(err.contains("bad flag"), "{err}");
}

#[test]
fn drop_kills_a_node_that_ignores_sigterm() {
    let dir = TempDir::new("fake").unwrap();
    let bin = script(
        &dir,
        "trap '' TERM\necho ready 127.0.0.1:1\nwhile :; do sleep 0.05; done",
    );
    let node = start(&bin, &[]).unwrap();
    let pid = node.pid();
    drop(node);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
