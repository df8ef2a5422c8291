//! Pops: ZPOPMIN/ZPOPMAX, ZMPOP, and the blocking BZPOPMIN/BZPOPMAX/BZMPOP. Each
//! form has its own reply shape (Redis's `genericZpopCommand`):
//!
//! | command | reply |
//! | --- | --- |
//! | ZPOPMIN key | [member, score] |
//! | ZPOPMIN key count | RESP2 [m, s, m, s …]; RESP3 [[m, s] …] |
//! | BZPOPMIN | [key, member, score] |
//! | ZMPOP, BZMPOP | [key, [[m, s] …]] |

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::ZSet;

/// How a pop's reply is laid out.
#[derive(Clone, Copy)]
struct Shape {
    /// The key name comes first (blocking pops and ZMPOP).
    with_key: bool,
    /// Each pair is its own array.
    nested: bool,
}

/// Pops up to `count` (≥ 1) entries from the zset at `key` and replies in
/// `shape`; notifies `zpopmin` or `zpopmax`, and `del` when the set is gone.
/// False (and no reply) when the key does not exist.
fn pop_reply(
    ctx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
    shape: Shape,
) -> Result<bool, Reject> {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(z) = db.get_coll::<ZSet>(key, now)? else {
        return Ok(false);
    };
    let n = count.min(z.len());
    match (shape.with_key, shape.nested) {
        (false, false) => out.array(n * 2),
        (false, true) => out.array(n),
        (true, false) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        let e = z.pop(max).expect("counted");
        if shape.nested {
            out.array(2);
        }
        out.bulk(&e.member);
        score_reply(out, e.score);
    }
    let deleted = db.modified(key);
    ctx.notify(Class::ZSet, if max { "zpopmax" } else { "zpopmin" }, key);
    if deleted {
        ctx.notify(Class::Generic, "del", key);
    }
    Ok(true)
}

pub fn zpopmin(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zpop(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zpop(ctx, args, true)
}

/// ZPOPMIN/ZPOPMAX key [count]
fn zpop(ctx: &mut Ctx, args: &[&[u8]], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(ERR_SYNTAX.into());
    }
    let count = match args.get(2) {
        None => None,
        // Not an integer or negative: one message for both.
        Some(a) => Some(
            int_arg(a)
                .ok()
                .filter(|c| *c >= 0)
                .ok_or(Reject::from("ERR value is out of range, must be positive"))?
                as usize,
        ),
    };
    let (now, key) = (ctx.now_ms, args[1]);
    if count == Some(0) {
        // The type is still checked.
        ctx.db().get_coll::<ZSet>(key, now)?;
        ctx.out.array(0);
        return Ok(());
    }
    let shape = Shape {
        with_key: false,
        // RESP3 nests pairs only when a count was given.
        nested: ctx.out.is_resp3() && count.is_some(),
    };
    if !pop_reply(ctx, key, max, count.unwrap_or(1), shape)? {
        // An empty array even in RESP3, where the other "nothing" replies are nulls.
        ctx.out.array(0);
    }
    Ok(())
}

pub fn bzpopmin(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bzpop(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bzpop(ctx, args, true)
}

/// BZPOPMIN/BZPOPMAX key [key …] timeout
fn bzpop(ctx: &mut Ctx, args: &[&[u8]], max: bool) -> CmdResult {
    let timeout = timeout_arg(args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let shape = Shape {
        with_key: true,
        nested: false,
    };
    blocking_pop(ctx, keys, timeout, max, 1, shape)
}

/// The first of `keys` holding a sorted set (a key of another type on the way is an
/// error, even if a later key has data), or None.
fn first_zset<'k>(ctx: &mut Ctx, keys: &[&'k [u8]]) -> Result<Option<&'k [u8]>, Reject> {
    let now = ctx.now_ms;
    let db = ctx.db();
    for key in keys {
        if db.get_coll::<ZSet>(key, now)?.is_some() {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Pops from the first non-empty key, or blocks on all of them; where blocking is
/// not possible (MULTI) the reply is the timeout's: a null array.
fn blocking_pop(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    timeout: Option<u64>,
    max: bool,
    count: usize,
    shape: Shape,
) -> CmdResult {
    let candidates = ctx.keys_to_try(keys);
    if let Some(key) = first_zset(ctx, &candidates)? {
        pop_reply(ctx, key, max, count, shape)?;
        return Ok(());
    }
    if !ctx.block(keys, timeout) {
        ctx.out.null_array();
    }
    Ok(())
}

/// ZMPOP's and BZMPOP's `numkeys key … MIN|MAX [COUNT count]` from `args[at]`.
fn mpop_args<'s, 'a>(
    args: &'s [&'a [u8]],
    at: usize,
) -> Result<(&'s [&'a [u8]], bool, usize), Reject> {
    let numkeys = int_arg(args[at])
        .ok()
        .filter(|n| *n >= 1)
        .ok_or(Reject::from("ERR numkeys should be greater than 0"))?;
    let where_at = (at as u64).saturating_add(numkeys as u64).saturating_add(1);
    if where_at >= args.len() as u64 {
        return Err(ERR_SYNTAX.into());
    }
    let where_at = where_at as usize;
    let max = if eq(args[where_at], "min") {
        false
    } else if eq(args[where_at], "max") {
        true
    } else {
        return Err(ERR_SYNTAX.into());
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && eq(args[j], "count") && j + 1 < args.len() {
            let c = int_arg(args[j + 1])
                .ok()
                .filter(|c| *c >= 1)
                .ok_or(Reject::from("ERR count should be greater than 0"))?;
            count = Some(c as usize);
            j += 2;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    Ok((&args[at + 1..where_at], max, count.unwrap_or(1)))
}

const MPOP: Shape = Shape {
    with_key: true,
    nested: true,
};

/// ZMPOP numkeys key [key …] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = mpop_args(args, 1)?;
    match first_zset(ctx, keys)? {
        Some(key) => {
            pop_reply(ctx, key, max, count, MPOP)?;
        }
        None => ctx.out.null_array(),
    }
    Ok(())
}

/// BZMPOP timeout numkeys key [key …] MIN|MAX [COUNT count]: the options are
/// checked before the timeout, as in Redis.
pub fn bzmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = mpop_args(args, 2)?;
    let timeout = timeout_arg(args[1])?;
    blocking_pop(ctx, keys, timeout, max, count, MPOP)
}
