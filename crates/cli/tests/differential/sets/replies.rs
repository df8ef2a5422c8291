//! Differential cases for the replies that are random or walk a set: SPOP,
//! SRANDMEMBER (the whole-set forms exactly), SSCAN, and the RESP3 reply types.

use super::super::harness::{self_mode, Differ};
use super::{pop_and_put_back, sadd_range};
use ferrocache_testkit::{Frame, RespConn};
use std::time::Duration;

#[test]
fn spop_and_srandmember() {
    let mut d = Differ::new("sets/random");
    d.check_all(&[
        "SPOP nosuch",
        "SPOP nosuch 3",
        "SPOP nosuch 0",
        "SRANDMEMBER nosuch",
        "SRANDMEMBER nosuch 3",
        "SRANDMEMBER nosuch -3",
        "SADD s 5 1 3",
        "SPOP s 0",
        "SPOP s -1",
        "SPOP s abc",
        "SPOP s 1.5",
        "SPOP s 9223372036854775808",
        "SPOP s 1 2",
        "SRANDMEMBER s 0",
        "SRANDMEMBER s abc",
        "SRANDMEMBER s 1 2",
        "SRANDMEMBER s -9223372036854775808",
        "SRANDMEMBER s 9223372036854775808",
        "SET str v",
        "SPOP str",
        "SPOP str 2",
        "SPOP str 0",
        "SPOP str -1",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SRANDMEMBER str abc",
        "SPOP",
        "SRANDMEMBER",
        // The count is checked before the key.
        "SPOP nosuch -1",
        "SRANDMEMBER nosuch abc",
        // Random single members and counts (the SPOP/SRANDMEMBER rule).
        "SRANDMEMBER s",
        "SRANDMEMBER s 1",
        "SRANDMEMBER s 2",
        "SRANDMEMBER s -2",
        "SRANDMEMBER s -10",
    ]);
    // The whole set comes back in the set's order: ascending for an intset.
    for line in [
        "SRANDMEMBER s 3",
        "SRANDMEMBER s 100",
        "SRANDMEMBER s 9223372036854775807",
    ] {
        d.check_exact(line);
    }
    d.check("SADD h a b c d e f g");
    d.check("SRANDMEMBER h 7");
    d.check("SRANDMEMBER h 100");
    for count in ["1", "3", "5", "6", "-3", "-20"] {
        d.check(&format!("SRANDMEMBER h {count}"));
    }
    // SPOP: every case of the count, members put back to keep the servers equal.
    d.check(&sadd_range("big", 0, 100));
    for count in [
        None,
        Some("1"),
        Some("2"),
        Some("10"),
        Some("50"),
        Some("90"),
    ] {
        pop_and_put_back(&mut d, "big", count);
        pop_and_put_back(&mut d, "h", count);
        pop_and_put_back(&mut d, "s", count);
    }
    d.check("SADD big x");
    for count in [Some("3"), Some("95")] {
        pop_and_put_back(&mut d, "big", count);
    }
    // A count that covers the set pops it whole (ascending for integers) and
    // deletes the key.
    d.check_exact("SPOP s 3");
    d.check("EXISTS s");
    d.check("SADD s 7 -1 4");
    d.check_exact("SPOP s 100");
    d.check("SADD t 30 10 20 5 x");
    d.check("SREM t x");
    d.check_exact("SPOP t 4");
    d.check("SADD one only");
    d.check("SPOP one");
    d.check("EXISTS one");
    d.check("SADD one only");
    d.check_exact("SRANDMEMBER one -3");
    d.check_exact("SPOP one 1");
    d.check("EXISTS one");
    d.finish();
}

#[test]
fn sscan() {
    let mut d = Differ::new("sets/sscan");
    d.check("SADD ints 10 -5 3 200 7 1000 0");
    // An intset comes back whole, cursor 0, ascending, whatever the cursor and COUNT.
    for line in [
        "SSCAN ints 0",
        "SSCAN ints 5",
        "SSCAN ints 0 COUNT 1",
        "SSCAN ints 0 MATCH 1*",
        "SSCAN ints 0 MATCH *0 COUNT 2",
        "SSCAN ints 0 match * count 100",
        "SSCAN ints 0 MATCH nothing",
        "SSCAN ints \"\"",
        "SSCAN ints +3",
        "SSCAN ints -1",
        "SSCAN ints 18446744073709551615",
        "SSCAN ints 0 COUNT 5 COUNT 1 MATCH x MATCH 2*",
    ] {
        d.check_exact(line);
    }
    d.check(&sadd_range("tab", 0, 700));
    d.check("SADD tab a b c aa ab");
    d.check_all(&[
        "SSCAN tab 0",
        "SSCAN tab 0 COUNT 1",
        "SSCAN tab 0 COUNT 1000",
        "SSCAN tab 0 MATCH a*",
        "SSCAN tab 0 MATCH 1?? COUNT 7",
        "SSCAN tab 0 MATCH [ab]",
        "SSCAN nosuch 0",
        "SSCAN nosuch 0 COUNT 0",
        "SSCAN nosuch 0 foo",
        "SSCAN nosuch x",
        "SSCAN ints x",
        "SSCAN ints 1.5",
        "SSCAN ints \" 1\"",
        "SSCAN ints -",
        "SSCAN ints 18446744073709551616",
        "SSCAN ints 0 COUNT 0",
        "SSCAN ints 0 COUNT -1",
        "SSCAN ints 0 COUNT abc",
        "SSCAN ints 0 COUNT",
        "SSCAN ints 0 MATCH",
        "SSCAN ints 0 TYPE string",
        "SSCAN ints 0 foo bar",
        "SET str v",
        "SSCAN str 0",
        "SSCAN str 0 foo",
        "SSCAN str x",
        "SSCAN",
        "SSCAN ints",
    ]);
    d.finish();
}

#[test]
fn resp3_forms() {
    let mut d = Differ::new("sets/resp3");
    d.check("HELLO 3");
    d.check_all(&[
        "SADD s 1 2 3",
        "SADD h a b",
        "SMEMBERS s",
        "SMEMBERS nosuch",
        "SINTER s nosuch",
        "SUNION s h",
        "SDIFF s h",
        "SMISMEMBER s 1 9",
        "SISMEMBER s 1",
        "SCARD s",
        "SINTERCARD 2 s h",
        "SPOP nosuch",
        "SPOP nosuch 2",
        "SPOP s 0",
        "SRANDMEMBER nosuch",
        "SRANDMEMBER nosuch 2",
        "SRANDMEMBER s 0",
        "SRANDMEMBER s -2",
        "SRANDMEMBER h 1",
        "SSCAN nosuch 0",
        "SSCAN h 0",
    ]);
    d.check_exact("SSCAN s 0");
    d.check_exact("SRANDMEMBER s 5");
    d.check_exact("SMEMBERS s");
    d.check_exact("SPOP s 3");
    d.finish();
}

/// A negative SRANDMEMBER count whose reply passes the normal clients' hard output
/// limit: both servers stop and drop the client, sending nothing of the reply.
#[test]
fn srandmember_past_the_output_limit() {
    let mut d = Differ::new("sets/output-limit");
    d.check("SADD s a b c");
    d.check("CONFIG SET client-output-buffer-limit \"normal 1mb 0 0\"");
    d.send_on(1, "SRANDMEMBER s -100000000");
    d.check_closed(
        1,
        Duration::from_secs(20),
        "SRANDMEMBER past the hard limit",
    );
    d.check("CONFIG SET client-output-buffer-limit \"normal 0 0 0\"");
    d.check("SCARD s");
    d.finish();
}

/// A deliberate difference: with no output limit (the default) Redis builds any
/// reply until it runs out of memory; the node refuses an SRANDMEMBER reply it
/// estimates past 512 MB. Checked on the node alone (in self mode there is none).
#[test]
fn srandmember_reply_cap_on_the_node() {
    if self_mode() {
        return;
    }
    let d = Differ::new("sets/reply-cap");
    let mut conn = RespConn::connect(d.servers()[1].addr()).expect("connect");
    assert_eq!(
        conn.cmd(&["SADD", "s", "a"]).expect("SADD"),
        Frame::Integer(1)
    );
    let huge = conn
        .cmd(&["SRANDMEMBER", "s", "-9223372036854775807"])
        .expect("SRANDMEMBER");
    assert!(
        matches!(&huge, Frame::Error(e) if e.starts_with(b"ERR count is too large")),
        "{huge:?}"
    );
    let fine = conn
        .cmd(&["SRANDMEMBER", "s", "-1000"])
        .expect("SRANDMEMBER");
    assert!(
        matches!(&fine, Frame::Array(v) if v.len() == 1000),
        "{fine:?}"
    );
    d.finish();
}
