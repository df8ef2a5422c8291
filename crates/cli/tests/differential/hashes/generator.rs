//! The seeded random sequence for hashes: every hash command and option, valid and
//! invalid, mixed with SET/DEL/TYPE/EXPIRE/RENAME/COPY/OBJECT ENCODING on the same
//! few keys so that WRONGTYPE, deletion and both encodings (long fields and values
//! convert) are hit.
//!
//! Some steps are short scripts, queued and emitted one command at a time:
//! - a lowered `hash-max-listpack-entries`, restored a few commands later (a write
//!   to a listpack over the new limit converts it, even a mere update);
//! - MULTI … EXEC around hash commands whose replies do not depend on a hashtable's
//!   order (EXEC's reply is compared exactly);
//! - HELLO 3 … HELLO 2, so that the RESP3 forms are generated too.
//!
//! A script cut short by the end of a seed finishes at the start of the next one,
//! where it is harmless (the keyspace was flushed; the limit gets restored).

use super::super::harness::Args;
use super::super::random::{b, run_seeds, Gen};
use std::collections::VecDeque;

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// A field name from a small universe (so commands collide), sometimes long enough
/// to convert the hash.
fn field(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..20) {
        0 => b(long(65)),
        1 => b(""),
        2 => vec![0, b'\n', 255],
        _ => b(format!("f{}", g.rng.u8(..8))),
    }
}

fn fields(g: &mut Gen, min: usize) -> Vec<Vec<u8>> {
    let n = g.rng.usize(min..min + 4);
    (0..n).map(|_| field(g)).collect()
}

/// An HRANDFIELD count: small, or out of range, or not a number; never a huge
/// negative one (that reply would be as long as the count).
fn rand_count(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..10) {
        0 => b(g.pick(&[
            "-9223372036854775808",
            "9223372036854775807",
            "4611686018427387904",
            "abc",
            "",
            "1.5",
        ])),
        _ => b(g.rng.i64(-12..12).to_string()),
    }
}

/// One hash command (or a command on the same keys of another family).
fn hash_command(g: &mut Gen) -> Args {
    let key = g.key();
    let mut a: Args = match g.rng.u8(..32) {
        0..=4 => {
            let mut a = vec![b(g.pick(&["HSET", "HSET", "HMSET"])), key];
            for _ in 0..g.rng.usize(1..4) {
                a.extend([field(g), g.value()]);
            }
            if g.chance(5) {
                a.pop();
            }
            a
        }
        5 => vec![b("HSETNX"), key, field(g), g.value()],
        6 | 7 => vec![b("HGET"), key, field(g)],
        8 => [vec![b("HMGET"), key], fields(g, 1)].concat(),
        9 | 10 => [vec![b("HDEL"), key], fields(g, 1)].concat(),
        11 => vec![b("HEXISTS"), key, field(g)],
        12 => vec![b("HLEN"), key],
        13 => vec![b("HSTRLEN"), key, field(g)],
        14 => vec![b(g.pick(&["HKEYS", "HVALS", "HGETALL"])), key],
        15 | 16 => vec![b("HINCRBY"), key, field(g), g.int()],
        17 | 18 => vec![b("HINCRBYFLOAT"), key, field(g), g.float()],
        19 if g.chance(10) => {
            // Out of range with WITHVALUES only: without, a count this negative is
            // valid and its reply as long as the count.
            vec![
                b("HRANDFIELD"),
                key,
                b("-4611686018427387904"),
                b("WITHVALUES"),
            ]
        }
        19 | 20 => {
            let mut a = vec![b("HRANDFIELD"), key];
            if g.chance(80) {
                a.push(rand_count(g));
                if g.chance(50) {
                    a.push(b(g.pick(&[
                        "WITHVALUES",
                        "withvalues",
                        "WITHVALUES",
                        "FOO",
                    ])));
                }
            }
            a
        }
        21 | 22 => {
            let cursor = b(g.pick(&["0", "0", "0", "0", "7", "abc", "-1"]));
            let mut a = vec![b("HSCAN"), key, cursor];
            for _ in 0..g.rng.usize(0..3) {
                match g.rng.u8(..5) {
                    0 => a.extend([b("COUNT"), b(g.pick(&["1", "2", "100", "0", "x"]))]),
                    1 => a.push(b("NOVALUES")),
                    _ => a.extend([b("MATCH"), b(g.pick(&["f*", "*", "f[1-3]", "x", "*1*"]))]),
                }
            }
            a
        }
        23 => vec![b("OBJECT"), b("ENCODING"), key],
        24 => vec![b("TYPE"), key],
        25 => vec![b("SET"), key, g.value()],
        26 => vec![b("DEL"), key],
        27 => vec![b("EXPIRE"), key, g.ttl(false)],
        28 => vec![b("EXISTS"), key],
        29 => vec![b("RENAME"), key, g.key()],
        30 => vec![b("COPY"), key, g.key()],
        _ => {
            // Wrong arity.
            let (name, n): (&str, usize) = *g.pick(&[
                ("HSET", 1),
                ("HGET", 1),
                ("HDEL", 1),
                ("HINCRBY", 2),
                ("HRANDFIELD", 0),
                ("HSCAN", 1),
                ("HSETNX", 2),
                ("HSTRLEN", 1),
            ]);
            let mut a = vec![b(name)];
            a.extend((0..n).map(|_| g.key()));
            a
        }
    };
    if g.chance(10) {
        a[0] = a[0].to_ascii_lowercase();
    }
    a
}

/// A hash command whose reply is the same whatever a hashtable's order (for MULTI).
fn ordered_command(g: &mut Gen) -> Args {
    loop {
        let a = hash_command(g);
        let name = a[0].to_ascii_uppercase();
        let unordered: &[&[u8]] = &[b"HKEYS", b"HVALS", b"HGETALL", b"HSCAN", b"HRANDFIELD"];
        if !unordered.contains(&name.as_slice()) {
            return a;
        }
    }
}

/// Queues one of the scripts of the module comment.
fn script(g: &mut Gen, queue: &mut VecDeque<Args>) {
    match g.rng.u8(..3) {
        0 => {
            let limit = b(g.pick(&["0", "1", "2", "3"]));
            queue.push_back(vec![
                b("CONFIG"),
                b("SET"),
                b("hash-max-listpack-entries"),
                limit,
            ]);
            for _ in 0..g.rng.usize(2..8) {
                queue.push_back(hash_command(g));
            }
            queue.push_back(words("CONFIG SET hash-max-listpack-entries 512"));
        }
        1 => {
            queue.push_back(words("MULTI"));
            for _ in 0..g.rng.usize(1..5) {
                queue.push_back(ordered_command(g));
            }
            queue.push_back(words(if g.chance(85) { "EXEC" } else { "DISCARD" }));
        }
        _ => {
            queue.push_back(words("HELLO 3"));
            for _ in 0..g.rng.usize(3..10) {
                queue.push_back(hash_command(g));
            }
            queue.push_back(words("HELLO 2"));
        }
    }
}

fn words(line: &str) -> Args {
    line.split(' ').map(b).collect()
}

#[test]
fn random_hashes() {
    let mut queue: VecDeque<Args> = VecDeque::new();
    run_seeds("random-hashes", move |g| {
        if queue.is_empty() && g.chance(4) {
            script(g, &mut queue);
        }
        queue.pop_front().unwrap_or_else(|| hash_command(g))
    });
}
