//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD: weights, aggregates,
//! plain sets as inputs, infinities (inf × 0 and inf + -inf count as 0), errors in
//! Redis's order, destinations of another type, empty results.

use super::super::harness::Differ;
use super::zadd_many;

#[test]
fn union_inter_diff() {
    let mut d = Differ::new("zsets/algebra");
    d.check_all(&[
        "ZADD a 1 x 2 y inf z 0.1 p",
        "ZADD b 3 x -inf z 5 w 0.2 p",
        "ZADD c 0.3 p 7 x",
        "SADD s x q p",
        "SADD n 1 2 3",
        "ZUNION 2 a b",
        "ZUNION 2 a b WITHSCORES",
        "ZUNION 3 a b s WITHSCORES",
        "ZUNION 3 a b c WITHSCORES",
        "ZUNION 3 c b a WITHSCORES",
        "ZUNION 2 a b WEIGHTS 0 1 WITHSCORES",
        "ZUNION 2 a b WEIGHTS 0 0 WITHSCORES AGGREGATE MAX",
        "ZUNION 2 a b WEIGHTS -1 2.5 WITHSCORES",
        "ZUNION 2 a b WEIGHTS inf -inf WITHSCORES",
        "ZUNION 2 a b AGGREGATE MIN WITHSCORES",
        "ZUNION 2 a b AGGREGATE max WITHSCORES",
        "ZUNION 2 a b aggregate sum weights 2 3 withscores",
        "ZUNION 2 a b WEIGHTS 1 1 WEIGHTS 2 2 WITHSCORES",
        "ZUNION 1 n WITHSCORES",
        "ZUNION 2 nokey a WITHSCORES",
        "ZUNION 1 nokey",
        "ZINTER 2 a b",
        "ZINTER 2 a b WITHSCORES",
        "ZINTER 3 a b s WITHSCORES",
        "ZINTER 3 a b c WITHSCORES",
        "ZINTER 2 a b WEIGHTS 1 0 WITHSCORES",
        "ZINTER 2 a b WEIGHTS inf 1 WITHSCORES",
        "ZINTER 2 a b AGGREGATE MIN WITHSCORES",
        "ZINTER 2 a b AGGREGATE MAX WEIGHTS 0 0 WITHSCORES",
        "ZINTER 2 a a WITHSCORES",
        "ZINTER 2 n n WITHSCORES",
        "ZINTER 2 n s",
        "ZINTER 2 a nokey",
        "ZDIFF 2 a b",
        "ZDIFF 2 a b WITHSCORES",
        "ZDIFF 3 a c nokey WITHSCORES",
        "ZDIFF 2 s a WITHSCORES",
        "ZDIFF 2 a a",
        "ZDIFF 1 n WITHSCORES",
        "ZDIFF 2 nokey a",
        "ZINTERCARD 2 a b",
        "ZINTERCARD 3 a b c",
        "ZINTERCARD 2 a b LIMIT 1",
        "ZINTERCARD 2 a b LIMIT 0",
        "ZINTERCARD 2 a b LIMIT 100",
        "ZINTERCARD 2 n s",
        "ZINTERCARD 1 nokey",
    ]);
    d.finish();
}

#[test]
fn algebra_errors_in_redis_order() {
    let mut d = Differ::new("zsets/algebra-errors");
    d.check_all(&[
        "ZADD a 1 x",
        "SET str v",
        "ZUNION 0 a",
        "ZUNION -1 a",
        "ZUNION abc a",
        "ZUNION 3 a b",
        "ZUNION 9223372036854775807 a",
        "ZUNION 1 a WEIGHTS",
        "ZUNION 1 a WEIGHTS x",
        "ZUNION 1 a WEIGHTS nan",
        "ZUNION 1 a WEIGHTS 1e400",
        "ZUNION 2 a a WEIGHTS 1",
        "ZUNION 1 a AGGREGATE",
        "ZUNION 1 a AGGREGATE foo",
        "ZUNION 1 a WITHSCORES WITHSCORES",
        "ZUNION 1 a FOO",
        "ZUNION 1 a LIMIT 1",
        "ZUNION 2 a str",
        "ZUNION 2 str a WEIGHTS x",
        "ZUNION 2 a str FOO",
        "ZINTER 0 a",
        "ZINTER 1 a WEIGHTS 1 2",
        "ZDIFF 0 a",
        "ZDIFF 1 a WEIGHTS 1",
        "ZDIFF 1 a AGGREGATE SUM",
        "ZDIFF 2 a str",
        "ZINTERCARD 0 a",
        "ZINTERCARD 2 a",
        "ZINTERCARD 1 a WITHSCORES",
        "ZINTERCARD 1 a WEIGHTS 1",
        "ZINTERCARD 1 a LIMIT",
        "ZINTERCARD 1 a LIMIT -1",
        "ZINTERCARD 1 a LIMIT abc",
        "ZINTERCARD 1 a LIMIT 1 LIMIT 2",
        "ZINTERCARD 2 a str",
        "ZUNIONSTORE d 0 a",
        "ZUNIONSTORE d 1 a WITHSCORES",
        "ZINTERSTORE d 2 str a",
        "ZDIFFSTORE d 1 a WEIGHTS 2",
        "zunionstore d 0 a",
        "EXISTS d",
    ]);
    d.finish();
}

#[test]
fn store_forms() {
    let mut d = Differ::new("zsets/algebra-store");
    d.check_all(&[
        "ZADD a 1 x 2 y 3 z",
        "ZADD b 10 y 20 w",
        "ZUNIONSTORE u 2 a b",
        "ZRANGE u 0 -1 WITHSCORES",
        "ZUNIONSTORE u 2 a b WEIGHTS 2 0.5 AGGREGATE MAX",
        "ZRANGE u 0 -1 WITHSCORES",
        "ZINTERSTORE i 2 a b",
        "ZRANGE i 0 -1 WITHSCORES",
        "ZDIFFSTORE df 2 a b",
        "ZRANGE df 0 -1 WITHSCORES",
        // The destination may be a source, or hold another type (it is replaced,
        // without its TTL).
        "ZUNIONSTORE a 2 a b",
        "ZRANGE a 0 -1 WITHSCORES",
        "SET str v",
        "EXPIRE str 1000",
        "ZUNIONSTORE str 1 b",
        "TYPE str",
        "TTL str",
        "SADD set m",
        "ZINTERSTORE set 2 set b",
        "EXISTS set",
        // Empty results delete the destination.
        "ZINTERSTORE u 2 a nokey",
        "EXISTS u",
        "ZDIFFSTORE i 2 b b",
        "EXISTS i",
        "ZUNIONSTORE nothing 1 nokey",
        "EXISTS nothing",
    ]);
    // Bigger inputs: the result's encoding follows its size.
    d.check_args(zadd_many("big1", 200, "m", 1.0));
    d.check_args(zadd_many("big2", 200, "m", 0.5));
    for line in [
        "ZINTERSTORE bi 2 big1 big2 WEIGHTS 1 -1",
        "ZRANGE bi 0 -1 WITHSCORES",
        "OBJECT ENCODING bi",
        "ZUNIONSTORE bu 2 big1 a AGGREGATE MIN",
        "ZCARD bu",
        "ZRANGE bu 0 20 WITHSCORES",
        "OBJECT ENCODING bu",
        "ZDIFFSTORE bd 2 big1 bi",
        "EXISTS bd",
        "ZRANGESTORE part big1 0 9",
        "ZDIFFSTORE bd 2 big1 part",
        "ZCARD bd",
        "OBJECT ENCODING bd",
        "ZINTERCARD 2 big1 big2 LIMIT 50",
    ] {
        d.check(line);
    }
    d.finish();
}
