//! Differential cases for blocking commands that really wait: who is served, in
//! which order, with what, and when (after the writing command, before the next
//! one), timeouts, MULTI, keys deleted, overwritten or renamed, and clients that
//! disconnect while blocked.
//!
//! A step that needs a client to be blocked first waits for it on both servers
//! (INFO `blocked_clients`), never with a sleep.

use super::harness::{words, Differ};
use ferrocache_testkit::{encode_command, poll_until, Frame};
use std::time::Duration;

const WRITER: usize = 0;
const A: usize = 1;
const B: usize = 2;
const OBSERVER: usize = 9;

/// Waits until both servers report `n` blocked clients (fails the test otherwise).
fn wait_blocked(d: &mut Differ, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let ok = poll_until(Duration::from_secs(10), || {
        d.query_on(OBSERVER, "INFO clients")
            .iter()
            .all(|f| f.as_bytes().is_some_and(|b| contains(b, want.as_bytes())))
    });
    assert!(ok, "both servers should report {want:?}");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Sends `lines` as one write (one pipeline) on pair `c` and compares the replies.
fn pipeline_on(d: &mut Differ, c: usize, lines: &[&str]) {
    let mut bytes = Vec::new();
    for l in lines {
        encode_command(&words(l), &mut bytes);
    }
    for conn in d.conn(c).iter_mut() {
        conn.send_raw(&bytes).expect("write pipeline");
    }
    d.read_on(c, lines.len(), &lines.join("; "));
}

#[test]
fn served_first_come_first_served_before_the_next_command() {
    let mut d = Differ::new("blocking/fifo");
    d.send_on(A, "BLPOP l 0");
    wait_blocked(&mut d, 1);
    d.send_on(B, "BRPOP l other 0");
    wait_blocked(&mut d, 2);
    // Blocked clients show flag b and their command.
    d.check_on(WRITER, "CLIENT LIST");
    // The waiters are served inside the RPUSH: LLEN after it already sees 1 left.
    pipeline_on(&mut d, WRITER, &["RPUSH l x y z", "LLEN l"]);
    d.read_on(A, 1, "BLPOP served first");
    d.read_on(B, 1, "BRPOP served second");
    d.check_on(WRITER, "LRANGE l 0 -1");
    wait_blocked(&mut d, 0);
    // The other key of a multi-key wait.
    d.send_on(A, "BLPOP a b c 0");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "RPUSH c 1 2");
    d.read_on(A, 1, "BLPOP served from the third key");
    d.check_on(A, "PING");
}

#[test]
fn timeouts_and_transactions() {
    let mut d = Differ::new("blocking/timeout");
    d.check_on(A, "BLPOP l 0.05");
    d.check_on(A, "BRPOPLPUSH l m 0.01");
    d.check_on(A, "BLMOVE l m LEFT RIGHT 0.01");
    d.check_on(A, "BLMPOP 0.01 2 l m LEFT COUNT 2");
    d.check_on(A, "BZPOPMIN z 0.01");
    d.check_on(A, "BZMPOP 0.01 1 z MAX");
    d.check_on(A, "HELLO 3");
    d.check_on(A, "BLPOP l 0.01");
    d.check_on(A, "BZPOPMAX z 0.01");
    d.check_on(A, "HELLO 2");
    // Inside MULTI a blocking command never waits.
    d.check_on(A, "MULTI");
    d.check_on(A, "BLPOP l 0");
    d.check_on(A, "BRPOPLPUSH l m 0");
    d.check_on(A, "BLMOVE l m LEFT LEFT 0");
    d.check_on(A, "BZPOPMIN z 0");
    d.check_on(A, "BLMPOP 0 1 l LEFT");
    d.check_on(A, "EXEC");
    // A transaction that pushes serves the waiter once, after EXEC.
    d.send_on(B, "BLPOP l 0");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "MULTI");
    d.check_on(WRITER, "RPUSH l a");
    d.check_on(WRITER, "RPUSH l b");
    d.check_on(WRITER, "LLEN l");
    d.check_on(WRITER, "EXEC");
    d.read_on(B, 1, "served after EXEC");
    d.check_on(WRITER, "LRANGE l 0 -1");
}

#[test]
fn keys_deleted_overwritten_renamed() {
    let mut d = Differ::new("blocking/keys");
    d.send_on(A, "BLPOP l 0");
    wait_blocked(&mut d, 1);
    // Another type under the key: Redis 7.0 keeps the client blocked.
    d.check_on(WRITER, "SET l str");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "DEL l");
    // A list renamed onto the key serves the waiter.
    d.check_on(WRITER, "RPUSH src v1 v2");
    d.check_on(WRITER, "RENAME src l");
    d.read_on(A, 1, "served by RENAME");
    d.check_on(WRITER, "LRANGE l 0 -1");
    // BLMOVE chains: its push to the destination serves the next waiter.
    d.send_on(A, "BLMOVE s1 s2 RIGHT LEFT 0");
    wait_blocked(&mut d, 1);
    d.send_on(B, "BLPOP s2 0");
    wait_blocked(&mut d, 2);
    d.check_on(WRITER, "LPUSH s1 hop");
    d.read_on(A, 1, "BLMOVE served");
    d.read_on(B, 1, "BLPOP served from BLMOVE's push");
    d.check_on(WRITER, "EXISTS s1 s2");
    // Sorted sets.
    d.send_on(A, "BZPOPMIN z 0");
    wait_blocked(&mut d, 1);
    d.send_on(B, "BZMPOP 0 1 z MAX COUNT 5");
    wait_blocked(&mut d, 2);
    d.check_on(WRITER, "ZADD z 1 a 2 b 3 c");
    d.read_on(A, 1, "BZPOPMIN served");
    d.read_on(B, 1, "BZMPOP served");
    d.check_on(WRITER, "EXISTS z");
    // A different database is a different key.
    d.send_on(A, "BLPOP l2 0");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "SELECT 1");
    d.check_on(WRITER, "RPUSH l2 elsewhere");
    d.check_on(WRITER, "SELECT 0");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "RPUSH l2 here");
    d.read_on(A, 1, "served from db 0 only");
}

#[test]
fn a_client_that_disconnects_while_blocked_takes_nothing() {
    let mut d = Differ::new("blocking/disconnect");
    d.send_on(A, "BLPOP l 0");
    wait_blocked(&mut d, 1);
    d.drop_conn(A);
    wait_blocked(&mut d, 0);
    d.check_on(WRITER, "RPUSH l x");
    d.check_on(WRITER, "LLEN l");
    // Commands pipelined behind a blocking one wait for it.
    let mut bytes = Vec::new();
    encode_command(&words("BLPOP q 0"), &mut bytes);
    encode_command(&words("PING after"), &mut bytes);
    for conn in d.conn(B).iter_mut() {
        conn.send_raw(&bytes).expect("write");
    }
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "RPUSH q 1");
    d.read_on(B, 2, "BLPOP reply, then the pipelined PING");
    let replies = d.query_on(OBSERVER, "INFO clients");
    assert!(replies.iter().all(|f| matches!(f, Frame::Bulk(_))));
}
