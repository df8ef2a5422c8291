//! The node's limits and hygiene against the real binary: clean shutdown, idle
//! timeout, maxclients, AUTH, output and query buffer limits, protocol errors that
//! close only their own connection, active expiry, CLIENT PAUSE/KILL/REPLY.

use ferrocache_testkit::{poll_until, FerroNode, Frame, RespConn, Server};
use std::path::Path;
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferrocache"))
}

fn node(args: &[&str]) -> FerroNode {
    FerroNode::start(bin(), args).expect("node starts")
}

fn simple(s: &str) -> Frame {
    Frame::Simple(s.as_bytes().to_vec().into())
}

fn error(s: &str) -> Frame {
    Frame::Error(s.as_bytes().to_vec().into())
}

fn int(c: &mut RespConn, args: &[&str]) -> i64 {
    match c.cmd(args).expect("reply") {
        Frame::Integer(i) => i,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

#[test]
fn sigterm_stops_cleanly_with_clients_connected() {
    let n = node(&[]);
    let mut c = n.connect().unwrap();
    assert_eq!(c.cmd(&["SET", "k", "v"]).unwrap(), simple("OK"));
    let status = n.stop().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(c.wait_closed(Duration::from_secs(5)).unwrap());
}

#[test]
fn shutdown_command_ends_the_process() {
    let n = node(&[]);
    let mut c = n.connect().unwrap();
    c.write_command(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(c.wait_closed(Duration::from_secs(5)).unwrap());
    let status = n.wait_exit(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn idle_connections_are_closed_after_timeout_but_subscribers_are_not() {
    let n = node(&["--set", "timeout=1"]);
    let mut idle = n.connect().unwrap();
    let mut sub = n.connect().unwrap();
    sub.cmd(&["SUBSCRIBE", "ch"]).unwrap();
    assert_eq!(idle.cmd(&["PING"]).unwrap(), simple("PONG"));
    assert!(
        idle.wait_closed(Duration::from_secs(10)).unwrap(),
        "idle client was not closed"
    );
    assert!(
        !sub.is_closed(),
        "a subscriber must not be closed for idleness"
    );
    let mut other = n.connect().unwrap();
    assert_eq!(int(&mut other, &["PUBLISH", "ch", "still here"]), 1);
}

#[test]
fn maxclients_rejects_with_redis_error() {
    let n = node(&["--set", "maxclients=2"]);
    let mut a = n.connect().unwrap();
    let mut b = n.connect().unwrap();
    assert_eq!(a.cmd(&["PING"]).unwrap(), simple("PONG"));
    assert_eq!(b.cmd(&["PING"]).unwrap(), simple("PONG"));
    let mut c = n.connect().unwrap();
    assert_eq!(
        c.read_frame().unwrap(),
        error("ERR max number of clients reached")
    );
    assert!(c.wait_closed(Duration::from_secs(5)).unwrap());
}

#[test]
fn requirepass_gates_commands_with_redis_wording() {
    let n = node(&["--requirepass", "s3cret"]);
    let mut c = n.connect().unwrap();
    assert_eq!(
        c.cmd(&["GET", "k"]).unwrap(),
        error("NOAUTH Authentication required.")
    );
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]).unwrap(),
        error("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.cmd(&["AUTH", "s3cret"]).unwrap(), simple("OK"));
    assert_eq!(c.cmd(&["GET", "k"]).unwrap(), Frame::Null);
    let mut h = n.connect().unwrap();
    match h.cmd(&["HELLO", "3", "AUTH", "default", "s3cret"]).unwrap() {
        Frame::Map(fields) => assert!(fields
            .iter()
            .any(|(k, v)| k.as_bytes() == Some(b"proto") && *v == Frame::Integer(3))),
        other => panic!("HELLO 3 should reply with a map, got {other:?}"),
    }
}

#[test]
fn protocol_error_closes_only_that_connection() {
    let n = node(&[]);
    let mut good = n.connect().unwrap();
    let mut bad = n.connect().unwrap();
    bad.send_raw(b"*1\r\n$abc\r\n").unwrap();
    assert_eq!(
        bad.read_frame().unwrap(),
        error("ERR Protocol error: invalid bulk length")
    );
    assert!(bad.wait_closed(Duration::from_secs(5)).unwrap());
    assert_eq!(good.cmd(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn garbage_never_takes_the_node_down() {
    let n = node(&[]);
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..200 {
        let mut c = n.connect().unwrap();
        let len = rng.usize(1..512);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        // Half the time make it look like RESP so the parser goes deeper.
        if rng.bool() {
            junk.insert(0, b'*');
        }
        let _ = c.send_raw(&junk);
    }
    let mut c = n.connect().unwrap();
    assert_eq!(c.cmd(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn oversized_bulk_is_refused_and_query_buffer_is_bounded() {
    let n = node(&[
        "--set",
        "proto-max-bulk-len=1mb",
        "--set",
        "client-query-buffer-limit=1mb",
    ]);
    let mut c = n.connect().unwrap();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        .unwrap();
    assert_eq!(
        c.read_frame().unwrap(),
        error("ERR Protocol error: invalid bulk length")
    );
    assert!(c.wait_closed(Duration::from_secs(5)).unwrap());
    // A huge inline line with no newline: the connection is closed, memory stays bounded.
    let mut d = n.connect().unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..40 {
        if d.send_raw(&chunk).is_err() {
            break;
        }
    }
    assert!(d.wait_closed(Duration::from_secs(5)).unwrap());
    let mut e = n.connect().unwrap();
    assert_eq!(e.cmd(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn slow_subscriber_is_disconnected_by_output_buffer_limit() {
    let n = node(&["--set", "client-output-buffer-limit=pubsub 256kb 128kb 60"]);
    let mut sub = n.connect().unwrap();
    sub.cmd(&["SUBSCRIBE", "firehose"]).unwrap();
    // The subscriber never reads again; the publisher keeps going.
    let mut publisher = n.connect().unwrap();
    let payload = "x".repeat(64 * 1024);
    let gone = poll_until(Duration::from_secs(20), || {
        publisher.cmd(&["PUBLISH", "firehose", &payload]).is_ok()
            && matches!(publisher.cmd(&["PUBSUB", "NUMSUB", "firehose"]),
                Ok(Frame::Array(ref v)) if v.get(1) == Some(&Frame::Integer(0)))
    });
    assert!(gone, "slow subscriber still subscribed");
    let info = publisher.cmd(&["INFO", "stats"]).unwrap();
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    assert!(
        text.contains("client_output_buffer_limit_disconnections:1"),
        "{text}"
    );
}

#[test]
fn keys_expire_actively_within_a_second() {
    let n = node(&[]);
    let mut c = n.connect().unwrap();
    let cmds: Vec<Vec<Vec<u8>>> = (0..2000)
        .map(|i| {
            ["SET", &format!("k{i}"), "v", "PX", "100"]
                .iter()
                .map(|a| a.as_bytes().to_vec())
                .collect()
        })
        .collect();
    c.pipeline(&cmds).unwrap();
    assert_eq!(int(&mut c, &["DBSIZE"]), 2000);
    // DBSIZE counts keys still stored, so it only drops when the active cycle deletes them.
    assert!(poll_until(Duration::from_millis(1600), || int(
        &mut c,
        &["DBSIZE"]
    ) == 0));
    assert_eq!(int(&mut c, &["EXISTS", "k1"]), 0);
}

#[test]
fn client_pause_write_holds_writes_not_reads() {
    let n = node(&[]);
    let mut admin = n.connect().unwrap();
    let mut writer = n.connect().unwrap();
    assert_eq!(admin.cmd(&["SET", "k", "1"]).unwrap(), simple("OK"));
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"]).unwrap(),
        simple("OK")
    );
    writer.write_command(&["INCR", "k"]).unwrap();
    assert_eq!(
        writer
            .read_frame_within(Duration::from_millis(300))
            .unwrap(),
        None,
        "write ran during pause"
    );
    assert_eq!(admin.cmd(&["GET", "k"]).unwrap(), Frame::Bulk("1".into()));
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]).unwrap(), simple("OK"));
    assert_eq!(writer.read_frame().unwrap(), Frame::Integer(2));
}

#[test]
fn client_kill_reply_and_debug_sleep() {
    let n = node(&[]);
    let mut a = n.connect().unwrap();
    let mut b = n.connect().unwrap();
    let b_id = int(&mut b, &["CLIENT", "ID"]);
    assert_eq!(int(&mut a, &["CLIENT", "KILL", "ID", &b_id.to_string()]), 1);
    assert!(b.wait_closed(Duration::from_secs(5)).unwrap());

    a.write_command(&["CLIENT", "REPLY", "SKIP"]).unwrap();
    a.write_command(&["SET", "skipped", "1"]).unwrap();
    assert_eq!(a.cmd(&["GET", "skipped"]).unwrap(), Frame::Bulk("1".into()));
    a.write_command(&["CLIENT", "REPLY", "OFF"]).unwrap();
    a.write_command(&["SET", "silent", "1"]).unwrap();
    assert_eq!(a.cmd(&["CLIENT", "REPLY", "ON"]).unwrap(), simple("OK"));
    assert_eq!(a.cmd(&["DEBUG", "SLEEP", "0.05"]).unwrap(), simple("OK"));
    assert_eq!(int(&mut a, &["EXISTS", "silent"]), 1);
}

#[test]
fn config_file_and_set_flags_apply() {
    let dir = ferrocache_testkit::TempDir::new("cfg").unwrap();
    let cfg = dir.path().join("ferrocache.toml");
    std::fs::write(&cfg, "maxmemory = \"2mb\"\ntimeout = 42\n").unwrap();
    let cfg = cfg.display().to_string();
    let n = node(&["--config", &cfg, "--set", "hz=20"]);
    let mut c = n.connect().unwrap();
    let reply = c.cmd(&["CONFIG", "GET", "maxmemory"]).unwrap();
    assert_eq!(
        reply,
        Frame::Array(vec![
            Frame::Bulk("maxmemory".into()),
            Frame::Bulk("2097152".into())
        ])
    );
    let reply = c.cmd(&["CONFIG", "GET", "timeout"]).unwrap();
    assert_eq!(
        reply,
        Frame::Array(vec![
            Frame::Bulk("timeout".into()),
            Frame::Bulk("42".into())
        ])
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "hz", "abc"]).unwrap(),
        error("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"));
}

#[test]
fn bad_config_is_refused_at_start() {
    let out = std::process::Command::new(bin())
        .args(["node", "--port", "0", "--set", "maxmemory=lots", "--dir"])
        .arg(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("argument must be a memory value"),
        "{stderr}"
    );
}
