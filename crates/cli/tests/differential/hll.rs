//! HyperLogLog in Redis's own representation (the "HYLL" string, sparse and dense).
//! Differential cases: hll.
//!
//! A HyperLogLog is a string, so every case GETs the key after changing it: the
//! stored bytes (header, cached count, sparse opcodes or dense registers) must be
//! Redis's exactly, not only the counts. Hand-made and damaged strings are in
//! `corrupt`, the random sequences in `generator`.

mod corrupt;
mod generator;

use super::harness::{Args, Differ};
use super::notifications::{events_of, subscribe_all, WRITER};
use super::random::b;

/// `PFADD key element…`.
pub fn pfadd_args(key: &str, elements: impl IntoIterator<Item = String>) -> Args {
    let mut a = vec![b("PFADD"), b(key)];
    a.extend(elements.into_iter().map(b));
    a
}

/// A HLL string: header with `encoding` (0 dense, 1 sparse) and a cached count
/// (`stale` sets the flag), then `body`.
pub fn hll(encoding: u8, card: u64, stale: bool, body: &[u8]) -> Vec<u8> {
    let mut s = b"HYLL".to_vec();
    s.extend_from_slice(&[encoding, 0, 0, 0]);
    let mut c = card.to_le_bytes();
    if stale {
        c[7] |= 0x80;
    }
    s.extend_from_slice(&c);
    s.extend_from_slice(body);
    s
}

/// The two-byte sparse opcode for a run of `n` zero registers.
pub fn xzero(n: usize) -> [u8; 2] {
    let l = n - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// A dense body with every register at `f(index)`.
pub fn dense_body(f: impl Fn(usize) -> u8) -> Vec<u8> {
    let mut body = vec![0u8; 12288];
    for i in 0..16384 {
        let v = f(i) as u32;
        let bit = i * 6;
        let word = v << (bit % 8);
        body[bit / 8] |= word as u8;
        if bit / 8 + 1 < body.len() {
            body[bit / 8 + 1] |= (word >> 8) as u8;
        }
    }
    body
}

pub fn set_raw(d: &mut Differ, key: &str, value: Vec<u8>) {
    d.check_args(vec![b("SET"), b(key), value]);
}

#[test]
fn pfadd_pfcount_basics() {
    let mut d = Differ::new("hll/basics");
    d.check_all(&[
        "PFADD h",
        "GET h",
        "TYPE h",
        "OBJECT ENCODING h",
        "PFCOUNT h",
        "GET h",
        "PFADD h",
        "GET h",
        "PFADD h a",
        "PFADD h a",
        "GET h",
        "PFADD h a b c d e f g",
        "PFADD h a b",
        "PFCOUNT h",
        "PFCOUNT h",
        "GET h",
        "STRLEN h",
        "PFADD fresh x y z",
        "PFCOUNT fresh",
        "GET fresh",
        "PFCOUNT nosuch",
        "EXISTS nosuch",
        "PFADD '' ''",
        "PFADD bin \"\\x00\\xff\" \"\\r\\n\" \"\"",
        "GET bin",
        "pfadd h Z",
        "PfCount h",
        // Arity.
        "PFADD",
        "PFCOUNT",
        "PFMERGE",
        // Other types and plain strings.
        "SADD set m",
        "PFADD set a",
        "PFADD set",
        "PFCOUNT set",
        "PFCOUNT h set",
        "PFMERGE set h",
        "PFMERGE h set",
        "HSET hash f v",
        "PFCOUNT hash",
        "SET str hello",
        "PFADD str a",
        "PFCOUNT str",
        "PFCOUNT h str",
        "PFMERGE h str",
        "PFMERGE str h",
        "SET int 12345",
        "PFADD int a",
        "PFCOUNT int",
        "SET emptystr \"\"",
        "PFADD emptystr a",
        "GET str",
        "GET h",
    ]);
    // TTLs survive PFADD and PFMERGE (the value changes in place).
    d.check_all(&[
        "PFADD t a",
        "EXPIRE t 1000",
        "PFADD t b c",
        "TTL t",
        "PFMERGE t h",
        "TTL t",
        "PFCOUNT t",
        "TTL t",
    ]);
    d.finish();
}

/// Random element sets of many sizes, added in batches of several sizes: every
/// intermediate string is compared, through sparse growth, the merge of equal
/// neighbouring opcodes, and the conversion to dense past 3000 bytes.
#[test]
fn sparse_growth_to_dense() {
    let mut d = Differ::new("hll/growth");
    let mut rng = fastrand::Rng::with_seed(6);
    for set in 0..60 {
        let key = format!("g{set}");
        let n = *[1usize, 3, 10, 40, 150, 400, 900, 1500, 2500, 4000, 8000]
            .get(set % 11)
            .unwrap_or(&10);
        let batch = *[1usize, 2, 7, 50, 400][..].get(set % 5).unwrap_or(&7);
        let batch = if n > 1000 { batch.max(50) } else { batch };
        let elements: Vec<String> = (0..n).map(|_| format!("{}", rng.u64(..))).collect();
        for chunk in elements.chunks(batch) {
            d.check_args(pfadd_args(&key, chunk.iter().cloned()));
            d.check_args(vec![b("GET"), b(&key)]);
        }
        d.check_args(vec![b("PFCOUNT"), b(&key)]);
        d.check_args(vec![b("GET"), b(&key)]);
        d.check_args(vec![b("STRLEN"), b(&key)]);
        d.check_args(vec![b("OBJECT"), b("ENCODING"), b(&key)]);
        // Re-adding what is there changes nothing.
        d.check_args(pfadd_args(&key, elements.iter().take(20).cloned()));
        d.check_args(vec![b("GET"), b(&key)]);
        if d.mismatch_count() > 5 {
            break;
        }
    }
    d.finish();
}

#[test]
fn hundred_thousand_elements() {
    let mut d = Differ::new("hll/100k");
    for batch in 0..100 {
        d.check_args(pfadd_args(
            "big",
            (batch * 1000..(batch + 1) * 1000).map(|i| format!("element:{i}")),
        ));
        if batch % 10 == 9 {
            d.check("PFCOUNT big");
            d.check("GET big");
        }
    }
    d.check("STRLEN big");
    // Counts of other sizes on their own keys (single adds, estimator ranges).
    for (key, n) in [("n1k", 1000), ("n10k", 10_000), ("n30k", 30_000)] {
        for start in (0..n).step_by(1000) {
            d.check_args(pfadd_args(
                key,
                (start..(start + 1000).min(n)).map(|i| format!("{key}-{i}")),
            ));
        }
        d.check(&format!("PFCOUNT {key}"));
        d.check(&format!("GET {key}"));
    }
    d.check("PFCOUNT big n1k n10k n30k");
    d.check("PFMERGE all big n1k n10k n30k");
    d.check("GET all");
    d.check("PFCOUNT all");
    d.finish();
}

/// `hll-sparse-max-bytes` decides when a sparse HLL turns dense, for PFADD and for
/// a sparse PFMERGE destination.
#[test]
fn sparse_max_bytes_thresholds() {
    let mut d = Differ::new("hll/max-bytes");
    let mut rng = fastrand::Rng::with_seed(11);
    for max in [
        "0", "1", "18", "19", "20", "21", "30", "100", "500", "3000", "6000", "50000",
    ] {
        d.check(&format!("CONFIG SET hll-sparse-max-bytes {max}"));
        d.check("CONFIG GET hll-sparse-max-bytes");
        for (i, n) in [0usize, 1, 2, 5, 60, 700, 3000].into_iter().enumerate() {
            let key = format!("m{max}-{i}");
            d.check(&format!("PFADD {key}"));
            let elements: Vec<String> = (0..n).map(|_| format!("{}", rng.u32(..))).collect();
            for chunk in elements.chunks(if n > 100 { 100 } else { 3 }) {
                d.check_args(pfadd_args(&key, chunk.iter().cloned()));
            }
            d.check(&format!("GET {key}"));
            d.check(&format!("PFMERGE d{max}-{i} {key} m{max}-0"));
            d.check(&format!("GET d{max}-{i}"));
        }
    }
    d.check("CONFIG SET hll-sparse-max-bytes 3000");
    d.finish();
}

#[test]
fn unions_and_merges() {
    let mut d = Differ::new("hll/merge");
    let mut rng = fastrand::Rng::with_seed(3);
    let sizes = [0usize, 1, 5, 50, 300, 1200, 5000];
    for (i, n) in sizes.iter().enumerate() {
        let key = format!("s{i}");
        d.check(&format!("PFADD {key}"));
        let elements: Vec<String> = (0..*n).map(|_| format!("{}", rng.u16(..))).collect();
        for chunk in elements.chunks(500) {
            d.check_args(pfadd_args(&key, chunk.iter().cloned()));
        }
    }
    d.check_all(&[
        "PFCOUNT s0 s1",
        "PFCOUNT s1 s1",
        "PFCOUNT s1 s2 s3",
        "PFCOUNT s4 s5 s6 nosuch",
        "PFCOUNT nosuch other",
        "PFCOUNT s6 s5",
        "GET s5",
        "PFMERGE m1 s1 s2",
        "GET m1",
        "PFMERGE m1 s3",
        "GET m1",
        "PFMERGE m2 s4 s5",
        "GET m2",
        // A dense input makes the destination dense.
        "PFMERGE m3 s1 s6",
        "GET m3",
        "PFMERGE s2 s6",
        "GET s2",
        // Only the destination: itself merged into itself.
        "PFMERGE s3",
        "GET s3",
        "PFMERGE s3 s3 s3",
        "GET s3",
        "PFMERGE created",
        "GET created",
        "PFMERGE created2 nosuch",
        "GET created2",
        "PFMERGE s5 s0 s1 s4",
        "GET s5",
        "PFCOUNT s5",
        "GET s5",
        "PFCOUNT m1 m2 m3",
    ]);
    // Merging many sparse inputs that together outgrow the sparse limit.
    for i in 0..8 {
        let elements: Vec<String> = (0..200).map(|_| format!("{}", rng.u64(..))).collect();
        d.check_args(pfadd_args(&format!("p{i}"), elements));
    }
    d.check("PFMERGE union p0 p1 p2 p3 p4 p5 p6 p7");
    d.check("GET union");
    d.check("PFCOUNT p0 p1 p2 p3 p4 p5 p6 p7");
    d.check("PFCOUNT union");
    d.finish();
}

/// PFCOUNT of one key stores the count in the header (GET shows it) and counts as a
/// change for WATCH when it does; several keys change nothing.
#[test]
fn count_cache_and_watch() {
    let mut d = Differ::new("hll/cache");
    d.check_all(&[
        "PFADD w a b c",
        "GET w",
        "WATCH w",
        "PFCOUNT w",
        "MULTI",
        "PING",
        "EXEC",
        "GET w",
        // The cache is valid now: counting again writes nothing.
        "WATCH w",
        "PFCOUNT w",
        "MULTI",
        "PING",
        "EXEC",
        "PFADD w d",
        "WATCH w",
        "PFCOUNT w other",
        "MULTI",
        "PING",
        "EXEC",
        "GET w",
        "WATCH w",
        "PFADD w a",
        "MULTI",
        "PING",
        "EXEC",
    ]);
    // A valid cached count is returned without looking at the registers.
    let empty_body = xzero(16384);
    set_raw(
        &mut d,
        "c",
        hll(1, 0x0102_0304_0506_0708, false, &empty_body),
    );
    d.check_all(&["PFCOUNT c", "PFCOUNT c c", "GET c"]);
    set_raw(&mut d, "c", hll(1, 5, true, &empty_body));
    d.check_all(&[
        "OBJECT ENCODING c",
        "PFCOUNT c",
        "GET c",
        "OBJECT ENCODING c",
    ]);
    // Even a valid cache turns an embedded string raw (Redis unshares it first).
    set_raw(&mut d, "c2", hll(1, 0, false, &empty_body));
    d.check_all(&["PFCOUNT c2", "OBJECT ENCODING c2"]);
    set_raw(&mut d, "c3", hll(1, 0, false, &empty_body));
    d.check_all(&[
        "PFCOUNT c3 c3",
        "OBJECT ENCODING c3",
        "PFMERGE c4 c3",
        "OBJECT ENCODING c3",
        "OBJECT ENCODING c4",
        "PFADD c3",
        "OBJECT ENCODING c3",
        "GET c3",
    ]);
    d.finish();
}

/// HLLs written with SET (as clients copy them with GET/SET) work like created ones.
#[test]
fn copies_written_with_set() {
    let mut d = Differ::new("hll/copies");
    d.check("PFADD src a b c d e f g h i j");
    let [reference, _] = d.query_on(0, "GET src");
    let bytes = reference
        .as_bytes()
        .expect("GET src on redis-server")
        .to_vec();
    set_raw(&mut d, "copy", bytes);
    d.check_all(&[
        "OBJECT ENCODING copy",
        "PFCOUNT copy",
        "PFADD copy k l m",
        "GET copy",
        "OBJECT ENCODING copy",
        "PFMERGE copy src",
        "GET copy",
    ]);
    for i in 0..3000 {
        if i % 500 == 0 {
            d.check_args(pfadd_args("dense", (i..i + 500).map(|j| format!("{j}"))));
        }
    }
    let [reference, _] = d.query_on(0, "GET dense");
    let bytes = reference
        .as_bytes()
        .expect("GET dense on redis-server")
        .to_vec();
    set_raw(&mut d, "dcopy", bytes);
    d.check_all(&[
        "OBJECT ENCODING dcopy",
        "PFCOUNT dcopy",
        "PFADD dcopy x y z",
        "GET dcopy",
        "PFCOUNT dcopy copy",
    ]);
    d.finish();
}

#[test]
fn resp3_and_transactions() {
    let mut d = Differ::new("hll/resp3");
    d.check_all(&[
        "HELLO 3",
        "PFADD h a b c",
        "PFCOUNT h",
        "PFCOUNT h nosuch",
        "PFMERGE d h",
        "GET d",
        "PFCOUNT set",
        "SET s x",
        "PFADD s a",
        "MULTI",
        "PFADD m a",
        "PFADD m a",
        "PFCOUNT m",
        "PFMERGE m2 m h",
        "PFADD s a",
        "GET m2",
        "EXEC",
        "MULTI",
        "PFADD",
        "EXEC",
        "HELLO 2",
        "PFCOUNT m m2",
    ]);
    d.finish();
}

#[test]
fn hll_events() {
    let mut d = Differ::new("hll/events");
    subscribe_all(&mut d, "KEA");
    for line in [
        "PFADD h a b",
        "PFADD h a",
        "PFADD h",
        "PFADD created",
        "PFCOUNT h",
        "PFCOUNT h nosuch",
        "PFMERGE d h",
        "PFMERGE d",
        "PFMERGE e nosuch",
        "SET s x",
        "PFADD s a",
        "PFMERGE s h",
        "PFMERGE h s",
    ] {
        events_of(&mut d, line);
    }
    // New keys and misses of read lookups.
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events KEg$nm");
    for line in [
        "PFCOUNT missing",
        "PFCOUNT missing h other",
        "PFMERGE dest missing h",
        "PFMERGE missingdest",
        "PFADD missing2 x",
        "PFADD missing2 x",
    ] {
        events_of(&mut d, line);
    }
    d.finish();
}
