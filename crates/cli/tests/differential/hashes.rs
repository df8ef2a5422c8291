//! Differential cases: hashes. A listpack hash's order is Redis's insertion order
//! and is compared exactly (`check_exact`); a hashtable's is not (the normalisation
//! rules sort HKEYS/HVALS/HGETALL and iterate HSCAN). The seeded random sequence
//! (`random_hashes`) is in `hashes/generator.rs`.

mod generator;

use super::harness::{Args, Differ};
use super::notifications::{events_of, subscribe_all, WRITER};
use super::random::b;

fn long(n: usize) -> String {
    "x".repeat(n)
}

#[test]
fn set_get_delete() {
    let mut d = Differ::new("hashes/basics");
    d.check_all(&[
        "HSET h f1 v1",
        "HSET h f2 v2 f3 v3",
        "HSET h f1 new f4 v4",
        "HSET h f5 a f5 b",
        "HGET h f1",
        "HGET h f5",
        "HGET h nosuch",
        "HGET nokey f",
        "HMGET h f1 nosuch f2 f1",
        "HMGET nokey a b",
        "HEXISTS h f1",
        "HEXISTS h nosuch",
        "HEXISTS nokey f",
        "HLEN h",
        "HLEN nokey",
        "HSTRLEN h f1",
        "HSTRLEN h nosuch",
        "HSTRLEN nokey f",
        "HSETNX h f1 other",
        "HSETNX h f9 v9",
        "HSETNX newh f v",
        "HGET h f9",
        "HMSET h a 1 b 2",
        "HMSET h a",
        "HMSET h",
        "HSET h a",
        "HSET h a 1 b",
        "HSET h",
        "HSETNX h a",
        "HGET h",
        "HMGET h",
        "HDEL h",
        "HDEL h nosuch",
        "HDEL h f1 f1 f2 nosuch",
        "HDEL nokey f",
        "HLEN h",
        // Binary-safe fields and values, empty ones included.
        "HSET bin \"\" empty \"a\\x00b\" \"\\r\\n\" \"\\xff\" \"\"",
        "HGET bin \"\"",
        "HGET bin \"a\\x00b\"",
        "HSTRLEN bin \"a\\x00b\"",
        "HSTRLEN bin \"\\xff\"",
        // Integers stay text (listpack stores them as numbers; the replies do not show it).
        "HSET nums i 12 neg -7 big 9223372036854775807 lead 012 plus +1 z -0",
        "HMGET nums i neg big lead plus z",
        "HSTRLEN nums big",
        // Emptied hashes are deleted.
        "HSET e a 1 b 2",
        "HDEL e a b a",
        "EXISTS e",
        "TYPE e",
        "HSET e a 1",
        "HDEL e a",
        "EXISTS e",
    ]);
    for line in [
        "HKEYS h",
        "HVALS h",
        "HGETALL h",
        "HGETALL bin",
        "HGETALL nums",
        "HKEYS nokey",
        "HVALS nokey",
        "HGETALL nokey",
    ] {
        d.check_exact(line);
    }
    d.finish();
}

#[test]
fn wrong_type_and_arity() {
    let mut d = Differ::new("hashes/errors");
    d.check_all(&["SET s x", "HSET h f v"]);
    for cmd in [
        "HSET s f v",
        "HSETNX s f v",
        "HMSET s f v",
        "HGET s f",
        "HMGET s f",
        "HDEL s f",
        "HEXISTS s f",
        "HLEN s",
        "HSTRLEN s f",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s f 1",
        "HINCRBYFLOAT s f 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HRANDFIELD s 0",
        "HSCAN s 0",
        // Argument errors come before the type check where Redis parses first.
        "HINCRBY s f abc",
        "HINCRBYFLOAT s f abc",
        "HINCRBYFLOAT s f inf",
        "HRANDFIELD s abc",
        "HRANDFIELD s 1 FOO",
        "HSCAN s abc",
        "HSCAN s 0 FOO",
        "GET h",
        "INCR h",
        "HGET",
        "HGET h",
        "HGET h f x",
        "HLEN",
        "HLEN h x",
        "HEXISTS h",
        "HSTRLEN h",
        "HKEYS",
        "HGETALL h x",
        "HINCRBY h f",
        "HINCRBYFLOAT h f",
        "HRANDFIELD",
        "HSCAN h",
        "HSETNX h f",
    ] {
        d.check(cmd);
    }
    d.finish();
}

#[test]
fn counters() {
    let mut d = Differ::new("hashes/counters");
    d.check_all(&[
        "HINCRBY h n 5",
        "HINCRBY h n -12",
        "HINCRBY h n 0",
        "HINCRBY h n abc",
        "HINCRBY h n 1.5",
        "HINCRBY h n \"\"",
        "HINCRBY h n 9223372036854775808",
        "HSET h max 9223372036854775807 min -9223372036854775808",
        "HINCRBY h max 1",
        "HINCRBY h max 0",
        "HINCRBY h max -1",
        "HINCRBY h min -1",
        "HINCRBY h min 1",
        "HINCRBY h min -9223372036854775808",
        "HSET h text abc sp \" 1\" lead 01 flt 1.5 e 1e3 empty \"\"",
        "HINCRBY h text 1",
        "HINCRBY h sp 1",
        "HINCRBY h lead 1",
        "HINCRBY h flt 1",
        "HINCRBY h e 1",
        "HINCRBY h empty 1",
        "HINCRBY newkey f 7",
        "HGETALL newkey",
        // Floats: Redis's long-double digits.
        "HINCRBYFLOAT h x 10.5",
        "HINCRBYFLOAT h x 0.1",
        "HINCRBYFLOAT h x 0.1",
        "HINCRBYFLOAT h x -0.2",
        "HINCRBYFLOAT h x 5.0e3",
        "HINCRBYFLOAT h x 0x10",
        "HINCRBYFLOAT h x 1e400",
        "HINCRBYFLOAT h x -1e400",
        "HINCRBYFLOAT h x 0",
        "HINCRBYFLOAT h flt 1",
        "HINCRBYFLOAT h e 1",
        "HINCRBYFLOAT h n 2.5",
        "HINCRBYFLOAT h max 1",
        "HINCRBYFLOAT h text 1",
        "HINCRBYFLOAT h sp 1",
        "HINCRBYFLOAT h empty 1",
        "HINCRBYFLOAT h x inf",
        "HINCRBYFLOAT h x -inf",
        "HINCRBYFLOAT h x +inf",
        "HINCRBYFLOAT h x nan",
        "HINCRBYFLOAT h x abc",
        "HINCRBYFLOAT h x \"\"",
        "HINCRBYFLOAT h x \" 1\"",
        "HINCRBYFLOAT h x 1e4932",
        "HINCRBYFLOAT h x 1e4932",
        "HINCRBYFLOAT h x 1e99999",
        "HSET h inf inf",
        "HINCRBYFLOAT h inf 1",
        "HINCRBYFLOAT h inf -1",
        "HINCRBYFLOAT h y -0.5",
        "HINCRBYFLOAT h y 0.5",
        "HINCRBYFLOAT newf f 3",
    ]);
    for _ in 0..30 {
        d.check("HINCRBYFLOAT h acc 0.1");
    }
    // The 400-digit value made it a hashtable: order is free.
    d.check_all(&["HGETALL h", "OBJECT ENCODING h", "HSTRLEN h x", "HLEN h"]);
    d.finish();
}

#[test]
fn encoding_thresholds() {
    let mut d = Differ::new("hashes/encoding");
    d.check("CONFIG GET hash-max-listpack-*");
    let (v64, v65) = (long(64), long(65));
    d.check_all(&[
        &format!("HSET a f {v64}"),
        "OBJECT ENCODING a",
        &format!("HSET a {v64} v"),
        "OBJECT ENCODING a",
        &format!("HSET a g {v65}"),
        "OBJECT ENCODING a",
        &format!("HSET b {v65} v"),
        "OBJECT ENCODING b",
        // An existing field: HSETNX changes nothing, encoding included.
        "HSET c f v",
        &format!("HSETNX c f {v65}"),
        "OBJECT ENCODING c",
        &format!("HSETNX c g {v65}"),
        "OBJECT ENCODING c",
        // Counters convert by their field name or by the text they produce.
        &format!("HINCRBY d {v65} 1"),
        "OBJECT ENCODING d",
        "HINCRBYFLOAT e f 1e70",
        "OBJECT ENCODING e",
        "HINCRBYFLOAT e2 f 1e50",
        "OBJECT ENCODING e2",
        // No way back.
        "HDEL a g",
        "OBJECT ENCODING a",
        "HDEL a f",
        "OBJECT ENCODING a",
    ]);
    // 512 fields stay a listpack; the 513th converts.
    let mut args: Args = vec![b("HSET"), b("big")];
    for i in 0..512 {
        args.extend([b(format!("f{i}")), b(format!("{i}"))]);
    }
    d.check_args(args);
    d.check("OBJECT ENCODING big");
    d.check("HSET big f0 again");
    d.check("OBJECT ENCODING big");
    d.check_exact("HSCAN big 0 MATCH f51?");
    d.check_exact("HRANDFIELD big 600");
    d.check("HSET big f512 v");
    d.check("OBJECT ENCODING big");
    d.check("HLEN big");
    d.check("HSCAN big 0");
    d.check("HSCAN big 0 COUNT 100 MATCH f1*");
    d.check("HGETALL big");
    d.check("HKEYS big");
    d.check("HVALS big");
    // Thresholds changed at run time: a listpack over the new limit converts at its
    // next write (even one that only replaces a value); a read leaves it alone.
    d.check_all(&[
        "HSET small a 1 b 2 c 3",
        "CONFIG SET hash-max-listpack-entries 2",
        "HGET small a",
        "OBJECT ENCODING small",
        "HSET small a 10",
        "OBJECT ENCODING small",
        "HSET two a 1 b 2",
        "OBJECT ENCODING two",
        "HSET three a 1 b 2 c 3",
        "OBJECT ENCODING three",
        "CONFIG SET hash-max-listpack-entries 0",
        "HSET zero a 1",
        "OBJECT ENCODING zero",
        "CONFIG SET hash-max-listpack-entries 512",
        "CONFIG SET hash-max-listpack-value 0",
        "HSET v0 \"\" \"\"",
        "OBJECT ENCODING v0",
        "HSET v1 a \"\"",
        "OBJECT ENCODING v1",
        "CONFIG SET hash-max-ziplist-value 3",
        "HSET z3 abc def",
        "OBJECT ENCODING z3",
        "HSET z4 abcd e",
        "OBJECT ENCODING z4",
        "CONFIG SET hash-max-listpack-value 64",
    ]);
    d.finish();
}

#[test]
fn listpack_order_survives_updates_and_deletes() {
    let mut d = Differ::new("hashes/order");
    d.check_all(&[
        "HSET h c 3 a 1 b 2 d 4 e 5",
        "HSET h a 10",
        "HDEL h b",
        "HSET h b 20",
        "HINCRBY h c 1",
        "HINCRBYFLOAT h d 0.5",
        "HSETNX h f 6",
    ]);
    for line in [
        "HKEYS h",
        "HVALS h",
        "HGETALL h",
        "HSCAN h 0",
        "HSCAN h 0 COUNT 1",
        "HSCAN h 99 MATCH [ab]*",
        "HSCAN h 0 MATCH nomatch",
        "HRANDFIELD h 6",
        "HRANDFIELD h 100 WITHVALUES",
    ] {
        d.check_exact(line);
    }
    d.check("RENAME h h2");
    d.check_exact("HGETALL h2");
    d.check("COPY h2 h3");
    d.check_exact("HGETALL h3");
    d.finish();
}

#[test]
fn hrandfield_forms() {
    let mut d = Differ::new("hashes/hrandfield");
    d.check_all(&[
        "HRANDFIELD nokey",
        "HRANDFIELD nokey 5",
        "HRANDFIELD nokey -5 WITHVALUES",
        "HRANDFIELD nokey 0",
        "HRANDFIELD nokey abc",
        "HRANDFIELD nokey 1 WITHVALUES x",
        "HSET one f v",
        "HRANDFIELD one",
        "HRANDFIELD one 1",
        "HRANDFIELD one -5",
        "HRANDFIELD one -5 WITHVALUES",
        "HRANDFIELD one 5 withvalues",
        "HSET h a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 j 10",
        "HRANDFIELD h",
        "HRANDFIELD h 0",
        "HRANDFIELD h 0 WITHVALUES",
        "HRANDFIELD h 1",
        "HRANDFIELD h 2",
        "HRANDFIELD h 3 WITHVALUES",
        "HRANDFIELD h 4",
        "HRANDFIELD h 9 WITHVALUES",
        "HRANDFIELD h 10",
        "HRANDFIELD h 11 WITHVALUES",
        "HRANDFIELD h -30",
        "HRANDFIELD h -30 WITHVALUES",
        "HRANDFIELD h 1.5",
        "HRANDFIELD h \"\"",
        "HRANDFIELD h 1 FOO",
        "HRANDFIELD h 1 WITHVALUES FOO",
        "HRANDFIELD h -9223372036854775808",
        "HRANDFIELD h -9223372036854775808 WITHVALUES",
        "HRANDFIELD h 9223372036854775807 WITHVALUES",
        "HRANDFIELD h 4611686018427387904 WITHVALUES",
        "HRANDFIELD h -4611686018427387904 WITHVALUES",
        "HRANDFIELD h 4611686018427387903 WITHVALUES",
        "HRANDFIELD h 9223372036854775807",
        "HRANDFIELD h 9223372036854775808",
    ]);
    // A hashtable: every case of Redis's sampling.
    let mut args: Args = vec![b("HSET"), b("big")];
    for i in 0..600 {
        args.extend([b(format!("f{i}")), b(format!("v{i}"))]);
    }
    d.check_args(args);
    d.check_all(&[
        "OBJECT ENCODING big",
        "HRANDFIELD big",
        "HRANDFIELD big 1 WITHVALUES",
        "HRANDFIELD big 10 WITHVALUES",
        "HRANDFIELD big 300",
        "HRANDFIELD big 599 WITHVALUES",
        "HRANDFIELD big 600",
        "HRANDFIELD big 1000 WITHVALUES",
        "HRANDFIELD big -700 WITHVALUES",
    ]);
    // A bigger listpack, for the subset sampling cases.
    d.check("CONFIG SET hash-max-listpack-entries 1000");
    let mut args: Args = vec![b("HSET"), b("lp")];
    for i in 0..700 {
        args.extend([b(format!("f{i}")), b(format!("v{i}"))]);
    }
    d.check_args(args);
    d.check_all(&[
        "OBJECT ENCODING lp",
        "HRANDFIELD lp 5 WITHVALUES",
        "HRANDFIELD lp 300",
        "HRANDFIELD lp 699 WITHVALUES",
        "HRANDFIELD lp -1000",
    ]);
    d.finish();
}

#[test]
fn hrandfield_stops_at_the_output_limit() {
    // A negative count of a billion would be gigabytes of reply: with a hard limit for
    // normal clients both servers drop the client instead of sending it.
    let mut d = Differ::new("hashes/hrandfield-limit");
    d.check_all(&[
        "CONFIG SET client-output-buffer-limit \"normal 1mb 0 0\"",
        "HSET h f v",
    ]);
    d.send_on(1, "HRANDFIELD h -1000000000");
    d.check_closed(
        1,
        std::time::Duration::from_secs(20),
        "HRANDFIELD over the limit",
    );
    d.check("HLEN h");
    d.finish();
}

#[test]
fn hscan_options_and_errors() {
    let mut d = Differ::new("hashes/hscan");
    d.check_all(&[
        "HSCAN nokey 0",
        "HSCAN nokey abc",
        "HSCAN nokey 0 FOO",
        "HSCAN nokey 0 COUNT 0",
        "HSET h a 1 b 2 c 3 ab 4",
        "HSCAN h abc",
        "HSCAN h -1",
        "HSCAN h 18446744073709551615",
        "HSCAN h 18446744073709551616",
        "HSCAN h 1.5",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 COUNT -1",
        "HSCAN h 0 COUNT abc",
        "HSCAN h 0 COUNT",
        "HSCAN h 0 MATCH",
        "HSCAN h 0 TYPE string",
        "HSCAN h 0 NOVALUES",
        "HSCAN h 0 FOO bar",
    ]);
    for line in [
        "HSCAN h 0",
        "HSCAN h 5",
        "HSCAN h 0 MATCH a*",
        "HSCAN h 0 match A* count 1",
        "HSCAN h 0 MATCH * COUNT 100",
        "HSCAN h 0 COUNT 1 COUNT 2 MATCH x MATCH ?",
        "HSCAN h 0 MATCH [a-b]",
    ] {
        d.check_exact(line);
    }
    // A hashtable: iterated to the end on each side, with MATCH and COUNT.
    d.check(&format!("HSET h long {}", long(100)));
    d.check_all(&[
        "OBJECT ENCODING h",
        "HSCAN h 0",
        "HSCAN h 0 COUNT 1",
        "HSCAN h 0 MATCH a*",
        "HSCAN h 0 MATCH zzz COUNT 2",
    ]);
    d.finish();
}

#[test]
fn resp3_forms() {
    let mut d = Differ::new("hashes/resp3");
    d.check("HELLO 3");
    d.check_all(&[
        "HSET h a 1 b 2",
        "HGET h a",
        "HGET h nosuch",
        "HGET nokey a",
        "HMGET h a nosuch",
        "HGETALL nokey",
        "HKEYS nokey",
        "HINCRBYFLOAT h f 1.25",
        "HRANDFIELD nokey",
        "HRANDFIELD nokey 3 WITHVALUES",
        "HRANDFIELD h 3 WITHVALUES",
        "HRANDFIELD h -3 WITHVALUES",
        "HRANDFIELD h 1 WITHVALUES",
        "HRANDFIELD h 2",
        "HSCAN nokey 0",
        "HGETALL h",
    ]);
    for line in [
        "HGETALL h",
        "HKEYS h",
        "HVALS h",
        "HSCAN h 0",
        "HRANDFIELD h 5 WITHVALUES",
    ] {
        d.check_exact(line);
    }
    d.finish();
}

#[test]
fn transactions_and_watch() {
    let mut d = Differ::new("hashes/multi");
    d.check_all(&[
        "MULTI",
        "HSET h a 1 b 2",
        "HINCRBY h a 5",
        "HINCRBYFLOAT h b 0.5",
        "HGETALL h",
        "HRANDFIELD h 10 WITHVALUES",
        "HSCAN h 0",
        "HDEL h a",
        "HINCRBY h b 1",
        "EXEC",
        "MULTI",
        "HSET h",
        "HGET h b",
        "EXEC",
        // HSETNX of an existing field and HDEL of a missing one change nothing.
        "WATCH h",
        "HSETNX h b x",
        "HDEL h nosuch",
        "MULTI",
        "HGET h b",
        "EXEC",
        "WATCH h",
        "HSETNX h c x",
        "MULTI",
        "HGET h c",
        "EXEC",
        "WATCH h",
        "HSET h b same",
        "MULTI",
        "HGET h b",
        "EXEC",
        "WATCH h",
        "HINCRBY h b 1",
        "HGET h b",
        "MULTI",
        "HLEN h",
        "EXEC",
    ]);
    d.finish();
}

#[test]
fn hash_events() {
    let mut d = Differ::new("hashes/events");
    subscribe_all(&mut d, "KEA");
    for line in [
        "HSET h a 1 b 2",
        "HSET h a 1",
        "HMSET h c 3",
        "HSETNX h a x",
        "HSETNX h d 4",
        "HINCRBY h n 1",
        "HINCRBY h a abc",
        "HINCRBYFLOAT h f 1.5",
        "HINCRBYFLOAT h a inf",
        "HDEL h nosuch",
        "HDEL h a b",
        "HDEL h c d n f",
        "HGET h a",
        "HSETNX new f v",
        "HINCRBY new2 f 1",
        "HINCRBYFLOAT new3 f 1",
        "HDEL new f",
        "HSET h x 1",
        "EXPIRE h 100",
        "DEL h",
    ] {
        events_of(&mut d, line);
    }
    d.check_on(WRITER, "CONFIG SET notify-keyspace-events Kh");
    events_of(&mut d, "HSET k a 1");
    events_of(&mut d, "HDEL k a");
    d.finish();
}
