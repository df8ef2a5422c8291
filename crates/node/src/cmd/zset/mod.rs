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
        "zscan" => random::zscan,
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
    out.array(if withscores && !out.is_resp3() { n * 2 } else { n });
}

/// One member of a reply begun with `scored_header`.
fn scored(out: &mut ReplyBuf, member: &[u8], score: f64, withscores: bool) {
    if withscores {
        if out.is_resp3() {
            out.array(2);
        }
        out.bulk(member);
        out.double(score);
    } else {
        out.bulk(member);
    }
}
