//! Connection limits at the endpoint: `maxclients` refuses the connection beyond it
//! with Redis's error, and idle connections are closed cleanly at the idle timeout
//! (subscribers are not idle, as in Redis).

mod common;

use common::{bulk, ok, Frame, Pair, TestGateway, DEADLINE};
use ferrocache_testkit::poll_until;
use std::time::Duration;

#[test]
fn maxclients_refuses_with_redis_error() {
    let pair = Pair::start();
    let mut cfg = common::config(pair.nodes());
    cfg.maxclients = 2;
    let gw = TestGateway::start(cfg);
    let mut a = gw.connect();
    let mut b = gw.connect();
    for c in [&mut a, &mut b] {
        assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
    }
    let mut c = gw.connect();
    let refused = c.read_frame().expect("an error, then close");
    assert_eq!(
        refused,
        Frame::Error("ERR max number of clients reached".into())
    );
    assert!(
        c.wait_closed(DEADLINE).unwrap(),
        "the refused connection was left open"
    );
    drop(a);
    let admitted = poll_until(DEADLINE, || {
        let mut c = gw.connect();
        c.cmd(&["PING"])
            .is_ok_and(|r| r == Frame::Simple("PONG".into()))
    });
    assert!(
        admitted,
        "a slot freed by a closed connection is never reused"
    );
    assert!(gw.metrics()["connections"]["rejected_maxclients"].as_u64() >= Some(1));
}

#[test]
fn idle_connections_close_cleanly_but_subscribers_stay() {
    let pair = Pair::start();
    let mut cfg = common::config(pair.nodes());
    cfg.idle_timeout = Duration::from_millis(300);
    let gw = TestGateway::start(cfg);
    let mut sub = gw.connect();
    sub.write_command(&["SUBSCRIBE", "ch"]).unwrap();
    sub.read_frame().unwrap();
    let mut idle = gw.connect();
    assert_eq!(idle.cmd(&["SET", "k", "v"]).unwrap(), ok());
    assert!(
        idle.wait_closed(DEADLINE).unwrap(),
        "not closed at the idle timeout"
    );
    assert!(idle.pending().is_empty(), "bytes after the last reply");
    assert_eq!(gw.metrics()["connections"]["closed_idle"], 1);
    // The subscriber, quiet for longer, is still there.
    let mut publisher = gw.connect();
    assert_eq!(
        publisher.cmd(&["PUBLISH", "ch", "still"]).unwrap(),
        Frame::Integer(1)
    );
    let msg = sub.read_frame().unwrap();
    assert_eq!(
        msg,
        Frame::Array(vec![bulk("message"), bulk("ch"), bulk("still")])
    );
}
