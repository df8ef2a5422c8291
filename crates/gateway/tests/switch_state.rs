//! What a connection carries across a planned switch: its database, protocol and name
//! are replayed on the new primary, and a WATCH (which cannot move) makes the next
//! EXEC fail exactly as when a watched key changed.

mod common;

use common::{bulk, direct, ok, planned_switch, show, Frame, Pair, TestGateway};
use ferrocache_testkit::Server;

#[test]
fn watch_across_a_switch_aborts_the_transaction() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    let mut c = gw.connect();
    assert_eq!(c.cmd(&["SET", "balance", "10"]).unwrap(), ok());
    assert_eq!(c.cmd(&["WATCH", "balance"]).unwrap(), ok());

    planned_switch(&gw, &pair, 1);

    assert_eq!(c.cmd(&["MULTI"]).unwrap(), ok());
    let queued = c.cmd(&["SET", "balance", "0"]).unwrap();
    assert_eq!(queued, Frame::Simple("QUEUED".into()));
    let exec = c.cmd(&["EXEC"]).unwrap();
    assert_eq!(
        exec,
        Frame::NullArray,
        "EXEC after the switch: {}",
        show(&exec)
    );
    // Nothing ran, and the connection works normally afterwards.
    assert_eq!(c.cmd(&["GET", "balance"]).unwrap(), bulk("10"));
    assert_eq!(c.cmd(&["MULTI"]).unwrap(), ok());
    c.cmd(&["INCR", "balance"]).unwrap();
    let exec = c.cmd(&["EXEC"]).unwrap();
    assert_eq!(
        exec,
        Frame::Array(vec![Frame::Integer(11)]),
        "{}",
        show(&exec)
    );
    let m = gw.metrics();
    assert_eq!(m["requests"]["watches_broken"], 1, "{m}");
}

#[test]
fn database_protocol_and_name_follow_the_connection() {
    let pair = Pair::start();
    let gw = TestGateway::start(common::config(pair.nodes()));
    let mut c = gw.connect();
    let hello = c.cmd(&["HELLO", "3", "SETNAME", "mover"]).unwrap();
    assert!(matches!(hello, Frame::Map(_)), "{}", show(&hello));
    assert_eq!(c.cmd(&["SELECT", "5"]).unwrap(), ok());
    assert_eq!(c.cmd(&["SET", "here", "db5"]).unwrap(), ok());

    planned_switch(&gw, &pair, 1);

    // Still RESP3 (a map, not a flat array), still db 5, still named — on the new node.
    let cfg = c.cmd(&["CONFIG", "GET", "port"]).unwrap();
    assert!(
        matches!(cfg, Frame::Map(_)),
        "not RESP3 any more: {}",
        show(&cfg)
    );
    assert_eq!(c.cmd(&["GET", "here"]).unwrap(), bulk("db5"));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]).unwrap(), bulk("mover"));
    let port = pair.replica.port().to_string();
    assert_eq!(cfg, Frame::Map(vec![(bulk("port"), bulk(&port))]));
    let Frame::Bulk(list) = direct(pair.replica.addr(), &["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST");
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(
        list.lines()
            .any(|l| l.contains("name=mover") && l.contains("db=5") && l.contains("resp=3")),
        "the new primary does not see the replayed state:\n{list}"
    );
}
