//! A switch that never finishes cannot hang clients: held requests are answered with
//! TRYAGAIN at the hold deadline (never executed), and `/switch/abort` releases the
//! rest to the old primary.

mod common;

use common::{bulk, ok, Pair, TestGateway};
use ferrocache_testkit::Server;
use std::time::Duration;

#[test]
fn held_requests_get_tryagain_at_the_deadline_and_abort_releases() {
    let pair = Pair::start();
    let mut cfg = common::config(pair.nodes());
    cfg.hold_deadline = Duration::from_millis(300);
    let gw = TestGateway::start(cfg);
    let mut c = gw.connect();
    assert_eq!(c.cmd(&["SET", "k", "before"]).unwrap(), ok());

    let target = pair.replica.addr();
    let (status, body) = gw.post("/switch/start", &format!(r#"{{"target":"{target}"}}"#));
    assert_eq!(status, 200, "{body}");

    // Two pipelined requests, held, then refused in order; neither ran.
    let replies = c
        .pipeline(&[
            vec![b"SET".to_vec(), b"k".to_vec(), b"during".to_vec()],
            vec![b"GET".to_vec(), b"k".to_vec()],
        ])
        .expect("answers within the client's timeout, not a hang");
    for r in &replies {
        let common::Frame::Error(e) = r else {
            panic!("expected TRYAGAIN, got {}", common::show(r));
        };
        assert!(
            e.starts_with(b"TRYAGAIN "),
            "{}",
            String::from_utf8_lossy(e)
        );
    }
    let m = gw.metrics();
    assert_eq!(m["requests"]["hold_timed_out"], 2, "{m}");
    assert_eq!(m["switch_in_progress"], true, "{m}");

    // Held again, then released by the abort: served by the old primary.
    c.write_command(&["GET", "k"]).unwrap();
    let (status, body) = gw.post("/switch/abort", r#"{"shard":0}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(c.read_frame().unwrap(), bulk("before"));
    assert_eq!(c.cmd(&["SET", "k", "after"]).unwrap(), ok());
    let m = gw.metrics();
    assert_eq!(m["switches"]["aborted"], 1, "{m}");
    assert_eq!(m["switch_in_progress"], false, "{m}");
}
