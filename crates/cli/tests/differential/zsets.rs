//! Differential cases: sorted sets. Member commands, pops (blocking ones with data
//! present, inside MULTI, with bad timeouts, and served after a wait), encodings,
//! RESP3 forms, transactions and keyspace events here; ranges in `zsets/ranges.rs`,
//! the multi-key algebra in `zsets/algebra.rs`, the seeded random sequence
//! (`random_zsets`) in `zsets/generator.rs`.
//!
//! Replies are compared exactly except ZSCAN of a skiplist (dictionary order) and
//! ZRANDMEMBER (random): see the normalisation table in `differential.rs`.

mod algebra;
mod generator;
mod ranges;

use super::harness::{Args, Differ};
use super::notifications::{events_of, subscribe_all, WRITER};
use super::random::b;
use ferrocache_testkit::poll_until;
use std::time::Duration;

/// `ZADD key 0 m0 1 m1 …` with `n` members named `prefix{i}`, scores `i * step`.
fn zadd_many(key: &str, n: usize, prefix: &str, step: f64) -> Args {
    let mut a = vec![b("ZADD"), b(key)];
    for i in 0..n {
        a.push(b((i as f64 * step).to_string()));
        a.push(b(format!("{prefix}{i}")));
    }
    a
}

#[test]
fn zadd_options_and_errors() {
    let mut d = Differ::new("zsets/zadd");
    d.check_all(&[
        "ZADD z 1 a 2 b 3 c",
        "ZADD z 1 a",
        "ZADD z 5 a",
        "ZADD z CH 5 a 6 b 7 d",
        "ZADD z NX 100 a 8 e",
        "ZADD z XX 100 a 9 nosuch",
        "ZADD z XX CH 101 a 9 nosuch",
        "ZADD z GT 50 a",
        "ZADD z GT CH 500 a 1 b",
        "ZADD z LT CH 1 a 1000 b",
        "ZADD z XX GT CH 2 a 3 b",
        "ZADD z LT 0 new",
        "ZADD z GT 0 new2",
        "ZADD z INCR 10 a",
        "ZADD z INCR NX 10 a",
        "ZADD z INCR NX 10 fresh",
        "ZADD z INCR XX 10 absent",
        "ZADD z INCR GT -1 a",
        "ZADD z INCR LT -1 a",
        "ZADD z INCR LT 1 a",
        "ZADD z incr ch xx 0 a",
        "ZRANGE z 0 -1 WITHSCORES",
        // Option conflicts and malformed pairs.
        "ZADD z NX XX 1 a",
        "ZADD z GT LT 1 a",
        "ZADD z NX GT 1 a",
        "ZADD z LT NX 1 a",
        "ZADD z NX XX INCR 1 a 2 b",
        "ZADD z INCR 1 a 2 b",
        "ZADD z 1 a 2",
        "ZADD z NX",
        "ZADD z NX XX 1",
        "ZADD z 1 a NX",
        "ZADD z FOO 1 a",
        "ZADD z abc a",
        "ZADD z 1 a abc b",
        "ZADD z 1",
        "ZADD z",
        "ZADD",
        // XX on a missing key creates nothing.
        "ZADD missing XX 1 a",
        "ZADD missing XX INCR 1 a",
        "EXISTS missing",
        // Other types.
        "SET str v",
        "ZADD str 1 a",
        "ZADD str XX 1 a",
        "ZADD str abc a",
        "ZINCRBY str 1 a",
        // ZINCRBY.
        "ZINCRBY z 2.5 a",
        "ZINCRBY z -2.5 a",
        "ZINCRBY z 1 newmember",
        "ZINCRBY newkey 3 m",
        "ZINCRBY z abc a",
        "ZINCRBY z nx a",
        "ZINCRBY z incr a",
        "ZINCRBY z 1",
        "ZINCRBY z 1 a b",
        "ZSCORE z a",
        "ZSCORE newkey m",
    ]);
    d.finish();
}

#[test]
fn scores_are_parsed_and_formatted_like_redis() {
    let mut d = Differ::new("zsets/scores");
    d.check_all(&[
        "ZADD s 1.5 a 0.1 b 1e3 c -2.5e-5 d 123456789 e 1e17 f 3.0 g",
        "ZADD s inf i1 +inf i2 -inf i3 Infinity i4 -INFINITY i5 INF i6",
        "ZADD s 0x10 h1 0X1p3 h2 0x.8 h3 0x1.8p1 h4 -0x10 h5",
        "ZADD s 1e-310 tiny 4503599627370497 big53 1e308 huge 5e-324 min",
        "ZADD s 0.30000000000000004 fp 1.7976931348623157e308 dmax",
        "ZRANGE s 0 -1 WITHSCORES",
        "ZSCORE s fp",
        "ZSCORE s tiny",
        // Not valid floats for a score.
        "ZADD s nan x",
        "ZADD s NaN x",
        "ZADD s 1e400 x",
        "ZADD s -1e400 x",
        "ZADD s 1e-400 x",
        "ZADD s \" 1\" x",
        "ZADD s \"1 \" x",
        "ZADD s \"\" x",
        "ZADD s 1.5.5 x",
        "ZADD s 0x x",
        "ZADD s inff x",
        "ZADD s \"1\\x00\" x",
        "ZADD s (1 x",
        "ZADD s + x",
        "ZADD s - x",
        "ZADD s 1e x",
        "ZINCRBY s 1e400 x",
        // inf - inf is NaN: an error, nothing changes.
        "ZADD s INCR -inf i1",
        "ZINCRBY s -inf i2",
        "ZINCRBY s inf i3",
        "ZADD s INCR inf i1",
        "ZSCORE s i1",
        "ZSCORE s i2",
        // Negative zero: a listpack stores it as 0, a skiplist keeps it.
        "ZADD nz -0 a",
        "ZSCORE nz a",
        "ZINCRBY nz -0 b",
        "ZSCORE nz b",
        "ZADD nz INCR -0 c",
        "ZRANGE nz 0 -1 WITHSCORES",
        "ZADD nz 0 a",
        "ZADD nz CH -0 a",
        "ZSCORE nz a",
    ]);
    let long = "y".repeat(70);
    d.check(&format!("ZADD nzs -0 {long} -0 a"));
    d.check_all(&[
        "OBJECT ENCODING nzs",
        "ZSCORE nzs a",
        "ZRANGE nzs 0 -1 WITHSCORES",
        "ZADD nzs 0 a",
        "ZADD nzs CH 0 a",
        "ZINCRBY nzs 0 a",
        "ZSCORE nzs a",
        "HELLO 3",
        "ZSCORE s fp",
        "ZSCORE s i1",
        "ZSCORE s i3",
        "ZSCORE nzs a",
        "ZINCRBY s 1 e",
        "ZMSCORE s a b nosuch",
        "ZRANGE s 0 3 WITHSCORES",
        "ZSCAN s 0",
    ]);
    d.finish();
}

#[test]
fn member_commands() {
    let mut d = Differ::new("zsets/members");
    d.check_all(&[
        "ZADD z 1 a 2 b 3 c 3 d 0 \"\" -1 \"\\x00\\r\\n\"",
        "ZCARD z",
        "ZCARD nokey",
        "ZSCORE z a",
        "ZSCORE z \"\"",
        "ZSCORE z \"\\x00\\r\\n\"",
        "ZSCORE z nosuch",
        "ZSCORE nokey a",
        "ZMSCORE z a nosuch b \"\"",
        "ZMSCORE nokey a b",
        "ZMSCORE z",
        "ZRANK z a",
        "ZRANK z d",
        "ZRANK z \"\\x00\\r\\n\"",
        "ZRANK z nosuch",
        "ZRANK nokey a",
        "ZREVRANK z a",
        "ZREVRANK z d",
        "ZREVRANK z nosuch",
        // 7.0 has no WITHSCORE for ZRANK.
        "ZRANK z a WITHSCORE",
        "ZREVRANK z a WITHSCORE",
        "ZREM z a nosuch a",
        "ZREM z nosuch",
        "ZREM nokey a",
        "ZREM z",
        "ZRANGE z 0 -1 WITHSCORES",
        // Removing the last member deletes the key; later arguments are ignored.
        "ZADD two 1 x 2 y",
        "ZREM two x y x",
        "EXISTS two",
        "SET str v",
        "ZCARD str",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZREVRANK str a",
        "ZREM str a",
        "ZCOUNT str 0 1",
    ]);
    d.finish();
}

#[test]
fn pops_and_blocking_pops_that_need_not_wait() {
    let mut d = Differ::new("zsets/pops");
    d.check_all(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZPOPMIN z",
        "ZPOPMAX z",
        "ZPOPMIN z 2",
        "ZPOPMIN z 0",
        "ZPOPMAX z 100",
        "EXISTS z",
        "ZPOPMIN z",
        "ZPOPMIN z 3",
        "ZPOPMIN z 0",
        "ZPOPMIN z -1",
        "ZPOPMIN z abc",
        "ZPOPMIN z 1.5",
        "ZPOPMIN z 1 2",
        "ZPOPMAX z 9223372036854775807",
        "SET str v",
        "ZPOPMIN str",
        "ZPOPMIN str 0",
        "ZPOPMIN str -1",
        // ZMPOP.
        "ZADD z1 1 a 2 b 3 c",
        "ZADD z2 10 x",
        "ZMPOP 2 nokey z1 MIN",
        "ZMPOP 2 z1 z2 MAX COUNT 2",
        "ZMPOP 1 z1 MIN COUNT 10",
        "ZMPOP 2 z1 z2 max count 1",
        "ZMPOP 2 z1 z2 MIN",
        "ZMPOP 1 nokey MIN",
        "ZMPOP 2 nokey str MIN",
        "ZADD z1 1 a",
        "ZMPOP 2 z1 str MIN",
        "ZMPOP 0 z1 MIN",
        "ZMPOP -1 z1 MIN",
        "ZMPOP abc z1 MIN",
        "ZMPOP 2 z1 MIN",
        "ZMPOP 9223372036854775807 z1 MIN",
        "ZMPOP 1 z1 FOO",
        "ZMPOP 1 z1",
        "ZMPOP 1 z1 MIN COUNT",
        "ZMPOP 1 z1 MIN COUNT 0",
        "ZMPOP 1 z1 MIN COUNT -1",
        "ZMPOP 1 z1 MIN COUNT abc",
        "ZMPOP 1 z1 MIN COUNT 1 COUNT 1",
        "ZMPOP 1 z1 MIN FOO 1",
        // Blocking forms with data present: no waiting.
        "ZADD b1 1 a 2 b 3 c",
        "ZADD b2 5 x",
        "BZPOPMIN nokey b1 b2 0",
        "BZPOPMAX b2 b1 0",
        "BZPOPMAX b2 b1 0.5",
        "BZMPOP 0 2 nokey b1 MAX COUNT 5",
        "EXISTS b1",
        "BZPOPMIN str b1 0",
        "BZPOPMIN nokey str 0",
        "BZMPOP 0 2 str b1 MIN",
        // Bad timeouts (checked before anything else for BZPOP*, after the options
        // for BZMPOP).
        "ZADD b1 1 a",
        "BZPOPMIN b1 -1",
        "BZPOPMIN b1 abc",
        "BZPOPMIN b1 inf",
        "BZPOPMIN b1 nan",
        "BZPOPMIN str -1",
        "BZPOPMAX b1 99999999999999999999",
        "BZMPOP -1 1 b1 MIN",
        "BZMPOP abc 1 b1 MIN",
        "BZMPOP -1 0 b1 MIN",
        "BZMPOP -1 1 b1 FOO",
        "BZMPOP 0 1 b1 MIN COUNT 0",
        "BZMPOP 0.01 1 nokey MIN",
        "BZPOPMIN nokey 0.01",
        // Inside MULTI a blocking pop never waits.
        "MULTI",
        "BZPOPMIN nokey 0",
        "BZMPOP 0 1 nokey MAX COUNT 2",
        "BZPOPMAX b1 0",
        "EXEC",
        "HELLO 3",
        "ZADD r 1 a 2 b 3 c 4 d",
        "ZPOPMIN r",
        "ZPOPMIN r 1",
        "ZPOPMAX r 5",
        "ZPOPMIN r",
        "ZPOPMIN r 2",
        "ZADD r 1 a 2 b 3 c",
        "BZPOPMIN r 0",
        "BZMPOP 0 1 r MAX COUNT 1",
        "ZMPOP 1 r MIN",
        "ZMPOP 1 r MIN",
        "BZMPOP 0.01 1 r MIN",
        "BZPOPMAX r 0.01",
        "MULTI",
        "BZPOPMIN r 0",
        "EXEC",
    ]);
    d.finish();
}

/// Waits until both servers report `n` blocked clients.
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

#[test]
fn blocked_pops_are_served_in_each_reply_shape() {
    let mut d = Differ::new("zsets/served");
    d.send_on(1, "BZPOPMAX q1 q2 0");
    wait_blocked(&mut d, 1);
    d.check_on(2, "HELLO 3");
    d.send_on(2, "BZMPOP 0 2 q2 q1 MIN COUNT 2");
    wait_blocked(&mut d, 2);
    d.check_on(WRITER, "ZADD q2 1 a 2 b 3 c");
    d.read_on(1, 1, "BZPOPMAX served from the second key");
    d.read_on(2, 1, "BZMPOP served in RESP3");
    d.check_on(WRITER, "ZRANGE q2 0 -1 WITHSCORES");
    // A key of another type does not serve (and keeps the client blocked).
    d.send_on(1, "BZPOPMIN q3 0");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "SET q3 str");
    wait_blocked(&mut d, 1);
    d.check_on(WRITER, "DEL q3");
    d.check_on(WRITER, "ZADD q3 7 only");
    d.read_on(1, 1, "BZPOPMIN served after the type changed back");
    d.check_on(WRITER, "EXISTS q3");
    d.finish();
}

#[test]
fn encodings_follow_the_listpack_limits() {
    let mut d = Differ::new("zsets/encodings");
    d.check_args(zadd_many("z", 128, "m", 1.0));
    d.check("OBJECT ENCODING z");
    d.check("ZADD z 999 m0");
    d.check("OBJECT ENCODING z");
    d.check("ZADD z 1000 one-more");
    d.check("OBJECT ENCODING z");
    d.check("ZREM z one-more m1 m2");
    d.check("OBJECT ENCODING z");
    let long64 = "v".repeat(64);
    let long65 = "v".repeat(65);
    d.check(&format!("ZADD v 1 {long64}"));
    d.check("OBJECT ENCODING v");
    d.check(&format!("ZADD v 2 {long65}"));
    d.check("OBJECT ENCODING v");
    d.check(&format!("ZINCRBY w 1 {long65}"));
    d.check("OBJECT ENCODING w");
    // Thresholds are read at each insertion.
    d.check("CONFIG SET zset-max-listpack-entries 4");
    d.check("CONFIG SET zset-max-listpack-value 8");
    d.check("ZADD c 1 a 2 b 3 c 4 d");
    d.check("OBJECT ENCODING c");
    d.check("ZADD c 5 e");
    d.check("OBJECT ENCODING c");
    d.check("ZADD c2 1 123456789");
    d.check("OBJECT ENCODING c2");
    d.check("CONFIG SET zset-max-ziplist-entries 0");
    d.check("ZADD c3 1 a");
    d.check("OBJECT ENCODING c3");
    d.check("CONFIG SET zset-max-listpack-entries 128");
    d.check("CONFIG SET zset-max-listpack-value 64");
    // STORE results take the encoding of their size.
    d.check("ZUNIONSTORE u 1 z");
    d.check("OBJECT ENCODING u");
    d.check("ZRANGESTORE r z 0 127");
    d.check("OBJECT ENCODING r");
    d.check("ZRANGESTORE r z 0 128");
    d.check("OBJECT ENCODING r");
    d.check("ZINTERSTORE i 2 z r");
    d.check("OBJECT ENCODING i");
    d.check("ZDIFFSTORE df 2 z r");
    d.check("OBJECT ENCODING df");
    d.check("ZUNIONSTORE uv 1 v");
    d.check("OBJECT ENCODING uv");
    d.check("ZRANGE uv 0 -1 WITHSCORES");
    // A skiplist stays one when it shrinks; copies keep the encoding.
    d.check("ZREMRANGEBYRANK z 0 -3");
    d.check("OBJECT ENCODING z");
    d.check("ZRANGE z 0 -1 WITHSCORES");
    d.check("COPY z zc");
    d.check("OBJECT ENCODING zc");
    d.check("ZRANGE zc 0 -1 WITHSCORES");
    d.check("RENAME zc zr");
    d.check("OBJECT ENCODING zr");
    d.check("TYPE zr");
    // ZSCAN: a listpack comes back whole at cursor 0, in order (compared exactly).
    // `v` became a skiplist (one member is 65 bytes): iterated like any skiplist.
    d.check("ZSCAN v 0");
    d.check("ZSCAN c 0");
    d.check("ZADD small 3 c 1 a 2 b");
    d.check_exact("ZSCAN small 0");
    d.check_exact("ZSCAN small 0 MATCH [ab]");
    d.check_exact("ZSCAN small 0 COUNT 1");
    // A skiplist is iterated (the harness follows the cursors).
    d.check("ZSCAN r 0");
    d.check("ZSCAN r 0 COUNT 7");
    d.check("ZSCAN r 0 MATCH m1*");
    d.check("ZSCAN r 0 MATCH nothing*");
    d.check_all(&[
        "ZSCAN nokey 0",
        "ZSCAN nokey 0 FOO",
        "ZSCAN small abc",
        "ZSCAN small -1",
        "ZSCAN small \" 1\"",
        "ZSCAN small 0 COUNT 0",
        "ZSCAN small 0 COUNT abc",
        "ZSCAN small 0 MATCH",
        "ZSCAN small 0 TYPE zset",
        "ZSCAN small 0 FOO bar",
        "SET str v",
        "ZSCAN str 0",
    ]);
    d.finish();
}

#[test]
fn random_members() {
    let mut d = Differ::new("zsets/random");
    d.check_all(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZRANDMEMBER z",
        "ZRANDMEMBER z 1",
        "ZRANDMEMBER z 3",
        "ZRANDMEMBER z 3 WITHSCORES",
        "ZRANDMEMBER z -3",
        "ZRANDMEMBER z -20 WITHSCORES",
        "ZRANDMEMBER z 0",
        "ZRANDMEMBER z 0 WITHSCORES",
        "ZRANDMEMBER z 5",
        "ZRANDMEMBER z 100 WITHSCORES",
        "ZRANDMEMBER z 1 withscores",
        "ZRANDMEMBER z 1 WITHSCORE",
        "ZRANDMEMBER z 1 WITHSCORES x",
        "ZRANDMEMBER z abc",
        "ZRANDMEMBER z -9223372036854775808",
        "ZRANDMEMBER nokey",
        "ZRANDMEMBER nokey 5",
        "ZRANDMEMBER nokey -5 WITHSCORES",
        "SET str v",
        "ZRANDMEMBER str",
        "ZRANDMEMBER str 3",
        "ZRANDMEMBER str abc",
    ]);
    // The whole set, highest first: deterministic, compared exactly.
    d.check_exact("ZRANDMEMBER z 5");
    d.check_exact("ZRANDMEMBER z 9 WITHSCORES");
    d.check_args(zadd_many("big", 300, "m", 0.5));
    for line in [
        "ZRANDMEMBER big",
        "ZRANDMEMBER big 10",
        "ZRANDMEMBER big 150 WITHSCORES",
        "ZRANDMEMBER big 299",
        "ZRANDMEMBER big -50 WITHSCORES",
    ] {
        d.check(line);
    }
    d.check_exact("ZRANDMEMBER big 300 WITHSCORES");
    d.check("HELLO 3");
    d.check("ZRANDMEMBER z 2 WITHSCORES");
    d.check("ZRANDMEMBER z -2 WITHSCORES");
    d.check("ZRANDMEMBER big 3 WITHSCORES");
    d.check_exact("ZRANDMEMBER z 10 WITHSCORES");
    d.finish();
}

#[test]
fn transactions_and_watch() {
    let mut d = Differ::new("zsets/multi");
    d.check_all(&[
        "ZADD z 1 a 2 b",
        "MULTI",
        "ZADD z 3 c",
        "ZINCRBY z 1 a",
        "ZADD z INCR -inf a",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZPOPMIN z",
        "ZADD z NX XX 1 a",
        "ZUNIONSTORE d 1 z",
        "ZCARD d",
        "EXEC",
        "MULTI",
        "ZADD z 1",
        "EXEC",
    ]);
    // A change to a watched zset aborts the transaction; a no-op does not.
    d.check_on(0, "WATCH z");
    d.check_on(1, "ZADD z 2 b");
    d.check_on(0, "MULTI");
    d.check_on(0, "ZCARD z");
    d.check_on(0, "EXEC");
    d.check_on(0, "WATCH z");
    d.check_on(1, "ZADD z CH 1 nope-not-xx");
    d.check_on(1, "ZREM z nosuch");
    d.check_on(0, "MULTI");
    d.check_on(0, "ZCARD z");
    d.check_on(0, "EXEC");
    d.check_on(0, "WATCH z");
    d.check_on(1, "ZPOPMIN z");
    d.check_on(0, "MULTI");
    d.check_on(0, "ZCARD z");
    d.check_on(0, "EXEC");
    d.finish();
}

#[test]
fn keyspace_events() {
    let mut d = Differ::new("zsets/events");
    subscribe_all(&mut d, "KEA");
    for line in [
        "ZADD z 1 a 2 b 3 c",
        "ZADD z 1 a",
        "ZADD z XX 1 nosuch",
        "ZADD z INCR 5 a",
        "ZINCRBY z 1 b",
        "ZINCRBY z 0 b",
        "ZADD z NX 1 a",
        "ZREM z nosuch",
        "ZREM z a",
        "ZREMRANGEBYSCORE z 100 200",
        "ZREMRANGEBYSCORE z 2 2",
        "ZADD z 1 a 2 b 4 d 5 e",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYLEX z [a [b",
        "ZPOPMIN z",
        "ZPOPMAX z 0",
        "ZPOPMAX z 10",
        "ZADD y 1 a 2 b",
        "ZADD x 1 a 3 c",
        "ZUNIONSTORE u 2 x y",
        "ZINTERSTORE i 2 x y",
        "ZDIFFSTORE df 2 x y",
        "ZRANGESTORE r x 0 -1",
        "ZINTERSTORE i 2 x nokey",
        "ZINTERSTORE i 2 x nokey",
        "ZRANGESTORE r nokey 0 -1",
        "ZMPOP 1 x MIN COUNT 5",
        "BZPOPMAX y 0",
        "BZMPOP 0 1 y MIN",
        "ZADD e 1 a",
        "EXPIRE e 1000",
        "ZREM e a",
        "ZADD e 1 a 2 b",
        "ZREMRANGEBYRANK e 0 -1",
        "ZADD e 1 a",
        "ZREMRANGEBYLEX e - +",
        "ZADD e 1 a",
        "ZREMRANGEBYSCORE e -inf +inf",
    ] {
        events_of(&mut d, line);
    }
    d.finish();
}
