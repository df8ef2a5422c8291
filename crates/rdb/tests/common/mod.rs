//! Shared by the tests against a real redis-server: the dataset covering every type
//! in small and large encodings, loading it into a server, and reading a server's
//! whole contents back into a comparable form.

#![allow(dead_code)]

use bytes::Bytes;
use ferrocache_rdb::{Entry, RdbValue};
use ferrocache_testkit::{show, Frame, RespConn};
use std::collections::BTreeMap;

/// A value in a form that compares equal whatever order the server or file used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Norm {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// (member, score bits), sorted by member.
    ZSet(Vec<(Vec<u8>, u64)>),
}

/// (db, key) → (value, absolute expiry in ms).
pub type Snapshot = BTreeMap<(u32, Vec<u8>), (Norm, Option<i64>)>;

pub fn norm(v: &RdbValue) -> Norm {
    let vecs = |v: &[Bytes]| v.iter().map(|b| b.to_vec()).collect::<Vec<_>>();
    match v {
        RdbValue::String(s) => Norm::Str(s.to_vec()),
        RdbValue::List(l) => Norm::List(vecs(l)),
        RdbValue::Set(s) => {
            let mut s = vecs(s);
            s.sort();
            Norm::Set(s)
        }
        RdbValue::Hash(h) => {
            let mut h: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            h.sort();
            Norm::Hash(h)
        }
        RdbValue::ZSet(z) => {
            let mut z: Vec<_> = z.iter().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
            z.sort();
            Norm::ZSet(z)
        }
    }
}

pub fn snapshot_of(entries: &[Entry]) -> Snapshot {
    entries
        .iter()
        .map(|e| ((e.db, e.key.to_vec()), (norm(&e.value), e.expire_at_ms)))
        .collect()
}

/// Sends a command, failing the test on an error reply.
pub fn q<A: AsRef<[u8]>>(c: &mut RespConn, args: &[A]) -> Frame {
    let f = c.send(args).expect("command sent");
    if let Frame::Error(_) = f {
        let cmd: Vec<_> = args
            .iter()
            .take(3)
            .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
            .collect();
        panic!("{cmd:?} failed: {}", show(&f));
    }
    f
}

fn bulk(f: &Frame) -> Vec<u8> {
    f.as_bytes()
        .unwrap_or_else(|| panic!("not a string: {}", show(f)))
        .to_vec()
}

fn array(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) => v,
        other => panic!("not an array: {}", show(&other)),
    }
}

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(i) => *i,
        other => panic!("not an integer: {}", show(other)),
    }
}

/// Everything in databases 0 to 15 of a server.
pub fn server_snapshot(c: &mut RespConn) -> Snapshot {
    let mut snap = Snapshot::new();
    for db in 0..16u32 {
        q(c, &["SELECT", &db.to_string()]);
        for key in array(q(c, &["KEYS", "*"])) {
            let key = bulk(&key);
            let ty = bulk(&q(c, &[&b"TYPE"[..], &key]));
            let one = |c: &mut RespConn, cmd: &[&[u8]]| q(c, cmd);
            let value = match &ty[..] {
                b"string" => Norm::Str(bulk(&one(c, &[b"GET", &key]))),
                b"list" => Norm::List(
                    array(one(c, &[b"LRANGE", &key, b"0", b"-1"]))
                        .iter()
                        .map(bulk)
                        .collect(),
                ),
                b"set" => {
                    let mut s: Vec<_> = array(one(c, &[b"SMEMBERS", &key]))
                        .iter()
                        .map(bulk)
                        .collect();
                    s.sort();
                    Norm::Set(s)
                }
                b"hash" => {
                    let flat: Vec<_> = array(one(c, &[b"HGETALL", &key]))
                        .iter()
                        .map(bulk)
                        .collect();
                    let mut h: Vec<_> = flat
                        .chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect();
                    h.sort();
                    Norm::Hash(h)
                }
                b"zset" => {
                    let flat: Vec<_> =
                        array(one(c, &[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]))
                            .iter()
                            .map(bulk)
                            .collect();
                    let mut z: Vec<_> = flat
                        .chunks(2)
                        .map(|p| {
                            let s: f64 = String::from_utf8_lossy(&p[1]).parse().expect("score");
                            (p[0].clone(), s.to_bits())
                        })
                        .collect();
                    z.sort();
                    Norm::ZSet(z)
                }
                other => panic!("unexpected type {}", String::from_utf8_lossy(other)),
            };
            let at = int(&one(c, &[b"PEXPIRETIME", &key]));
            snap.insert((db, key), (value, (at >= 0).then_some(at)));
        }
    }
    q(c, &["SELECT", "0"]);
    snap
}

/// Loads entries into a server with ordinary commands.
pub fn fill(c: &mut RespConn, entries: &[Entry]) {
    for e in entries {
        q(c, &["SELECT", &e.db.to_string()]);
        let mut cmd: Vec<Vec<u8>> = Vec::new();
        let k = e.key.to_vec();
        match &e.value {
            RdbValue::String(s) => cmd.extend([b"SET".to_vec(), k, s.to_vec()]),
            RdbValue::List(l) => {
                cmd.extend([b"RPUSH".to_vec(), k]);
                cmd.extend(l.iter().map(|b| b.to_vec()));
            }
            RdbValue::Set(s) => {
                cmd.extend([b"SADD".to_vec(), k]);
                cmd.extend(s.iter().map(|b| b.to_vec()));
            }
            RdbValue::Hash(h) => {
                cmd.extend([b"HSET".to_vec(), k]);
                for (f, v) in h {
                    cmd.extend([f.to_vec(), v.to_vec()]);
                }
            }
            RdbValue::ZSet(z) => {
                cmd.extend([b"ZADD".to_vec(), k]);
                for (m, s) in z {
                    cmd.extend([format!("{s:?}").into_bytes(), m.to_vec()]);
                }
            }
        }
        q(c, &cmd);
        if let Some(at) = e.expire_at_ms {
            q(c, &[&b"PEXPIREAT"[..], &e.key, at.to_string().as_bytes()]);
        }
    }
    q(c, &["SELECT", "0"]);
}

/// A deterministic pseudo-random byte stream (no dependency needed for it).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn b(s: impl AsRef<[u8]>) -> Bytes {
    Bytes::copy_from_slice(s.as_ref())
}

fn e(db: u32, key: &str, value: RdbValue) -> Entry {
    Entry::new(db, b(key), value)
}

/// Every type in small (listpack/intset/int/embstr) and large (quicklist with many
/// nodes, hashtable, skiplist, raw, LZF-compressed) forms, with TTLs, in several
/// databases. `now_ms` anchors the TTLs (an hour or more ahead).
pub fn dataset(now_ms: i64) -> Vec<Entry> {
    let mut r = Lcg(7);
    let mut v = vec![
        e(0, "str:small", RdbValue::String(b("hello"))),
        e(0, "str:int", RdbValue::String(b("12345"))),
        e(0, "str:neg", RdbValue::String(b("-7"))),
        e(0, "str:i32min", RdbValue::String(b("-2147483648"))),
        e(0, "str:i64max", RdbValue::String(b("9223372036854775807"))),
        e(0, "str:leading-zero", RdbValue::String(b("007"))),
        e(0, "str:empty", RdbValue::String(b(""))),
        e(
            0,
            "str:lzf",
            RdbValue::String(b("compress me please ".repeat(200))),
        ),
        e(0, "str:random", RdbValue::String(b(r.bytes(5000)))),
        e(
            0,
            "str:70k",
            RdbValue::String(b([r.bytes(3000), vec![b'q'; 67_000]].concat())),
        ),
        e(
            0,
            "list:small",
            RdbValue::List(vec![b("a"), b("1"), b("-5"), b("xyz"), b("")]),
        ),
        e(
            0,
            "list:large",
            RdbValue::List(
                (0..1000)
                    .map(|i| {
                        if i % 3 == 0 {
                            b(i.to_string())
                        } else {
                            b(format!("item-{i}"))
                        }
                    })
                    .collect(),
            ),
        ),
        e(
            0,
            "list:long-elems",
            RdbValue::List((0..6).map(|i| b(format!("{i}").repeat(150))).collect()),
        ),
        e(
            0,
            "set:intset",
            RdbValue::Set((1..=10).map(|i| b(i.to_string())).collect()),
        ),
        e(
            0,
            "set:intset64",
            RdbValue::Set(vec![
                b(i64::MIN.to_string()),
                b("5"),
                b((1i64 << 40).to_string()),
            ]),
        ),
        e(
            0,
            "set:strings",
            RdbValue::Set(vec![b("alpha"), b("beta"), b("gamma")]),
        ),
        e(
            0,
            "set:large-ints",
            RdbValue::Set((0..1000).map(|i| b((i * 7 - 300).to_string())).collect()),
        ),
        e(
            0,
            "set:large-strings",
            RdbValue::Set((0..600).map(|i| b(format!("member:{i}"))).collect()),
        ),
        e(
            0,
            "hash:small",
            RdbValue::Hash(vec![
                (b("name"), b("ferro")),
                (b("n"), b("42")),
                (b("neg"), b("-100000")),
                (b("e"), b("")),
            ]),
        ),
        e(
            0,
            "hash:large",
            RdbValue::Hash(
                (0..500)
                    .map(|i| (b(format!("f{i}")), b(format!("v{}", i * i))))
                    .collect(),
            ),
        ),
        e(
            0,
            "hash:long-value",
            RdbValue::Hash(vec![(b("f"), b("x".repeat(100))), (b("g"), b("1"))]),
        ),
        e(
            0,
            "zset:small",
            RdbValue::ZSet(vec![
                (b("a"), 1.5),
                (b("b"), -2.0),
                (b("c"), f64::INFINITY),
                (b("d"), f64::NEG_INFINITY),
                (b("e"), 0.0),
                (b("f"), 1e300),
                (b("g"), std::f64::consts::PI),
                (b("h"), 0.1),
            ]),
        ),
        e(
            0,
            "zset:large",
            RdbValue::ZSet(
                (0..300)
                    .map(|i| (b(format!("m{i}")), f64::from(i) / 7.0 - 10.0))
                    .collect(),
            ),
        ),
        e(
            0,
            "zset:long-member",
            RdbValue::ZSet(vec![(b("m".repeat(100)), 3.0), (b("x"), 4.0)]),
        ),
        e(1, "db1:str", RdbValue::String(b("in db 1"))),
        e(1, "db1:list", RdbValue::List(vec![b("x")])),
        e(15, "db15:hash", RdbValue::Hash(vec![(b("k"), b("v"))])),
    ];
    // A binary key and value.
    v.push(Entry::new(
        0,
        b(b"bin\x00\xff\r\nkey"),
        RdbValue::String(b(b"\x00\x01\xfe\xff")),
    ));
    // TTLs on every type.
    let ttl_types: Vec<(&str, RdbValue)> = vec![
        ("ttl:str", RdbValue::String(b("soon"))),
        ("ttl:list", RdbValue::List(vec![b("1"), b("2")])),
        ("ttl:set", RdbValue::Set(vec![b("1"), b("x")])),
        ("ttl:hash", RdbValue::Hash(vec![(b("a"), b("b"))])),
        ("ttl:zset", RdbValue::ZSet(vec![(b("a"), 1.0)])),
    ];
    for (i, (k, val)) in ttl_types.into_iter().enumerate() {
        let mut en = e(0, k, val);
        en.expire_at_ms = Some(now_ms + 3_600_000 + i as i64 * 1234);
        v.push(en);
    }
    let mut far = e(1, "ttl:db1", RdbValue::String(b("x")));
    far.expire_at_ms = Some(now_ms + 86_400_000 * 365);
    v.push(far);
    v
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Describes the first difference between two snapshots, for assertion messages.
pub fn diff(want: &Snapshot, got: &Snapshot) -> Option<String> {
    for (k, w) in want {
        match got.get(k) {
            None => {
                return Some(format!(
                    "missing {:?}",
                    (k.0, String::from_utf8_lossy(&k.1))
                ))
            }
            Some(g) if g != w => {
                return Some(format!(
                    "{:?} differs:\n want {:.300}\n got  {:.300}",
                    (k.0, String::from_utf8_lossy(&k.1)),
                    format!("{w:?}"),
                    format!("{g:?}")
                ))
            }
            _ => {}
        }
    }
    got.keys()
        .find(|k| !want.contains_key(*k))
        .map(|k| format!("unexpected {:?}", (k.0, String::from_utf8_lossy(&k.1))))
}
