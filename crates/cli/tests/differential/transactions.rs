//! Hand-written differential cases for MULTI/EXEC/DISCARD/WATCH.

use super::harness::Differ;

#[test]
fn multi_exec_discard() {
    let mut d = Differ::new("transactions/basic");
    d.check_all(&[
        "EXEC",
        "DISCARD",
        "MULTI",
        "SET a 1",
        "INCR a",
        "GET a",
        "EXEC",
        "MULTI",
        "MULTI",
        "EXEC",
        "MULTI",
        "SET a 2",
        "DISCARD",
        "GET a",
        "MULTI extra",
        "EXEC extra",
        // Errors inside EXEC do not stop the other commands.
        "SET s abc",
        "MULTI",
        "INCR s",
        "SET t 1",
        "INCRBYFLOAT s 1",
        "GET t",
        "EXEC",
        // A queued syntax/arity error aborts the transaction at EXEC.
        "MULTI",
        "SET a",
        "SET b 1",
        "EXEC",
        "EXISTS b",
        "MULTI",
        "NOSUCHCOMMAND x",
        "SET b 1",
        "EXEC",
        "EXISTS b",
        // An argument error found only at run time (not a queueing error).
        "MULTI",
        "SET b 1 EX 0",
        "SET c 1",
        "EXEC",
        "MULTI",
        "SELECT 1",
        "SET indb1 v",
        "SELECT 0",
        "EXEC",
        "EXISTS indb1",
        "SELECT 1",
        "EXISTS indb1",
        "SELECT 0",
        "MULTI",
        "WATCH a",
        "EXEC",
        "MULTI",
        "EXEC",
        "MULTI",
        "PING",
        "ECHO x",
        "DISCARD",
        "DISCARD",
    ]);
    d.finish();
}

#[test]
fn watch_and_unwatch() {
    let mut d = Differ::new("transactions/watch");
    // A watched key changed by another connection: EXEC returns nil.
    d.check_all(&["SET k 1", "WATCH k"]);
    d.check_on(1, "SET k 2");
    d.check_all(&["MULTI", "SET k 3", "EXEC", "GET k"]);
    // WATCH of a missing key that another connection creates.
    d.check("WATCH new");
    d.check_on(1, "SET new x");
    d.check_all(&["MULTI", "GET new", "EXEC"]);
    // Unchanged: EXEC runs.
    d.check_all(&["WATCH k", "MULTI", "INCR k", "EXEC"]);
    // UNWATCH forgets.
    d.check("WATCH k");
    d.check_on(1, "SET k 10");
    d.check_all(&["UNWATCH", "MULTI", "INCR k", "EXEC"]);
    // Changes by this connection itself count too.
    d.check_all(&["WATCH k", "SET k 20", "MULTI", "GET k", "EXEC"]);
    // DISCARD also unwatches.
    d.check_all(&["WATCH k", "MULTI", "DISCARD"]);
    d.check_on(1, "INCR k");
    d.check_all(&["MULTI", "GET k", "EXEC"]);
    // Deleting, expiring and flushing a watched key.
    d.check("WATCH k");
    d.check_on(1, "DEL k");
    d.check_all(&["MULTI", "PING", "EXEC"]);
    d.check_all(&["SET k v", "WATCH k"]);
    d.check_on(1, "EXPIRE k 1000");
    d.check_all(&["MULTI", "PING", "EXEC"]);
    d.check("WATCH k");
    d.check_on(1, "FLUSHALL");
    d.check_all(&["MULTI", "PING", "EXEC"]);
    // A write to the same key name in another database does not count.
    d.check_all(&["SET k 1", "WATCH k"]);
    d.check_on(1, "SELECT 1");
    d.check_on(1, "SET k other-db");
    d.check_all(&["MULTI", "GET k", "EXEC"]);
    // SWAPDB touches watched keys in both databases.
    d.check("WATCH k");
    d.check_on(1, "SWAPDB 0 1");
    d.check_all(&["MULTI", "GET k", "EXEC"]);
    // A no-op write (SET to the same value) still counts as a change.
    d.check_all(&["SET same v", "WATCH same"]);
    d.check_on(1, "SET same v");
    d.check_all(&["MULTI", "GET same", "EXEC"]);
    d.check_all(&["WATCH", "UNWATCH extra", "UNWATCH"]);
    // In RESP3 an aborted EXEC is the RESP3 null.
    d.check_on(2, "HELLO 3");
    d.check_on(2, "WATCH k");
    d.check_on(1, "SET k resp3");
    d.check_on(2, "MULTI");
    d.check_on(2, "GET k");
    d.check_on(2, "EXEC");
    d.finish();
}
