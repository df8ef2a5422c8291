//! Hand-built files, byte by byte from the format description: every value type and
//! encoding, old versions, and every way a file can be corrupt or cut short.

use super::*;
use crate::crc::crc64;
use crate::encodings::{listpack, ziplist};
use crate::format::{opcode, ty};
use crate::model::RdbValue;
use bytes::Bytes;

/// A tiny file builder for fixtures.
struct File(Vec<u8>);

impl File {
    fn new(version: u32) -> File {
        File(format!("REDIS{version:04}").into_bytes())
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn len(&mut self, n: u64) -> &mut Self {
        crate::encode::put_len(&mut self.0, n).unwrap();
        self
    }
    fn str(&mut self, s: &[u8]) -> &mut Self {
        self.len(s.len() as u64).raw(s)
    }
    fn key(&mut self, t: u8, key: &[u8]) -> &mut Self {
        self.raw(&[t]).str(key)
    }
    fn finish(&mut self, with_crc: bool) -> Vec<u8> {
        self.0.push(opcode::EOF);
        let crc = if with_crc { crc64(&self.0) } else { 0 };
        self.0.extend_from_slice(&crc.to_le_bytes());
        self.0.clone()
    }
}

fn entries(bytes: &[u8]) -> Vec<Entry> {
    read_all(bytes).unwrap().entries
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn strs(v: &[&str]) -> Vec<Bytes> {
    v.iter().map(|s| b(s)).collect()
}

#[test]
fn string_encodings() {
    let long = "abcdefgh".repeat(40);
    let compressed = crate::lzf::compress(long.as_bytes(), long.len()).unwrap();
    let mut f = File::new(10);
    f.key(ty::STRING, b"raw").str(b"hello");
    f.key(ty::STRING, b"i8").raw(&[0xC0, 0xF6]); // -10
    f.key(ty::STRING, b"i16").raw(&[0xC1, 0x39, 0x30]); // 12345
    f.key(ty::STRING, b"i32")
        .raw(&[0xC2, 0x00, 0x00, 0x00, 0x80]); // i32::MIN
    f.key(ty::STRING, b"lzf")
        .raw(&[0xC3])
        .len(compressed.len() as u64)
        .len(long.len() as u64)
        .raw(&compressed);
    f.key(ty::STRING, b"14bit").str(&[b'x'; 300]);
    f.key(ty::STRING, b"32bit")
        .raw(&[0x80, 0, 1, 0, 0])
        .raw(&[b'y'; 65536]);
    f.key(ty::STRING, b"64bit")
        .raw(&[0x81, 0, 0, 0, 0, 0, 0, 0, 3])
        .raw(b"abc");
    let got: Vec<_> = entries(&f.finish(true))
        .into_iter()
        .map(|e| e.value)
        .collect();
    assert_eq!(
        got,
        vec![
            RdbValue::String(b("hello")),
            RdbValue::String(b("-10")),
            RdbValue::String(b("12345")),
            RdbValue::String(b("-2147483648")),
            RdbValue::String(Bytes::from(long)),
            RdbValue::String(Bytes::from(vec![b'x'; 300])),
            RdbValue::String(Bytes::from(vec![b'y'; 65536])),
            RdbValue::String(b("abc")),
        ]
    );
}

#[test]
fn generic_aggregates_and_metadata() {
    let mut f = File::new(9);
    f.raw(&[opcode::AUX]).str(b"redis-ver").str(b"5.0.0");
    f.raw(&[opcode::AUX]).str(b"redis-bits").raw(&[0xC0, 64]);
    f.raw(&[opcode::SELECTDB]).len(2);
    f.raw(&[opcode::RESIZEDB]).len(5).len(1);
    f.raw(&[opcode::EXPIRETIME_MS])
        .raw(&1_700_000_000_123i64.to_le_bytes());
    f.raw(&[opcode::IDLE]).len(42);
    f.key(ty::LIST, b"l").len(2).str(b"a").str(b"b");
    f.raw(&[opcode::EXPIRETIME])
        .raw(&1_700_000_000i32.to_le_bytes());
    f.raw(&[opcode::FREQ, 7]);
    f.key(ty::SET, b"s").len(1).str(b"m");
    f.key(ty::HASH, b"h").len(1).str(b"f").str(b"v");
    f.key(ty::ZSET, b"z")
        .len(4)
        .str(b"a")
        .raw(&[3])
        .raw(b"1.5")
        .str(b"b")
        .raw(&[254])
        .str(b"c")
        .raw(&[255]);
    f.str(b"d").raw(&[2]).raw(b"-2");
    f.key(ty::ZSET_2, b"z2")
        .len(1)
        .str(b"m")
        .raw(&(-0.25f64).to_le_bytes());
    let file = read_all(&f.finish(true)[..]).unwrap();
    assert_eq!(file.version, 9);
    assert_eq!(file.aux("redis-ver"), Some(&b("5.0.0")));
    assert_eq!(file.aux("redis-bits"), Some(&b("64")));
    assert_eq!(file.resize, vec![(2, 5, 1)]);
    let e = &file.entries;
    assert!(e.iter().all(|e| e.db == 2));
    assert_eq!(
        (e[0].expire_at_ms, e[0].lru_idle_secs, e[0].lfu_freq),
        (Some(1_700_000_000_123), Some(42), None)
    );
    assert_eq!(e[0].value, RdbValue::List(strs(&["a", "b"])));
    assert_eq!(
        (e[1].expire_at_ms, e[1].lfu_freq),
        (Some(1_700_000_000_000), Some(7))
    );
    assert_eq!(e[1].value, RdbValue::Set(strs(&["m"])));
    assert_eq!(e[2].expire_at_ms, None);
    assert_eq!(e[2].value, RdbValue::Hash(vec![(b("f"), b("v"))]));
    assert_eq!(
        e[3].value,
        RdbValue::ZSet(vec![
            (b("a"), 1.5),
            (b("b"), f64::INFINITY),
            (b("c"), f64::NEG_INFINITY),
            (b("d"), -2.0)
        ])
    );
    assert_eq!(e[4].value, RdbValue::ZSet(vec![(b("m"), -0.25)]));
}

#[test]
fn ziplist_zipmap_quicklist_encodings_of_old_versions() {
    for version in [6, 7, 8, 9] {
        let mut f = File::new(version);
        f.raw(&[opcode::SELECTDB]).len(0);
        f.key(ty::LIST_ZIPLIST, b"zl")
            .str(&ziplist::encode_strings(&[b"a", b"bb"]));
        f.key(ty::ZSET_ZIPLIST, b"zz")
            .str(&ziplist::encode_strings(&[b"m", b"2.5", b"n", b"inf"]));
        f.key(ty::HASH_ZIPLIST, b"zh")
            .str(&ziplist::encode_strings(&[b"f", b"v"]));
        f.key(ty::HASH_ZIPMAP, b"zm")
            .str(&[1, 1, b'k', 2, 1, b'v', b'w', 0, 0xFF]);
        f.key(ty::SET_INTSET, b"is")
            .str(&[2, 0, 0, 0, 2, 0, 0, 0, 0xFE, 0xFF, 9, 0]);
        f.key(ty::LIST_QUICKLIST, b"ql").len(2);
        f.str(&ziplist::encode_strings(&[b"1", b"2"]))
            .str(&ziplist::encode_strings(&[b"3"]));
        // Version 6 files may lack a checksum (rdbchecksum no): zero is accepted.
        let bytes = f.finish(version != 6);
        let got: Vec<_> = entries(&bytes)
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect();
        assert_eq!(
            got,
            vec![
                (b("zl"), RdbValue::List(strs(&["a", "bb"]))),
                (
                    b("zz"),
                    RdbValue::ZSet(vec![(b("m"), 2.5), (b("n"), f64::INFINITY)])
                ),
                (b("zh"), RdbValue::Hash(vec![(b("f"), b("v"))])),
                (b("zm"), RdbValue::Hash(vec![(b("k"), b("vw"))])),
                (b("is"), RdbValue::Set(strs(&["-2", "9"]))),
                (b("ql"), RdbValue::List(strs(&["1", "2", "3"]))),
            ],
            "version {version}"
        );
    }
}

#[test]
fn listpack_encodings_of_redis_7() {
    let mut f = File::new(11);
    f.raw(&[opcode::FUNCTION2]).str(b"#!lua name=lib\n");
    f.key(ty::HASH_LISTPACK, b"h")
        .str(&listpack::encode([&b"f"[..], b"1", b"g", b"x"]));
    f.key(ty::ZSET_LISTPACK, b"z")
        .str(&listpack::encode([&b"a"[..], b"-3", b"b", b"0.5"]));
    f.key(ty::SET_LISTPACK, b"s")
        .str(&listpack::encode([&b"x"[..], b"7"]));
    f.key(ty::LIST_QUICKLIST_2, b"l").len(3);
    f.len(2).str(&listpack::encode([&b"a"[..], b"100000"]));
    f.len(1).str(b"a plain node");
    f.len(2).raw(&[0xC3]);
    // A compressed listpack node, as Redis writes nodes it keeps LZF-compressed.
    let lp = listpack::encode([&b"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"[..]]);
    let c = crate::lzf::compress(&lp, lp.len()).unwrap();
    f.len(c.len() as u64).len(lp.len() as u64).raw(&c);
    let file = read_all(&f.finish(true)[..]).unwrap();
    assert_eq!(file.functions, vec![b("#!lua name=lib\n")]);
    let got: Vec<_> = file.entries.into_iter().map(|e| e.value).collect();
    assert_eq!(
        got,
        vec![
            RdbValue::Hash(vec![(b("f"), b("1")), (b("g"), b("x"))]),
            RdbValue::ZSet(vec![(b("a"), -3.0), (b("b"), 0.5)]),
            RdbValue::Set(strs(&["x", "7"])),
            RdbValue::List(strs(&["a", "100000", "a plain node", &"z".repeat(40)])),
        ]
    );
}

fn err_of(bytes: &[u8]) -> RdbError {
    match read_all(bytes) {
        Ok(f) => panic!("accepted: {f:?}"),
        Err(e) => e,
    }
}

fn sample() -> Vec<u8> {
    let mut f = File::new(10);
    f.raw(&[opcode::AUX]).str(b"redis-ver").str(b"7.0.15");
    f.raw(&[opcode::SELECTDB])
        .len(0)
        .raw(&[opcode::RESIZEDB])
        .len(2)
        .len(0);
    f.key(ty::STRING, b"k").str(b"value");
    f.key(ty::HASH_LISTPACK, b"h")
        .str(&listpack::encode([&b"f"[..], b"v"]));
    f.finish(true)
}

#[test]
fn every_truncation_is_an_error() {
    let good = sample();
    assert_eq!(entries(&good).len(), 2);
    for cut in 0..good.len() {
        let e = err_of(&good[..cut]);
        assert!(
            matches!(e, RdbError::Truncated { .. } | RdbError::BadMagic),
            "cut {cut}: {e}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let good = sample();
    for i in 9..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        // Any error will do; what must not happen is a successful load.
        assert!(read_all(&bad[..]).is_err(), "flip at {i} accepted");
    }
}

#[test]
fn refusals_name_the_problem() {
    assert!(matches!(err_of(b"RUBIS0010"), RdbError::BadMagic));
    assert!(matches!(
        err_of(b"REDIS0012"),
        RdbError::UnsupportedVersion(12)
    ));
    assert!(matches!(
        err_of(b"REDIS0000"),
        RdbError::UnsupportedVersion(0)
    ));
    let mut good = sample();
    let n = good.len();
    good[n - 1] ^= 0xFF;
    assert!(matches!(err_of(&good), RdbError::Checksum { .. }));

    let stream = File::new(10)
        .key(ty::STREAM_LISTPACKS_2, b"events")
        .finish(true);
    let e = err_of(&stream).to_string();
    assert!(e.contains("stream") && e.contains("events"), "{e}");
    let module = File::new(10).key(ty::MODULE_2, b"m").finish(true);
    assert!(err_of(&module).to_string().contains("module"));
    let module_aux = File::new(10).raw(&[opcode::MODULE_AUX]).finish(true);
    assert!(err_of(&module_aux).to_string().contains("module"));
    let pre_ga = File::new(10).raw(&[opcode::FUNCTION_PRE_GA]).finish(true);
    assert!(err_of(&pre_ga).to_string().contains("function"));
    let unknown = File::new(10).raw(&[8]).finish(true);
    assert!(matches!(
        err_of(&unknown),
        RdbError::Corrupt { offset: 9, .. }
    ));
    let stray = File::new(10)
        .raw(&[opcode::EXPIRETIME_MS])
        .raw(&[0; 8])
        .raw(&[opcode::SELECTDB, 0])
        .finish(true);
    assert!(matches!(err_of(&stray), RdbError::Corrupt { .. }));
    let bad_container = File::new(10)
        .key(ty::LIST_QUICKLIST_2, b"l")
        .len(1)
        .len(3)
        .str(b"x")
        .finish(true);
    assert!(matches!(err_of(&bad_container), RdbError::Corrupt { .. }));
    let odd_hash = File::new(10)
        .key(ty::HASH_LISTPACK, b"h")
        .str(&listpack::encode([&b"f"[..]]))
        .finish(true);
    assert!(matches!(err_of(&odd_hash), RdbError::Corrupt { .. }));
    let bad_score = File::new(10)
        .key(ty::ZSET_LISTPACK, b"z")
        .str(&listpack::encode([&b"m"[..], b"x"]))
        .finish(true);
    assert!(matches!(err_of(&bad_score), RdbError::Corrupt { .. }));
    let nan = File::new(10)
        .key(ty::ZSET_2, b"z")
        .len(1)
        .str(b"m")
        .raw(&f64::NAN.to_le_bytes())
        .finish(true);
    assert!(matches!(err_of(&nan), RdbError::Corrupt { .. }));
    let bad_lzf = File::new(10)
        .key(ty::STRING, b"s")
        .raw(&[0xC3])
        .len(2)
        .len(10)
        .raw(&[5, b'a'])
        .finish(true);
    assert!(matches!(err_of(&bad_lzf), RdbError::Corrupt { .. }));
    let bad_len = File::new(10)
        .key(ty::STRING, b"s")
        .raw(&[0x9F])
        .finish(true);
    assert!(matches!(err_of(&bad_len), RdbError::Corrupt { .. }));
}

#[test]
fn huge_claimed_lengths_fail_without_allocating() {
    // A string claiming 2^64-1 bytes and a list claiming 2^60 elements: both must be
    // refused as truncated, quickly, without trying to reserve that memory.
    let s = File::new(10)
        .raw(&[ty::STRING, 1, b'k', 0x81])
        .raw(&u64::MAX.to_be_bytes())
        .raw(b"abc")
        .0
        .clone();
    assert!(matches!(err_of(&s), RdbError::Truncated { .. }));
    let l = File::new(10)
        .raw(&[ty::LIST, 1, b'k', 0x81])
        .raw(&(1u64 << 60).to_be_bytes())
        .raw(&[1, b'a'])
        .0
        .clone();
    assert!(matches!(err_of(&l), RdbError::Truncated { .. }));
    let lzf = File::new(10)
        .raw(&[ty::STRING, 1, b'k', 0xC3, 2, 0x80])
        .raw(&u32::MAX.to_be_bytes())
        .raw(&[0, b'a'])
        .0
        .clone();
    assert!(matches!(err_of(&lzf), RdbError::Corrupt { .. }));
}

#[test]
fn reader_stops_after_checksum_and_is_fused() {
    let mut bytes = sample();
    bytes.extend_from_slice(b"trailing replication data");
    let mut r = RdbReader::new(&bytes[..]).unwrap();
    assert_eq!(r.version(), 10);
    let items: Vec<_> = r.by_ref().collect::<Result<_>>().unwrap();
    assert_eq!(items.len(), 5);
    assert!(r.next().is_none());
    let mut bad = RdbReader::new(&b"REDIS0010\x08"[..]).unwrap();
    assert!(bad.next().unwrap().is_err());
    assert!(bad.next().is_none());
}

/// Hands out its bytes a few at a time, as a socket or pipe may.
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_and_buffer_refills_change_nothing() {
    let mut f = File::new(10);
    for i in 0..3u8 {
        // Values larger than the 64 KiB buffer, so reads and the CRC cross refills.
        f.key(ty::STRING, &[b'k', i]).str(&vec![i; 100_000]);
    }
    let bytes = f.finish(true);
    let whole = read_all(&bytes[..]).unwrap();
    let trickled = read_all(Trickle(&bytes, 0)).unwrap();
    assert_eq!(whole, trickled);
    assert_eq!(whole.entries.len(), 3);
    let mut bad = bytes.clone();
    bad[100_050] ^= 1;
    assert!(matches!(
        read_all(Trickle(&bad, 0)),
        Err(RdbError::Checksum { .. })
    ));
}

#[test]
fn versions_before_5_have_no_checksum() {
    let mut f = File::new(4);
    f.raw(&[opcode::SELECTDB])
        .len(0)
        .key(ty::STRING, b"k")
        .str(b"v")
        .raw(&[opcode::EOF]);
    let file = read_all(&f.0[..]).unwrap();
    assert_eq!(file.entries.len(), 1);
}
