//! Commands on individual members: ZADD (and ZINCRBY, which is ZADD INCR with one
//! pair), ZREM, ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK.

use super::parse::score_arg;
use super::*;
use ferrocache_keyspace::{Value, ZSet};

const ERR_NAN: &str = "ERR resulting score is not a number (NaN)";

/// ZADD's options as parsed (ZINCRBY starts with `incr` set).
#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

pub fn zadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    add_generic(ctx, args, AddFlags::default())
}

/// ZINCRBY key increment member: ZADD's code path, so an option word in place of
/// the increment is read as an option and leaves an odd pair count (syntax error),
/// exactly as in Redis.
pub fn zincrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    add_generic(
        ctx,
        args,
        AddFlags {
            incr: true,
            ..AddFlags::default()
        },
    )
}

fn add_generic(ctx: &mut Ctx, args: &[&[u8]], mut f: AddFlags) -> CmdResult {
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if eq(a, "nx") {
            f.nx = true;
        } else if eq(a, "xx") {
            f.xx = true;
        } else if eq(a, "ch") {
            f.ch = true;
        } else if eq(a, "incr") {
            f.incr = true;
        } else if eq(a, "gt") {
            f.gt = true;
        } else if eq(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(ERR_SYNTAX.into());
    }
    let elements = pairs.len() / 2;
    if f.nx && f.xx {
        return Err("ERR XX and NX options at the same time are not compatible".into());
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible".into());
    }
    if f.incr && elements > 1 {
        return Err("ERR INCR option supports a single increment-element pair".into());
    }
    // Every score is checked before anything changes: the command applies fully or
    // not at all. Small batches (the common case) parse into a stack buffer.
    let mut stack = [0f64; 16];
    let mut heap = Vec::new();
    let scores: &mut [f64] = if elements <= stack.len() {
        &mut stack[..elements]
    } else {
        heap.resize(elements, 0.0);
        &mut heap
    };
    for (j, s) in scores.iter_mut().enumerate() {
        *s = score_arg(pairs[j * 2])?;
    }

    let (key, now, limits) = (args[1], ctx.now_ms, limits(ctx));
    let db = ctx.db();
    let exists = match db.peek(key, now) {
        None => false,
        Some(e) if matches!(e.value, Value::ZSet(_)) => true,
        Some(_) => return Err(ERR_WRONGTYPE.into()),
    };
    if !exists && f.xx {
        if f.incr {
            ctx.out.null();
        } else {
            ctx.out.int(0);
        }
        return Ok(());
    }
    let z = db.coll_or_default::<ZSet>(key, now)?;
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        let member = pairs[j * 2 + 1];
        match z.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let new = if f.incr { score + cur } else { score };
                if new.is_nan() {
                    nan = true;
                    break;
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    continue;
                }
                processed += 1;
                last = new;
                // -0 equals 0: such an "update" changes nothing, as in Redis.
                if new != cur {
                    z.update(member, cur, new);
                    updated += 1;
                }
            }
            None if f.xx => {}
            None => {
                z.insert(member, score, limits);
                added += 1;
                processed += 1;
                last = score;
            }
        }
    }
    if added + updated > 0 {
        db.modified(key);
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.notify(Class::ZSet, event, key);
    }
    if nan {
        return Err(ERR_NAN.into());
    }
    if f.incr {
        if processed > 0 {
            score_reply(ctx.out, last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if f.ch { added + updated } else { added });
    }
    Ok(())
}

pub fn zrem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(z) = db.get_coll::<ZSet>(key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &args[2..] {
        if z.remove(m).is_some() {
            removed += 1;
        }
        if z.is_empty() {
            // Redis stops at an emptied set: later members are not even looked at.
            break;
        }
    }
    if removed > 0 {
        let deleted = db.modified(key);
        ctx.notify(Class::ZSet, "zrem", key);
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

pub fn zscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    match db
        .get_coll::<ZSet>(args[1], now)?
        .and_then(|z| z.score(args[2]))
    {
        Some(s) => score_reply(out, s),
        None => out.null(),
    }
    Ok(())
}

pub fn zmscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let z = db.get_coll::<ZSet>(args[1], now)?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => score_reply(out, s),
            None => out.null(),
        }
    }
    Ok(())
}

pub fn zcard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let n = ctx
        .db()
        .get_coll::<ZSet>(args[1], now)?
        .map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, args, false)
}

pub fn zrevrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: &[&[u8]], rev: bool) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let rank = db.get_coll::<ZSet>(args[1], now)?.and_then(|z| {
        z.rank(args[2])
            .map(|r| if rev { z.len() - 1 - r } else { r })
    });
    match rank {
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}
