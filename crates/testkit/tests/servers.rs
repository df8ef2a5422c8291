//! Tests of the testkit itself against a real redis-server: start, talk, clean up.

use ferrocache_testkit::{poll_until, Frame, RedisServer, RespConn, Server};
use std::time::Duration;

fn bulk(s: &[u8]) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s))
}

#[test]
fn redis_server_starts_answers_and_is_reaped() {
    let server = RedisServer::start().unwrap();
    let pid = server.pid();
    let mut c = server.connect().unwrap();
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
    // Binary-safe both ways.
    let key: &[u8] = b"k\0\r\n";
    let val: &[u8] = b"\0\r\n*1\r\n";
    assert_eq!(
        c.send(&[&b"SET"[..], key, val]).unwrap(),
        Frame::Simple("OK".into())
    );
    assert_eq!(c.send(&[&b"GET"[..], key]).unwrap(), bulk(val));
    drop(server);
    // The process is gone (reaped: kill(pid, 0) fails).
    let gone = poll_until(Duration::from_secs(5), || libc_kill0(pid));
    assert!(gone, "redis-server {pid} still alive after drop");
}

fn libc_kill0(pid: u32) -> bool {
    // /proc/<pid> disappears once the process is reaped.
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn start_with_extra_args() {
    let server = RedisServer::start_with(&["--maxclients", "10"]).unwrap();
    let mut c = server.connect().unwrap();
    let r = c.cmd(&["CONFIG", "GET", "maxclients"]).unwrap();
    assert_eq!(r, Frame::Array(vec![bulk(b"maxclients"), bulk(b"10")]));
}

#[test]
fn pipeline_and_resp3() {
    let server = RedisServer::start().unwrap();
    let mut c = server.connect().unwrap();
    let cmds: Vec<Vec<Vec<u8>>> = (0..1000)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("k{i}").into_bytes(),
                vec![b'x'; i % 50],
            ]
        })
        .collect();
    let replies = c.pipeline(&cmds).unwrap();
    assert_eq!(replies.len(), 1000);
    assert!(replies.iter().all(|r| *r == Frame::Simple("OK".into())));
    assert_eq!(c.cmd(&["DBSIZE"]).unwrap(), Frame::Integer(1000));
    let hello = c.cmd(&["HELLO", "3"]).unwrap();
    assert!(matches!(hello, Frame::Map(_)), "{hello:?}");
    assert_eq!(c.cmd(&["GET", "nope"]).unwrap(), Frame::Null);
}

#[test]
fn protocol_error_closes_and_is_detected() {
    let server = RedisServer::start().unwrap();
    let mut c = RespConn::connect(server.addr()).unwrap();
    assert!(!c.is_closed());
    c.send_raw(b"*1\r\n$x\r\n").unwrap();
    let r = c.read_frame().unwrap();
    assert_eq!(
        r,
        Frame::Error("ERR Protocol error: invalid bulk length".into())
    );
    assert!(c.wait_closed(Duration::from_secs(5)).unwrap());
    assert!(c.is_closed());
    assert!(c.read_frame().is_err());
}

#[test]
fn read_within_times_out_quietly() {
    let server = RedisServer::start().unwrap();
    let mut c = server.connect().unwrap();
    assert_eq!(
        c.read_frame_within(Duration::from_millis(50)).unwrap(),
        None
    );
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
}
