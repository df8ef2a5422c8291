//! RESTORE with a relative TTL reaches replicas and the AOF as an absolute expiry
//! (RESTORE … <unix ms> … ABSTTL, as Redis propagates it), so a replica and an AOF
//! replayed later expire the key at exactly the primary's time.

mod common;

use common::*;
use ferrocache_testkit::{Frame, RespConn, Server};

/// A DUMP payload of a string value.
fn payload(c: &mut RespConn) -> Vec<u8> {
    ok(c.cmd(&["SET", "restore:src", "hello"]).unwrap());
    match c.cmd(&["DUMP", "restore:src"]).unwrap() {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("DUMP answered {other:?}"),
    }
}

fn restore(c: &mut RespConn, args: &[&[u8]]) {
    let mut cmd: Vec<&[u8]> = vec![b"RESTORE"];
    cmd.extend_from_slice(args);
    ok(c.send(&cmd).unwrap());
}

fn pexpiretime(c: &mut RespConn, key: &str) -> i64 {
    int(c.cmd(&["PEXPIRETIME", key]).unwrap())
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_replica_expires_a_restored_key_at_the_primarys_time() {
    let (pdir, rdir) = (tempdir("restore-p"), tempdir("restore-r"));
    let primary = InProcessNode::start(pdir.path(), &[]).unwrap();
    let replica = InProcessNode::start(rdir.path(), &[]).unwrap();
    follow(&replica, &primary);
    let mut p = primary.connect().unwrap();
    let data = payload(&mut p);
    ok(p.cmd(&["SET", "restore:old", "x"]).unwrap());

    // Writes ahead of the RESTOREs make the replica apply them noticeably later
    // than the primary ran them: a TTL computed again there would differ.
    let mut batch: Vec<Vec<Vec<u8>>> = (0..20_000)
        .map(|i| {
            let key = format!("filler:{i}");
            vec![b"SET".to_vec(), key.into_bytes(), vec![b'v'; 64]]
        })
        .collect();
    let restores: [&[&[u8]]; 4] = [
        &[b"restore:a", b"100000", &data],
        &[b"restore:b", b"5000", &data, b"REPLACE", b"IDLETIME", b"10"],
        &[b"restore:c", b"0", &data],
        // REPLACE removes the old value and the TTL has passed: the key is gone.
        &[b"restore:old", b"1", &data, b"REPLACE", b"ABSTTL"],
    ];
    for args in restores {
        let mut cmd = vec![b"RESTORE".to_vec()];
        cmd.extend(args.iter().map(|a| a.to_vec()));
        batch.push(cmd);
    }
    let before = unix_ms();
    let replies = p.pipeline(&batch).unwrap();
    let after = unix_ms();
    assert!(replies.iter().all(|r| matches!(r, Frame::Simple(_))));

    wait_caught_up(&primary, &replica);
    let mut r = replica.connect().unwrap();
    let a = pexpiretime(&mut p, "restore:a");
    assert!(
        (before + 100_000..=after + 100_000).contains(&a),
        "the primary's expiry {a} is not 100 s after the RESTORE ({before}..{after})"
    );
    for key in ["restore:a", "restore:b", "restore:c"] {
        assert_eq!(
            pexpiretime(&mut r, key),
            pexpiretime(&mut p, key),
            "the replica's expiry of {key}"
        );
    }
    assert_eq!(pexpiretime(&mut r, "restore:c"), -1, "no TTL stays no TTL");
    assert_eq!(int(r.cmd(&["EXISTS", "restore:old"]).unwrap()), 0);
    assert_eq!(
        int(r.cmd(&["DBSIZE"]).unwrap()),
        int(p.cmd(&["DBSIZE"]).unwrap()),
        "the replica holds a key its primary deleted"
    );
}

#[test]
fn the_aof_records_a_restored_keys_absolute_expiry() {
    let dir = tempdir("restore-aof");
    let aof = [("appendonly", "yes"), ("appendfsync", "always")];
    let node = InProcessNode::start(dir.path(), &aof).unwrap();
    let mut c = node.connect().unwrap();
    let data = payload(&mut c);
    ok(c.cmd(&["SET", "restore:old", "x"]).unwrap());
    restore(&mut c, &[b"restore:a", b"100000", &data, b"REPLACE"]);
    restore(
        &mut c,
        &[b"restore:old", b"1", &data, b"REPLACE", b"ABSTTL"],
    );
    let at = pexpiretime(&mut c, "restore:a");
    assert!(at > 0);

    let cmd = wait_aof_command(dir.path(), |c| {
        c[0].eq_ignore_ascii_case("restore") && c[1] == "restore:a"
    });
    assert_eq!(cmd[2], at.to_string(), "the AOF's TTL argument: {cmd:?}");
    assert_eq!(cmd[4..], ["REPLACE", "ABSTTL"], "the options: {cmd:?}");
    let del = wait_aof_command(dir.path(), |c| c[1] == "restore:old" && c[0] != "SET");
    assert_eq!(del, ["DEL", "restore:old"]);

    drop(c);
    node.stop();
    let node = InProcessNode::start(dir.path(), &aof).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(
        pexpiretime(&mut c, "restore:a"),
        at,
        "after replaying the AOF"
    );
    assert_eq!(int(c.cmd(&["EXISTS", "restore:old"]).unwrap()), 0);
}
