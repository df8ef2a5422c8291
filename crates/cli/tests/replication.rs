//! Replication in Redis's protocol against the real binary and a real
//! `redis-server`: either can follow the other, under write load, through a cut
//! link (partial resync) and a promotion (the old primary resyncs partially), and
//! the replica ends identical to its primary.

#[path = "replication/support.rs"]
mod support;

use ferrocache_testkit::{poll_until, FerroNode, Frame, RedisServer, Server};
use support::*;

/// Redis replicas in these tests sync from disk, so the primary does not wait
/// repl-diskless-sync-delay (5 s) before every full sync; and a Redis primary gets
/// ferrocache's 64 MB backlog instead of its own 1 MB, which a fast writer fills
/// before a cut link is back.
fn redis(extra: &[&str]) -> RedisServer {
    let mut args = vec!["--repl-diskless-sync", "no", "--repl-backlog-size", "64mb"];
    args.extend_from_slice(extra);
    RedisServer::start_with(&args).unwrap()
}

fn ferro() -> FerroNode {
    FerroNode::start(bin(), &[]).unwrap()
}

/// Cuts every replica link of `primary` and waits until one reconnected with a
/// partial resync.
fn cut_link_and_resync(primary: &dyn Server, replica: &dyn Server) {
    let mut p = primary.connect().unwrap();
    let before = info_u64(&mut p, "stats", "sync_partial_ok");
    let killed = p.cmd(&["CLIENT", "KILL", "TYPE", "replica"]).unwrap();
    assert_eq!(killed, Frame::Integer(1), "one replica link to cut");
    assert!(
        poll_until(DEADLINE, || info_u64(&mut p, "stats", "sync_partial_ok")
            > before),
        "the replica did not resync partially after its link was cut:\n{}\n--- replica ---\n{}",
        primary.log_tail(),
        replica.log_tail()
    );
}

fn assert_same(primary: &dyn Server, replica: &dyn Server) {
    wait_caught_up(primary, replica);
    let (a, b) = (dataset(primary), dataset(replica));
    assert!(!a.is_empty(), "the dataset is empty");
    if a != b {
        let diff: Vec<_> = a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v} vs {:?}", b.get(k)))
            .chain(
                b.keys()
                    .filter(|k| !a.contains_key(*k))
                    .map(|k| format!("{k}: only on the replica")),
            )
            .take(10)
            .collect();
        panic!("the replica differs from its primary:\n{}", diff.join("\n"));
    }
}

#[test]
fn redis_server_follows_a_ferrocache_primary() {
    let primary = ferro();
    let replica = redis(&[]);
    let writer = Writer::start(&primary, "a");
    writer.wait_writes(500);
    follow(&replica, &primary);
    writer.wait_writes(3000);
    cut_link_and_resync(&primary, &replica);
    let n = writer.wait_then_stop(6000);
    assert_same(&primary, &replica);
    let mut p = primary.connect().unwrap();
    assert_eq!(
        info_u64(&mut p, "stats", "sync_full"),
        1,
        "one full sync only"
    );
    eprintln!("{n} acknowledged writes replicated");
}

#[test]
fn ferrocache_follows_a_redis_server_primary() {
    let primary = redis(&[]);
    let replica = ferro();
    let writer = Writer::start(&primary, "b");
    writer.wait_writes(500);
    follow(&replica, &primary);
    writer.wait_writes(3000);
    cut_link_and_resync(&primary, &replica);
    writer.wait_then_stop(6000);
    assert_same(&primary, &replica);
    let mut p = primary.connect().unwrap();
    assert_eq!(
        info_u64(&mut p, "stats", "sync_full"),
        1,
        "one full sync only"
    );
    // The replica serves reads and refuses writes in Redis's words.
    let mut r = replica.connect().unwrap();
    assert_eq!(
        r.cmd(&["SET", "x", "1"]).unwrap(),
        Frame::Error("READONLY You can't write against a read only replica.".into())
    );
}

#[test]
fn a_promoted_replica_lets_the_old_primary_resync_partially() {
    let a = ferro();
    let b = ferro();
    let writer = Writer::start(&a, "c");
    writer.wait_writes(500);
    follow(&b, &a);
    writer.wait_then_stop(3000);
    wait_caught_up(&a, &b);
    let mut bc = b.connect().unwrap();
    ok(bc.cmd(&["REPLICAOF", "NO", "ONE"]).unwrap());
    ok(bc.cmd(&["SET", "written-on-b", "1"]).unwrap());
    follow(&a, &b);
    assert_same(&b, &a);
    assert_eq!(
        info_u64(&mut bc, "stats", "sync_full"),
        0,
        "no full sync after the promotion"
    );
    assert_eq!(info_u64(&mut bc, "stats", "sync_partial_ok"), 1);
    // The new history keeps the old one as its secondary ID.
    let mut ac = a.connect().unwrap();
    assert_eq!(
        info(&mut bc, "replication", "master_replid2"),
        info(&mut ac, "replication", "master_replid2"),
    );
    assert_eq!(text(ac.cmd(&["GET", "written-on-b"]).unwrap()), "1");
}

#[test]
fn effects_reach_replicas_deterministically() {
    let primary = ferro();
    let replica = ferro();
    follow(&replica, &primary);
    let mut p = primary.connect().unwrap();
    let mut blocked = primary.connect().unwrap();
    blocked
        .write_command(&["BLPOP", "empty", "other", "0"])
        .unwrap();
    // The blocked client is served from "other" (pushed first) even though "empty"
    // gets an element in the same transaction: the replica must pop "other".
    assert!(poll_until(DEADLINE, || info_u64(
        &mut p,
        "clients",
        "blocked_clients"
    ) == 1));
    for cmd in [
        vec!["SET", "ex", "v", "EX", "1000"],
        vec!["SETEX", "setex", "1000", "v"],
        vec!["SET", "rel", "v"],
        vec!["PEXPIRE", "rel", "500000"],
        vec!["INCRBYFLOAT", "f", "0.1"],
        vec!["INCRBYFLOAT", "f", "1e3"],
        vec!["HINCRBYFLOAT", "h", "x", "2.5"],
        vec!["SADD", "s", "a", "b", "c", "d"],
        vec!["SPOP", "s"],
        vec!["SPOP", "s", "2"],
        vec!["SET", "gone", "v"],
        vec!["EXPIRE", "gone", "-1"],
        vec!["MULTI"],
        vec!["RPUSH", "other", "o1"],
        vec!["RPUSH", "empty", "e1"],
        vec!["EXEC"],
    ] {
        let r = p.cmd(&cmd).unwrap();
        assert!(!matches!(r, Frame::Error(_)), "{cmd:?}: {r:?}");
    }
    let served = blocked.read_frame().unwrap();
    assert_eq!(
        served,
        Frame::Array(vec![Frame::Bulk("other".into()), Frame::Bulk("o1".into())])
    );
    assert_same(&primary, &replica);
    // WAIT counts the replica once it acknowledged everything.
    assert_eq!(p.cmd(&["WAIT", "1", "5000"]).unwrap(), Frame::Integer(1));
    let role = p.cmd(&["ROLE"]).unwrap();
    let Frame::Array(role) = role else {
        panic!("ROLE is an array")
    };
    assert_eq!(role[0], Frame::Bulk("master".into()));
    let mut r = replica.connect().unwrap();
    let Frame::Array(role) = r.cmd(&["ROLE"]).unwrap() else {
        panic!("ROLE is an array")
    };
    assert_eq!(role[0], Frame::Bulk("slave".into()));
    assert_eq!(role[3], Frame::Bulk("connected".into()));
}

#[test]
fn replication_commands_check_their_arguments() {
    let node = ferro();
    let mut c = node.connect().unwrap();
    let err = |s: &str| Frame::Error(s.to_string().into());
    assert_eq!(
        c.cmd(&["REPLICAOF", "127.0.0.1", "x"]).unwrap(),
        err("ERR Invalid master port")
    );
    assert_eq!(
        c.cmd(&["REPLCONF", "bogus", "1"]).unwrap(),
        err("ERR Unrecognized REPLCONF option: bogus")
    );
    assert_eq!(
        c.cmd(&["WAIT", "1", "-1"]).unwrap(),
        err("ERR timeout is negative")
    );
    assert_eq!(c.cmd(&["WAIT", "0", "0"]).unwrap(), Frame::Integer(0));
    ok(c.cmd(&["REPLICAOF", "NO", "ONE"]).unwrap());
}

/// A node started on a data directory of its own (`--set dir=…`), so a restart finds
/// the dump it saved.
fn ferro_on(dir: &std::path::Path) -> FerroNode {
    ferro_on_with(dir, &[])
}

fn ferro_on_with(dir: &std::path::Path, extra: &[&str]) -> FerroNode {
    let set_dir = format!("dir={}", dir.display());
    let mut args = vec!["--set", &set_dir];
    args.extend_from_slice(extra);
    FerroNode::start_in(
        bin(),
        &args,
        ferrocache_testkit::TempDir::new("node-run").unwrap(),
    )
    .unwrap()
}

/// A replica whose data is in an AOF (no dump.rdb at all) continues its primary's
/// stream after a clean restart, in the stream's database: a partial resync.
#[test]
fn a_restarted_aof_replica_resyncs_partially() {
    let primary = ferro();
    let dir = ferrocache_testkit::TempDir::new("replica-aof").unwrap();
    let aof = ["--set", "appendonly=yes", "--set", "save="];
    let replica = ferro_on_with(dir.path(), &aof);
    let mut r = replica.connect().unwrap();
    let rewrites_at_start = info_u64(&mut r, "persistence", "aof_rewrites");
    let writer = Writer::start(&primary, "d");
    writer.wait_writes(300);
    follow(&replica, &primary);
    writer.wait_then_stop(1000);
    let mut p = primary.connect().unwrap();
    ok(p.cmd(&["SELECT", "3"]).unwrap());
    ok(p.cmd(&["SET", "before", "1"]).unwrap());
    wait_caught_up(&primary, &replica);
    // The full sync replaced the data, so the AOF is rewritten: until that is
    // done the files do not hold the stream whole, and a stop records nothing.
    assert!(poll_until(DEADLINE, || {
        info_u64(&mut r, "persistence", "aof_rewrites") > rewrites_at_start
            && info_u64(&mut r, "persistence", "aof_rewrite_in_progress") == 0
            && info_u64(&mut r, "persistence", "aof_rewrite_scheduled") == 0
    }));
    r.write_command(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(r.wait_closed(DEADLINE).unwrap());
    assert!(replica.wait_exit(DEADLINE).unwrap().success());
    assert!(
        !dir.path().join("dump.rdb").exists(),
        "the AOF alone holds the data"
    );
    ok(p.cmd(&["SET", "while-down", "1"]).unwrap());
    let replica = ferro_on_with(dir.path(), &aof);
    follow(&replica, &primary);
    assert_same(&primary, &replica);
    assert_eq!(info_u64(&mut p, "stats", "sync_full"), 1, "only the first");
    assert_eq!(info_u64(&mut p, "stats", "sync_partial_ok"), 1);
    let mut r = replica.connect().unwrap();
    ok(r.cmd(&["SELECT", "3"]).unwrap());
    assert_eq!(
        r.cmd(&["GET", "while-down"]).unwrap(),
        Frame::Bulk("1".into())
    );
}

/// The stream's selected database survives a replica's restart: a primary emits
/// SELECT only when the database changes, so a replica that continues the stream
/// after a restart must start in the database the stream had selected at its
/// saved offset (RDB's `repl-stream-db`), not in 0.
#[test]
fn a_restarted_replica_continues_in_the_streams_database() {
    let primary = ferro();
    let dir = ferrocache_testkit::TempDir::new("replica-db").unwrap();
    let replica = ferro_on(dir.path());
    follow(&replica, &primary);
    let mut p = primary.connect().unwrap();
    ok(p.cmd(&["SELECT", "3"]).unwrap());
    ok(p.cmd(&["SET", "before", "1"]).unwrap());
    wait_caught_up(&primary, &replica);
    let mut r = replica.connect().unwrap();
    r.write_command(&["SHUTDOWN", "SAVE"]).unwrap();
    assert!(r.wait_closed(DEADLINE).unwrap());
    assert!(replica.wait_exit(DEADLINE).unwrap().success());
    // Same connection, same database: the stream carries no new SELECT.
    ok(p.cmd(&["SET", "while-down", "1"]).unwrap());
    let replica = ferro_on(dir.path());
    follow(&replica, &primary);
    ok(p.cmd(&["SET", "after", "1"]).unwrap());
    wait_caught_up(&primary, &replica);
    assert_eq!(info_u64(&mut p, "stats", "sync_partial_ok"), 1);
    let mut r = replica.connect().unwrap();
    ok(r.cmd(&["SELECT", "3"]).unwrap());
    for k in ["before", "while-down", "after"] {
        assert_eq!(r.cmd(&["GET", k]).unwrap(), Frame::Bulk("1".into()), "{k}");
    }
    ok(r.cmd(&["SELECT", "0"]).unwrap());
    assert_eq!(r.cmd(&["DBSIZE"]).unwrap(), Frame::Integer(0));
}

#[test]
fn a_restarted_replica_resyncs_partially() {
    let primary = ferro();
    let dir = ferrocache_testkit::TempDir::new("replica-data").unwrap();
    let replica = ferro_on(dir.path());
    let writer = Writer::start(&primary, "d");
    writer.wait_writes(500);
    follow(&replica, &primary);
    writer.wait_then_stop(3000);
    wait_caught_up(&primary, &replica);
    // Restart the replica as a patch does: it saves at shutdown, the dump names the
    // history and offset, and the restarted node asks to continue from there.
    let mut r = replica.connect().unwrap();
    r.write_command(&["SHUTDOWN", "SAVE"]).unwrap();
    assert!(r.wait_closed(DEADLINE).unwrap());
    assert!(replica.wait_exit(DEADLINE).unwrap().success());
    let mut p = primary.connect().unwrap();
    ok(p.cmd(&["SET", "while-down", "1"]).unwrap());
    let replica = ferro_on(dir.path());
    follow(&replica, &primary);
    assert_same(&primary, &replica);
    assert_eq!(
        info_u64(&mut p, "stats", "sync_full"),
        1,
        "only the first sync was full"
    );
    assert_eq!(info_u64(&mut p, "stats", "sync_partial_ok"), 1);
}

/// Starts a primary with `args` and a replica following it, stops the replica,
/// writes 20 MB to the primary, and lets the replica go on; the primary's number
/// of full syncs once the replica is identical again.
fn full_syncs_after_a_stalled_replica(args: &[&str]) -> u64 {
    let primary = FerroNode::start(bin(), args).unwrap();
    let replica = ferro();
    let mut p = primary.connect().unwrap();
    ok(p.cmd(&["SET", "before", "1"]).unwrap());
    follow(&replica, &primary);
    wait_caught_up(&primary, &replica);
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(replica.pid() as i32, libc::SIGSTOP) };
    let value = "v".repeat(10_000);
    for i in 0..2_000 {
        ok(p.cmd(&["SET", &format!("big:{i}"), &value]).unwrap());
    }
    // SAFETY: as above.
    unsafe { libc::kill(replica.pid() as i32, libc::SIGCONT) };
    assert_same(&primary, &replica);
    info_u64(&mut p, "stats", "sync_full")
}

/// What the primary writes while its replica cannot read is held for that replica
/// beyond the backlog (as Redis's replica output buffer holds it), so a replica
/// that stalls — loading a large snapshot, or stopped as here — catches up
/// without another full sync, though the 16 KB backlog held a thousandth of it.
#[test]
fn a_stalled_replica_is_held_beyond_the_backlog() {
    let full = full_syncs_after_a_stalled_replica(&["--set", "repl-backlog-size=16kb"]);
    assert_eq!(full, 1, "the stalled replica needed another full sync");
}

/// Past `client-output-buffer-limit replica`, the replica is disconnected (as
/// Redis does) and comes back with a full sync.
#[test]
fn a_replica_past_its_output_limit_is_disconnected() {
    let limit = "client-output-buffer-limit=replica 1mb 0 0";
    let full =
        full_syncs_after_a_stalled_replica(&["--set", "repl-backlog-size=16kb", "--set", limit]);
    assert_eq!(full, 2, "the replica was not disconnected at its limit");
}
