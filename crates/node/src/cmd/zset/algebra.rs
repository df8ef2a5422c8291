//! The multi-key algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.
//! Plain sets take part as if every member scored 1.
//!
//! Sums are floating point, so the order of the terms shows in the last digits:
//! like Redis, inputs are visited from the smallest to the largest (a stable sort
//! by cardinality; ZDIFF keeps the given order), each product `weight × score`
//! that is NaN (`inf × 0`) counts as 0, and a sum that becomes NaN (`inf + -inf`)
//! becomes 0.

use super::parse;
use super::range::store_result;
use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::types::zset::{order, Entry};
use ferrocache_keyspace::{Set, SmallBytes, Value, ZSet};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            // Comparisons with NaN are false: the target stays, as in C.
            Aggregate::Min => {
                if v < *target {
                    *target = v
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v
                }
            }
        }
    }
}

/// One input: a sorted set, a set (every score 1) or a missing key (empty).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Zset(&'a ZSet),
    Set(&'a Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Zset(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Zset(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::Zset(z) => z.iter().for_each(|e| f(&e.member, e.score)),
            Source::Set(s) => s.iter().for_each(|m| m.with_bytes(|b| f(b, 1.0))),
        }
    }
}

/// What the command asked for, once parsed.
struct Plan {
    op: Op,
    keys: std::ops::Range<usize>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD: count only, stopping at this many (0 = no limit).
    card_limit: Option<u64>,
}

/// The shared front half: numkeys, key lookups (WRONGTYPE before any option
/// error, as in Redis), then the options this command takes.
fn plan(
    ctx: &mut Ctx,
    args: &[&[u8]],
    numkeys_at: usize,
    op: Op,
    store: bool,
    card: bool,
) -> Result<Plan, Reject> {
    let setnum = int_arg(args[numkeys_at])?;
    if setnum < 1 {
        let name = lossy(args[0]).to_ascii_lowercase();
        return Err(format!("ERR at least 1 input key is needed for '{name}' command").into());
    }
    let first = numkeys_at + 1;
    if setnum as u64 > (args.len() - first) as u64 {
        return Err(ERR_SYNTAX.into());
    }
    let keys = first..first + setnum as usize;
    let now = ctx.now_ms;
    let db = ctx.db();
    for key in &args[keys.clone()] {
        if let Some(e) = db.get_mut(key, now) {
            if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(ERR_WRONGTYPE.into());
            }
        }
    }
    let mut p = Plan {
        op,
        keys: keys.clone(),
        weights: vec![1.0; keys.len()],
        aggregate: Aggregate::Sum,
        withscores: false,
        card_limit: card.then_some(0),
    };
    let mut j = keys.end;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args[j];
        if op != Op::Diff && !card && remaining > keys.len() && eq(a, "weights") {
            for (i, w) in p.weights.iter_mut().enumerate() {
                *w = parse::double(args[j + 1 + i])
                    .ok_or(Reject::from("ERR weight value is not a float"))?;
            }
            j += 1 + keys.len();
        } else if op != Op::Diff && !card && remaining >= 2 && eq(a, "aggregate") {
            let v = args[j + 1];
            p.aggregate = if eq(v, "sum") {
                Aggregate::Sum
            } else if eq(v, "min") {
                Aggregate::Min
            } else if eq(v, "max") {
                Aggregate::Max
            } else {
                return Err(ERR_SYNTAX.into());
            };
            j += 2;
        } else if !store && !card && eq(a, "withscores") {
            p.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && eq(a, "limit") {
            let limit = int_arg(args[j + 1])
                .ok()
                .filter(|l| *l >= 0)
                .ok_or(Reject::from("ERR LIMIT can't be negative"))?;
            p.card_limit = Some(limit as u64);
            j += 2;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    Ok(p)
}

/// The inputs, looked up again through shared borrows (all live at once).
fn sources<'a>(db: &'a ferrocache_keyspace::Db, keys: &[&[u8]], now: u64) -> Vec<Source<'a>> {
    keys.iter()
        .map(|k| match db.get_ref(k, now).map(|e| &e.value) {
            Some(Value::ZSet(z)) => Source::Zset(z),
            Some(Value::Set(s)) => Source::Set(s),
            _ => Source::Missing,
        })
        .collect()
}

/// Computes the result entries in order (or, for ZINTERCARD, just the count).
fn compute(p: &Plan, srcs: Vec<Source>) -> (Vec<Entry>, u64) {
    let mut srcs: Vec<(Source, f64)> = srcs.into_iter().zip(p.weights.iter().copied()).collect();
    if p.op != Op::Diff {
        // Stable, like the merge sort glibc's qsort uses for arrays this small.
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let weighted = |w: f64, s: f64| {
        let v = w * s;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut out: Vec<Entry> = Vec::new();
    let mut count = 0u64;
    match p.op {
        Op::Union => {
            let mut acc: HashMap<SmallBytes, f64, foldhash::fast::RandomState> = HashMap::default();
            for (src, w) in &srcs {
                src.for_each(|m, s| {
                    let v = weighted(*w, s);
                    match acc.get_mut(m) {
                        Some(t) => p.aggregate.apply(t, v),
                        None => {
                            acc.insert(SmallBytes::new(m), v);
                        }
                    }
                });
            }
            out = acc
                .into_iter()
                .map(|(member, score)| Entry { score, member })
                .collect();
        }
        Op::Inter => {
            let (first, w0) = srcs[0];
            let mut stop = false;
            first.for_each(|m, s| {
                if stop {
                    return;
                }
                let mut score = weighted(w0, s);
                for (src, w) in &srcs[1..] {
                    match src.score(m) {
                        Some(v) => p.aggregate.apply(&mut score, v * w),
                        None => return,
                    }
                }
                match p.card_limit {
                    Some(limit) => {
                        count += 1;
                        stop = limit > 0 && count >= limit;
                    }
                    None => out.push(Entry {
                        score,
                        member: SmallBytes::new(m),
                    }),
                }
            });
        }
        Op::Diff => {
            let (first, _) = srcs[0];
            first.for_each(|m, s| {
                if srcs[1..].iter().all(|(src, _)| src.score(m).is_none()) {
                    out.push(Entry {
                        score: s,
                        member: SmallBytes::new(m),
                    });
                }
            });
        }
    }
    out.sort_by(|a, b| order(a.score, &a.member, b.score, &b.member));
    (out, count)
}

/// ZUNION / ZINTER / ZDIFF: the result as a reply.
fn reply_op(ctx: &mut Ctx, args: &[&[u8]], op: Op) -> CmdResult {
    let p = plan(ctx, args, 1, op, false, false)?;
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let (entries, _) = compute(&p, sources(db, &args[p.keys.clone()], now));
    scored_header(out, entries.len(), p.withscores);
    for e in &entries {
        scored(out, &e.member, e.score, p.withscores);
    }
    Ok(())
}

/// The STORE forms: the result replaces `args[1]` whatever it held.
fn store_op(ctx: &mut Ctx, args: &[&[u8]], op: Op, event: &str) -> CmdResult {
    let p = plan(ctx, args, 2, op, true, false)?;
    let (now, limits) = (ctx.now_ms, limits(ctx));
    let db = ctx.db();
    let (entries, _) = compute(&p, sources(db, &args[p.keys.clone()], now));
    store_result(ctx, args[1], entries, limits, event);
    Ok(())
}

pub fn zunion(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    reply_op(ctx, args, Op::Union)
}

pub fn zinter(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    reply_op(ctx, args, Op::Inter)
}

pub fn zdiff(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    reply_op(ctx, args, Op::Diff)
}

pub fn zunionstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    store_op(ctx, args, Op::Union, "zunionstore")
}

pub fn zinterstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    store_op(ctx, args, Op::Inter, "zinterstore")
}

pub fn zdiffstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    store_op(ctx, args, Op::Diff, "zdiffstore")
}

pub fn zintercard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let p = plan(ctx, args, 1, Op::Inter, false, true)?;
    let now = ctx.now_ms;
    let db = ctx.db();
    let (_, count) = compute(&p, sources(db, &args[p.keys.clone()], now));
    ctx.out.int(count as i64);
    Ok(())
}
