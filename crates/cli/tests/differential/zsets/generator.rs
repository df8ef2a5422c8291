//! The seeded random sequence of sorted-set commands (`random_zsets`): every
//! command, valid and invalid arguments, NaN/±inf/±0 and hex scores, huge and
//! negative ranks and limits, encoding conversions, plain sets as algebra inputs,
//! and DEL/SET/EXPIRE/TYPE on the same keys.
//!
//! Lexicographic commands only read the `lex*` keys, which only ever hold score 0:
//! on a skiplist whose scores differ, Redis's answer depends on its random node
//! levels (its documentation calls it unspecified). Listpacks with mixed scores are
//! covered by hand in `ranges.rs`.

use super::super::harness::Args;
use super::super::random::{b, run_seeds, Gen};

/// Sorted-set keys (they also receive SET/SADD, for WRONGTYPE paths).
const KEYS: &[&str] = &["z0", "z1", "z2", "z3", "s0"];
/// Keys whose members all score 0.
const LEX_KEYS: &[&str] = &["lex0", "lex1"];

fn key(g: &mut Gen) -> Vec<u8> {
    if g.chance(5) {
        g.key()
    } else {
        b(g.pick(KEYS))
    }
}

fn lex_key(g: &mut Gen) -> Vec<u8> {
    b(g.pick(LEX_KEYS))
}

fn member(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..20) {
        0 => b(""),
        1 => b("\x00\r\n"),
        2 => b("x".repeat(g.rng.usize(60..70))),
        3 => b(g.pick(&["1", "-1", "01", "10", "1.5", "+1"])),
        4..=9 => b(g.pick(&["a", "b", "c", "d", "e", "f", "g", "h"])),
        _ => b(format!("m{}", g.rng.u8(..30))),
    }
}

fn score(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..16) {
        0 => b(g.pick(&[
            "inf", "-inf", "+inf", "-0", "0", "+0", "1e308", "-1e308", "0x10", "0x1p-2", "5e-324",
            "1e-310", "Infinity",
        ])),
        1 => b(g.pick(&[
            "nan", "abc", "", " 1", "1 ", "1e400", "1e-400", "(1", "1e", "0x",
        ])),
        2 => g.float(),
        3..=8 => b(g.rng.i64(-10..10).to_string()),
        _ => b(format!("{}.{}", g.rng.i32(-20..20), g.rng.u8(..10))),
    }
}

fn score_bound(g: &mut Gen) -> Vec<u8> {
    let v = match g.rng.u8(..10) {
        0 => b(g.pick(&["-inf", "+inf", "inf", "-0", "nan", "abc", "", "(", "1 "])),
        _ => b(g.rng.i64(-12..12).to_string()),
    };
    if g.chance(30) {
        [b("("), v].concat()
    } else {
        v
    }
}

/// Two score bounds, usually ordered (max first when `rev`), so that most ranges
/// are not empty.
fn score_bounds(g: &mut Gen, rev: bool) -> [Vec<u8>; 2] {
    if g.chance(25) {
        return [score_bound(g), score_bound(g)];
    }
    let (x, y) = (g.rng.i64(-12..12), g.rng.i64(-12..12));
    let (lo, hi) = (x.min(y), x.max(y));
    let open = |g: &mut Gen, v: i64| {
        let p = if g.chance(30) { "(" } else { "" };
        b(format!("{p}{v}"))
    };
    let (lo, hi) = (open(g, lo), open(g, hi));
    if rev {
        [hi, lo]
    } else {
        [lo, hi]
    }
}

/// Two lexicographic bounds, usually ordered (max first when `rev`).
fn lex_bounds(g: &mut Gen, rev: bool) -> [Vec<u8>; 2] {
    let (x, y) = (lex_bound(g), lex_bound(g));
    let rank = |v: &[u8]| match v {
        b"-" => (0, Vec::new()),
        b"+" => (2, Vec::new()),
        v => (1, v.get(1..).unwrap_or_default().to_vec()),
    };
    let (lo, hi) = if g.chance(75) && rank(&x) > rank(&y) {
        (y, x)
    } else {
        (x, y)
    };
    if rev {
        [hi, lo]
    } else {
        [lo, hi]
    }
}

fn lex_bound(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..12) {
        0 => b("-"),
        1 => b("+"),
        2 => b(g.pick(&["a", "", "(", "[", "--", "+a"])),
        _ => {
            let open = if g.chance(50) { "(" } else { "[" };
            let m = b(g.pick(&["a", "b", "c", "d", "k1", "k2", "k3", "k10", "z", ""]));
            [b(open), m].concat()
        }
    }
}

fn rank(g: &mut Gen) -> Vec<u8> {
    match g.rng.u8(..12) {
        0 => b(g.pick(&["9223372036854775807", "-9223372036854775808", "abc", "1.5"])),
        _ => b(g.rng.i64(-15..15).to_string()),
    }
}

fn limit(g: &mut Gen, a: &mut Args) {
    if g.chance(35) {
        a.push(b("LIMIT"));
        a.push(match g.rng.u8(..8) {
            0 => b(g.pick(&["-1", "9223372036854775807", "abc"])),
            _ => b(g.rng.i64(0..6).to_string()),
        });
        a.push(match g.rng.u8(..8) {
            0 => b(g.pick(&["-1", "-5", "9223372036854775807", "abc"])),
            _ => b(g.rng.i64(0..6).to_string()),
        });
    }
}

/// ZADD with random options and pairs; sometimes many pairs, to cross 128.
fn zadd(g: &mut Gen, key: Vec<u8>, lex: bool) -> Args {
    let mut a = vec![b("ZADD"), key];
    if g.chance(40) {
        for _ in 0..g.rng.usize(1..3) {
            let opts: &[&str] = if lex {
                &["NX", "XX", "GT", "LT", "CH"]
            } else {
                &["NX", "XX", "GT", "LT", "CH", "INCR", "incr"]
            };
            a.push(b(g.pick(opts)));
        }
    }
    let pairs = if g.chance(4) {
        g.rng.usize(100..160)
    } else {
        g.rng.usize(1..4)
    };
    for i in 0..pairs {
        a.push(if lex {
            b("0")
        } else if pairs > 10 {
            // Valid scores only, or the long command would almost always fail.
            b(g.rng.i64(-50..50).to_string())
        } else {
            score(g)
        });
        a.push(if pairs > 10 {
            b(format!("k{}", g.rng.u16(..400) + i as u16 % 2))
        } else if lex {
            b(g.pick(&["a", "b", "c", "d", "k1", "k2", "k3", "z", ""]))
        } else {
            member(g)
        });
    }
    if g.chance(3) {
        a.pop();
    }
    a
}

fn range_opts(g: &mut Gen, a: &mut Args, withscores: bool, rev: bool) {
    if rev {
        a.push(b("REV"));
    }
    if withscores && g.chance(40) {
        a.push(b("WITHSCORES"));
    }
    limit(g, a);
}

fn zrange(g: &mut Gen, store: bool) -> Args {
    let mut a = if store {
        vec![b("ZRANGESTORE"), key(g)]
    } else {
        vec![b("ZRANGE")]
    };
    let rev = g.chance(25);
    match g.rng.u8(..3) {
        0 => {
            a.extend([key(g), rank(g), rank(g)]);
            if rev {
                a.push(b("REV"));
            }
            if !store && g.chance(40) {
                a.push(b("WITHSCORES"));
            }
            if g.chance(5) {
                limit(g, &mut a);
            }
        }
        1 => {
            let [lo, hi] = score_bounds(g, rev);
            a.extend([key(g), lo, hi, b("BYSCORE")]);
            range_opts(g, &mut a, !store, rev);
        }
        _ => {
            let [lo, hi] = lex_bounds(g, rev);
            a.extend([lex_key(g), lo, hi, b("BYLEX")]);
            range_opts(g, &mut a, false, rev);
        }
    }
    if g.chance(3) {
        a.push(b(g.pick(&["FOO", "REV", "BYSCORE", "LIMIT", "WITHSCORES"])));
    }
    a
}

fn algebra(g: &mut Gen) -> Args {
    let (name, store) = *g.pick(&[
        ("ZUNION", false),
        ("ZINTER", false),
        ("ZDIFF", false),
        ("ZUNIONSTORE", true),
        ("ZINTERSTORE", true),
        ("ZDIFFSTORE", true),
        ("ZINTERCARD", false),
    ]);
    let mut a = vec![b(name)];
    if store {
        a.push(key(g));
    }
    let n = g.rng.usize(1..4);
    a.push(if g.chance(5) {
        b(g.pick(&["0", "-1", "abc", "9"]))
    } else {
        b(n.to_string())
    });
    for _ in 0..n {
        a.push(if g.chance(15) { lex_key(g) } else { key(g) });
    }
    if g.chance(30) {
        a.push(b("WEIGHTS"));
        for _ in 0..n {
            a.push(match g.rng.u8(..8) {
                0 => b(g.pick(&["inf", "-inf", "0", "nan", "abc", "-0"])),
                _ => b(format!("{}.{}", g.rng.i8(-3..4), g.rng.u8(..10))),
            });
        }
    }
    if g.chance(25) {
        a.push(b("AGGREGATE"));
        a.push(b(g.pick(&["SUM", "MIN", "MAX", "max", "FOO"])));
    }
    if g.chance(30) {
        a.push(b("WITHSCORES"));
    }
    if name == "ZINTERCARD" && g.chance(40) {
        a.push(b("LIMIT"));
        a.push(b(g.pick(&["0", "1", "2", "-1", "abc"])));
    }
    a
}

fn zset_command(g: &mut Gen) -> Args {
    let mut a: Args = match g.rng.u8(..40) {
        0..=5 => {
            let k = key(g);
            zadd(g, k, false)
        }
        6 => {
            let k = lex_key(g);
            zadd(g, k, true)
        }
        7 => vec![b("ZINCRBY"), key(g), score(g), member(g)],
        8 => {
            let mut a = vec![b("ZREM"), key(g)];
            for _ in 0..g.rng.usize(1..4) {
                a.push(member(g));
            }
            a
        }
        9 => vec![b("ZSCORE"), key(g), member(g)],
        10 => vec![b("ZMSCORE"), key(g), member(g), member(g)],
        11 => vec![b("ZCARD"), key(g)],
        12 => vec![b(g.pick(&["ZRANK", "ZREVRANK"])), key(g), member(g)],
        13 => [vec![b("ZCOUNT"), key(g)], score_bounds(g, false).to_vec()].concat(),
        14 => [
            vec![b("ZLEXCOUNT"), lex_key(g)],
            lex_bounds(g, false).to_vec(),
        ]
        .concat(),
        15 | 16 => zrange(g, false),
        17 => zrange(g, true),
        18 => {
            let (name, rev) = *g.pick(&[("ZRANGEBYSCORE", false), ("ZREVRANGEBYSCORE", true)]);
            let mut a = [vec![b(name), key(g)], score_bounds(g, rev).to_vec()].concat();
            if g.chance(40) {
                a.push(b("WITHSCORES"));
            }
            limit(g, &mut a);
            a
        }
        19 => {
            let (name, rev) = *g.pick(&[("ZRANGEBYLEX", false), ("ZREVRANGEBYLEX", true)]);
            let mut a = [vec![b(name), lex_key(g)], lex_bounds(g, rev).to_vec()].concat();
            limit(g, &mut a);
            a
        }
        20 => {
            let mut a = vec![b("ZREVRANGE"), key(g), rank(g), rank(g)];
            if g.chance(40) {
                a.push(b("WITHSCORES"));
            }
            a
        }
        21 => {
            let mut a = vec![b(g.pick(&["ZPOPMIN", "ZPOPMAX"])), key(g)];
            if g.chance(60) {
                a.push(match g.rng.u8(..6) {
                    0 => b(g.pick(&["-1", "abc", "0"])),
                    _ => b(g.rng.u8(1..6).to_string()),
                });
            }
            a
        }
        22 => {
            let blocking = g.chance(30);
            // A blocking pop may find nothing: it then waits 10 ms, never forever.
            let mut a = if blocking {
                vec![b("BZMPOP"), b(g.pick(&["0.01", "0.01", "-1", "abc"]))]
            } else {
                vec![b("ZMPOP")]
            };
            let n = g.rng.usize(1..3);
            a.push(b(n.to_string()));
            for _ in 0..n {
                a.push(key(g));
            }
            a.push(b(g.pick(&["MIN", "MAX", "min", "FOO"])));
            if g.chance(50) {
                a.push(b("COUNT"));
                a.push(b(g.pick(&["1", "2", "5", "0", "-1", "abc"])));
            }
            a
        }
        23 => {
            let mut a = vec![b(g.pick(&["BZPOPMIN", "BZPOPMAX"]))];
            for _ in 0..g.rng.usize(1..3) {
                a.push(key(g));
            }
            a.push(b(g.pick(&["0.01", "0.01", "-1", "abc"])));
            a
        }
        24 => {
            let mut a = vec![b("ZRANDMEMBER"), key(g)];
            if g.chance(70) {
                a.push(b(g.pick(&[
                    "0", "1", "2", "3", "-1", "-3", "5", "100", "-20", "abc",
                ])));
                if g.chance(40) {
                    a.push(b(g.pick(&["WITHSCORES", "WITHSCORES", "FOO"])));
                }
            }
            a
        }
        25 => {
            let mut a = vec![b("ZSCAN"), key(g), b(g.pick(&["0", "0", "0", "abc"]))];
            if g.chance(30) {
                a.extend([b("MATCH"), b(g.pick(&["*", "m*", "?", "[a-c]*"]))]);
            }
            if g.chance(30) {
                a.extend([b("COUNT"), b(g.pick(&["1", "5", "100", "0"]))]);
            }
            a
        }
        26..=28 => algebra(g),
        29 => vec![
            b(g.pick(&["ZREMRANGEBYRANK", "ZREMRANGEBYSCORE"])),
            key(g),
            rank(g),
            rank(g),
        ],
        30 => [
            vec![b("ZREMRANGEBYSCORE"), key(g)],
            score_bounds(g, false).to_vec(),
        ]
        .concat(),
        31 => [
            vec![b("ZREMRANGEBYLEX"), lex_key(g)],
            lex_bounds(g, false).to_vec(),
        ]
        .concat(),
        32 => vec![b("OBJECT"), b("ENCODING"), key(g)],
        33 => [
            vec![b("DEL")],
            (0..g.rng.usize(1..3)).map(|_| key(g)).collect(),
        ]
        .concat(),
        34 => vec![b("SET"), key(g), b("str")],
        35 => vec![b("SADD"), key(g), member(g), member(g)],
        36 => vec![b(g.pick(&["TYPE", "EXISTS"])), key(g)],
        37 => vec![b("EXPIRE"), key(g), g.ttl(false)],
        38 => vec![b(g.pick(&["DEL", "TYPE"])), lex_key(g)],
        _ => {
            // Wrong arity of real commands.
            let (name, n): (&str, usize) = *g.pick(&[
                ("ZADD", 1),
                ("ZSCORE", 1),
                ("ZRANGE", 2),
                ("ZINCRBY", 4),
                ("ZPOPMIN", 0),
                ("ZUNION", 1),
                ("ZRANK", 3),
                ("BZPOPMIN", 1),
            ]);
            let mut a = vec![b(name)];
            for _ in 0..n {
                a.push(key(g));
            }
            a
        }
    };
    if g.chance(10) {
        a[0] = a[0].to_ascii_lowercase();
    }
    a
}

#[test]
fn random_zsets() {
    run_seeds("random-zsets", zset_command);
}
