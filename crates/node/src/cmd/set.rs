//! Set commands. Membership and single-set changes live here; random members
//! (SPOP, SRANDMEMBER) in `set/random.rs`, the multi-key algebra (SINTER, SUNION,
//! SDIFF and their STORE and CARD forms) in `set/algebra.rs`, SSCAN in `set/scan.rs`.

mod algebra;
mod random;
mod scan;

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::types::set::Member;
use ferrocache_keyspace::{Keyspace, Set};
use ferrocache_resp::ReplyBuf;

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "sadd" => sadd,
        "srem" => srem,
        "sismember" => sismember,
        "smismember" => smismember,
        "scard" => scard,
        "smove" => smove,
        "smembers" => algebra::smembers,
        "sinter" => algebra::sinter,
        "sintercard" => algebra::sintercard,
        "sinterstore" => algebra::sinterstore,
        "sunion" => algebra::sunion,
        "sunionstore" => algebra::sunionstore,
        "sdiff" => algebra::sdiff,
        "sdiffstore" => algebra::sdiffstore,
        "spop" => random::spop,
        "srandmember" => random::srandmember,
        "sscan" => scan::sscan,
        _ => return None,
    })
}

/// A member as a bulk string (an intset's numbers formatted on the fly).
fn bulk_member(out: &mut ReplyBuf, m: Member<'_>) {
    match m {
        Member::Int(i) => out.bulk_int(i),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// The set at `key` for a read-only command (whose lookups count as keyspace hits
/// and misses: `Db::reading`).
fn read_set<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut Set>, Reject> {
    Ok(ks.dbs[db].get_coll::<Set>(key, now)?)
}

fn sadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, now, max) = (args[1], ctx.now_ms, ctx.settings.set_max_intset_entries);
    let db = ctx.db();
    let set = db.coll_or_default::<Set>(key, now)?;
    let added = args[2..].iter().filter(|m| set.add(m, max)).count();
    // Re-adding present members is not a change: WATCH stays clean, no event.
    if added > 0 {
        db.modified(key);
        ctx.notify(Class::Set, "sadd", key);
    }
    ctx.out.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(set) = db.get_coll::<Set>(key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &args[2..] {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    if removed > 0 {
        let deleted = db.modified(key);
        ctx.notify(Class::Set, "srem", key);
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

fn sismember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    let found = read_set(ks, idx, args[1], now)?.is_some_and(|s| s.contains(args[2]));
    out.int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    let set = read_set(ks, idx, args[1], now)?;
    let members = &args[2..];
    out.array(members.len());
    for m in members {
        let found = set.as_ref().is_some_and(|s| s.contains(m));
        out.int(found as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    let len = read_set(ks, idx, args[1], now)?.map_or(0, |s| s.len());
    out.int(len as i64);
    Ok(())
}

/// SMOVE in Redis's order: a missing source answers 0 before the destination's
/// type is looked at; events are the source's `srem` (and `del` when emptied),
/// then the destination's `sadd` when the member was new there.
fn smove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let (now, max) = (ctx.now_ms, ctx.settings.set_max_intset_entries);
    let db = ctx.db();
    let src_found = db.get_coll::<Set>(src, now).map(|s| s.is_some());
    let dst_found = db.get_coll::<Set>(dst, now).map(|s| s.is_some());
    if src_found == Ok(false) {
        ctx.out.int(0);
        return Ok(());
    }
    src_found?;
    dst_found?;
    let Some(set) = db.get_coll::<Set>(src, now)? else {
        unreachable!("looked up above")
    };
    if src == dst {
        let found = set.contains(member);
        ctx.out.int(found as i64);
        return Ok(());
    }
    if !set.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = db.modified(src);
    ctx.notify(Class::Set, "srem", src);
    if emptied {
        ctx.notify(Class::Generic, "del", src);
    }
    let db = ctx.db();
    if db.coll_or_default::<Set>(dst, now)?.add(member, max) {
        db.modified(dst);
        ctx.notify(Class::Set, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}
