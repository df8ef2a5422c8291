//! The dataset every persistence test uses, and a description of a server's whole
//! contents (type, encoding, absolute expiry, value) to compare two servers by.

use ferrocache_testkit::{escape, FerroNode, Frame, RespConn, Server, TempDir};
use std::collections::BTreeMap;
use std::path::Path;

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferrocache"))
}

/// Starts a node whose data directory is `dir` (owned by the caller, so it
/// outlives the node and a restart can find the dump in it).
pub fn node_on(dir: &Path, extra: &[&str]) -> anyhow::Result<FerroNode> {
    let set_dir = format!("dir={}", dir.display());
    let mut args = vec!["--set", set_dir.as_str()];
    args.extend_from_slice(extra);
    FerroNode::start_in(bin(), &args, TempDir::new("node-run")?)
}

pub fn send(c: &mut RespConn, args: &[&[u8]]) -> Frame {
    c.send(args).unwrap_or_else(|e| {
        panic!(
            "{:?}: {e:#}",
            args.iter().map(|a| escape(a)).collect::<Vec<_>>()
        )
    })
}

pub fn cmd(c: &mut RespConn, line: &str) -> Frame {
    let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    send(c, &args)
}

pub fn ok(c: &mut RespConn, line: &str) {
    let r = cmd(c, line);
    assert!(
        matches!(&r, Frame::Simple(s) if &s[..] == b"OK"),
        "{line}: {r:?}"
    );
}

/// A far-future absolute expiry, so TTLs survive every test's duration and
/// compare exactly (PEXPIRETIME is stored in the file).
pub const FAR_MS: i64 = 4_102_444_800_000; // 2100-01-01

/// Fills a server with every type in small and large encodings, integers and
/// binary strings, TTLs, and keys in several databases.
pub fn populate(c: &mut RespConn) {
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut add = |parts: Vec<Vec<u8>>| cmds.push(parts);
    let w = |s: &str| s.as_bytes().to_vec();
    let line = |s: &str| {
        s.split_whitespace()
            .map(|p| p.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };

    // Strings: int, embstr, raw, compressible, incompressible, binary.
    add(line("SET s:int 12345"));
    add(line("SET s:neg -9223372036854775808"));
    add(line("SET s:lead 007"));
    add(line("SET s:emb hello"));
    add(vec![w("SET"), w("s:raw"), vec![b'a'; 300]]);
    let noise: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    add(vec![w("SET"), w("s:noise"), noise]);
    add(vec![w("SET"), w("s:bin"), b"\x00\x01\xff\r\n".to_vec()]);
    add(vec![w("SET"), w("s:empty"), Vec::new()]);
    add(vec![w("SET"), b"k\x00bin\xff".to_vec(), w("binary key")]);
    add(line(&format!("SET s:ttl v PXAT {FAR_MS}")));
    add(line("SETRANGE s:grown 0 abc"));
    // HyperLogLogs: sparse and dense (both are strings).
    add(line("PFADD hll:sparse a b c d"));
    let mut pf = vec![w("PFADD"), w("hll:dense")];
    pf.extend((0..3000).map(|i| format!("e{i}").into_bytes()));
    add(pf);
    // Lists.
    add(line("RPUSH l:small a 1 -2 b"));
    let mut l = vec![w("RPUSH"), w("l:big")];
    l.extend((0..1000).map(|i| format!("item-{i}").into_bytes()));
    add(l);
    add(vec![w("RPUSH"), w("l:long"), w("x"), vec![b'z'; 10_000]]);
    add(line(&format!("PEXPIREAT l:big {}", FAR_MS + 1)));
    // Sets: intset, large intset (hashtable), strings, large.
    add(line("SADD set:int 5 -3 100 7"));
    let mut s = vec![w("SADD"), w("set:intbig")];
    s.extend((0..600).map(|i| i.to_string().into_bytes()));
    add(s);
    add(line("SADD set:str a b c 1"));
    let mut s = vec![w("SADD"), w("set:big")];
    s.extend((0..1000).map(|i| format!("m{i}").into_bytes()));
    add(s);
    // Hashes: listpack, many fields, one long value.
    add(line("HSET h:small f1 v1 f2 2 f3 -3"));
    let mut h = vec![w("HSET"), w("h:big")];
    for i in 0..600 {
        h.push(format!("f{i}").into_bytes());
        h.push(format!("v{i}").into_bytes());
    }
    add(h);
    add(vec![w("HSET"), w("h:long"), w("f"), vec![b'v'; 100]]);
    add(line(&format!("PEXPIREAT h:small {FAR_MS}")));
    // Sorted sets: listpack, many members, one long member; odd scores.
    add(line(
        "ZADD z:small 1.5 a -2 b inf c -inf d 0 e 3.141592653589793 f",
    ));
    let mut z = vec![w("ZADD"), w("z:big")];
    for i in 0..200 {
        z.push(format!("{}", i as f64 / 7.0).into_bytes());
        z.push(format!("member-{i}").into_bytes());
    }
    add(z);
    add(vec![
        w("ZADD"),
        w("z:long"),
        w("1"),
        vec![b'm'; 100],
        w("2"),
        w("short"),
    ]);
    // Other databases.
    add(line("SELECT 3"));
    add(line("SET db3:s x"));
    add(line("RPUSH db3:l a b"));
    add(line(&format!("SET db3:ttl y PXAT {FAR_MS}")));
    add(line("SELECT 15"));
    add(line("HSET db15:h a 1"));
    add(line("SELECT 0"));

    let replies = c.pipeline(&cmds).expect("populate");
    for (cmd, r) in cmds.iter().zip(replies) {
        assert!(!matches!(r, Frame::Error(_)), "{}: {r:?}", escape(&cmd[0]));
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => escape(b),
        Frame::Integer(i) => i.to_string(),
        Frame::Array(items) | Frame::Set(items) => {
            let v: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", v.join(","))
        }
        Frame::Null => "nil".into(),
        other => format!("{other:?}"),
    }
}

fn plain(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

fn items(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) | Frame::Set(items) => items.iter().map(text).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Every key of every database: `db/key` → `type encoding expiry value`, with
/// sets and hashes sorted (their order is an implementation detail).
pub fn contents(c: &mut RespConn) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        cmd(c, &format!("SELECT {db}"));
        let keys = match send(c, &[b"KEYS", b"*"]) {
            Frame::Array(k) => k,
            other => panic!("KEYS: {other:?}"),
        };
        for k in keys {
            let Frame::Bulk(key) = k else {
                panic!("key {k:?}")
            };
            let key = &key[..];
            let ty = plain(&send(c, &[b"TYPE", key]));
            let enc = plain(&send(c, &[b"OBJECT", b"ENCODING", key]));
            let exp = text(&send(c, &[b"PEXPIRETIME", key]));
            let value = match ty.as_str() {
                "string" => text(&send(c, &[b"GET", key])),
                "list" => text(&send(c, &[b"LRANGE", key, b"0", b"-1"])),
                "set" => {
                    let mut m = items(send(c, &[b"SMEMBERS", key]));
                    m.sort();
                    m.join(",")
                }
                "hash" => {
                    let flat = items(send(c, &[b"HGETALL", key]));
                    let mut pairs: Vec<String> = flat
                        .chunks(2)
                        .map(|p| format!("{}={}", p[0], p[1]))
                        .collect();
                    pairs.sort();
                    pairs.join(",")
                }
                "zset" => text(&send(c, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])),
                other => panic!("unexpected type {other}"),
            };
            out.insert(
                format!("{db}/{}", escape(key)),
                format!("{ty} {enc} {exp} {value}"),
            );
        }
    }
    cmd(c, "SELECT 0");
    out
}

/// Asserts two descriptions are equal, listing the keys that differ.
pub fn assert_same(what: &str, a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    let mut diffs = Vec::new();
    for k in a.keys().chain(b.keys()) {
        if a.get(k) != b.get(k) && !diffs.iter().any(|(d, _, _)| d == k) {
            let short = |v: Option<&String>| {
                v.map_or("<missing>".to_string(), |s| s.chars().take(160).collect())
            };
            diffs.push((k.clone(), short(a.get(k)), short(b.get(k))));
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: {} keys differ:\n{}",
        diffs.len(),
        diffs
            .iter()
            .map(|(k, x, y)| format!("  {k}\n    left:  {x}\n    right: {y}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(a.len() > 20, "{what}: the dataset is unexpectedly small");
}

/// The directory a running server saves into (CONFIG GET dir).
pub fn server_dir(s: &dyn Server) -> std::path::PathBuf {
    let mut c = s.connect().unwrap();
    match cmd(&mut c, "CONFIG GET dir") {
        Frame::Array(v) => match &v[1] {
            Frame::Bulk(b) => std::path::PathBuf::from(String::from_utf8_lossy(b).into_owned()),
            other => panic!("dir: {other:?}"),
        },
        Frame::Map(m) => match &m[0].1 {
            Frame::Bulk(b) => std::path::PathBuf::from(String::from_utf8_lossy(b).into_owned()),
            other => panic!("dir: {other:?}"),
        },
        other => panic!("CONFIG GET dir: {other:?}"),
    }
}
