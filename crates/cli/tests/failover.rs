//! FAILOVER against the real binary and a real `redis-server`: under continuous
//! writes, back and forth between two ferrocache nodes and across the two
//! implementations in both directions, no acknowledged write is lost or
//! applied twice, the old primary resyncs partially (never fully), both nodes
//! end identical, and writers are only ever held, never refused, until there is
//! a new primary to go to. Error texts are compared with redis-server's.

#[allow(dead_code)]
#[path = "replication/support.rs"]
mod support;

#[path = "failover/writer.rs"]
mod writer;

use ferrocache_testkit::{poll_until, FerroNode, Frame, RedisServer, RespConn, Server};
use support::*;
use writer::{FollowingWriter, Seen};

fn ferro() -> FerroNode {
    FerroNode::start(bin(), &[]).unwrap()
}

/// A Redis primary syncs from disk (no 5 s diskless delay) and keeps a backlog
/// as large as ours.
fn redis() -> RedisServer {
    RedisServer::start_with(&["--repl-diskless-sync", "no", "--repl-backlog-size", "64mb"]).unwrap()
}

/// Runs `FAILOVER args…` on `old` and waits until `new` is primary and `old`
/// follows it with its link up and no failover pending.
fn fail_over(old: &dyn Server, new: &dyn Server, args: &[&str]) {
    let mut o = old.connect().unwrap();
    let mut n = new.connect().unwrap();
    let mut cmd = vec!["FAILOVER"];
    cmd.extend_from_slice(args);
    ok(o.cmd(&cmd).unwrap());
    let port = new.port().to_string();
    assert!(
        poll_until(DEADLINE, || {
            info(&mut n, "replication", "role").as_deref() == Some("master")
                && info(&mut o, "replication", "role").as_deref() == Some("slave")
                && info(&mut o, "replication", "master_port").as_deref() == Some(&port)
                && info(&mut o, "replication", "master_link_status").as_deref() == Some("up")
                && info(&mut o, "replication", "master_failover_state").as_deref()
                    == Some("no-failover")
        }),
        "the failover from {} to {} did not complete\n--- old ---\n{}\n--- new ---\n{}",
        old.name(),
        new.name(),
        old.log_tail(),
        new.log_tail()
    );
}

/// Every write the writer saw acknowledged is on `primary`, exactly once.
fn assert_all_present(primary: &dyn Server, tag: &str, seen: &Seen) {
    assert!(
        seen.errors.is_empty(),
        "writer {tag} saw errors: {:?}",
        seen.errors
    );
    assert!(!seen.acked.is_empty(), "writer {tag} wrote nothing");
    let mut c = primary.connect().unwrap();
    for chunk in seen.acked.chunks(500) {
        let cmds: Vec<Vec<Vec<u8>>> = chunk
            .iter()
            .map(|i| vec![b"GET".to_vec(), format!("f:{tag}:{i}").into_bytes()])
            .collect();
        for (i, r) in chunk.iter().zip(c.pipeline(&cmds).unwrap()) {
            assert_eq!(
                text(r),
                i.to_string(),
                "acknowledged write f:{tag}:{i} lost"
            );
        }
    }
    let Frame::Array(log) = c
        .cmd(&["LRANGE", &format!("f:{tag}:log"), "0", "-1"])
        .unwrap()
    else {
        panic!("LRANGE is an array")
    };
    let log: Vec<u64> = log.into_iter().map(|f| text(f).parse().unwrap()).collect();
    assert_eq!(
        log, seen.acked,
        "writer {tag}: the list must hold every acknowledged push once, in order"
    );
}

fn assert_identical(a: &dyn Server, b: &dyn Server) {
    let (x, y) = (dataset(a), dataset(b));
    assert!(!x.is_empty());
    assert!(
        x == y,
        "{} and {} differ after the failover",
        a.name(),
        b.name()
    );
}

fn full_syncs(s: &dyn Server) -> u64 {
    info_u64(&mut s.connect().unwrap(), "stats", "sync_full")
}

fn partial_syncs(s: &dyn Server) -> u64 {
    info_u64(&mut s.connect().unwrap(), "stats", "sync_partial_ok")
}

/// Fails over under `writers` following writers and checks everything after.
fn run_under_load(a: &dyn Server, b: &dyn Server, rounds: &[(bool, &[&str])]) {
    follow(b, a);
    let nodes = [a.addr(), b.addr()];
    let writers: Vec<FollowingWriter> = (0..3)
        .map(|i| FollowingWriter::start(nodes, &format!("w{i}")))
        .collect();
    for w in &writers {
        w.wait_more(200);
    }
    let full = (full_syncs(a), full_syncs(b));
    let partial = partial_syncs(a) + partial_syncs(b);
    for (a_to_b, args) in rounds {
        let (old, new) = if *a_to_b { (a, b) } else { (b, a) };
        // TO needs the new primary's address: `{port}` stands for it.
        let port = new.port().to_string();
        let args: Vec<&str> = args
            .iter()
            .map(|s| if *s == "{port}" { port.as_str() } else { s })
            .collect();
        fail_over(old, new, &args);
        for w in &writers {
            w.wait_more(200);
        }
    }
    let seen: Vec<(String, Seen)> = writers
        .into_iter()
        .map(|w| (w.tag.clone(), w.stop()))
        .collect();
    let primary = if rounds.len() % 2 == 1 { b } else { a };
    let replica = if rounds.len() % 2 == 1 { a } else { b };
    wait_caught_up(primary, replica);
    for (tag, s) in &seen {
        assert_all_present(primary, tag, s);
        // A writer is refused at most once per failover: when its held write
        // meets a node that has just been demoted and a new primary exists.
        assert!(
            s.redirects <= rounds.len() as u64,
            "writer {tag} was refused {} times in {} failovers",
            s.redirects,
            rounds.len()
        );
    }
    assert_identical(primary, replica);
    assert_eq!(
        (full_syncs(a), full_syncs(b)),
        full,
        "a failover caused a full resync"
    );
    assert!(
        partial_syncs(a) + partial_syncs(b) >= partial + rounds.len() as u64,
        "each failover resyncs the old primary partially"
    );
    let acked: usize = seen.iter().map(|(_, s)| s.acked.len()).sum();
    eprintln!(
        "{acked} acknowledged write pairs across {} failovers",
        rounds.len()
    );
}

#[test]
fn failover_back_and_forth_between_ferrocache_nodes_under_load() {
    let a = ferro();
    let b = ferro();
    run_under_load(
        &a,
        &b,
        &[
            (true, &[]),
            (false, &["TO", "127.0.0.1", "{port}"]),
            (true, &["TO", "127.0.0.1", "{port}", "TIMEOUT", "10000"]),
            (false, &["TIMEOUT", "10000"]),
        ],
    );
}

#[test]
fn ferrocache_primary_fails_over_to_a_redis_server_replica() {
    let a = ferro();
    let b = redis();
    run_under_load(&a, &b, &[(true, &["TO", "127.0.0.1", "{port}"])]);
}

#[test]
fn redis_server_primary_fails_over_to_a_ferrocache_replica() {
    let a = redis();
    let b = ferro();
    run_under_load(&a, &b, &[(true, &["TO", "127.0.0.1", "{port}"])]);
}

fn signal(s: &dyn Server, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

fn run(out: &mut Vec<String>, c: &mut RespConn, args: &[&str]) {
    let r = c.cmd(args).unwrap();
    out.push(format!("{args:?} -> {r:?}"));
}

/// The replies (errors included) to a sequence of FAILOVER commands in every
/// state a client can meet, so the two implementations can be compared.
fn error_transcript(primary: &dyn Server, replica: &dyn Server) -> Vec<String> {
    let mut p = primary.connect().unwrap();
    let mut out = Vec::new();
    let port = replica.port().to_string();
    for args in [
        &["FAILOVER", "ABORT"][..],
        &["FAILOVER"],
        &["FAILOVER", "TO", "127.0.0.1", &port],
        &["FAILOVER", "TIMEOUT", "0"],
        &["FAILOVER", "TIMEOUT", "-1"],
        &["FAILOVER", "TIMEOUT", "abc"],
        &["FAILOVER", "FORCE"],
        &["FAILOVER", "TO", "127.0.0.1", "abc"],
        &["FAILOVER", "TO", "127.0.0.1"],
        &["FAILOVER", "BOGUS"],
        &["FAILOVER", "ABORT", "ABORT"],
        &["FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"],
    ] {
        run(&mut out, &mut p, args);
    }
    follow(replica, primary);
    let mut r = replica.connect().unwrap();
    run(&mut out, &mut r, &["FAILOVER"]);
    for args in [
        &["FAILOVER", "FORCE"][..],
        &["FAILOVER", "TIMEOUT", "100", "FORCE"],
        &["FAILOVER", "TO", "127.0.0.1", "1"],
        &["FAILOVER", "TO", "localhost", &port],
    ] {
        run(&mut out, &mut p, args);
    }
    // A frozen replica cannot catch up: the failover waits, holding writes.
    wait_caught_up(primary, replica);
    signal(replica, "-STOP");
    run(&mut out, &mut p, &["SET", "k", "v"]);
    run(&mut out, &mut p, &["FAILOVER", "TIMEOUT", "60000"]);
    out.push(format!(
        "state {:?}",
        info(&mut p, "replication", "master_failover_state")
    ));
    run(&mut out, &mut p, &["FAILOVER"]);
    run(&mut out, &mut p, &["REPLICAOF", "NO", "ONE"]);
    run(&mut out, &mut p, &["REPLICAOF", "127.0.0.1", &port]);
    // A write waits (it is held, not refused) …
    let mut w = primary.connect().unwrap();
    w.write_command(&["SET", "held", "1"]).unwrap();
    // … CLIENT UNPAUSE does not release it: only the failover's end does.
    run(&mut out, &mut p, &["CLIENT", "UNPAUSE"]);
    assert_eq!(
        w.read_frame_within(std::time::Duration::from_millis(50))
            .unwrap(),
        None,
        "a write went through during the failover"
    );
    run(&mut out, &mut p, &["FAILOVER", "ABORT"]);
    out.push(format!("held write -> {:?}", w.read_frame().unwrap()));
    out.push(format!(
        "state {:?}",
        info(&mut p, "replication", "master_failover_state")
    ));
    run(&mut out, &mut p, &["FAILOVER", "ABORT"]);
    // A timeout rolls back by itself.
    run(&mut out, &mut p, &["FAILOVER", "TIMEOUT", "100"]);
    assert!(poll_until(DEADLINE, || info(
        &mut p,
        "replication",
        "master_failover_state"
    )
    .as_deref()
        == Some("no-failover")));
    out.push(format!("role {:?}", info(&mut p, "replication", "role")));
    run(&mut out, &mut p, &["SET", "after", "1"]);
    signal(replica, "-CONT");
    // The replica's port differs between the two runs.
    out.into_iter().map(|l| l.replace(&port, "PORT")).collect()
}

#[test]
fn failover_errors_match_redis_server() {
    let ours = error_transcript(&ferro(), &ferro());
    let theirs = error_transcript(&redis(), &redis());
    assert_eq!(ours, theirs);
}

#[test]
fn force_hands_over_after_the_timeout_even_to_a_lagging_replica() {
    let a = ferro();
    let b = ferro();
    follow(&b, &a);
    wait_caught_up(&a, &b);
    let mut ac = a.connect().unwrap();
    // Frozen, b cannot acknowledge the next write: without FORCE the timeout
    // would roll back; with it, a hands over anyway.
    signal(&b, "-STOP");
    ok(ac.cmd(&["SET", "late", "1"]).unwrap());
    let port = b.port().to_string();
    ok(ac
        .cmd(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &port,
            "TIMEOUT",
            "100",
            "FORCE",
        ])
        .unwrap());
    let demoted = poll_until(DEADLINE, || {
        info(&mut ac, "replication", "master_failover_state").as_deref()
            == Some("failover-in-progress")
    });
    signal(&b, "-CONT");
    assert!(demoted, "FORCE did not hand over after the timeout");
    let mut bc = b.connect().unwrap();
    assert!(
        poll_until(DEADLINE, || {
            info(&mut bc, "replication", "role").as_deref() == Some("master")
                && info(&mut ac, "replication", "master_link_status").as_deref() == Some("up")
                && info(&mut ac, "replication", "master_failover_state").as_deref()
                    == Some("no-failover")
        }),
        "the forced failover did not complete\n{}\n{}",
        a.log_tail(),
        b.log_tail()
    );
    ok(bc.cmd(&["SET", "on-b", "1"]).unwrap());
    wait_caught_up(&b, &a);
    assert_identical(&b, &a);
}
