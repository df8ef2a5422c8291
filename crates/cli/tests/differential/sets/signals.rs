//! Differential cases for what set commands signal: WATCH (a no-op write is no
//! change), MULTI/EXEC, and keyspace notifications (to a subscriber, and in band to
//! a RESP3 client subscribed to its own events).

use super::super::harness::Differ;
use super::super::notifications::{events_of, subscribe_all};

#[test]
fn transactions_and_watch() {
    let mut d = Differ::new("sets/multi");
    d.check_all(&[
        "SADD s 1 2",
        "MULTI",
        "SADD s 3",
        "SREM s 1",
        "SCARD s",
        "SISMEMBER s 3",
        "SINTERCARD 1 s",
        "SUNIONSTORE d s",
        "SMOVE s d 2",
        "SPOP nosuch",
        "SADD str",
        "EXEC",
        "SMEMBERS s",
        "SMEMBERS d",
        "MULTI",
        "SET str v",
        "SADD str a",
        "SCARD str",
        "EXEC",
    ]);
    // WATCH: re-adding a present member or removing an absent one is no change.
    for (change, line) in [
        ("SADD w 1", "SADD w 1"),
        ("SADD w 1", "SADD w 2"),
        ("SADD w 1 2", "SREM w 9"),
        ("SADD w 1 2", "SREM w 1"),
        ("SADD w 1 2", "SMOVE w other 9"),
        ("SADD w 1 2", "SMOVE w other 1"),
        ("SADD w 1 2", "SMOVE nosuch w 1"),
        ("SADD w 1 2", "SINTERSTORE w nosuch"),
        ("SADD w 1 2", "SINTERSTORE nothing nosuch"),
        ("SADD w 1 2", "SPOP w 0"),
        ("SADD w 1 2", "SPOP w"),
        ("SADD w 1 2", "SRANDMEMBER w"),
    ] {
        d.check("DEL w other nothing");
        d.check(change);
        d.check_on(0, "WATCH w nothing");
        d.check_on(1, line);
        d.check("MULTI");
        d.check("PING");
        d.check("EXEC");
    }
    d.finish();
}

#[test]
fn notifications() {
    let mut d = Differ::new("sets/notifications");
    subscribe_all(&mut d, "KEA");
    for line in [
        "SADD s 1 2",
        "SADD s 1",
        "SREM s 9",
        "SREM s 1",
        "SREM s 2 3",
        "SADD s 1 2 3",
        "SPOP s 0",
        "SPOP s 3",
        "SADD s 1",
        "SPOP s",
        "SPOP nosuch",
        "SADD a x y",
        "SMOVE a b x",
        "SMOVE a b nosuch",
        "SMOVE a b y",
        "SADD a x",
        "SMOVE a b x",
        "SMOVE b b x",
        "SADD a 1 2",
        "SINTERSTORE d a b",
        "SINTERSTORE d a",
        "SINTERSTORE d a nosuch",
        "SINTERSTORE d a nosuch",
        "SUNIONSTORE d a b",
        "SUNIONSTORE d nosuch",
        "SDIFFSTORE d a b",
        "SDIFFSTORE d a a",
        "SET d v",
        "SDIFFSTORE d a",
        "SINTERCARD 2 a b",
        "SRANDMEMBER a",
    ] {
        events_of(&mut d, line);
    }
    // New-key events come before the command's own.
    d.check_on(0, "CONFIG SET notify-keyspace-events KEn$sg");
    for line in [
        "SADD n1 a",
        "SMOVE n1 n2 a",
        "SUNIONSTORE n3 b",
        "SADD n3 x",
    ] {
        events_of(&mut d, line);
    }
    // Misses of read lookups (m): the read commands, and the sources of the STORE
    // forms (Redis reads them with lookupKeyRead); not the writes.
    d.check_on(0, "CONFIG SET notify-keyspace-events KEm");
    for line in [
        "SINTER nosuch a nosuch2",
        "SINTERSTORE d nosuch a",
        "SUNIONSTORE d nosuch",
        "SDIFFSTORE d nosuch a",
        "SINTERCARD 2 nosuch a",
        "SUNION nosuch",
        "SDIFF a nosuch",
        "SMEMBERS nosuch",
        "SSCAN nosuch 0",
        "SRANDMEMBER nosuch",
        "SRANDMEMBER nosuch 3",
        "SISMEMBER nosuch a",
        "SMISMEMBER nosuch a",
        "SCARD nosuch",
        "SMOVE nosuch d x",
        "SPOP nosuch",
        "SPOP nosuch 2",
        "SREM nosuch a",
        "SADD fresh a",
    ] {
        events_of(&mut d, line);
    }
    d.finish();
}

/// A RESP3 client subscribed to its own keyspace events gets the pushes interleaved
/// with its replies in Redis's order (SPOP's `del` comes after its reply, a STORE's
/// event after its reply).
#[test]
fn notifications_in_band() {
    let mut d = Differ::new("sets/notifications-in-band");
    d.check("HELLO 3");
    d.check("CONFIG SET notify-keyspace-events KEA");
    d.check_frames_on(0, "PSUBSCRIBE __keyevent@0__:*", 1);
    for (line, frames) in [
        ("SADD s 1 2", 2),
        ("SADD s 2", 1),
        ("SREM s 1 2", 3),
        ("SADD s 7", 2),
        ("SPOP s", 3),
        ("SADD s 1 2 3", 2),
        ("SPOP s 5", 3),
        ("SADD a x", 2),
        ("SMOVE a b x", 4),
        ("SADD a 1", 2),
        ("SINTERSTORE d a", 2),
        ("SINTERSTORE d a nosuch", 2),
        ("SUNIONSTORE d a", 2),
        ("SDIFFSTORE d a a", 2),
        ("SCARD a", 1),
    ] {
        d.check_frames_on(0, line, frames);
    }
    d.finish();
}
