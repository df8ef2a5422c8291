//! Connections handed over to `ferrocache node`s: the node serves them directly with
//! the state the gateway saw, and gives them back when the gateway needs them
//! (a switch, a change of topology, the node's own shutdown, a command only the
//! gateway answers).

mod common;

use common::{bulk, direct, ok, planned_switch, show, Frame, Pair, TestGateway, DEADLINE};
use ferrocache_testkit::{poll_until, RespConn, Server};
use std::net::SocketAddr;

const KEY: &str = "access-key";

fn gateway(pair: &Pair<common::InProcessNode>) -> TestGateway {
    let mut c = common::with_handoff(common::config(pair.nodes()), pair);
    c.auth_keys = vec![KEY.into(), "other-key".into()];
    TestGateway::start(c)
}

fn handed_off(gw: &TestGateway) -> u64 {
    gw.metrics()["connections"]["handed_off"].as_u64().unwrap()
}

/// The CLIENT LIST line of the connection named `name` on the node at `addr`.
fn client_line(addr: SocketAddr, name: &str) -> Option<String> {
    let Frame::Bulk(list) = direct(addr, &["CLIENT", "LIST"]) else {
        return None;
    };
    String::from_utf8_lossy(&list)
        .lines()
        .find(|l| l.contains(&format!("name={name} ")))
        .map(str::to_string)
}

fn authed(gw: &TestGateway) -> RespConn {
    let mut c = gw.connect();
    assert_eq!(c.cmd(&["AUTH", KEY]).unwrap(), ok());
    c
}

#[test]
fn the_node_serves_the_connection_with_its_state_and_gives_it_back_for_a_switch() {
    let pair = Pair::builtin();
    let gw = gateway(&pair);
    let mut c = authed(&gw);
    let hello = c.cmd(&["HELLO", "3", "SETNAME", "mover"]).unwrap();
    assert!(matches!(hello, Frame::Map(_)), "{}", show(&hello));
    assert_eq!(c.cmd(&["SELECT", "4"]).unwrap(), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]).unwrap(), ok());
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 1));

    // The primary serves it itself: the connection's own socket, its db, protocol
    // and name — and the endpoint's address as the local one.
    let line = client_line(pair.primary.addr(), "mover").expect("the primary sees the client");
    let laddr = format!("laddr={} ", gw.endpoint());
    for want in ["db=4", "resp=3", &laddr] {
        assert!(line.contains(want), "{want} missing: {line}");
    }
    // AUTH takes the cache's access keys, as at the endpoint.
    assert_eq!(c.cmd(&["AUTH", "other-key"]).unwrap(), ok());
    let e = c.cmd(&["AUTH", "wrong"]).unwrap();
    assert!(
        matches!(&e, Frame::Error(m) if m.starts_with(b"WRONGPASS")),
        "{}",
        show(&e)
    );

    // A WATCH cannot move; after the switch EXEC fails as for a changed key.
    assert_eq!(c.cmd(&["WATCH", "k"]).unwrap(), ok());
    planned_switch(&gw, &pair, 1);
    assert_eq!(c.cmd(&["MULTI"]).unwrap(), ok());
    c.cmd(&["SET", "k", "changed"]).unwrap();
    assert_eq!(c.cmd(&["EXEC"]).unwrap(), Frame::Null);
    assert_eq!(c.cmd(&["GET", "k"]).unwrap(), bulk("v"));
    let m = gw.metrics();
    assert!(m["connections"]["handbacks"].as_u64().unwrap() >= 1, "{m}");

    // Idle again, it is handed over to the new primary, state intact.
    assert!(poll_until(DEADLINE, || client_line(
        pair.replica.addr(),
        "mover"
    )
    .is_some_and(|l| l.contains("db=4")
        && l.contains("resp=3")
        && l.contains(&laddr))));
    assert!(client_line(pair.primary.addr(), "mover").is_none());
    assert_eq!(c.cmd(&["GET", "k"]).unwrap(), bulk("v"));
}

#[test]
fn maintenance_opt_in_brings_the_connection_back_to_the_gateway() {
    let pair = Pair::builtin();
    let gw = gateway(&pair);
    let mut c = authed(&gw);
    c.cmd(&["HELLO", "3"]).unwrap();
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 1));
    // The node cannot answer this: it gives the connection back with the request
    // unrun, and the gateway answers it and keeps the connection.
    let on = c.cmd(&["CLIENT", "MAINT_NOTIFICATIONS", "ON"]).unwrap();
    assert_eq!(on, ok());
    assert_eq!(handed_off(&gw), 0);
    let (status, r) = gw.post("/maintenance", r#"{"notice":"failed_over","shard":0}"#);
    assert_eq!(status, 200, "{r}");
    let push = c.read_frame_within(DEADLINE).unwrap().expect("a push");
    assert!(
        matches!(&push, Frame::Push(p) if p[0] == bulk("FAILED_OVER")),
        "{}",
        show(&push)
    );
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
}

#[test]
fn a_new_primary_takes_over_endpoint_connections_after_an_unplanned_change() {
    let pair = Pair::builtin();
    let gw = gateway(&pair);
    let mut c = authed(&gw);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "stayer"]).unwrap(), ok());
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 1));
    // The service promotes the replica and tells the gateway (as after a loss).
    assert_eq!(
        direct(pair.replica.addr(), &["REPLICAOF", "NO", "ONE"]),
        ok()
    );
    let (p, r) = (pair.primary.addr(), pair.replica.addr());
    let topo = format!(
        r#"{{"epoch":1,"nodes":["{p}","{r}"],"shards":[{{"primary":"{r}","replicas":["{p}"]}}]}}"#
    );
    let (status, body) = gw.http("PUT", "/topology", Some(&topo));
    assert_eq!(status, 200, "{body}");
    // The old primary gives the connection back; it follows the new one.
    assert!(poll_until(DEADLINE, || client_line(r, "stayer").is_some()));
    assert!(client_line(p, "stayer").is_none());
    let role = c.cmd(&["ROLE"]).unwrap();
    assert!(
        matches!(&role, Frame::Array(a) if a[0] == bulk("master")),
        "{}",
        show(&role)
    );
}

#[test]
fn a_node_that_stops_gives_its_connections_back_instead_of_closing_them() {
    let pair = Pair::builtin();
    let gw = gateway(&pair);
    // Connected to the replica's direct port: only that node serves it.
    let mut c = RespConn::connect(gw.addrs.nodes[1]).unwrap();
    assert_eq!(c.cmd(&["AUTH", KEY]).unwrap(), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "direct"]).unwrap(), ok());
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 1));
    let Pair { primary, replica } = pair;
    drop(replica); // stops the node (SHUTDOWN-like), which hands its clients back
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 0));
    let m = gw.metrics();
    assert_eq!(m["connections"]["handbacks"], 1, "{m}");
    // The connection is open and held at the gateway: not closed by the node.
    assert!(!c.is_closed(), "the node closed the client's connection");
    drop(primary);
}

#[test]
fn adopted_connections_close_after_the_endpoints_idle_timeout() {
    let pair = Pair::builtin();
    let mut config = common::with_handoff(common::config(pair.nodes()), &pair);
    config.idle_timeout = std::time::Duration::from_secs(1);
    let gw = TestGateway::start(config);
    let mut c = gw.connect();
    assert_eq!(c.cmd(&["PING"]).unwrap(), Frame::Simple("PONG".into()));
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 1));
    assert!(
        c.wait_closed(DEADLINE).unwrap(),
        "the idle connection stayed open"
    );
    assert!(poll_until(DEADLINE, || handed_off(&gw) == 0));
    assert_eq!(gw.metrics()["connections"]["current"], 0);
}
