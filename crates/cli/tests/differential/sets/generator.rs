//! The seeded random sequence for sets: every set command, valid and invalid, mixed
//! with DEL/TYPE/SET/EXPIRE/OBJECT ENCODING on the same few keys so that WRONGTYPE,
//! deletion and encoding conversions happen.
//!
//! Some steps are short scripts, queued and emitted one command at a time:
//! - SPOP pops from a scratch copy (`COPY key scratch REPLACE`), so that the random
//!   choice never makes the two servers' main keys differ; the copy is then
//!   compared by size and by being a subset of the original, and deleted.
//! - a lower `set-max-intset-entries`, restored a few commands later;
//! - MULTI … EXEC around deterministic set commands.
//!
//! A script cut short by the end of a seed finishes at the start of the next one,
//! where it is harmless (the keyspace was flushed; the limit gets restored).

use super::super::harness::Args;
use super::super::random::{b, run_seeds, Gen};
use std::collections::VecDeque;

/// Never one of `Gen::key()`'s keys.
const SCRATCH: &str = "set-scratch";

fn member(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..20) {
        0..=8 => b(g.rng.i64(-20..40).to_string()),
        9 => b(g.pick(&[
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "01",
            "-0",
            " 1",
            "+1",
            "1.0",
            "0",
        ])),
        10 => b(""),
        11 => vec![0, b'\r', b'\n', 255],
        12 => vec![b'y'; g.rng.usize(20..40)],
        _ => b(g.pick(&["a", "b", "c", "d", "e", "f", "ab", "ba"])),
    }
}

fn members(g: &mut Gen, min: usize) -> Vec<Vec<u8>> {
    let n = g.rng.usize(min..min + 5);
    (0..n).map(|_| member(g)).collect()
}

/// A SPOP/SRANDMEMBER count: small, zero, negative, covering the set, or invalid.
/// Never a huge negative SRANDMEMBER count (Redis would build the reply until it
/// runs out of memory).
fn count(g: &mut Gen, allow_negative: bool) -> Vec<u8> {
    match g.rng.u8(..12) {
        0 => b(g.pick(&[
            "abc",
            "1.5",
            "",
            "-9223372036854775808",
            "9223372036854775808",
        ])),
        1 => b(g.pick(&["1000", "9223372036854775807", "0"])),
        2..=4 if allow_negative => b(g.rng.i64(-12..0).to_string()),
        2 => b("-1"),
        _ => b(g.rng.i64(1..12).to_string()),
    }
}

fn pattern(g: &mut Gen) -> Vec<u8> {
    b(g.pick(&["*", "1*", "*1", "?", "-*", "[a-c]", "a*", "x", "*y*"]))
}

/// The generator's state: queued commands of a script under way.
#[derive(Default)]
pub struct SetGen {
    queue: VecDeque<Args>,
}

impl SetGen {
    pub fn command(&mut self, g: &mut Gen) -> Args {
        if let Some(next) = self.queue.pop_front() {
            return next;
        }
        let key = g.key();
        let mut a: Args = match g.rng.u8(..40) {
            0..=5 => [vec![b("SADD"), key], members(g, 1)].concat(),
            6 => {
                // Many integers at once: crosses set-max-intset-entries (512) or not.
                let from = g.rng.i64(-50..50);
                let n = g.rng.i64(400..620);
                let mut a = vec![b("SADD"), key];
                a.extend((from..from + n).map(|i| b(i.to_string())));
                a
            }
            7..=8 => [vec![b("SREM"), key], members(g, 1)].concat(),
            9 => vec![b("SISMEMBER"), key, member(g)],
            10 => [vec![b("SMISMEMBER"), key], members(g, 1)].concat(),
            11 => vec![b("SCARD"), key],
            12 => vec![b("SMEMBERS"), key],
            13 => vec![b("SMOVE"), key, g.key(), member(g)],
            14 => [vec![b(g.pick(&["SINTER", "SUNION", "SDIFF"]))], g.keys(1)].concat(),
            15..=16 => {
                let op = g.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                [vec![b(op), key], g.keys(1)].concat()
            }
            17 => {
                let keys = g.keys(1);
                let numkeys = match g.rng.u8(..10) {
                    0 => b(g.pick(&["0", "-1", "abc", "100"])),
                    _ => b(keys.len().to_string()),
                };
                let mut a = [vec![b("SINTERCARD"), numkeys], keys].concat();
                if g.chance(50) {
                    a.push(b(g.pick(&["LIMIT", "limit", "LIMIT", "FOO"])));
                    a.push(count(g, true));
                }
                a
            }
            18..=19 => {
                let mut a = vec![b("SRANDMEMBER"), key];
                if g.chance(70) {
                    a.push(count(g, true));
                }
                a
            }
            20..=21 => {
                // SPOP on a scratch copy of the key (see the module comment).
                let scratch = b(SCRATCH);
                let mut pop = vec![b("SPOP"), scratch.clone()];
                if g.chance(70) {
                    pop.push(count(g, false));
                }
                self.queue.extend([
                    pop,
                    vec![b("SCARD"), scratch.clone()],
                    vec![b("SDIFF"), scratch.clone(), key.clone()],
                    vec![b("DEL"), scratch.clone()],
                ]);
                vec![b("COPY"), key, scratch, b("REPLACE")]
            }
            22..=23 => {
                let mut a = vec![b("SSCAN"), key];
                a.push(match g.rng.u8(..10) {
                    0 => b(g.pick(&["abc", "-1", "", "18446744073709551616", "5"])),
                    _ => b("0"),
                });
                if g.chance(40) {
                    a.extend([b("MATCH"), pattern(g)]);
                }
                if g.chance(40) {
                    a.extend([b("COUNT"), count(g, false)]);
                }
                if g.chance(5) {
                    a.push(b("TYPE"));
                }
                a
            }
            24..=25 => vec![b("OBJECT"), b("ENCODING"), key],
            26 => vec![b("TYPE"), key],
            27 => vec![b("DEL"), key],
            28 => vec![b("SET"), key, g.value()],
            29 => vec![b("EXPIRE"), key, g.ttl(false)],
            30 => vec![b("TTL"), key],
            31 => {
                let limit = g.pick(&["0", "1", "3", "8"]);
                self.queue.extend((0..g.rng.usize(2..6)).map(|_| {
                    let key = g.key();
                    [vec![b("SADD"), key], members(g, 1)].concat()
                }));
                self.queue
                    .push_back(words_of("CONFIG SET set-max-intset-entries 512"));
                vec![b("CONFIG"), b("SET"), b("set-max-intset-entries"), b(limit)]
            }
            32 => {
                // Deterministic commands in a transaction (no SPOP, no SRANDMEMBER,
                // no SMEMBERS-like replies, whose order EXEC would compare exactly).
                for _ in 0..g.rng.usize(1..4) {
                    let key = g.key();
                    let cmd = match g.rng.u8(..6) {
                        0 => [vec![b("SADD"), key], members(g, 1)].concat(),
                        1 => vec![b("SREM"), key, member(g)],
                        2 => vec![b("SCARD"), key],
                        3 => vec![b("SMOVE"), key, g.key(), member(g)],
                        4 => [vec![b("SUNIONSTORE"), key], g.keys(1)].concat(),
                        _ => vec![b("SISMEMBER"), key, member(g)],
                    };
                    self.queue.push_back(cmd);
                }
                self.queue.push_back(vec![b("EXEC")]);
                vec![b("MULTI")]
            }
            33 => {
                // Wrong arity.
                let (name, n): (&str, usize) = *g.pick(&[
                    ("SADD", 1),
                    ("SREM", 1),
                    ("SCARD", 0),
                    ("SCARD", 2),
                    ("SISMEMBER", 1),
                    ("SMISMEMBER", 1),
                    ("SMOVE", 2),
                    ("SPOP", 0),
                    ("SPOP", 3),
                    ("SRANDMEMBER", 3),
                    ("SINTER", 0),
                    ("SINTERCARD", 1),
                    ("SSCAN", 1),
                    ("SDIFFSTORE", 1),
                ]);
                let mut a = vec![b(name)];
                for _ in 0..n {
                    a.push(g.key());
                }
                a
            }
            34 => vec![b("RENAME"), key, g.key()],
            _ => [vec![b("SADD"), key], members(g, 1)].concat(),
        };
        if g.chance(10) {
            a[0] = a[0].to_ascii_lowercase();
        }
        a
    }
}

fn words_of(line: &str) -> Args {
    line.split(' ').map(b).collect()
}

#[test]
fn random_sets() {
    let mut gen = SetGen::default();
    run_seeds("random-sets", |g| gen.command(g));
}
