//! Hash commands: HSET and friends, reads of one field, many fields or the whole
//! hash, counters. HRANDFIELD and HSCAN live in `hash/random.rs` and `hash/scan.rs`.
//!
//! Redis's encoding rules (OBJECT ENCODING shows them, and a listpack's insertion
//! order shows in every reply that walks the hash) are applied in `store`.

mod random;
mod scan;

use super::*;
use crate::config::Settings;
use crate::dispatch::Reject;
use ferrocache_keyspace::{parse_i64, Db, Hash};

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "hset" => hset,
        "hmset" => hmset,
        "hsetnx" => hsetnx,
        "hget" => hget,
        "hmget" => hmget,
        "hdel" => hdel,
        "hexists" => hexists,
        "hlen" => hlen,
        "hstrlen" => hstrlen,
        "hkeys" => hkeys,
        "hvals" => hvals,
        "hgetall" => hgetall,
        "hincrby" => hincrby,
        "hincrbyfloat" => hincrbyfloat,
        "hrandfield" => random::hrandfield,
        "hscan" => scan::hscan,
        _ => return None,
    })
}

/// The hash at `key`: None if missing, WRONGTYPE if another type.
fn lookup<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut Hash>, Reject> {
    Ok(db.get_coll::<Hash>(key, now)?)
}

/// Stores field/value pairs with Redis's encoding rules: a field or value longer
/// than `hash-max-listpack-value` turns a listpack into a hashtable before it is
/// stored, and more than `hash-max-listpack-entries` fields do after (Redis checks
/// the count even when only values were replaced, which matters once the limit was
/// lowered by CONFIG SET). Returns how many fields were new.
fn store(h: &mut Hash, pairs: &[&[u8]], s: &Settings) -> i64 {
    if h.is_listpack() && pairs.iter().any(|a| a.len() > s.hash_max_listpack_value) {
        h.convert();
    }
    let mut created = 0;
    for kv in pairs.chunks_exact(2) {
        created += h.set(kv[0], kv[1]) as i64;
    }
    if h.is_listpack() && h.len() > s.hash_max_listpack_entries {
        h.convert();
    }
    created
}

/// HSET and HMSET: the same work, different replies.
fn hset_generic(ctx: &mut Ctx, args: &[&[u8]], name: &str) -> Result<i64, Reject> {
    if !args.len().is_multiple_of(2) {
        return Err(format!("ERR wrong number of arguments for '{name}' command").into());
    }
    let (now, settings) = (ctx.now_ms, ctx.settings);
    let db = ctx.db();
    let h = db.coll_or_default::<Hash>(args[1], now)?;
    let created = store(h, &args[2..], settings);
    db.modified(args[1]);
    ctx.notify(Class::Hash, "hset", args[1]);
    Ok(created)
}

pub fn hset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let created = hset_generic(ctx, args, "hset")?;
    ctx.out.int(created);
    Ok(())
}

pub fn hmset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, args, "hmset")?;
    ctx.out.ok();
    Ok(())
}

pub fn hsetnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (now, settings) = (ctx.now_ms, ctx.settings);
    let db = ctx.db();
    let h = db.coll_or_default::<Hash>(args[1], now)?;
    // An existing field leaves the hash alone, encoding included, and is not a
    // change (WATCH stays clean). A new key always gets the field.
    let created = !h.contains(args[2]);
    if created {
        store(h, &args[2..4], settings);
        db.modified(args[1]);
        ctx.notify(Class::Hash, "hset", args[1]);
    }
    ctx.out.int(created as i64);
    Ok(())
}

pub fn hget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    match lookup(db, args[1], now)?.and_then(|h| h.get(args[2])) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

pub fn hmget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let h = lookup(db, args[1], now)?;
    let fields = &args[2..];
    out.array(fields.len());
    for f in fields {
        match h.as_ref().and_then(|h| h.get(f)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

pub fn hdel(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut deleted = 0;
    if let Some(h) = lookup(db, args[1], now)? {
        for f in &args[2..] {
            deleted += h.remove(f) as i64;
            if h.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        let removed = db.modified(args[1]);
        ctx.notify(Class::Hash, "hdel", args[1]);
        if removed {
            ctx.notify(Class::Generic, "del", args[1]);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

/// A read of one number about the hash (0 when the key is missing).
fn read_int(ctx: &mut Ctx, key: &[u8], f: impl FnOnce(&Hash) -> usize) -> CmdResult {
    let now = ctx.now_ms;
    let n = lookup(ctx.db(), key, now)?.map_or(0, |h| f(h));
    ctx.out.int(n as i64);
    Ok(())
}

pub fn hexists(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    read_int(ctx, args[1], |h| h.contains(args[2]) as usize)
}

pub fn hlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    read_int(ctx, args[1], Hash::len)
}

pub fn hstrlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    read_int(ctx, args[1], |h| h.get(args[2]).map_or(0, <[u8]>::len))
}

/// HKEYS, HVALS, HGETALL: the whole hash in its order (a map for HGETALL in RESP3).
fn getall(ctx: &mut Ctx, key: &[u8], keys: bool, values: bool) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let Some(h) = lookup(db, key, now)? else {
        if keys && values {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    if keys && values {
        out.map(h.len());
    } else {
        out.array(h.len());
    }
    for (k, v) in h.iter() {
        if keys {
            out.bulk(k);
        }
        if values {
            out.bulk(v);
        }
    }
    Ok(())
}

pub fn hkeys(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    getall(ctx, args[1], true, false)
}

pub fn hvals(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    getall(ctx, args[1], false, true)
}

pub fn hgetall(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    getall(ctx, args[1], true, true)
}

pub fn hincrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let by = int_arg(args[3])?;
    let (now, settings) = (ctx.now_ms, ctx.settings);
    let db = ctx.db();
    let h = db.coll_or_default::<Hash>(args[1], now)?;
    // The error paths below need an existing field, so they never leave behind
    // an empty hash that coll_or_default just created.
    let current = match h.get(args[2]) {
        None => 0,
        Some(v) => parse_i64(v).ok_or(Reject::from("ERR hash value is not an integer"))?,
    };
    let next = current.checked_add(by).ok_or(Reject::from(ERR_OVERFLOW))?;
    let mut text = itoa::Buffer::new();
    store(h, &[args[2], text.format(next).as_bytes()], settings);
    db.modified(args[1]);
    ctx.notify(Class::Hash, "hincrby", args[1]);
    ctx.out.int(next);
    Ok(())
}

pub fn hincrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    use super::float_text;
    use rustc_apfloat::Float as _;
    let by = float_text::parse(args[3]).ok_or(Reject::from(ERR_NOT_FLOAT))?;
    if !by.is_finite() {
        return Err("ERR value is NaN or Infinity".into());
    }
    let (now, settings) = (ctx.now_ms, ctx.settings);
    let db = ctx.db();
    let h = db.coll_or_default::<Hash>(args[1], now)?;
    // As in HINCRBY, only an existing field can fail, so no empty hash is left.
    let current = float_text::parse(h.get(args[2]).unwrap_or(b"0"))
        .ok_or(Reject::from("ERR hash value is not a float"))?;
    let sum = float_text::add(current, by)
        .ok_or(Reject::from("ERR increment would produce NaN or Infinity"))?;
    let text = float_text::human(sum);
    store(h, &[args[2], text.as_bytes()], settings);
    db.modified(args[1]);
    ctx.notify(Class::Hash, "hincrbyfloat", args[1]);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}
