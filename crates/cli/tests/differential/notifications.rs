//! Differential cases for keyspace notifications (`notify-keyspace-events`): a
//! subscriber on `__key*__:*` must receive the same events, in the same order, from
//! both servers for each command.
//!
//! After each command the writer publishes a marker; the subscriber reads up to it,
//! so every command's events are compared as one sequence (no timing involved).
//! The per-type events (lists, hashes, sets, sorted sets) are checked in each type's
//! own file with `events_of`.

use super::harness::Differ;
use super::normalise::Rule;
use ferrocache_testkit::Frame;

pub const SUB: usize = 7;
pub const WRITER: usize = 0;

/// Subscribes connection `SUB` to every keyspace and keyevent channel (and the marker)
/// and enables `flags` on both servers.
pub fn subscribe_all(d: &mut Differ, flags: &str) {
    d.check_on(
        WRITER,
        &format!("CONFIG SET notify-keyspace-events {flags}"),
    );
    d.check_frames_on(SUB, "PSUBSCRIBE __key*__:*", 1);
    d.check_frames_on(SUB, "SUBSCRIBE marker", 1);
}

fn is_marker(f: &Frame) -> bool {
    match f {
        Frame::Array(items) | Frame::Push(items) => {
            items.len() == 3 && items[1].as_bytes() == Some(b"marker")
        }
        _ => false,
    }
}

/// Runs `line` on the writer (comparing its reply), then compares the events the
/// subscriber received for it.
pub fn events_of(d: &mut Differ, line: &str) {
    d.check_on(WRITER, line);
    d.query_on(WRITER, "PUBLISH marker end");
    let pair = d.conn(SUB);
    let got = [0, 1].map(|i| {
        let mut frames = Vec::new();
        loop {
            match pair[i].read_frame() {
                Ok(f) if is_marker(&f) => break Ok(frames),
                Ok(f) => frames.push(f),
                Err(e) => break Err(format!("{e:#}")),
            }
            if frames.len() > 1000 {
                break Err("no marker after 1000 frames".to_string());
            }
        }
    });
    d.compare(&format!("(events of) {line}"), Rule::Exact, &got);
}

#[test]
fn string_and_generic_events() {
    let mut d = Differ::new("notifications/strings");
    subscribe_all(&mut d, "KEA");
    for line in [
        "SET k v",
        "SET k v EX 100",
        "SET k v NX",
        "SET k v2 XX GET",
        "SETNX k v",
        "SETNX k2 v",
        "SETEX k3 100 v",
        "PSETEX k3 100000 v",
        "GETSET k v3",
        "MSET a 1 b 2 a 3",
        "MSETNX a 1 c 2",
        "MSETNX c 1 d 2",
        "APPEND a xyz",
        "APPEND new xyz",
        "SETRANGE a 1 QQ",
        "SETRANGE a 1 \"\"",
        "INCR n",
        "DECR n",
        "INCRBY n 5",
        "DECRBY n 2",
        "INCRBYFLOAT n 1.5",
        "SETBIT bits 7 1",
        "GETDEL k",
        "GETDEL k",
        "GETEX a EX 100",
        "GETEX a PERSIST",
        "GETEX a PXAT 1",
        "EXPIRE b 100",
        "PEXPIRE b 100000",
        "EXPIREAT b 1",
        "PERSIST b",
        "SET b 1 EX 100",
        "PERSIST b",
        "PERSIST b",
        "DEL b c d nosuch",
        "UNLINK k2",
        "RENAME k3 k4",
        "RENAMENX k4 bits",
        "RENAMENX k4 k5",
        "COPY k5 k6",
        "COPY k5 k6 REPLACE",
        "COPY k5 k6 DB 1",
        "MOVE k6 2",
        "FLUSHDB",
        "SET x 1",
        "SWAPDB 0 1",
        "FLUSHALL",
    ] {
        events_of(&mut d, line);
    }
    d.finish();
}

#[test]
fn event_classes_and_channels() {
    let mut d = Differ::new("notifications/classes");
    subscribe_all(&mut d, "Eg");
    events_of(&mut d, "SET k v");
    events_of(&mut d, "DEL k");
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events K$");
    events_of(&mut d, "SET k v");
    events_of(&mut d, "EXPIRE k 100");
    // New keys (n) come before the command's own event.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEn$g");
    events_of(&mut d, "SET fresh v");
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEAn");
    d.check_on(WRITER, "CONFIG GET notify-keyspace-events");
    events_of(&mut d, "SET fresh2 v");
    events_of(&mut d, "SET fresh v");
    events_of(&mut d, "MSET f1 1 f2 2");
    events_of(&mut d, "RENAME f1 f3");
    // Expired keys (x), found lazily by a read.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEx$g");
    d.check_on(WRITER, "DEBUG SET-ACTIVE-EXPIRE 0");
    d.check_on(WRITER, "SET gone v PX 1");
    d.check_on(WRITER, "DEBUG SLEEP 0.01");
    events_of(&mut d, "GET gone");
    d.check_on(WRITER, "DEBUG SET-ACTIVE-EXPIRE 1");
    // Misses of read lookups (m), not of writes.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEm");
    for line in [
        "GET nosuch",
        "MGET nosuch fresh other",
        "EXISTS nosuch",
        "TYPE nosuch",
        "TTL nosuch",
        "STRLEN nosuch",
        "GETRANGE nosuch 0 1",
        "INCR counter",
        "APPEND app x",
        "SETNX fresh v",
        "GET fresh",
    ] {
        events_of(&mut d, line);
    }
    d.check_on(WRITER, "CONFIG GET notify-keyspace-events");
    for flags in ["A", "nA", "Ex", "Kn", "m", "gl$shzxetdK", "q", "KEA", ""] {
        d.check_args(vec![
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            b"notify-keyspace-events".to_vec(),
            flags.as_bytes().to_vec(),
        ]);
        d.check_on(WRITER, "CONFIG GET notify-keyspace-events");
    }
    // A RESP3 client subscribed to its own events gets each push before the reply
    // of the command that caused it (keymiss included).
    d.check_on(3, "HELLO 3");
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEA");
    d.check_frames_on(3, "SUBSCRIBE __keyevent@0__:keymiss __keyevent@0__:set", 2);
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEAm");
    d.check_frames_on(3, "GET nosuch-resp3", 2);
    d.check_frames_on(3, "SET resp3 v", 2);
    // (Redis writes a multi-key read's keymiss pushes in the middle of the array
    // reply; ferrocache writes them before it: a listed difference.)
    // Nothing enabled: no events at all.
    events_of(&mut d, "SET quiet v");
    d.finish();
}

/// Writes that cannot fit under maxmemory get Redis's exact OOM error (eviction
/// itself is tested against the binary in tests/memory.rs).
#[test]
fn out_of_memory_error() {
    let mut d = Differ::new("notifications/oom");
    d.check_on(WRITER, "SET before v");
    d.check_on(WRITER, "CONFIG SET maxmemory 1");
    d.check_on(WRITER, "SET k v");
    d.check_on(WRITER, "GET before");
    d.check_on(WRITER, "MULTI");
    d.check_on(WRITER, "SET k v");
    d.check_on(WRITER, "EXEC");
    d.check_on(WRITER, "DEL before");
    d.check_on(WRITER, "CONFIG SET maxmemory 0");
    d.check_on(WRITER, "SET k v");
    d.finish();
}
