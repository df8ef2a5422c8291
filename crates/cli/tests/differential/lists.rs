//! Differential cases: lists. Every list command with its options, errors in
//! Redis's order, nil forms in RESP2 and RESP3, MULTI and WATCH, large lists.
//! The blocking forms are in `lists/blocking.rs` (their waiting itself is
//! covered in `blocking.rs`), keyspace events in `lists/events.rs`, the seeded
//! random sequence (`random_lists`) in `lists/generator.rs`.

mod blocking;
mod events;
mod generator;

use super::harness::{Args, Differ};
use super::random::b;

#[test]
fn push_pop_and_len() {
    let mut d = Differ::new("lists/push-pop");
    d.check_all(&[
        "LPUSH l a b c",
        "RPUSH l d e",
        "LRANGE l 0 -1",
        "LLEN l",
        "LLEN nokey",
        "LPUSHX nokey a",
        "RPUSHX nokey a",
        "EXISTS nokey",
        "LPUSHX l x y",
        "RPUSHX l z",
        "LRANGE l 0 -1",
        "LPOP l",
        "RPOP l",
        "LPOP l 2",
        "RPOP l 2",
        "LPOP l 0",
        "RPOP l 0",
        "LPOP l 100",
        "EXISTS l",
        "LPOP l",
        "LPOP l 0",
        "RPOP l 3",
        "RPOP nokey",
        // Count errors, arity, types.
        "RPUSH l a b c",
        "LPOP l -1",
        "LPOP l abc",
        "RPOP l 1.5",
        "LPOP l \"\"",
        "LPOP l 9223372036854775808",
        "LPOP l 1 2",
        "RPOP l 1 2 3",
        "RPOP l 9223372036854775807",
        "LPOP",
        "LPUSH l",
        "RPUSHX l",
        "SET s v",
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 0",
        "RPOP s -1",
        "LPOP s 1 2",
        "LLEN s",
        "GET s",
        // Binary-safe elements, long ones, empty ones.
        "RPUSH bin \"\\x00\\r\\n\" \"\" \"a b\"",
        "LRANGE bin 0 -1",
        "RPUSH long xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y",
        "LPOP long",
        "RPOP long",
        "TYPE bin",
        "lpush L1 a",
        "RpUsH L1 b",
        "lrange L1 0 -1",
    ]);
    d.finish();
}

#[test]
fn index_range_trim() {
    let mut d = Differ::new("lists/index");
    d.check_all(&[
        "RPUSH l a b c d e",
        "LINDEX l 0",
        "LINDEX l 4",
        "LINDEX l 5",
        "LINDEX l -1",
        "LINDEX l -5",
        "LINDEX l -6",
        "LINDEX l 9223372036854775807",
        "LINDEX l -9223372036854775808",
        "LINDEX l abc",
        "LINDEX nokey abc",
        "LINDEX nokey 0",
        "LRANGE l 0 -1",
        "LRANGE l 1 2",
        "LRANGE l -2 -1",
        "LRANGE l -100 100",
        "LRANGE l 3 1",
        "LRANGE l 5 10",
        "LRANGE l -1 -2",
        "LRANGE l -9223372036854775808 9223372036854775807",
        "LRANGE l 9223372036854775807 -9223372036854775808",
        "LRANGE l 0 abc",
        "LRANGE nokey 0 -1",
        "LRANGE nokey a b",
        "LSET l 0 A",
        "LSET l -1 E",
        "LSET l 5 x",
        "LSET l -6 x",
        "LSET l abc x",
        "LSET nokey 0 x",
        "LSET nokey abc x",
        "LRANGE l 0 -1",
        "LTRIM l 1 -2",
        "LRANGE l 0 -1",
        "LTRIM l 0 100",
        "LTRIM l -9223372036854775808 9223372036854775807",
        "LRANGE l 0 -1",
        "LTRIM l a 0",
        "LTRIM nokey 0 1",
        "LTRIM nokey a 1",
        "LTRIM l 2 1",
        "EXISTS l",
        "RPUSH l a b c",
        "LTRIM l 5 10",
        "EXISTS l",
        "RPUSH l a b c",
        "LTRIM l -1 -1",
        "LRANGE l 0 -1",
        "LTRIM l 0 -3",
        "EXISTS l",
        "SET s v",
        "LINDEX s 0",
        "LINDEX s abc",
        "LRANGE s 0 -1",
        "LRANGE s a 0",
        "LSET s 0 x",
        "LSET s abc x",
        "LTRIM s 0 1",
        "LINDEX l",
        "LSET l 0",
        "LRANGE l 0",
        "LTRIM l 0",
    ]);
    d.finish();
}

#[test]
fn insert_and_remove() {
    let mut d = Differ::new("lists/insert-rem");
    d.check_all(&[
        "RPUSH l a b a c a",
        "LINSERT l BEFORE a x",
        "LINSERT l AFTER a y",
        "LINSERT l after c z",
        "LINSERT l before nosuch q",
        "LINSERT l middle a q",
        "LINSERT nokey BEFORE a x",
        "LINSERT nokey middle a x",
        "EXISTS nokey",
        "LRANGE l 0 -1",
        "LREM l 1 a",
        "LRANGE l 0 -1",
        "LREM l -1 a",
        "LRANGE l 0 -1",
        "LREM l 0 nosuch",
        "RPUSH l a a a",
        "LREM l -2 a",
        "LRANGE l 0 -1",
        "LREM l 0 a",
        "LRANGE l 0 -1",
        "RPUSH l a b a",
        "LREM l -9223372036854775808 a",
        "LRANGE l 0 -1",
        "RPUSH l a b a",
        "LREM l 9223372036854775807 a",
        "LRANGE l 0 -1",
        "LREM l abc a",
        "LREM nokey abc a",
        "LREM nokey 0 a",
        "LREM l 0 x",
        "LREM l 0 y",
        "LREM l 0 z",
        "LREM l 0 b",
        "LREM l 0 c",
        "EXISTS l",
        "SET s v",
        "LINSERT s BEFORE a x",
        "LINSERT s middle a x",
        "LREM s 0 a",
        "LREM s abc a",
        "LINSERT l BEFORE a",
        "LREM l 0",
    ]);
    d.finish();
}

#[test]
fn lpos_options() {
    let mut d = Differ::new("lists/lpos");
    d.check_all(&[
        "RPUSH l a b c a b c a",
        "LPOS l a",
        "LPOS l c",
        "LPOS l nosuch",
        "LPOS l a RANK 2",
        "LPOS l a RANK 3",
        "LPOS l a RANK 4",
        "LPOS l a RANK -1",
        "LPOS l a RANK -3",
        "LPOS l a RANK -4",
        "LPOS l a COUNT 0",
        "LPOS l a COUNT 2",
        "LPOS l a COUNT 2 RANK 2",
        "LPOS l a COUNT 0 RANK -1",
        "LPOS l a COUNT 2 RANK -2",
        "LPOS l nosuch COUNT 0",
        "LPOS l a MAXLEN 1",
        "LPOS l a MAXLEN 1 RANK 2",
        "LPOS l a MAXLEN 4 COUNT 0",
        "LPOS l a MAXLEN 2 RANK -1 COUNT 0",
        "LPOS l a MAXLEN 0 COUNT 0",
        "LPOS l c RANK -1 MAXLEN 2",
        "LPOS l a COUNT 1 COUNT 3",
        "LPOS l a RANK 1 RANK -1",
        "LPOS l a rank 2 count 1 maxlen 7",
        // Redis negates RANK in a C long: LONG_MIN stays negative.
        "LPOS l a RANK -9223372036854775808",
        "LPOS l a RANK -9223372036854775808 COUNT 1",
        "LPOS l a RANK -9223372036854775808 COUNT 0",
        "LPOS l a RANK -9223372036854775807",
        "LPOS l a RANK 9223372036854775807 COUNT 0",
        "LPOS l a COUNT 9223372036854775807",
        "LPOS l a MAXLEN 9223372036854775807",
        // Errors, in argument order.
        "LPOS l a RANK 0",
        "LPOS l a RANK abc",
        "LPOS l a RANK 9223372036854775808",
        "LPOS l a COUNT -1",
        "LPOS l a COUNT abc",
        "LPOS l a COUNT 9223372036854775808",
        "LPOS l a MAXLEN -1",
        "LPOS l a MAXLEN abc",
        "LPOS l a RANK 0 COUNT -1",
        "LPOS l a COUNT -1 RANK 0",
        "LPOS l a RANK",
        "LPOS l a COUNT",
        "LPOS l a FOO 1",
        "LPOS l a RANK 1 FOO",
        "LPOS nokey a",
        "LPOS nokey a COUNT 0",
        "LPOS nokey a RANK 0",
        "SET s v",
        "LPOS s a",
        "LPOS s a COUNT 1",
        "LPOS s a RANK 0",
        "LPOS l",
    ]);
    d.finish();
}

#[test]
fn lmove_and_rpoplpush() {
    let mut d = Differ::new("lists/lmove");
    d.check_all(&[
        "RPUSH src a b c",
        "LMOVE src dst LEFT RIGHT",
        "LMOVE src dst RIGHT LEFT",
        "LMOVE src dst left left",
        "LRANGE dst 0 -1",
        "EXISTS src",
        "LMOVE src dst LEFT LEFT",
        "RPOPLPUSH src dst",
        "RPOPLPUSH dst src",
        "LRANGE src 0 -1",
        "LRANGE dst 0 -1",
        // Same list: rotation, also of a single element.
        "RPUSH r 1 2 3",
        "LMOVE r r LEFT RIGHT",
        "LMOVE r r RIGHT LEFT",
        "LMOVE r r LEFT LEFT",
        "RPOPLPUSH r r",
        "LRANGE r 0 -1",
        "RPUSH one x",
        "LMOVE one one LEFT RIGHT",
        "RPOPLPUSH one one",
        "LRANGE one 0 -1",
        // A destination of another type: nothing is popped.
        "SET str v",
        "LMOVE r str LEFT RIGHT",
        "RPOPLPUSH r str",
        "LRANGE r 0 -1",
        "LMOVE str r LEFT RIGHT",
        "RPOPLPUSH str r",
        "LMOVE nokey str LEFT RIGHT",
        "RPOPLPUSH nokey str",
        "GET str",
        // Bad directions are checked before the keys.
        "LMOVE r dst UP LEFT",
        "LMOVE r dst LEFT DOWN",
        "LMOVE nokey dst MIDDLE LEFT",
        "LMOVE str dst MIDDLE LEFT",
        "LMOVE r dst LEFT",
        "RPOPLPUSH r",
        "RPOPLPUSH r a b",
    ]);
    d.finish();
}

#[test]
fn lmpop_forms() {
    let mut d = Differ::new("lists/lmpop");
    d.check_all(&[
        "RPUSH a 1 2 3",
        "RPUSH b x y",
        "LMPOP 1 a LEFT",
        "LMPOP 1 a RIGHT",
        "LMPOP 2 nokey b LEFT",
        "LMPOP 2 nokey b RIGHT COUNT 5",
        "EXISTS b",
        "LMPOP 2 nokey b LEFT",
        "LMPOP 3 nokey a b left count 10",
        "LMPOP 1 a LEFT",
        "RPUSH a 1 2 3",
        "LMPOP 1 a right COUNT 2",
        "LMPOP 1 a LEFT COUNT 9223372036854775807",
        // Errors: numkeys, then the side, then COUNT.
        "LMPOP 0 a LEFT",
        "LMPOP -1 a LEFT",
        "LMPOP abc a LEFT",
        "LMPOP 9223372036854775808 a LEFT",
        "LMPOP 9223372036854775807 a LEFT",
        "LMPOP 9223372036854775806 a LEFT",
        "LMPOP 2 a LEFT",
        "LMPOP 3 a b LEFT",
        "LMPOP 1 a b LEFT",
        "LMPOP 1 a MIDDLE",
        "LMPOP 1 a LEFT COUNT 0",
        "LMPOP 1 a LEFT COUNT -1",
        "LMPOP 1 a LEFT COUNT abc",
        "LMPOP 1 a LEFT COUNT",
        "LMPOP 1 a LEFT COUNT 1 COUNT 1",
        "LMPOP 1 a LEFT FOO",
        "LMPOP 0 a MIDDLE COUNT 0",
        "LMPOP 1 a MIDDLE COUNT 0",
        "LMPOP 1 a",
        "LMPOP 1",
        // Another type met before a list is an error.
        "SET s v",
        "RPUSH c 1",
        "LMPOP 2 s c LEFT",
        "LMPOP 2 c s LEFT",
        "LMPOP 2 nokey s LEFT",
        "LLEN c",
    ]);
    d.finish();
}

#[test]
fn resp3_forms() {
    let mut d = Differ::new("lists/resp3");
    d.check("HELLO 3");
    d.check_all(&[
        "RPUSH l a b c",
        "LPOP nokey",
        "LPOP nokey 2",
        "LPOP nokey 0",
        "RPOP nokey 1",
        "LPOP l 0",
        "RPOP l 2",
        "LINDEX l 5",
        "LINDEX nokey 0",
        "LRANGE nokey 0 -1",
        "LPOS l zz",
        "LPOS nokey zz",
        "LPOS nokey zz COUNT 0",
        "LPOS l zz COUNT 0",
        "LMOVE nokey l LEFT LEFT",
        "RPOPLPUSH nokey l",
        "LMPOP 1 nokey LEFT",
        "LMPOP 1 l LEFT COUNT 3",
        "MULTI",
        "BLPOP nokey 0",
        "BLMOVE nokey l LEFT LEFT 0",
        "BRPOPLPUSH nokey l 0",
        "BLMPOP 0 1 nokey LEFT",
        "EXEC",
        "RPUSH l a",
        "BLPOP l 0",
    ]);
    d.finish();
}

#[test]
fn transactions_and_watch() {
    let mut d = Differ::new("lists/multi");
    d.check_all(&[
        "MULTI",
        "RPUSH l a b c",
        "LPOP l",
        "LMOVE l l LEFT RIGHT",
        "LRANGE l 0 -1",
        "LPOS l c",
        "LSET l 5 x",
        "LLEN l",
        "EXEC",
        "MULTI",
        "LPUSH l",
        "LLEN l",
        "EXEC",
        // Writes that change nothing leave a WATCH intact.
        "WATCH l",
        "LREM l 0 nosuch",
        "LINSERT l BEFORE nosuch x",
        "LSET l 10 x",
        "LPOP l 0",
        "LPUSHX nokey a",
        "MULTI",
        "LLEN l",
        "EXEC",
        // LTRIM signals even when it keeps everything.
        "WATCH l",
        "LTRIM l 0 -1",
        "MULTI",
        "LLEN l",
        "EXEC",
        "WATCH l",
        "LSET l 0 y",
        "MULTI",
        "LLEN l",
        "EXEC",
        "WATCH dst",
        "RPOPLPUSH l dst",
        "MULTI",
        "LLEN dst",
        "EXEC",
    ]);
    d.finish();
}

#[test]
fn encoding_and_large_lists() {
    let mut d = Differ::new("lists/encoding");
    d.check_all(&["RPUSH small a", "OBJECT ENCODING small", "TYPE small"]);
    let mut push: Args = vec![b("RPUSH"), b("big")];
    push.extend((0..2000).map(|i| b(format!("e{}", i % 37))));
    d.check_args(push);
    let mut push: Args = vec![b("LPUSH"), b("big")];
    push.extend((0..50).map(|i| b("y".repeat(i * 40))));
    d.check_args(push);
    d.check_all(&[
        "OBJECT ENCODING big",
        "LLEN big",
        "LRANGE big 0 99",
        "LRANGE big -100 -1",
        "LRANGE big 1000 1010",
        "LINDEX big 1025",
        "LINDEX big -1025",
        "LPOS big e5 COUNT 0",
        "LPOS big e5 RANK -3 COUNT 4",
        "LPOS big e5 RANK 2 MAXLEN 500",
        "LINSERT big AFTER e36 inserted",
        "LINDEX big 86",
        "LREM big -5 e7",
        "LREM big 3 e8",
        "LREM big 0 e9",
        "LLEN big",
        "LTRIM big 10 -10",
        "LPOP big 100",
        "RPOP big 100",
        "LRANGE big 0 -1",
        "LMPOP 1 big RIGHT COUNT 1000",
        "LLEN big",
        "OBJECT ENCODING big",
    ]);
    d.finish();
}
