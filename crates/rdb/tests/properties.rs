//! Properties: arbitrary datasets round-trip through writer and reader (and through
//! DUMP payloads), and no input — random, mutated or cut short — makes the reader
//! panic or accept a file that was cut short.

use bytes::Bytes;
use ferrocache_rdb::{
    dump_payload, parse_payload, read_all, Entry, RdbValue, RdbWriter, WriteOptions,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes_of(max: usize) -> impl Strategy<Value = Bytes> {
    prop_oneof![
        // Numbers exercise the integer encodings; repeats exercise LZF.
        any::<i64>().prop_map(|i| Bytes::from(i.to_string())),
        (0u8..=255, 0usize..300).prop_map(|(b, n)| Bytes::from(vec![b; n])),
        vec(any::<u8>(), 0..max).prop_map(Bytes::from),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("no NaN", |f| !f.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i32..1000).prop_map(f64::from),
    ]
}

fn value() -> impl Strategy<Value = RdbValue> {
    prop_oneof![
        bytes_of(100).prop_map(RdbValue::String),
        vec(bytes_of(40), 1..20).prop_map(RdbValue::List),
        vec(bytes_of(40), 1..20).prop_map(RdbValue::Set),
        vec((bytes_of(20), bytes_of(40)), 1..20).prop_map(RdbValue::Hash),
        vec((bytes_of(20), score()), 1..20).prop_map(RdbValue::ZSet),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        0u32..20,
        bytes_of(30),
        value(),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(db, key, value, expire_at_ms, lru_idle_secs, lfu_freq)| Entry {
                db,
                key,
                value,
                expire_at_ms,
                lru_idle_secs,
                lfu_freq,
            },
        )
}

fn write(entries: &[Entry], compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions { compress }).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    for e in entries {
        w.write_entry(e).unwrap();
    }
    w.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn files_round_trip(entries in vec(entry(), 0..12), compress in any::<bool>()) {
        let bytes = write(&entries, compress);
        let file = read_all(&bytes[..]).unwrap();
        prop_assert_eq!(file.version, 10);
        prop_assert_eq!(file.entries, entries);
    }

    #[test]
    fn payloads_round_trip(v in value()) {
        prop_assert_eq!(parse_payload(&dump_payload(&v)).unwrap(), v);
    }

    #[test]
    fn truncated_files_are_refused(entries in vec(entry(), 1..6), cut in any::<prop::sample::Index>()) {
        let bytes = write(&entries, true);
        let cut = cut.index(bytes.len());
        prop_assert!(read_all(&bytes[..cut]).is_err());
    }

    #[test]
    fn mutated_files_never_panic(entries in vec(entry(), 1..6), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = write(&entries, true);
        // Zero the checksum so the decoders, not the CRC, meet the damage.
        let n = bytes.len();
        bytes[n - 8..].fill(0);
        for (i, x) in flips {
            let i = i.index(n - 8);
            bytes[i] ^= x;
        }
        let _ = read_all(&bytes[..]);
    }

    #[test]
    fn random_bytes_never_panic(tail in vec(any::<u8>(), 0..400), version in 1u32..=11) {
        let mut bytes = format!("REDIS{version:04}").into_bytes();
        bytes.extend_from_slice(&tail);
        let _ = read_all(&bytes[..]);
        let _ = parse_payload(&tail);
    }

    #[test]
    fn mutated_payloads_never_panic(v in value(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let p = dump_payload(&v);
        // Body-only mutations with a recomputed footer reach the decoders.
        let mut body = p[..p.len() - 8].to_vec();
        let n = body.len() - 2;
        for (i, x) in flips {
            body[i.index(n)] ^= x;
        }
        let crc = ferrocache_rdb::crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        let _ = parse_payload(&body);
    }
}
