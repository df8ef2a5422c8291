//! `CONFIG SET appendonly yes` on a replica that follows a primary: the AOF
//! starts from a new base and from then on records the primary's stream, with
//! the database that stream has selected named first, so the AOF replays every
//! later write into the database it was made in — and a transaction the replica
//! has only half received is neither in its offset nor split across AOF files.

mod common;

use common::*;
use ferrocache_resp::Frame as RespFrame;
use ferrocache_testkit::{encode_command, poll_until, RedisServer, RespConn, Server};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// Waits until the first base of a runtime `appendonly yes` has been written.
fn wait_aof_on(c: &mut RespConn) {
    assert!(
        poll_until(DEADLINE, || {
            info_u64(c, "persistence", "aof_rewrites") >= 1
                && info_u64(c, "persistence", "aof_rewrite_in_progress") == 0
        }),
        "the AOF's first base was never written"
    );
}

fn get(c: &mut RespConn, db: &str, key: &str) -> String {
    ok(c.cmd(&["SELECT", db]).unwrap());
    text(c.cmd(&["GET", key]).unwrap())
}

/// Follows `primary`, turns the AOF on while the primary's stream has db 3
/// selected, and checks that the AOF alone replays every write where it was made.
fn replica_aof_follows(primary: &dyn Server) {
    let rdir = tempdir("aofrep-r");
    let replica = InProcessNode::start(rdir.path(), &[]).unwrap();
    follow(&replica, primary);
    let mut p = primary.connect().unwrap();
    // The stream selects db 3 before the AOF exists, and never again after.
    ok(p.cmd(&["SELECT", "3"]).unwrap());
    ok(p.cmd(&["SET", "before", "1"]).unwrap());
    wait_caught_up(primary, &replica);

    let mut r = replica.connect().unwrap();
    ok(r.cmd(&["CONFIG", "SET", "appendonly", "yes"]).unwrap());
    wait_aof_on(&mut r);

    ok(p.cmd(&["SET", "after", "2"]).unwrap());
    ok(p.cmd(&["MULTI"]).unwrap());
    p.cmd(&["SET", "tx", "3"]).unwrap();
    p.cmd(&["INCR", "n"]).unwrap();
    p.cmd(&["EXEC"]).unwrap();
    ok(p.cmd(&["SELECT", "5"]).unwrap());
    ok(p.cmd(&["SET", "other", "4"]).unwrap());
    wait_caught_up(primary, &replica);
    wait_aof_command(rdir.path(), |c| c.len() > 1 && c[1] == "other");
    drop(r);
    replica.stop();

    // The replica's AOF alone, replayed by a standalone node.
    let node = InProcessNode::start(rdir.path(), &[("appendonly", "yes")]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(get(&mut c, "3", "before"), "1");
    assert_eq!(get(&mut c, "3", "after"), "2");
    assert_eq!(get(&mut c, "3", "tx"), "3");
    assert_eq!(get(&mut c, "3", "n"), "1");
    assert_eq!(get(&mut c, "5", "other"), "4");
    ok(c.cmd(&["SELECT", "0"]).unwrap());
    assert_eq!(
        int(c.cmd(&["DBSIZE"]).unwrap()),
        0,
        "writes replayed into db 0"
    );
}

#[test]
fn a_replica_of_ferrocache_turning_the_aof_on_keeps_the_streams_database() {
    let pdir = tempdir("aofrep-p");
    let primary = InProcessNode::start(pdir.path(), &[]).unwrap();
    replica_aof_follows(&primary);
}

#[test]
fn a_replica_of_redis_server_turning_the_aof_on_keeps_the_streams_database() {
    let primary = RedisServer::start_with(&["--repl-diskless-sync", "no"]).unwrap();
    replica_aof_follows(&primary);
}

/// The primary's side of one replica connection, scripted: a real primary
/// always sends a transaction whole, so only a scripted one can stop in the
/// middle of one (as a primary does when its link breaks there).
struct ScriptedPrimary {
    listener: TcpListener,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
}

const REPLID: &str = "0123456789abcdef0123456789abcdef01234567";

fn command(args: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_command(args, &mut out);
    out
}

impl ScriptedPrimary {
    fn bind() -> ScriptedPrimary {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        ScriptedPrimary {
            listener,
            conn: None,
            buf: Vec::new(),
        }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// Accepts the replica's next connection and answers its handshake up to
    /// PSYNC; returns PSYNC's arguments.
    fn accept(&mut self) -> Vec<String> {
        let mut conn = None;
        assert!(
            poll_until(DEADLINE, || {
                conn = self.listener.accept().ok().map(|(c, _)| c);
                conn.is_some()
            }),
            "the replica never connected"
        );
        let conn = conn.unwrap();
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(DEADLINE)).unwrap();
        self.conn = Some(conn);
        self.buf.clear();
        loop {
            let cmd = self.read_command();
            match cmd[0].to_ascii_uppercase().as_str() {
                "PING" => self.send(b"+PONG\r\n"),
                "REPLCONF" => self.send(b"+OK\r\n"),
                "PSYNC" => return cmd,
                other => panic!("unexpected {other} in the handshake"),
            }
        }
    }

    fn read_command(&mut self) -> Vec<String> {
        loop {
            if let Ok(Some((frame, n))) = ferrocache_resp::decode(&self.buf) {
                self.buf.drain(..n);
                let RespFrame::Array(items) = frame else {
                    panic!("the replica sent {frame:?}");
                };
                return items.into_iter().map(text).collect();
            }
            let mut chunk = [0u8; 4096];
            let n = self.conn.as_mut().unwrap().read(&mut chunk).unwrap();
            assert!(n > 0, "the replica closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.conn.as_mut().unwrap().write_all(bytes).unwrap();
    }

    fn full_resync(&mut self, rdb: &[u8]) {
        let mut out = format!("+FULLRESYNC {REPLID} 0\r\n${}\r\n", rdb.len()).into_bytes();
        out.extend_from_slice(rdb);
        self.send(&out);
    }

    fn drop_link(&mut self) {
        self.conn = None;
    }
}

/// An empty dataset as a real node saves it.
fn empty_rdb() -> Vec<u8> {
    let dir = tempdir("aofrep-rdb");
    let node = InProcessNode::start(dir.path(), &[]).unwrap();
    ok(node.connect().unwrap().cmd(&["SAVE"]).unwrap());
    node.stop();
    std::fs::read(dir.path().join("dump.rdb")).expect("dump.rdb")
}

fn offset(c: &mut RespConn) -> u64 {
    info_u64(c, "replication", "master_repl_offset")
}

#[test]
fn half_a_transaction_is_neither_counted_nor_split_across_aof_files() {
    let rdb = empty_rdb();
    let rdir = tempdir("aofrep-tx");
    let replica = InProcessNode::start(rdir.path(), &[]).unwrap();
    let mut primary = ScriptedPrimary::bind();
    let mut r = replica.connect().unwrap();
    ok(
        r.cmd(&["REPLICAOF", "127.0.0.1", &primary.port().to_string()])
            .unwrap(),
    );
    primary.accept();
    primary.full_resync(&rdb);

    // A write, then a transaction that has begun but not ended.
    let head = [command(&["SELECT", "2"]), command(&["SET", "a", "1"])].concat();
    let half = [
        command(&["MULTI"]),
        command(&["SET", "tx", "1"]),
        command(&["INCR", "n"]),
    ]
    .concat();
    primary.send(&[head.clone(), half.clone()].concat());
    assert!(
        poll_until(DEADLINE, || {
            ok(r.cmd(&["SELECT", "2"]).unwrap());
            text(r.cmd(&["GET", "a"]).unwrap()) == "1"
        }),
        "the write before the transaction never arrived"
    );
    assert_eq!(
        offset(&mut r),
        head.len() as u64,
        "the offset counts half a transaction"
    );

    // The AOF starts now, in the middle of the transaction.
    ok(r.cmd(&["CONFIG", "SET", "appendonly", "yes"]).unwrap());
    wait_aof_on(&mut r);
    let rest = [command(&["EXEC"]), command(&["SET", "after", "3"])].concat();
    primary.send(&rest);
    let mut stream = [head, half, rest].concat();
    assert!(
        poll_until(DEADLINE, || offset(&mut r) == stream.len() as u64),
        "the end of the transaction never arrived"
    );

    // The link breaks in the middle of another transaction: the replica asks
    // for it again from its MULTI and applies it once.
    primary.send(&[command(&["MULTI"]), command(&["INCR", "n"])].concat());
    primary.drop_link();
    let psync = primary.accept();
    assert_eq!(
        psync[1..],
        [REPLID.to_string(), (stream.len() + 1).to_string()]
    );
    primary.send(b"+CONTINUE\r\n");
    let tx = [
        command(&["MULTI"]),
        command(&["INCR", "n"]),
        command(&["EXEC"]),
    ]
    .concat();
    primary.send(&tx);
    stream.extend_from_slice(&tx);
    assert!(
        poll_until(DEADLINE, || offset(&mut r) == stream.len() as u64),
        "the resent transaction never arrived"
    );
    ok(r.cmd(&["SELECT", "2"]).unwrap());
    assert_eq!(text(r.cmd(&["GET", "n"]).unwrap()), "2");
    wait_aof_command(rdir.path(), |c| c[0] == "EXEC" && c.len() == 1);
    drop(r);
    replica.stop();

    let node = InProcessNode::start(rdir.path(), &[("appendonly", "yes")]).unwrap();
    let mut c = node.connect().unwrap();
    assert_eq!(get(&mut c, "2", "a"), "1", "from the AOF's base");
    assert_eq!(get(&mut c, "2", "tx"), "1");
    assert_eq!(get(&mut c, "2", "n"), "2");
    assert_eq!(get(&mut c, "2", "after"), "3");
    ok(c.cmd(&["SELECT", "0"]).unwrap());
    assert_eq!(
        int(c.cmd(&["DBSIZE"]).unwrap()),
        0,
        "writes replayed into db 0"
    );
}
