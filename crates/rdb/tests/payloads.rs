//! DUMP/RESTORE payloads against a real redis-server 7.0: ours RESTORE there, its
//! DUMPs parse here to the same values, and both refuse bad footers alike.

mod common;

use common::*;
use ferrocache_rdb::{crc64, dump_payload, parse_payload, RdbError, RdbValue};
use ferrocache_testkit::{Frame, RedisServer, RespConn, Server};

fn server() -> (RedisServer, RespConn) {
    // Deep sanitisation: Redis checks every payload fully before accepting it.
    let s = RedisServer::start_with(&[
        "--list-max-listpack-size",
        "4",
        "--list-compress-depth",
        "1",
        "--sanitize-dump-payload",
        "yes",
    ])
    .expect("redis-server starts");
    let c = s.connect().expect("connect");
    (s, c)
}

#[test]
fn our_payloads_restore_in_redis() {
    let (_s, mut c) = server();
    let data = dataset(now_ms());
    for e in &data {
        q(&mut c, &["SELECT", &e.db.to_string()]);
        let p = dump_payload(&e.value);
        let ttl = b"0";
        assert_eq!(
            q(&mut c, &[&b"RESTORE"[..], &e.key, ttl, &p]),
            Frame::Simple("OK".into())
        );
    }
    let want: Snapshot = snapshot_of(&data)
        .into_iter()
        .map(|(k, (v, _))| (k, (v, None)))
        .collect();
    assert_eq!(diff(&want, &server_snapshot(&mut c)), None);
}

#[test]
fn redis_dumps_parse_to_the_same_values() {
    let (_s, mut c) = server();
    let data = dataset(now_ms());
    fill(&mut c, &data);
    let held = server_snapshot(&mut c);
    for e in &data {
        q(&mut c, &["SELECT", &e.db.to_string()]);
        let dump = q(&mut c, &[&b"DUMP"[..], &e.key]);
        let payload = dump.as_bytes().expect("DUMP returns bytes").to_vec();
        let value = parse_payload(&payload)
            .unwrap_or_else(|err| panic!("key {:?}: {err}", String::from_utf8_lossy(&e.key)));
        let (want, _) = &held[&(e.db, e.key.to_vec())];
        assert_eq!(
            &norm(&value),
            want,
            "key {:?}",
            String::from_utf8_lossy(&e.key)
        );
    }
}

/// `payload` with its version replaced and the checksum recomputed.
fn with_version(payload: &[u8], version: u16) -> Vec<u8> {
    let mut p = payload[..payload.len() - 8].to_vec();
    let n = p.len();
    p[n - 2..].copy_from_slice(&version.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn bad_payloads_are_refused_with_redis_error_texts() {
    let (_s, mut c) = server();
    let good = dump_payload(&RdbValue::List(vec!["a".into(), "b".into()]));
    let mut flipped = good.to_vec();
    flipped[2] ^= 0x40;
    let mut body_garbage = vec![42u8, 1, 2, 3];
    body_garbage.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(&body_garbage);
    body_garbage.extend_from_slice(&crc.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("checksum", flipped),
        ("newer version", with_version(&good, 11)),
        ("too short", b"abc".to_vec()),
        ("unknown type, valid footer", body_garbage),
        ("older version", with_version(&good, 9)),
    ];
    for (what, p) in cases {
        let redis = q_raw(&mut c, &[&b"RESTORE"[..], what.as_bytes(), b"0", &p]);
        let ours = match parse_payload(&p) {
            Ok(_) => "OK".to_string(),
            Err(e) => e.restore_error_text().to_string(),
        };
        assert_eq!(ours, redis, "{what}");
    }
    assert!(matches!(
        parse_payload(&with_version(&good, 11)),
        Err(RdbError::PayloadFooter)
    ));
    assert_eq!(
        RdbError::PayloadFooter.to_string(),
        "ERR DUMP payload version or checksum are wrong"
    );
}

/// Sends a command and gives back "OK" or the error text.
fn q_raw(c: &mut RespConn, args: &[&[u8]]) -> String {
    match c.send(args).expect("sent") {
        Frame::Simple(s) => String::from_utf8_lossy(&s).into_owned(),
        Frame::Error(e) => String::from_utf8_lossy(&e).into_owned(),
        other => panic!("unexpected {other:?}"),
    }
}
