//! Losing the primary without warning: requests in flight get an error (their fate
//! is unknown), new ones are held, and once the management service names the
//! promoted replica with a higher epoch they are served there. Stale epochs are
//! refused.

mod common;

use common::{bulk, direct, ok, show, Frame, Pair, TestGateway, DEADLINE};
use ferrocache_testkit::{poll_until, Server};
use std::time::Duration;

#[test]
fn primary_killed_in_flight_fails_new_requests_wait_for_the_promoted_replica() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    let (p, r) = (common::name(&pair.primary), common::name(&pair.replica));
    let mut setup = gw.connect();
    assert_eq!(setup.cmd(&["SET", "kept", "yes"]).unwrap(), ok());
    common::wait_caught_up(pair.primary.addr(), pair.replica.addr());

    // A BLPOP is in flight on the primary when it dies.
    let mut inflight = gw.connect();
    inflight.write_command(&["BLPOP", "never", "0"]).unwrap();
    assert!(poll_until(DEADLINE, || {
        matches!(direct(pair.primary.addr(), &["CLIENT", "LIST"]),
            Frame::Bulk(l) if String::from_utf8_lossy(&l).contains("cmd=blpop"))
    }));
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pair.primary.pid().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let lost = inflight.read_frame().expect("an answer, not a hang");
    let Frame::Error(e) = &lost else {
        panic!("expected an error, got {}", show(&lost));
    };
    assert!(
        e.starts_with(b"ERR the connection to the node was lost"),
        "{}",
        show(&lost)
    );

    // A new connection's request is held while no primary answers. (One sent on an
    // idle connection at the moment of the crash may race the gateway noticing it,
    // and then it gets the in-flight error instead; so does one sent while the dying
    // process's listening socket still accepts.)
    let gone = poll_until(DEADLINE, || {
        std::net::TcpStream::connect(pair.primary.addr()).is_err()
    });
    assert!(gone, "the killed primary still accepts connections");
    let mut c = gw.connect();
    c.write_command(&["GET", "kept"]).unwrap();
    assert!(poll_until(DEADLINE, || {
        gw.metrics()["backend_connect_failures"].as_u64() > Some(0)
    }));
    let early = c.read_frame_within(Duration::from_millis(100)).unwrap();
    assert_eq!(early, None, "answered while no primary existed");

    // The service promotes the replica and tells the gateway.
    assert_eq!(
        direct(pair.replica.addr(), &["REPLICAOF", "NO", "ONE"]),
        ok()
    );
    let topo = format!(
        r#"{{"epoch":1,"nodes":["{p}","{r}"],"shards":[{{"primary":"{r}","replicas":["{p}"]}}]}}"#
    );
    let (status, body) = gw.http("PUT", "/topology", Some(&topo));
    assert_eq!(status, 200, "{body}");
    assert_eq!(c.read_frame().unwrap(), bulk("yes"));
    assert_eq!(inflight.cmd(&["SET", "new", "1"]).unwrap(), ok());
    assert_eq!(direct(pair.replica.addr(), &["GET", "new"]), bulk("1"));

    // An update from an older epoch is refused.
    let stale = topo.replace(r#""epoch":1"#, r#""epoch":0"#);
    let (status, body) = gw.http("PUT", "/topology", Some(&stale));
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("stale epoch"),
        "{body}"
    );
    let (_, now) = gw.http("GET", "/topology", None);
    assert_eq!(now["epoch"], 1);
    assert_eq!(now["shards"][0]["primary"], r.as_str());
    let m = gw.metrics();
    assert_eq!(m["requests"]["failed_backend_lost"], 1, "{m}");
}
