//! The blocking list commands with data present, inside MULTI, with bad
//! arguments, and as they run again for a served waiter.

use super::super::harness::Differ;
use ferrocache_testkit::poll_until;
use std::time::Duration;

#[test]
fn blocking_forms_with_data_in_multi_and_bad_arguments() {
    let mut d = Differ::new("lists/blocking");
    d.check_all(&[
        "RPUSH a 1 2 3",
        "RPUSH b x",
        "BLPOP nokey a b 0",
        "BRPOP nokey a b 0",
        "BLPOP b a 0.5",
        "EXISTS b",
        "BLMPOP 0 2 nokey a LEFT",
        "BLMPOP 1 1 a RIGHT COUNT 10",
        "RPUSH a 1 2 3",
        "BLMOVE a d LEFT RIGHT 0",
        "BRPOPLPUSH a d 0",
        "BLMOVE d d RIGHT LEFT 0",
        "LRANGE d 0 -1",
        // Timeout errors (checked first, except BLMPOP's).
        "BLPOP a -1",
        "BLPOP a abc",
        "BLPOP a \"\"",
        "BLPOP a \" 1\"",
        "BLPOP a nan",
        "BLPOP a 1e5000",
        "BLPOP a 1e-5000",
        "BLPOP a inf",
        "BLPOP a -inf",
        "BLPOP a 1e400",
        "BLPOP a 9.3e15",
        "BRPOP a -0.0011",
        "BLMOVE a d LEFT RIGHT -1",
        "BLMOVE a d UP RIGHT -1",
        "BLMOVE a d LEFT RIGHT abc",
        "BRPOPLPUSH a d -1",
        "BRPOPLPUSH a d abc",
        "BLMPOP -1 1 a LEFT",
        "BLMPOP abc 1 a LEFT",
        "BLMPOP -1 0 a LEFT",
        "BLMPOP -1 1 a MIDDLE",
        "BLMPOP -1 1 a LEFT COUNT 0",
        "BLMPOP 0 1 a LEFT COUNT 0",
        "BLMPOP 0 0 a LEFT",
        "BLMPOP 0 2 a LEFT",
        "BLMPOP 0 1 a LEFT COUNT 1 COUNT 2",
        // Timeouts that parse (data present, so nothing waits); Redis rounds
        // small negative ones up to 0.
        "RPUSH a 1 2 3 4 5 6 7 8 9",
        "BRPOP a -0.001",
        "BRPOP a -0.0009",
        "BLPOP a 0x10",
        "BLPOP a 0x1p-3",
        "BLPOP a 1e-5",
        "BLPOP a -0",
        "BLPOP a 9223372036854775",
        // Types.
        "SET s v",
        "BLPOP s 0",
        "BLPOP nokey s a 0",
        "BRPOP a s 0",
        "BLMOVE s d LEFT RIGHT 0",
        "BLMOVE a s LEFT RIGHT 0",
        "BRPOPLPUSH a s 0",
        "BLMPOP 0 2 nokey s LEFT",
        "LRANGE a 0 -1",
        // Inside MULTI nothing blocks: a nil array, or a nil bulk for the moves.
        "MULTI",
        "BLPOP nokey 0",
        "BRPOP nokey nokey2 0",
        "BLMOVE nokey d LEFT RIGHT 0",
        "BRPOPLPUSH nokey d 0",
        "BLMPOP 0 1 nokey LEFT",
        "BLPOP a 0",
        "BLMPOP 0 1 a RIGHT COUNT 2",
        "BLPOP s 0",
        "BLPOP nokey -1",
        "EXEC",
        "BLPOP",
        "BLPOP a",
        "BLMOVE a d LEFT RIGHT",
        "BLMPOP 0 1",
    ]);
    d.finish();
}

/// Waits until both servers report `n` blocked clients (no sleeps).
fn wait_blocked(d: &mut Differ, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let ok = poll_until(Duration::from_secs(10), || {
        d.query_on(9, "INFO clients").iter().all(|f| {
            f.as_bytes()
                .is_some_and(|b| b.windows(want.len()).any(|w| w == want.as_bytes()))
        })
    });
    assert!(ok, "both servers should report {want:?}");
}

/// The list handlers as they run again for a served waiter: the forms and the
/// destination checks specific to lists (the waiting itself is `blocking.rs`'s).
#[test]
fn served_waiters() {
    let mut d = Differ::new("lists/served");
    // BLMPOP with COUNT takes up to COUNT from the list that became ready.
    d.send_on(1, "BLMPOP 0 2 a b RIGHT COUNT 2");
    wait_blocked(&mut d, 1);
    d.check("RPUSH b x y z");
    d.read_on(1, 1, "BLMPOP served");
    d.check("LRANGE b 0 -1");
    // A destination of another type: the waiter gets WRONGTYPE and stops
    // waiting; the source keeps its elements.
    d.check("SET dst str");
    d.send_on(1, "BLMOVE src dst LEFT RIGHT 0");
    wait_blocked(&mut d, 1);
    d.check("RPUSH src p q");
    d.read_on(1, 1, "BLMOVE to a string");
    wait_blocked(&mut d, 0);
    d.check("LRANGE src 0 -1");
    // A source that became another type is not served: the waiter keeps waiting.
    d.send_on(1, "BRPOPLPUSH s2 d2 0");
    wait_blocked(&mut d, 1);
    d.check("SET s2 str");
    d.check("DEL s2");
    d.check("RPUSH s2 last");
    d.read_on(1, 1, "BRPOPLPUSH served after the type changed back");
    d.check("LRANGE d2 0 -1");
    // Rotation through a wait: BLMOVE of a list onto itself.
    d.send_on(1, "BLMOVE r r LEFT RIGHT 0");
    wait_blocked(&mut d, 1);
    d.check("RPUSH r 1 2 3");
    d.read_on(1, 1, "BLMOVE rotation");
    d.check("LRANGE r 0 -1");
    d.finish();
}
