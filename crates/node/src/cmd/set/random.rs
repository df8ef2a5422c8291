//! SPOP and SRANDMEMBER: random members, with Redis's reply shapes for each case
//! (a RESP3 set for SPOP with a count, an array for SRANDMEMBER, the whole set in
//! its own order when the count covers it).

use super::*;
use crate::dispatch::Flow;
use ferrocache_keyspace::types::set::Owned;
use ferrocache_keyspace::Collection;

/// Redis refuses no negative SRANDMEMBER count and builds the whole reply in
/// memory, so `SRANDMEMBER k -9223372036854775807` exhausts it when no output
/// buffer limit is set. The node refuses a reply estimated beyond this size instead
/// (a deliberate difference).
const MAX_RANDOM_REPLY_BYTES: u64 = 512 * 1024 * 1024;
const ERR_REPLY_TOO_LARGE: &str = "ERR count is too large: the reply would exceed 512MB";

pub fn spop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        2 => spop_one(ctx, args[1]),
        3 => spop_count(ctx, args[1], args[2]),
        _ => Err(ERR_SYNTAX.into()),
    }
}

fn spop_one(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let Some(set) = db.get_coll::<Set>(key, now)? else {
        ctx.out.null();
        return Ok(());
    };
    let popped = set.pop_random().expect("stored sets are never empty");
    let emptied = db.modified(key);
    ctx.notify(Class::Set, "spop", key);
    bulk_member(ctx.out, popped.as_member());
    if emptied {
        ctx.notify(Class::Generic, "del", key);
    }
    Ok(())
}

fn spop_count(ctx: &mut Ctx, key: &[u8], count: &[u8]) -> CmdResult {
    let count = ferrocache_keyspace::parse_i64(count)
        .filter(|c| *c >= 0)
        .ok_or(Reject::from("ERR value is out of range, must be positive"))?
        as usize;
    let (now, max) = (ctx.now_ms, ctx.settings.set_max_intset_entries);
    let db = ctx.db();
    let set = match db.get_coll::<Set>(key, now)? {
        Some(set) if count > 0 => set,
        _ => {
            ctx.out.set(0);
            return Ok(());
        }
    };
    if count >= set.len() {
        // The whole set; the key goes.
        let whole = db.remove(key).expect("looked up above");
        ctx.notify(Class::Set, "spop", key);
        let set = Set::of(&whole.value).expect("a set");
        reply_as_union(ctx.out, set, max);
        ctx.notify(Class::Generic, "del", key);
        return Ok(());
    }
    let popped: Vec<Owned> = set.pop_random_many(count, max);
    db.modified(key);
    ctx.notify(Class::Set, "spop", key);
    ctx.out.set(popped.len());
    for m in &popped {
        bulk_member(ctx.out, m.as_member());
    }
    Ok(())
}

pub fn srandmember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        2 => srandmember_one(ctx, args[1]),
        3 => srandmember_count(ctx, args[1], args[2]),
        _ => Err(ERR_SYNTAX.into()),
    }
}

fn srandmember_one(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let (ks, out) = ctx.ks_and_out();
    match read_set(ks, idx, key, now)?.and_then(|s| s.random()) {
        Some(m) => bulk_member(out, m),
        None => out.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx, key: &[u8], count: &[u8]) -> CmdResult {
    let count = int_arg(count)?;
    if count == i64::MIN {
        return Err(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )
        .into());
    }
    let (now, idx) = (ctx.now_ms, ctx.client.db);
    let hard_limit = ctx.settings.output_limits.normal.hard;
    let (ks, out) = ctx.ks_and_out();
    let set = match read_set(ks, idx, key, now)? {
        Some(set) if count != 0 => set,
        _ => {
            out.array(0);
            return Ok(());
        }
    };
    let n = count.unsigned_abs();
    if count < 0 || n == 1 {
        // Independent draws, repeats allowed: the one reply a short request can make
        // unbounded. Like Redis, stop and drop the client once the output passes the
        // normal class's hard limit; with no limit (the default) refuse a reply
        // estimated past MAX_RANDOM_REPLY_BYTES, where Redis would run out of memory.
        if hard_limit == 0 && n.saturating_mul(mean_reply_size(set)) > MAX_RANDOM_REPLY_BYTES {
            return Err(ERR_REPLY_TOO_LARGE.into());
        }
        let mark = out.len();
        out.array(n as usize);
        for i in 0..n {
            if i % 1024 == 1023 && hard_limit > 0 && out.len() as u64 > hard_limit {
                out.buf.truncate(mark);
                ctx.flow = Flow::Close;
                return Ok(());
            }
            bulk_member(out, set.random().expect("stored sets are never empty"));
        }
    } else if n >= set.len() as u64 {
        out.array(set.len());
        for m in set.iter() {
            bulk_member(out, m);
        }
    } else {
        let picked = set.random_distinct(n as usize);
        out.array(picked.len());
        for m in picked {
            bulk_member(out, m);
        }
    }
    Ok(())
}

/// The mean RESP size of a member, from a few random samples.
fn mean_reply_size(set: &Set) -> u64 {
    const SAMPLES: u64 = 8;
    let total: u64 = (0..SAMPLES)
        .filter_map(|_| set.random())
        .map(|m| m.with_bytes(|b| b.len() as u64 + 10))
        .sum();
    (total / SAMPLES).max(1)
}

/// The whole set as Redis replies with it through a one-set SUNION (SPOP with a
/// count that covers the set): the members are copied into a new set, so a table
/// holding only a few integers comes back as an intset would, in ascending order.
fn reply_as_union(out: &mut ReplyBuf, set: &Set, max: usize) {
    if !set.is_intset() && set.len() <= max {
        let ints: Option<Vec<i64>> = set
            .iter()
            .map(|m| match m {
                Member::Int(i) => Some(i),
                Member::Bytes(b) => ferrocache_keyspace::parse_i64(b),
            })
            .collect();
        if let Some(mut ints) = ints {
            ints.sort_unstable();
            out.set(ints.len());
            for i in ints {
                out.bulk_int(i);
            }
            return;
        }
    }
    out.set(set.len());
    for m in set.iter() {
        bulk_member(out, m);
    }
}
