//! Multi-set algebra: SINTER (and SMEMBERS, which Redis serves with it), SINTERCARD,
//! SUNION, SDIFF and the STORE forms. Each follows Redis's algorithm where the
//! algorithm is observable: the encoding a STORE leaves behind (SDIFF's second
//! algorithm fills then empties the result, so a large intermediate result leaves a
//! "hashtable" of few integers) and the order of an intset-backed reply.

use super::*;
use ferrocache_keyspace::{Collection, Db, Ttl};

/// SMEMBERS: Redis serves it as a one-key SINTER; the same replies, without the
/// bookkeeping of several keys.
pub fn smembers(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    match read_set(ks, idx, args[1], now)? {
        None => out.set(0),
        Some(set) => {
            out.set(set.len());
            for m in set.iter() {
                bulk_member(out, m);
            }
        }
    }
    Ok(())
}

pub fn sinter(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    inter(ctx, &args[1..], Inter::Members)
}

pub fn sinterstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    inter(ctx, &args[2..], Inter::Store(args[1]))
}

pub fn sintercard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = ferrocache_keyspace::parse_i64(args[1])
        .filter(|n| *n > 0)
        .ok_or(Reject::from(NUMKEYS))? as u64;
    if numkeys > (args.len() - 2) as u64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < args.len() {
        if eq(args[i], "limit") && i + 1 < args.len() {
            limit = ferrocache_keyspace::parse_i64(args[i + 1])
                .filter(|l| *l >= 0)
                .ok_or(Reject::from("ERR LIMIT can't be negative"))? as u64;
            i += 2;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    inter(ctx, &args[2..keys_end], Inter::Card(limit))
}

pub fn sunion(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &args[1..], None, Op::Union)
}

pub fn sunionstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &args[2..], Some(args[1]), Op::Union)
}

pub fn sdiff(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &args[1..], None, Op::Diff)
}

pub fn sdiffstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &args[2..], Some(args[1]), Op::Diff)
}

/// What an intersection produces.
#[derive(Clone, Copy)]
enum Inter<'a> {
    /// Reply with the members (a RESP3 set).
    Members,
    /// Reply with the count, stopping at the limit (0: none).
    Card(u64),
    /// Store into this key and reply with the count.
    Store(&'a [u8]),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// Looks every key up as Redis does before computing: each lookup expires and
/// touches its key; the first key of another type fails the command (even after a
/// missing one). These are read lookups even for a STORE form (Redis's
/// `lookupKeyRead`: keyspace hits and misses, `keymiss` events). Returns which keys
/// exist.
fn look_up_all(ctx: &mut Ctx, keys: &[&[u8]]) -> Result<Vec<bool>, Reject> {
    let now = ctx.now_ms;
    let db = ctx.db();
    let was_reading = std::mem::replace(&mut db.reading, true);
    let found: Result<Vec<bool>, _> = keys
        .iter()
        .map(|key| db.get_coll::<Set>(key, now).map(|s| s.is_some()))
        .collect();
    db.reading = was_reading;
    Ok(found?)
}

/// Shared borrows of the sets at `keys` (None for a missing key); call after
/// `look_up_all`, which expired and type-checked them.
fn borrow_all<'d>(db: &'d Db, keys: &[&[u8]], now: u64) -> Vec<Option<&'d Set>> {
    keys.iter()
        .map(|k| db.get_ref(k, now).and_then(|e| Set::of(&e.value)))
        .collect()
}

/// Writes a STORE result: the set replaces whatever `dst` held (and its TTL); an
/// empty result deletes `dst`. Events and reply in Redis's order.
fn store(ctx: &mut Ctx, dst: &[u8], result: Set, event: &str) {
    let now = ctx.now_ms;
    let len = result.len();
    if len > 0 {
        ctx.db().set(dst, result.into_value(), Ttl::Clear, now);
        ctx.out.int(len as i64);
        ctx.notify(Class::Set, event, dst);
    } else {
        ctx.out.int(0);
        if ctx.db().remove(dst).is_some() {
            ctx.notify(Class::Generic, "del", dst);
        }
    }
}

fn inter(ctx: &mut Ctx, keys: &[&[u8]], what: Inter) -> CmdResult {
    let exists = look_up_all(ctx, keys)?;
    if exists.contains(&false) {
        // An intersection with an empty set is empty: answer before computing.
        match what {
            Inter::Members => ctx.out.set(0),
            Inter::Card(_) => ctx.out.int(0),
            Inter::Store(dst) => {
                if ctx.db().remove(dst).is_some() {
                    ctx.notify(Class::Generic, "del", dst);
                }
                ctx.out.int(0);
            }
        }
        return Ok(());
    }
    let (now, idx, max) = (
        ctx.now_ms,
        ctx.client.db,
        ctx.settings.set_max_intset_entries,
    );
    let (ks, out) = ctx.ks_and_out();
    let mut sets: Vec<&Set> = borrow_all(&ks.dbs[idx], keys, now)
        .into_iter()
        .flatten()
        .collect();
    // Walk the smallest set and probe the others, smallest first (stable, so the
    // members of equal-sized sets come from the first such key, as in Redis).
    sets.sort_by_key(|s| s.len());
    let (first, rest) = sets.split_first().expect("at least one key");
    let in_all = |m: Member<'_>| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains_member(m))
    };
    match what {
        Inter::Members => {
            let found: Vec<Member> = first.iter().filter(|m| in_all(*m)).collect();
            out.set(found.len());
            for m in found {
                bulk_member(out, m);
            }
        }
        Inter::Card(limit) => {
            let mut n = 0u64;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if n == limit {
                        break;
                    }
                }
            }
            out.int(n as i64);
        }
        Inter::Store(dst) => {
            let mut result = Set::default();
            for m in first.iter().filter(|m| in_all(*m)) {
                result.add_member(m, max);
            }
            store(ctx, dst, result, "sinterstore");
        }
    }
    Ok(())
}

fn union_diff(ctx: &mut Ctx, keys: &[&[u8]], dst: Option<&[u8]>, op: Op) -> CmdResult {
    look_up_all(ctx, keys)?;
    let (now, idx, max) = (
        ctx.now_ms,
        ctx.client.db,
        ctx.settings.set_max_intset_entries,
    );
    let (ks, out) = ctx.ks_and_out();
    let sets = borrow_all(&ks.dbs[idx], keys, now);
    let result = match op {
        Op::Union => {
            let mut result = Set::default();
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.add_member(m, max);
                }
            }
            result
        }
        Op::Diff => diff(sets, max),
    };
    match dst {
        None => {
            out.set(result.len());
            for m in result.iter() {
                bulk_member(out, m);
            }
        }
        Some(dst) => {
            let event = match op {
                Op::Union => "sunionstore",
                Op::Diff => "sdiffstore",
            };
            store(ctx, dst, result, event);
        }
    }
    Ok(())
}

/// The first set minus the others, with the algorithm Redis would pick (the choice
/// shows in the result's encoding).
fn diff(mut sets: Vec<Option<&Set>>, max: usize) -> Set {
    let mut result = Set::default();
    let Some(first) = sets[0] else {
        return result;
    };
    // A key given again as a subtrahend empties the result.
    if sets[1..].iter().flatten().any(|s| std::ptr::eq(*s, first)) {
        return result;
    }
    // Algorithm 1 probes every other set for each member of the first: work
    // |first| × sets; algorithm 2 adds the first and removes the others: work the
    // sum of sizes. Redis halves the first estimate for its better constants.
    let present = sets.iter().flatten().count() as u64;
    let algo_one = (first.len() as u64 * present) / 2;
    let algo_two: u64 = sets.iter().flatten().map(|s| s.len() as u64).sum();
    if algo_one <= algo_two {
        // Largest subtrahends first: a member present in one is found sooner.
        sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
        let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
        for m in first.iter() {
            if !others.iter().any(|s| s.contains_member(m)) {
                result.add_member(m, max);
            }
        }
    } else {
        for m in first.iter() {
            result.add_member(m, max);
        }
        for s in sets[1..].iter().flatten() {
            if result.is_empty() {
                break;
            }
            for m in s.iter() {
                result.remove_member(m);
            }
        }
    }
    result
}
