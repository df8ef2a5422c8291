//! List commands: pushes and pops at either end, LLEN. Indexed access and
//! edits are in `list/access.rs`, LPOS in `list/lpos.rs`, moves between lists
//! and LMPOP in `list/moves.rs`, the blocking forms in `list/blocking.rs`.
//!
//! Replies and keyspace events come in Redis's order for each command: some
//! commands reply before they notify (pushes, pops, LSET), others after
//! (LINSERT, LREM, LTRIM) — a RESP3 client subscribed to its own events sees
//! the difference.

mod access;
mod blocking;
mod lpos;
mod moves;

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::types::list::End;
use ferrocache_keyspace::{Collection, List, Ttl};

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "lpush" => lpush,
        "rpush" => rpush,
        "lpushx" => lpushx,
        "rpushx" => rpushx,
        "lpop" => lpop,
        "rpop" => rpop,
        "llen" => llen,
        "lindex" => access::lindex,
        "lset" => access::lset,
        "lrange" => access::lrange,
        "linsert" => access::linsert,
        "lrem" => access::lrem,
        "ltrim" => access::ltrim,
        "lpos" => lpos::lpos,
        "lmove" => moves::lmove,
        "rpoplpush" => moves::rpoplpush,
        "lmpop" => moves::lmpop,
        "blpop" => blocking::blpop,
        "brpop" => blocking::brpop,
        "blmove" => blocking::blmove,
        "brpoplpush" => blocking::brpoplpush,
        "blmpop" => blocking::blmpop,
        _ => return None,
    })
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// LEFT | RIGHT, or Redis's syntax error.
fn end_arg(a: &[u8]) -> Result<End, Reject> {
    End::parse(a).ok_or(Reject::from(ERR_SYNTAX))
}

/// A non-negative integer (`getPositiveLongFromObjectOrReply`): every failure,
/// not-a-number included, answers with `msg`.
fn non_negative_arg(a: &[u8], msg: &'static str) -> Result<i64, Reject> {
    match ferrocache_keyspace::parse_i64(a) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(msg.into()),
    }
}

/// An integer ≥ 1 (`getRangeLongFromObjectOrReply(1, LONG_MAX)`), else `msg`.
fn positive_arg(a: &[u8], msg: &'static str) -> Result<i64, Reject> {
    match ferrocache_keyspace::parse_i64(a) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(msg.into()),
    }
}

/// After elements left `key`: signals it, then the pop event, then "del" if
/// the list is now empty (the key is gone then). Redis emits them in this
/// order everywhere. `emptied` saves a lookup when the list still has elements.
fn popped(ctx: &mut Ctx, key: &[u8], end: End, emptied: bool) {
    let db = ctx.db();
    let deleted = if emptied {
        db.modified(key)
    } else {
        db.signal(key);
        false
    };
    ctx.notify(Class::List, pop_event(end), key);
    if deleted {
        ctx.notify(Class::Generic, "del", key);
    }
}

/// Redis publishes a key's "new" event when it creates the key, before the
/// reply; the keyspace records it, and `Ctx::notify` would publish it only
/// with the push event, after the reply. A RESP3 client subscribed to its own
/// events would see the difference.
fn publish_new_key_event(ctx: &mut Ctx) {
    if !ctx.settings.notify.wants(Class::New) {
        return;
    }
    if let Some(ks) = ctx.guard.as_mut() {
        let me = ctx.client.handle.id;
        crate::notify::publish_recorded(ctx.srv, ctx.settings, ks, Some(ctx.out), me, ctx.now_ms);
    }
}

fn push_generic(ctx: &mut Ctx, args: &[&[u8]], end: End, only_existing: bool) -> CmdResult {
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    // An existing list is changed in place and only signalled (no lookup to
    // check for emptiness); a new one is built first and stored whole.
    let len = match db.get_coll::<List>(key, now)? {
        Some(list) => {
            args[2..].iter().for_each(|v| list.push(end, v));
            let len = list.len();
            db.signal(key);
            len
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut list = List::default();
            args[2..].iter().for_each(|v| list.push(end, v));
            let len = list.len();
            db.set(key, list.into_value(), Ttl::Clear, now);
            publish_new_key_event(ctx);
            len
        }
    };
    ctx.out.int(len as i64);
    ctx.notify(Class::List, push_event(end), key);
    Ok(())
}

pub fn lpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Head, false)
}

pub fn rpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Tail, false)
}

pub fn lpushx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Head, true)
}

pub fn rpushx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Tail, true)
}

/// LPOP/RPOP key [count]: without a count one bulk (nil when missing); with one
/// an array (a nil array when missing, an empty one for count 0).
fn pop_generic(ctx: &mut Ctx, args: &[&[u8]], end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            pop_event(end)
        )
        .into());
    }
    let count = match args.get(2) {
        Some(a) => Some(non_negative_arg(
            a,
            "ERR value is out of range, must be positive",
        )?),
        None => None,
    };
    let (key, now) = (args[1], ctx.now_ms);
    let (db, out) = ctx.db_and_out();
    let Some(list) = db.get_coll::<List>(key, now)? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        Some(n) => {
            out.array((n as usize).min(list.len()));
            list.pop_many(end, n as usize, |v| out.bulk(v));
        }
        None => match list.pop(end) {
            Some(v) => out.bulk(&v),
            // Redis never keeps an empty list; answer as for a missing key anyway.
            None => out.null(),
        },
    }
    let emptied = list.is_empty();
    popped(ctx, key, end, emptied);
    Ok(())
}

pub fn lpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, End::Head)
}

pub fn rpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, End::Tail)
}

pub fn llen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let len = ctx
        .db()
        .get_coll::<List>(args[1], now)?
        .map_or(0, |l| l.len());
    ctx.out.int(len as i64);
    Ok(())
}
