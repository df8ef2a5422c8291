//! Keyspace events of the list commands, as a subscriber on another connection
//! sees them and as a RESP3 client subscribed to its own events sees them
//! interleaved with its replies.

use super::super::harness::Differ;
use super::super::notifications::{events_of, subscribe_all, WRITER};

#[test]
fn list_events() {
    let mut d = Differ::new("lists/events");
    subscribe_all(&mut d, "KEA");
    for line in [
        "RPUSH l a b c",
        "LPUSH l z",
        "LPUSHX l y",
        "RPUSHX l x",
        "LPUSHX nokey y",
        "LPOP l",
        "RPOP l 1",
        "LPOP l 0",
        "LSET l 0 q",
        "LSET l 99 q",
        "LINSERT l BEFORE q w",
        "LINSERT l BEFORE nosuch w",
        "LREM l 0 w",
        "LREM l 0 nosuch",
        "LTRIM l 0 -1",
        "LMOVE l l LEFT RIGHT",
        "LMOVE l d LEFT RIGHT",
        "RPOPLPUSH l d",
        "RPOPLPUSH nokey d",
        "LMOVE d d RIGHT LEFT",
        "LMPOP 2 nokey l LEFT COUNT 5",
        "RPUSH l a b",
        "BLPOP l 0",
        "BRPOP l 0",
        "RPUSH l a b",
        "BLMPOP 0 1 l RIGHT COUNT 5",
        "BLMOVE d e LEFT RIGHT 0",
        "BRPOPLPUSH d e 0",
        "LTRIM e 5 10",
        "RPUSH l a",
        "LREM l 0 a",
        "RPUSH l a",
        "LPOP l 5",
        "RPUSH l a b",
        "SET s v",
        "LMOVE l s LEFT RIGHT",
        "RPUSH l2 a",
        "RPOPLPUSH l2 fresh",
        "RPUSH l2 a",
        "EXPIRE l2 100",
        "DEL l l2 fresh",
    ] {
        events_of(&mut d, line);
    }
    // Only the list class: the del of an emptied list is generic, not sent.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events Kl");
    events_of(&mut d, "RPUSH k a");
    events_of(&mut d, "LPOP k");
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events Eg");
    events_of(&mut d, "RPUSH k a");
    events_of(&mut d, "RPOP k");
    // Creations ("new") come before the push that made the list.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEgln");
    for line in [
        "RPUSH n1 a b",
        "LPUSH n1 c",
        "LPUSHX n2 a",
        "LMOVE n1 n2 LEFT LEFT",
        "RPOPLPUSH n1 n3",
        "BLMOVE n1 n4 RIGHT RIGHT 0",
        "LINSERT n5 BEFORE a b",
    ] {
        events_of(&mut d, line);
    }
    d.finish();
}

/// A RESP3 client subscribed to its own events: where the events fall relative
/// to the reply is Redis's per-command order.
#[test]
fn events_interleaved_with_own_replies() {
    let mut d = Differ::new("lists/own-events");
    d.check("CONFIG SET notify-keyspace-events KEA");
    d.check("HELLO 3");
    d.check("PSUBSCRIBE __keyevent*");
    for line in [
        "RPUSH l a b c",
        "LPUSH l z",
        "LPOP l",
        "RPOP l 1",
        "LSET l 0 q",
        "LINSERT l BEFORE q w",
        "LREM l 0 w",
        "LTRIM l 0 -1",
        "LMOVE l l LEFT RIGHT",
        "LMOVE l d LEFT RIGHT",
        "LMPOP 1 l LEFT COUNT 5",
        "RPUSH x a",
        "BLPOP x 0",
        "RPUSH x a",
        "BRPOPLPUSH x d 0",
    ] {
        // Each command's reply and its events, read as they arrive on both sides.
        let frames = frames_for(line);
        d.check_frames_on(0, line, frames);
    }
    // A list's creation ("new") comes before the reply of the push that made it.
    d.check("CONFIG SET notify-keyspace-events KEAn");
    d.check_frames_on(0, "RPUSH fresh a", 3);
    d.check_frames_on(0, "LMOVE fresh fresh2 LEFT LEFT", 5);
    d.finish();
}

/// How many frames a command of `events_interleaved_with_own_replies` yields:
/// its reply and one push per event (keyevent channels only).
fn frames_for(line: &str) -> usize {
    match line {
        "LMOVE l l LEFT RIGHT" | "LMOVE l d LEFT RIGHT" => 3,
        "LMPOP 1 l LEFT COUNT 5" | "BLPOP x 0" => 3,
        // lpush d, the reply, rpop x, del x.
        "BRPOPLPUSH x d 0" => 4,
        _ => 2,
    }
}
