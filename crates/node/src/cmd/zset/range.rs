//! Range commands: ZRANGE in all its forms (and the older ZRANGEBYSCORE,
//! ZREVRANGE, ZRANGEBYLEX … which are ZRANGE with fixed options), ZRANGESTORE,
//! ZCOUNT, ZLEXCOUNT and the ZREMRANGEBY* removals.

use super::parse::{LexRange, ScoreRange};
use super::span::{self, Limit, Run};
use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::types::zset::Entry;
use ferrocache_keyspace::{Collection, Ttl, ZSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
enum Request<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

struct Query<'a> {
    request: Request<'a>,
    rev: bool,
    withscores: bool,
    limit: Limit,
}

/// Parses `<min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]`
/// starting at `args[at]` (the min). The legacy commands fix `kind` and `rev`,
/// which then may not be given as options; ZRANGESTORE (`store`) takes no
/// WITHSCORES. Errors come in Redis's order: options, conflicts, then the range.
fn parse<'a>(
    args: &[&'a [u8]],
    at: usize,
    store: bool,
    kind: Option<Kind>,
    rev: Option<bool>,
) -> Result<Query<'a>, Reject> {
    let (mut kind, mut rev) = (kind, rev);
    let mut withscores = false;
    let mut limit = Limit::NONE;
    let mut j = at + 2;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if !store && eq(a, "withscores") {
            withscores = true;
        } else if eq(a, "limit") && left >= 2 {
            limit = Limit {
                offset: int_arg(args[j + 1])?,
                count: int_arg(args[j + 2])?,
            };
            j += 2;
        } else if rev.is_none() && eq(a, "rev") {
            rev = Some(true);
        } else if kind.is_none() && eq(a, "bylex") {
            kind = Some(Kind::Lex);
        } else if kind.is_none() && eq(a, "byscore") {
            kind = Some(Kind::Score);
        } else {
            return Err(ERR_SYNTAX.into());
        }
        j += 1;
    }
    let kind = kind.unwrap_or(Kind::Rank);
    let rev = rev.unwrap_or(false);
    // LIMIT with a count of -1 is the default: Redis cannot tell it was given.
    if limit.count != -1 && kind == Kind::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if withscores && kind == Kind::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    // Reversed score and lex ranges are written max first.
    let (lo, hi) = if rev && kind != Kind::Rank {
        (args[at + 1], args[at])
    } else {
        (args[at], args[at + 1])
    };
    let request = match kind {
        Kind::Rank => Request::Rank(int_arg(lo)?, int_arg(hi)?),
        Kind::Score => Request::Score(ScoreRange::parse(lo, hi)?),
        Kind::Lex => Request::Lex(LexRange::parse(lo, hi)?),
    };
    Ok(Query {
        request,
        rev,
        withscores,
        limit,
    })
}

impl Query<'_> {
    fn run(&self, z: &ZSet) -> Run {
        match &self.request {
            Request::Rank(s, e) => span::by_rank(z.len(), *s, *e, self.rev),
            Request::Score(r) => span::by_score(z, r, self.rev, self.limit),
            Request::Lex(r) => span::by_lex(z, r, self.rev, self.limit),
        }
    }
}

/// Runs a parsed ZRANGE-style query against `key` and replies with the entries.
fn reply_range(ctx: &mut Ctx, key: &[u8], q: Query) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(z) = db.get_coll::<ZSet>(key, now)? else {
        out.array(0);
        return Ok(());
    };
    let run = q.run(z);
    scored_header(out, run.len, q.withscores);
    span::for_each(z, run, |m, s| scored(out, m, s, q.withscores));
    Ok(())
}

pub fn zrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, None, None)?;
    reply_range(ctx, args[1], q)
}

pub fn zrevrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, Some(Kind::Rank), Some(true))?;
    reply_range(ctx, args[1], q)
}

pub fn zrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, Some(Kind::Score), Some(false))?;
    reply_range(ctx, args[1], q)
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, Some(Kind::Score), Some(true))?;
    reply_range(ctx, args[1], q)
}

pub fn zrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, Some(Kind::Lex), Some(false))?;
    reply_range(ctx, args[1], q)
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 2, false, Some(Kind::Lex), Some(true))?;
    reply_range(ctx, args[1], q)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let q = parse(args, 3, true, None, None)?;
    let (dst, src, now, limits) = (args[1], args[2], ctx.now_ms, limits(ctx));
    let db = ctx.db();
    let mut entries = Vec::new();
    if let Some(z) = db.get_coll::<ZSet>(src, now)? {
        let run = q.run(z);
        entries.reserve(run.len);
        span::for_each(z, run, |m, s| {
            entries.push(Entry {
                score: s,
                member: m.into(),
            })
        });
        if !run.up {
            entries.reverse();
        }
    }
    store_result(ctx, dst, entries, limits, "zrangestore");
    Ok(())
}

/// Writes a STORE command's result (entries in order) to `dst` and replies with
/// its size: an empty result deletes `dst` instead, as in Redis.
pub(super) fn store_result(
    ctx: &mut Ctx,
    dst: &[u8],
    entries: Vec<Entry>,
    limits: Limits,
    event: &str,
) {
    let now = ctx.now_ms;
    let n = entries.len();
    let db = ctx.db();
    if n == 0 {
        let existed = db.remove(dst).is_some();
        ctx.out.int(0);
        if existed {
            ctx.notify(Class::Generic, "del", dst);
        }
        return;
    }
    let z = ZSet::from_sorted(entries, limits);
    db.set(dst, z.into_value(), Ttl::Clear, now);
    ctx.out.int(n as i64);
    ctx.notify(Class::ZSet, event, dst);
}

pub fn zcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let r = ScoreRange::parse(args[2], args[3])?;
    let now = ctx.now_ms;
    let n = ctx
        .db()
        .get_coll::<ZSet>(args[1], now)?
        .map_or(0, |z| span::by_score(z, &r, false, Limit::NONE).len);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zlexcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let r = LexRange::parse(args[2], args[3])?;
    let now = ctx.now_ms;
    let n = ctx
        .db()
        .get_coll::<ZSet>(args[1], now)?
        .map_or(0, |z| span::by_lex(z, &r, false, Limit::NONE).len);
    ctx.out.int(n as i64);
    Ok(())
}

/// ZREMRANGEBY*: parses the range (errors before the key is looked at), removes
/// the run it selects, notifies `event` (and `del` when the set is gone).
fn remove_run(
    ctx: &mut Ctx,
    key: &[u8],
    event: &str,
    select: impl FnOnce(&ZSet) -> Run,
) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let Some(z) = db.get_coll::<ZSet>(key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let run = select(z);
    let removed = z.remove_ranks(run.low(), run.low() + run.len);
    if removed > 0 {
        let deleted = db.modified(key);
        ctx.notify(Class::ZSet, event, key);
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
    }
    ctx.out.int(removed as i64);
    Ok(())
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (start, end) = (int_arg(args[2])?, int_arg(args[3])?);
    remove_run(ctx, args[1], "zremrangebyrank", |z| {
        span::by_rank(z.len(), start, end, false)
    })
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let r = ScoreRange::parse(args[2], args[3])?;
    remove_run(ctx, args[1], "zremrangebyscore", |z| {
        span::by_score(z, &r, false, Limit::NONE)
    })
}

pub fn zremrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let r = LexRange::parse(args[2], args[3])?;
    remove_run(ctx, args[1], "zremrangebylex", |z| {
        span::by_lex(z, &r, false, Limit::NONE)
    })
}
