//! DUMP in one server, RESTORE in the other, for every key of the dataset, and
//! RESTORE's options (REPLACE, ABSTTL, IDLETIME, FREQ) with their effects.

use super::data::{assert_same, bin, cmd, contents, ok, populate, send};
use ferrocache_testkit::{FerroNode, Frame, RedisServer, RespConn, Server};

fn keys_by_db(c: &mut RespConn) -> Vec<(usize, Vec<Vec<u8>>)> {
    (0..16)
        .map(|db| {
            cmd(c, &format!("SELECT {db}"));
            let Frame::Array(keys) = cmd(c, "KEYS *") else {
                panic!("KEYS")
            };
            let keys = keys
                .into_iter()
                .map(|k| match k {
                    Frame::Bulk(b) => b.to_vec(),
                    other => panic!("{other:?}"),
                })
                .collect();
            (db, keys)
        })
        .collect()
}

/// Copies every key from `from` to `to` with DUMP and RESTORE … ABSTTL, keeping
/// each key's absolute expiry.
fn copy_all(from: &mut RespConn, to: &mut RespConn) {
    for (db, keys) in keys_by_db(from) {
        cmd(from, &format!("SELECT {db}"));
        cmd(to, &format!("SELECT {db}"));
        for key in keys {
            let Frame::Bulk(payload) = send(from, &[b"DUMP", &key]) else {
                panic!("DUMP")
            };
            let exp = match send(from, &[b"PEXPIRETIME", &key]) {
                Frame::Integer(ms) if ms > 0 => ms.to_string(),
                _ => "0".to_string(),
            };
            let r = send(
                to,
                &[
                    b"RESTORE",
                    &key,
                    exp.as_bytes(),
                    &payload,
                    b"ABSTTL",
                    b"REPLACE",
                ],
            );
            assert_eq!(r, Frame::Simple("OK".into()), "RESTORE {key:?}");
        }
    }
    cmd(from, "SELECT 0");
    cmd(to, "SELECT 0");
}

#[test]
fn values_move_both_ways_with_dump_and_restore() {
    let redis = RedisServer::start_with(&["--enable-debug-command", "yes"]).unwrap();
    let mut r = redis.connect().unwrap();
    populate(&mut r);
    // What a restore gives is what a load gives (e.g. a raw string short enough
    // becomes embstr): compare against the reloaded source.
    ok(&mut r, "DEBUG RELOAD");
    let node = FerroNode::start(bin(), &[]).unwrap();
    let mut f = node.connect().unwrap();

    // redis-server → ferrocache: same contents as the source, encodings included.
    copy_all(&mut r, &mut f);
    let from_redis = contents(&mut r);
    assert_same(
        "redis DUMP → ferrocache RESTORE",
        &from_redis,
        &contents(&mut f),
    );

    // ferrocache → a fresh redis-server: the same again.
    let redis2 = RedisServer::start().unwrap();
    let mut r2 = redis2.connect().unwrap();
    copy_all(&mut f, &mut r2);
    assert_same(
        "ferrocache DUMP → redis RESTORE",
        &from_redis,
        &contents(&mut r2),
    );
}

#[test]
fn restore_options_behave_like_redis() {
    let redis = RedisServer::start().unwrap();
    let node = FerroNode::start(bin(), &[]).unwrap();
    for (name, srv) in [("redis", &redis as &dyn Server), ("ferrocache", &node)] {
        let mut c = srv.connect().unwrap();
        cmd(&mut c, "RPUSH src a b c");
        let Frame::Bulk(p) = cmd(&mut c, "DUMP src") else {
            panic!("{name}: DUMP")
        };
        let restore = |c: &mut RespConn, extra: &[&[u8]]| {
            let mut args: Vec<&[u8]> = vec![b"RESTORE", b"dst", b"0", &p];
            args.extend_from_slice(extra);
            send(c, &args)
        };
        assert_eq!(restore(&mut c, &[]), Frame::Simple("OK".into()), "{name}");
        assert_eq!(
            restore(&mut c, &[]),
            Frame::Error("BUSYKEY Target key name already exists.".into()),
            "{name}"
        );
        assert_eq!(
            restore(&mut c, &[b"REPLACE", b"IDLETIME", b"1000"]),
            Frame::Simple("OK".into())
        );
        assert!(
            matches!(cmd(&mut c, "OBJECT IDLETIME dst"), Frame::Integer(i) if (1000..1010).contains(&i)),
            "{name}: IDLETIME"
        );
        // A TTL in the past with ABSTTL: the old key is replaced by nothing.
        assert_eq!(
            restore(&mut c, &[b"REPLACE", b"ABSTTL"]),
            Frame::Simple("OK".into())
        );
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"dst", b"1000", &p, b"REPLACE", b"ABSTTL"];
        assert_eq!(send(&mut c, &args), Frame::Simple("OK".into()), "{name}");
        assert_eq!(
            cmd(&mut c, "EXISTS dst"),
            Frame::Integer(0),
            "{name}: expired ABSTTL"
        );
        args[2] = b"100000";
        args.truncate(5);
        assert_eq!(send(&mut c, &args), Frame::Simple("OK".into()));
        assert!(
            matches!(cmd(&mut c, "PTTL dst"), Frame::Integer(ms) if ms > 90_000 && ms <= 100_000),
            "{name}: relative TTL"
        );
        ok(&mut c, "CONFIG SET maxmemory-policy allkeys-lfu");
        assert_eq!(
            restore(&mut c, &[b"REPLACE", b"FREQ", b"77"]),
            Frame::Simple("OK".into())
        );
        assert_eq!(
            cmd(&mut c, "OBJECT FREQ dst"),
            Frame::Integer(77),
            "{name}: FREQ"
        );
        ok(&mut c, "CONFIG SET maxmemory-policy noeviction");
    }
}
