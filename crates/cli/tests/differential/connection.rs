//! Hand-written differential cases for connection commands, HELLO/RESP3, CLIENT
//! and authentication.

use super::harness::{words, Differ};
use ferrocache_testkit::Frame;
use std::time::Duration;

#[test]
fn ping_echo_errors_of_dispatch() {
    let mut d = Differ::new("connection/basics");
    d.check_all(&[
        "PING",
        "PING hello",
        "PING \"\"",
        "PING a b",
        "ping",
        "PiNg x",
        "ECHO hi",
        "ECHO \"\"",
        "ECHO \"a\\x00b\\r\\n\"",
        "ECHO",
        "ECHO a b",
        // Arity and unknown commands, in Redis's words.
        "GET",
        "get",
        "SET x",
        "MGET",
        "FOO",
        "FOO a b",
        "foo a b c d e f g",
        "\"\"",
        "\"\" a",
        "GET\\x00 a",
        "CLIENT",
        "CLIENT FOO",
        "CLIENT foo bar",
        "CONFIG",
        "CONFIG FOO",
        "OBJECT FOO x",
        "COMMAND FOO",
        "PUBSUB FOO",
        "MEMORY FOO",
        "DEBUG FOO-UNKNOWN",
    ]);
    // A long unknown command name and long arguments are cut in the error text.
    let long = "x".repeat(200);
    d.check(&format!("{long} {long} {long}"));
    d.check(&format!("FOO {long}"));
    d.finish();
}

#[test]
fn hello_and_resp3_replies() {
    let mut d = Differ::new("connection/hello");
    d.check_all(&[
        "HELLO",
        "HELLO 2",
        "HELLO 4",
        "HELLO 1",
        "HELLO 0",
        "HELLO abc",
        "HELLO -1",
        "HELLO 3 FOO",
        "HELLO 3 SETNAME",
        "HELLO 3 AUTH default",
        "HELLO 3 AUTH default wrong",
        "HELLO 3 AUTH nobody wrong",
        "HELLO 2 SETNAME \"bad name\"",
        "CLIENT GETNAME",
        "HELLO 2 SETNAME first",
        "CLIENT GETNAME",
        "HELLO 3 SETNAME myname",
        "CLIENT GETNAME",
        // From here on, RESP3: compare the RESP3 frames.
        "PING",
        "SET s v",
        "GET s",
        "GET missing",
        "MGET s missing",
        "INCR n",
        "INCRBYFLOAT f 1.5",
        "HELLO",
        "KEYS *",
        "EXISTS s",
        "TTL s",
        "CONFIG GET maxclients",
        "CONFIG GET timeout",
        "MULTI",
        "SET a 1",
        "GET missing",
        "EXEC",
        "SCAN 0",
        "INFO keyspace",
        "CLIENT INFO",
        "TYPE s",
        "OBJECT ENCODING s",
        "BITPOS missing 1",
        "COMMAND INFO get",
        "COMMAND COUNT",
        "WRONG arg",
        "GET",
        "HELLO 2",
        "GET missing",
        "CONFIG GET maxclients",
    ]);
    d.finish();
}

#[test]
fn select_quit_reset() {
    let mut d = Differ::new("connection/select-quit");
    d.check_all(&[
        "SELECT 0",
        "SELECT 15",
        "SELECT 16",
        "SELECT -1",
        "SELECT 9999999999999999999",
        "SELECT abc",
        "SELECT",
        "SELECT 1 2",
    ]);
    // QUIT replies +OK and closes.
    d.check_on(1, "QUIT");
    d.check_closed(1, Duration::from_secs(5), "after QUIT");
    d.check_on(2, "QUIT extra");
    d.check_closed(2, Duration::from_secs(5), "after QUIT with an argument");
    d.finish();
}

#[test]
fn client_subcommands() {
    let mut d = Differ::new("connection/client");
    d.check_all(&[
        "CLIENT GETNAME",
        "CLIENT SETNAME conn0",
        "CLIENT GETNAME",
        "CLIENT SETNAME \"has space\"",
        "CLIENT SETNAME \"new\\nline\"",
        "CLIENT SETNAME \"\"",
        "CLIENT GETNAME",
        "CLIENT SETNAME conn0",
        "CLIENT SETNAME",
        "CLIENT ID",
        "CLIENT ID extra",
        "CLIENT INFO",
        "CLIENT LIST",
        "CLIENT LIST TYPE normal",
        "CLIENT LIST TYPE pubsub",
        "CLIENT LIST TYPE master",
        "CLIENT LIST TYPE replica",
        "CLIENT LIST TYPE foo",
        "CLIENT LIST ID 999999",
        "CLIENT LIST ID abc",
        "CLIENT LIST FOO",
        "CLIENT NO-EVICT on",
        "CLIENT NO-EVICT off",
        "CLIENT NO-EVICT maybe",
        "CLIENT NO-EVICT",
        "CLIENT PAUSE 10",
        "CLIENT UNPAUSE",
        "CLIENT PAUSE 10 WRITE",
        "CLIENT UNPAUSE",
        "CLIENT PAUSE 10 ALL",
        "CLIENT UNPAUSE",
        "CLIENT PAUSE 10 FOO",
        "CLIENT PAUSE abc",
        "CLIENT PAUSE -1",
        "CLIENT PAUSE",
        "CLIENT UNPAUSE extra",
        "CLIENT KILL 127.0.0.1:1",
        "CLIENT KILL ID 999999",
        "CLIENT KILL ID abc",
        "CLIENT KILL TYPE foo",
        "CLIENT KILL FOO bar",
        "CLIENT KILL",
        "CLIENT REPLY FOO",
        "CLIENT UNBLOCK abc",
        "CLIENT UNBLOCK 999999",
        "CLIENT UNBLOCK 999999 ERROR",
        "CLIENT UNBLOCK 1 FOO",
        "CLIENT UNBLOCK",
    ]);
    // CLIENT LIST on two named connections, in connection order.
    d.check_on(1, "CLIENT SETNAME conn1");
    d.check("CLIENT LIST");

    // Kill connection 1 by its id, each server's own.
    let ids = d.query_on(1, "CLIENT ID");
    let kill = |f: &Frame| match f {
        Frame::Integer(id) => words(&format!("CLIENT KILL ID {id}")),
        other => panic!("CLIENT ID replied {other:?}"),
    };
    d.check_each_on(0, kill(&ids[0]), kill(&ids[1]));
    d.check_closed(1, Duration::from_secs(5), "killed by id");

    // Kill by address, old form (+OK) and new form (count).
    let addrs = d.local_addrs(2);
    d.check_each_on(
        0,
        words(&format!("CLIENT KILL {}", addrs[0])),
        words(&format!("CLIENT KILL {}", addrs[1])),
    );
    d.check_closed(2, Duration::from_secs(5), "killed by address (old form)");
    let addrs = d.local_addrs(3);
    d.check_each_on(
        0,
        words(&format!("CLIENT KILL ADDR {}", addrs[0])),
        words(&format!("CLIENT KILL ADDR {}", addrs[1])),
    );
    d.check_closed(3, Duration::from_secs(5), "killed by ADDR");

    // Kill by type: two other normal connections go, this one stays (SKIPME yes).
    d.check_on(4, "PING");
    d.check_on(5, "PING");
    d.check("CLIENT KILL TYPE normal SKIPME yes");
    d.check_closed(4, Duration::from_secs(5), "killed by TYPE normal");
    d.check_closed(5, Duration::from_secs(5), "killed by TYPE normal");
    d.check("PING");
    d.check_on(6, "SUBSCRIBE ch");
    d.check("CLIENT KILL TYPE pubsub");
    d.check_closed(6, Duration::from_secs(5), "killed by TYPE pubsub");
    d.finish();
}

#[test]
fn client_reply_modes() {
    let mut d = Differ::new("connection/client-reply");
    // OFF: no replies until ON (whose +OK is the next frame either side sends).
    d.send_on(0, "CLIENT REPLY OFF");
    d.send_on(0, "SET a 1");
    d.send_on(0, "GET a");
    d.check("CLIENT REPLY ON");
    d.check("GET a");
    // SKIP: only the next command's reply is skipped.
    d.send_on(0, "CLIENT REPLY SKIP");
    d.send_on(0, "INCR a");
    d.check("GET a");
    d.finish();
}

#[test]
fn auth_with_requirepass() {
    let mut d = Differ::new("connection/auth-none");
    d.check_all(&["AUTH foo", "AUTH default foo", "AUTH a b c", "AUTH"]);
    d.finish();

    // Password from the command line.
    let mut d = Differ::start_with(
        "connection/auth",
        &["--requirepass", "s3cret"],
        &["--requirepass", "s3cret"],
    );
    d.check_all(&[
        "GET k",
        "PING",
        "ECHO x",
        "SET k v",
        "CLIENT ID",
        "SELECT 1",
        "HELLO",
        "HELLO 3",
        "HELLO 2 AUTH default wrong",
        "AUTH wrong",
        "AUTH default wrong",
        "AUTH nobody s3cret",
        "AUTH s3cret extra args",
        "GET k",
        "AUTH s3cret",
        "SET k v",
        "GET k",
        "AUTH default s3cret",
    ]);
    d.check_on(1, "HELLO 3 AUTH default s3cret");
    d.check_on(1, "GET k");
    d.check_on(2, "MULTI");
    d.check_on(2, "AUTH s3cret");
    d.check_on(2, "MULTI");
    d.check_on(2, "EXEC");
    // A password set at run time applies to new connections.
    d.check("CONFIG SET requirepass other");
    d.check_on(3, "GET k");
    d.check_on(3, "AUTH s3cret");
    d.check_on(3, "AUTH other");
    d.check_on(3, "GET k");
    d.check("CONFIG SET requirepass \"\"");
    d.check_on(4, "GET k");
    d.finish();
}
