//! Maintenance push frames (`CLIENT MAINT_NOTIFICATIONS ON`), answered by the gateway
//! itself, and access keys replaced while clients stay connected.

mod common;

use common::{bulk, ok, planned_switch, show, Frame, Pair, TestGateway};
use ferrocache_testkit::RespConn;
use std::time::Duration;

/// How long a connection that should get nothing is watched.
const QUIET: Duration = Duration::from_millis(200);

fn resp3(addr: std::net::SocketAddr) -> RespConn {
    let mut c = RespConn::connect(addr).expect("connect");
    let hello = c.cmd(&["HELLO", "3"]).unwrap();
    assert!(matches!(hello, Frame::Map(_)), "{}", show(&hello));
    c
}

fn opt_in(c: &mut RespConn, extra: &[&str]) {
    let mut args = vec!["CLIENT", "MAINT_NOTIFICATIONS", "ON"];
    args.extend_from_slice(extra);
    assert_eq!(c.cmd(&args).unwrap(), ok());
}

fn push(parts: Vec<Frame>) -> Frame {
    Frame::Push(parts)
}

/// Reads the next frame, which must arrive within the deadline.
fn next(c: &mut RespConn) -> Frame {
    c.read_frame_within(common::DEADLINE)
        .unwrap()
        .expect("a push frame")
}

/// Nothing arrives unasked: a PING's answer is the next frame.
fn nothing_pending(c: &mut RespConn) {
    assert_eq!(c.read_frame_within(QUIET).unwrap(), None);
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
}

#[test]
fn notices_reach_the_connections_that_opted_in() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    let mut endpoint_on = resp3(gw.endpoint());
    opt_in(&mut endpoint_on, &["moving-endpoint-type", "internal-ip"]);
    let mut endpoint_off = resp3(gw.endpoint());
    let mut node1 = resp3(gw.addrs.nodes[1]);
    opt_in(&mut node1, &[]);
    let mut node1_none = resp3(gw.addrs.nodes[1]);
    opt_in(&mut node1_none, &["moving-endpoint-type", "none"]);
    let mut node0 = resp3(gw.addrs.nodes[0]);
    opt_in(&mut node0, &[]);

    // RESP2 cannot carry pushes; a bad option is a syntax error; OFF always works.
    let mut resp2 = gw.connect();
    let e = resp2.cmd(&["CLIENT", "MAINT_NOTIFICATIONS", "ON"]).unwrap();
    assert!(
        matches!(&e, Frame::Error(m) if m.starts_with(b"ERR") && m.windows(5).any(|w| w == b"RESP3")),
        "{}",
        show(&e)
    );
    let e = endpoint_off
        .cmd(&[
            "CLIENT",
            "MAINT_NOTIFICATIONS",
            "ON",
            "moving-endpoint-type",
            "pigeon",
        ])
        .unwrap();
    assert_eq!(e, Frame::Error("ERR syntax error".into()));
    assert_eq!(
        resp2
            .cmd(&["CLIENT", "MAINT_NOTIFICATIONS", "OFF"])
            .unwrap(),
        ok()
    );

    let (status, r) = gw.post(
        "/maintenance",
        r#"{"notice":"failing_over","shard":0,"seconds":5}"#,
    );
    assert_eq!(status, 200, "{r}");
    let seq = r["seq"].as_i64().unwrap();
    assert_eq!(
        next(&mut endpoint_on),
        push(vec![
            bulk("FAILING_OVER"),
            Frame::Integer(seq),
            Frame::Integer(5),
            bulk("0")
        ])
    );
    nothing_pending(&mut endpoint_off);
    nothing_pending(&mut node1);

    let (status, r) = gw.post(
        "/maintenance",
        r#"{"notice":"moving","node":1,"seconds":3}"#,
    );
    assert_eq!(status, 200, "{r}");
    let seq = r["seq"].as_i64().unwrap();
    // To the endpoint, at the address the client dialled.
    let to = format!("127.0.0.1:{}", gw.endpoint().port());
    assert_eq!(
        next(&mut node1),
        push(vec![
            bulk("MOVING"),
            Frame::Integer(seq),
            Frame::Integer(3),
            bulk(&to)
        ])
    );
    assert_eq!(
        next(&mut node1_none),
        push(vec![
            bulk("MOVING"),
            Frame::Integer(seq),
            Frame::Integer(3),
            Frame::Null
        ])
    );
    nothing_pending(&mut node0);
    nothing_pending(&mut endpoint_on);

    // An opted-in connection keeps its opt-in across a planned switch.
    planned_switch(&gw, &pair, 1);
    let (status, r) = gw.post("/maintenance", r#"{"notice":"failed_over","shard":0}"#);
    assert_eq!(status, 200, "{r}");
    let seq = r["seq"].as_i64().unwrap();
    assert_eq!(
        next(&mut endpoint_on),
        push(vec![bulk("FAILED_OVER"), Frame::Integer(seq), bulk("0")])
    );

    // OFF stops them; the connection is otherwise untouched.
    assert_eq!(
        endpoint_on
            .cmd(&["CLIENT", "MAINT_NOTIFICATIONS", "OFF"])
            .unwrap(),
        ok()
    );
    let (status, _) = gw.post("/maintenance", r#"{"notice":"failed_over","shard":0}"#);
    assert_eq!(status, 200);
    nothing_pending(&mut endpoint_on);
}

#[test]
fn bad_maintenance_requests_are_refused() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    for body in [
        r#"{"notice":"bogus"}"#,
        r#"{"notice":"moving","seconds":1}"#,
        r#"{"notice":"moving","node":9}"#,
        r#"{"notice":"failing_over","shard":3}"#,
        r#"{"notice":"failed_over","colour":"red"}"#,
        r#"not json"#,
    ] {
        let (status, r) = gw.post("/maintenance", body);
        assert_eq!(status, 400, "{body}: {r}");
        assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
    }
}

#[test]
fn access_keys_change_without_dropping_clients() {
    let pair = Pair::start();
    let mut config = common::config(pair.nodes());
    config.auth_keys = vec!["first-key".into(), "second-key".into()];
    let gw = TestGateway::start(config);
    let mut old = gw.connect();
    assert_eq!(old.cmd(&["AUTH", "first-key"]).unwrap(), ok());

    let (status, r) = gw.http(
        "PUT",
        "/keys",
        Some(r#"{"keys":["third-key","second-key"]}"#),
    );
    assert_eq!(status, 200, "{r}");

    // Already authenticated: still served.
    assert_eq!(old.cmd(&["SET", "k", "v"]).unwrap(), ok());
    let mut fresh = gw.connect();
    let e = fresh.cmd(&["AUTH", "first-key"]).unwrap();
    assert!(
        matches!(&e, Frame::Error(m) if m.starts_with(b"WRONGPASS")),
        "{}",
        show(&e)
    );
    assert_eq!(fresh.cmd(&["AUTH", "second-key"]).unwrap(), ok());
    let mut third = gw.connect();
    assert_eq!(third.cmd(&["AUTH", "third-key"]).unwrap(), ok());
    assert_eq!(third.cmd(&["GET", "k"]).unwrap(), bulk("v"));

    for body in [
        r#"{"keys":[]}"#,
        r#"{"keys":["a","b","c"]}"#,
        r#"{"keys":[""]}"#,
        r#"{"keys":"a"}"#,
    ] {
        let (status, r) = gw.http("PUT", "/keys", Some(body));
        assert_eq!(status, 400, "{body}: {r}");
    }
    // Nothing was half-applied by the refusals.
    let mut last = gw.connect();
    assert_eq!(last.cmd(&["AUTH", "third-key"]).unwrap(), ok());
}
