//! Hand-written differential cases for server commands: INFO, CONFIG, COMMAND,
//! TIME, DEBUG, DBSIZE and SHUTDOWN.

use super::harness::{start_reference, Differ, Subject};
use ferrocache_testkit::Server;
use std::time::Duration;

#[test]
fn info_sections() {
    let mut d = Differ::new("server/info");
    d.check_all(&[
        "INFO",
        "INFO keyspace",
        "MSET a 1 b 2",
        "SET t v EX 1000",
        "SELECT 3",
        "SET c 3",
        "SELECT 0",
        "INFO keyspace",
        "INFO server",
        "INFO clients",
        "INFO memory",
        "INFO persistence",
        "INFO stats",
        "INFO replication",
        "INFO cpu",
        "INFO errorstats",
        "INFO cluster",
        "INFO commandstats",
        "INFO all",
        "INFO default",
        "INFO everything",
        "INFO server clients",
        "INFO SERVER",
        "INFO nosuchsection",
        "FLUSHALL",
        "INFO keyspace",
    ]);
    d.finish();
}

#[test]
fn config_get_set_resetstat() {
    let mut d = Differ::new("server/config");
    d.check_all(&[
        "CONFIG GET maxclients",
        "CONFIG GET timeout",
        "CONFIG GET MAXCLIENTS",
        "CONFIG GET maxclient?",
        "CONFIG GET timeou*",
        "CONFIG GET *max-*-len*",
        "CONFIG GET requirepass",
        "CONFIG GET databases",
        "CONFIG GET maxmemory",
        "CONFIG GET maxmemory-policy",
        "CONFIG GET proto-max-bulk-len",
        "CONFIG GET client-query-buffer-limit",
        "CONFIG GET save",
        "CONFIG GET appendonly",
        "CONFIG GET port",
        "CONFIG GET bind",
        "CONFIG GET dir",
        "CONFIG GET nosuchoption",
        "CONFIG GET maxclients timeout",
        "CONFIG GET",
        "CONFIG SET timeout 100",
        "CONFIG GET timeout",
        "CONFIG SET timeout 0",
        "CONFIG SET timeout abc",
        "CONFIG SET timeout -1",
        "CONFIG SET maxclients 0",
        "CONFIG SET maxclients 5000",
        "CONFIG GET maxclients",
        "CONFIG SET nosuchoption 1",
        "CONFIG SET timeout",
        "CONFIG SET timeout 1 maxclients 100",
        "CONFIG GET timeout",
        "CONFIG SET timeout 0 timeout 1",
        "CONFIG SET maxmemory 100mb",
        "CONFIG GET maxmemory",
        "CONFIG SET maxmemory 0",
        "CONFIG SET maxmemory-policy allkeys-lru",
        "CONFIG GET maxmemory-policy",
        "CONFIG SET maxmemory-policy nosuchpolicy",
        "CONFIG SET maxmemory-policy noeviction",
        "CONFIG SET databases 32",
        "CONFIG RESETSTAT",
        "CONFIG RESETSTAT extra",
        "CONFIG FOO",
    ]);
    d.finish();
}

#[test]
fn command_time_debug_dbsize() {
    let mut d = Differ::new("server/misc");
    d.check_all(&[
        "TIME",
        "TIME extra",
        "DBSIZE",
        "SET a 1",
        "DBSIZE",
        "DEBUG SLEEP 0",
        "DEBUG SLEEP 0.01",
        "COMMAND COUNT",
        "COMMAND LIST",
        "COMMAND DOCS get",
        "COMMAND",
        "COMMAND INFO get",
        "COMMAND INFO set mget incr",
        "COMMAND INFO nosuchcommand",
        "COMMAND INFO GET",
        "COMMAND INFO client|id",
        "COMMAND INFO",
        "COMMAND GETKEYS set a b",
        "COMMAND GETKEYS mset a 1 b 2",
        "COMMAND GETKEYS ping",
        "COMMAND GETKEYS nosuch",
        "COMMAND GETKEYS",
    ]);
    // Every command of the issue is described exactly as Redis describes it.
    for cmd in [
        "ping",
        "echo",
        "quit",
        "select",
        "swapdb",
        "hello",
        "auth",
        "client",
        "info",
        "dbsize",
        "flushdb",
        "flushall",
        "config",
        "time",
        "command",
        "shutdown",
        "debug",
        "memory",
        "object",
        "del",
        "unlink",
        "exists",
        "type",
        "rename",
        "renamenx",
        "keys",
        "scan",
        "randomkey",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "touch",
        "copy",
        "move",
        "get",
        "set",
        "setnx",
        "setex",
        "psetex",
        "getset",
        "getdel",
        "getex",
        "mget",
        "mset",
        "msetnx",
        "append",
        "strlen",
        "incr",
        "decr",
        "incrby",
        "decrby",
        "incrbyfloat",
        "getrange",
        "setrange",
        "setbit",
        "getbit",
        "bitcount",
        "bitpos",
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "publish",
        "pubsub",
        "multi",
        "exec",
        "discard",
        "watch",
        "unwatch",
    ] {
        d.check(&format!("COMMAND INFO {cmd}"));
    }
    // Malformed SHUTDOWN must not shut down.
    d.check_all(&["SHUTDOWN FOO", "SHUTDOWN NOSAVE SAVE", "PING"]);
    d.finish();
}

/// SHUTDOWN: no reply, the connection closes, and the process exits by itself
/// (cleanly, for the node).
#[test]
fn shutdown_stops_the_server() {
    let reference = start_reference(&[]);
    let subject = Subject::start(&[], &[]);
    let mut outcomes = Vec::new();
    for server in [&reference as &dyn Server, subject.server()] {
        let mut c = server.connect().unwrap();
        c.write_command(&["SHUTDOWN", "NOSAVE"]).unwrap();
        let reply = c.read_frame().ok();
        let closed = c.is_closed();
        outcomes.push(format!("reply {reply:?}, closed {closed}"));
    }
    assert_eq!(outcomes[0], outcomes[1], "redis-server vs subject");
    if let Subject::Node(node) = subject {
        let status = node
            .wait_exit(Duration::from_secs(10))
            .expect("node exits after SHUTDOWN");
        assert!(
            status.success(),
            "node exit status after SHUTDOWN: {status}"
        );
    }
}
