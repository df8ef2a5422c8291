//! Sorted-set commands. Single-member commands (ZADD, ZINCRBY, ZREM, ZSCORE,
//! ZMSCORE, ZCARD, ZRANK …) live in `members.rs`; range queries and range removals
//! in `range.rs` (the shared rules for ranks, scores and lexicographic intervals in
//! `span.rs`); the multi-key algebra (ZUNION, ZINTER, ZDIFF and their STORE forms,
//! ZINTERCARD) in `algebra.rs`; pops, blocking or not, in `pop.rs`; ZRANDMEMBER
//! and ZSCAN in `random.rs`; argument parsing in `parse.rs`.

mod algebra;
mod members;
mod parse;
mod pop;
mod random;
mod range;
mod scan;
mod span;

use super::*;
use ferrocache_keyspace::types::zset::Limits;
use ferrocache_resp::ReplyBuf;

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "zadd" => members::zadd,
        "zincrby" => members::zincrby,
        "zrem" => members::zrem,
        "zscore" => members::zscore,
        "zmscore" => members::zmscore,
        "zcard" => members::zcard,
        "zrank" => members::zrank,
        "zrevrank" => members::zrevrank,
        "zcount" => range::zcount,
        "zlexcount" => range::zlexcount,
        "zrange" => range::zrange,
        "zrangestore" => range::zrangestore,
        "zrangebyscore" => range::zrangebyscore,
        "zrevrangebyscore" => range::zrevrangebyscore,
        "zrangebylex" => range::zrangebylex,
        "zrevrangebylex" => range::zrevrangebylex,
        "zrevrange" => range::zrevrange,
        "zremrangebyrank" => range::zremrangebyrank,
        "zremrangebyscore" => range::zremrangebyscore,
        "zremrangebylex" => range::zremrangebylex,
        "zunion" => algebra::zunion,
        "zinter" => algebra::zinter,
        "zdiff" => algebra::zdiff,
        "zunionstore" => algebra::zunionstore,
        "zinterstore" => algebra::zinterstore,
        "zdiffstore" => algebra::zdiffstore,
        "zintercard" => algebra::zintercard,
        "zpopmin" => pop::zpopmin,
        "zpopmax" => pop::zpopmax,
        "bzpopmin" => pop::bzpopmin,
        "bzpopmax" => pop::bzpopmax,
        "zmpop" => pop::zmpop,
        "bzmpop" => pop::bzmpop,
        "zrandmember" => random::zrandmember,
        "zscan" => scan::zscan,
        _ => return None,
    })
}

/// The listpack thresholds in force.
fn limits(ctx: &Ctx) -> Limits {
    Limits {
        entries: ctx.settings.zset_max_listpack_entries,
        value: ctx.settings.zset_max_listpack_value,
    }
}

/// The header of a reply of `n` members, with scores or not: RESP2 flattens
/// member and score into one array; RESP3 nests each pair (`scored` then writes
/// the pair's own header).
fn scored_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    out.array(if withscores && !out.is_resp3() {
        n * 2
    } else {
        n
    });
}

/// One member of a reply begun with `scored_header`.
fn scored(out: &mut ReplyBuf, member: &[u8], score: f64, withscores: bool) {
    if withscores {
        if out.is_resp3() {
            out.array(2);
        }
        out.bulk(member);
        score_reply(out, score);
    } else {
        out.bulk(member);
    }
}

/// A score as a reply (RESP3 double, RESP2 bulk string), like `ReplyBuf::double`
/// but without its general `%.17g` formatting for the common integral scores:
/// below 1e17 `%.17g` prints those as plain integers, which is what itoa writes
/// (-0 excepted: it keeps its sign).
fn score_reply(out: &mut ReplyBuf, score: f64) {
    if score.fract() != 0.0 || score.abs() >= 1e17 || (score == 0.0 && score.is_sign_negative()) {
        out.double(score);
        return;
    }
    let mut digits = itoa::Buffer::new();
    let text = digits.format(score as i64).as_bytes();
    if out.is_resp3() {
        out.raw(b",");
        out.raw(text);
        out.raw(b"\r\n");
    } else {
        out.bulk(text);
    }
}

#[cfg(test)]
mod tests {
    use super::score_reply;
    use ferrocache_resp::{Protocol, ReplyBuf};

    #[test]
    fn integral_scores_take_the_short_path_with_the_same_bytes() {
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            for s in [
                0.0,
                -0.0,
                1.0,
                -7.0,
                1e16,
                99999999999999990.0,
                1e17,
                2.5,
                -1e300,
                f64::INFINITY,
            ] {
                let (mut fast, mut slow) = (ReplyBuf::new(proto), ReplyBuf::new(proto));
                score_reply(&mut fast, s);
                slow.double(s);
                assert_eq!(fast.buf, slow.buf, "{s}");
            }
        }
    }
}
