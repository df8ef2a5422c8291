//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE. A HyperLogLog is a string value in
//! Redis's "HYLL" format (`ferrocache_keyspace::types::hll`), so these commands
//! accept any string that happens to be one (written with SET, say) and leave
//! bytes that GET returns exactly as Redis would.
//!
//! As in Redis, a command that changes the string first turns it into a "raw"
//! (mutable) string, even when nothing changes — OBJECT ENCODING shows it — and
//! PFCOUNT of a single key writes the computed count back into the header's cache
//! (a change WATCH sees, without a notification). PFCOUNT and PFMERGE look their
//! inputs up for reading (hit/miss statistics, "keymiss" events); PFADD does not.

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::types::hll::{self, Union};
use ferrocache_keyspace::{Db, Ttl, Value};

const ERR_NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const ERR_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "pfadd" => pfadd,
        "pfcount" => pfcount,
        "pfmerge" => pfmerge,
        _ => return None,
    })
}

/// The value's bytes if it is a HyperLogLog string (Redis's `isHLLObjectOrReply`):
/// other types get the usual WRONGTYPE, other strings (an integer-encoded one
/// included) the HyperLogLog variant.
fn hll_bytes(v: &Value) -> Result<&[u8], Reject> {
    let s: &[u8] = match v {
        Value::Str(s) => s,
        Value::Raw(s) => s,
        Value::Int(_) => return Err(ERR_NOT_HLL.into()),
        _ => return Err(ERR_WRONGTYPE.into()),
    };
    hll::check(s).map_err(|_| Reject::from(ERR_NOT_HLL))?;
    Ok(s)
}

fn corrupt(_: hll::Corrupt) -> Reject {
    ERR_CORRUPT.into()
}

pub fn pfadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, elements) = (args[1], &args[2..]);
    let max_bytes = ctx.settings.hll_sparse_max_bytes;
    let now = ctx.now_ms;
    let db = ctx.db();
    let changed = match db.get_mut(key, now) {
        None => {
            let mut s = hll::new();
            for e in elements {
                // A new HLL is well-formed: adding to it cannot fail.
                hll::add(&mut s, e, max_bytes).map_err(corrupt)?;
            }
            hll::invalidate_cache(&mut s);
            db.set(key, Value::raw(s), Ttl::Clear, now);
            true
        }
        Some(entry) => {
            hll_bytes(&entry.value)?;
            let s = entry.value.make_raw();
            let mut changed = false;
            for e in elements {
                // On a corrupt body Redis replies with the error and keeps whatever
                // the earlier elements already changed, without a notification.
                changed |= hll::add(s, e, max_bytes).map_err(corrupt)?;
            }
            if changed {
                hll::invalidate_cache(s);
                db.signal(key);
            }
            changed
        }
    };
    if changed {
        ctx.notify(Class::String, "pfadd", key);
    }
    ctx.out.int(changed as i64);
    Ok(())
}

pub fn pfcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    if args.len() > 2 {
        let (union, _) = union_of(ctx.db(), &args[1..], now)?;
        ctx.out.int(union.count() as i64);
        return Ok(());
    }
    let key = args[1];
    let db = ctx.db();
    let Some(entry) = db.get_mut(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    hll_bytes(&entry.value)?;
    let s = entry.value.make_raw();
    let card = match hll::cached(s) {
        Some(card) => card,
        None => {
            let card = hll::count(s).map_err(corrupt)?;
            // Like Redis, the count is written back: a change WATCH sees.
            hll::set_cached(s, card);
            db.signal(key);
            card
        }
    };
    ctx.out.int(card as i64);
    Ok(())
}

/// Folds the HLLs at `keys` (missing ones count as empty) into a union; also says
/// whether any of them is dense.
fn union_of(db: &mut Db, keys: &[&[u8]], now: u64) -> Result<(Union, bool), Reject> {
    let mut union = Union::default();
    let mut any_dense = false;
    for key in keys {
        if let Some(entry) = db.get_mut(key, now) {
            let s = hll_bytes(&entry.value)?;
            any_dense |= hll::check(s) == Ok(hll::Encoding::Dense);
            union.merge(s).map_err(corrupt)?;
        }
    }
    Ok((union, any_dense))
}

/// PFMERGE dest src…: the destination (itself one of the inputs) gets the union.
/// Like Redis 7.0 it turns dense first if any input is dense; otherwise it stays
/// sparse and receives the registers one by one, converting if it outgrows
/// `hll-sparse-max-bytes`.
pub fn pfmerge(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let dest = args[1];
    let max_bytes = ctx.settings.hll_sparse_max_bytes;
    let now = ctx.now_ms;
    let db = ctx.db();
    // PFMERGE is a write, but Redis looks its inputs up for reading (hit/miss
    // statistics, "keymiss" events).
    let was_reading = std::mem::replace(&mut db.reading, true);
    let union = union_of(db, &args[1..], now);
    db.reading = was_reading;
    let (union, any_dense) = union?;
    match db.get_mut(dest, now) {
        Some(entry) => {
            let s = entry.value.make_raw();
            if any_dense {
                hll::make_dense(s).map_err(corrupt)?;
            }
            union.write_into(s, max_bytes).map_err(corrupt)?;
            hll::invalidate_cache(s);
            db.signal(dest);
        }
        None => {
            let mut s = hll::new();
            if any_dense {
                hll::make_dense(&mut s).map_err(corrupt)?;
            }
            union.write_into(&mut s, max_bytes).map_err(corrupt)?;
            hll::invalidate_cache(&mut s);
            db.set(dest, Value::raw(s), Ttl::Clear, now);
        }
    }
    ctx.notify(Class::String, "pfadd", dest);
    ctx.out.ok();
    Ok(())
}
