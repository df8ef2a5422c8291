//! Generic keyspace commands: DEL, EXISTS, TYPE, RENAME, KEYS, SCAN, expiry,
//! COPY, MOVE, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL.

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::glob;

pub fn del(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let mut n = 0;
    for k in &args[1..] {
        let db = ctx.db();
        if db.peek(k, now).is_some() {
            db.remove(k);
            ctx.notify(Class::Generic, "del", k);
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

pub fn exists(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let n = args[1..].iter().filter(|k| db.contains(k, now)).count();
    ctx.out.int(n as i64);
    Ok(())
}

pub fn touch(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| db.get_mut(k, now).is_some())
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

pub fn type_(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let t = ctx
        .db()
        .peek(args[1], now)
        .map_or("none", |e| e.value.type_name());
    ctx.out.simple(t);
    Ok(())
}

fn rename_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) -> CmdResult {
    let now = ctx.now_ms;
    let (src, dst) = (args[1], args[2]);
    let db = ctx.db();
    if db.peek(src, now).is_none() {
        return Err(ERR_NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if nx && db.contains(dst, now) {
        ctx.out.int(0);
        return Ok(());
    }
    if let Some(entry) = db.remove(src) {
        db.remove(dst);
        db.insert_entry(dst, entry);
    }
    ctx.notify(Class::Generic, "rename_from", src);
    ctx.notify(Class::Generic, "rename_to", dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

pub fn rename(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, false)
}

pub fn renamenx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, true)
}

pub fn keys(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let pattern = args[1];
    let all = pattern == b"*";
    let found: Vec<_> = ctx
        .db()
        .iter(now)
        .filter(|(k, _)| all || glob::matches(pattern, k, false))
        .map(|(k, _)| k.clone())
        .collect();
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

pub fn scan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(args[1])?;
    let o = scan_options(args, 2, true)?;
    let now = ctx.now_ms;
    let mut found = Vec::new();
    let next = ctx.db().scan(cursor, o.count, now, |k, e| {
        if !o.matches(k) {
            return;
        }
        if o.type_name
            .is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
        {
            return;
        }
        found.push(k.clone());
    });
    ctx.out.array(2);
    ctx.out.bulk(next.to_string());
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

pub fn randomkey(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    match ctx.db().random_key(now) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

/// NX | XX | GT | LT of EXPIRE and friends.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn expire_flags(opts: &[&[u8]]) -> Result<ExpireFlags, Reject> {
    let mut f = ExpireFlags::default();
    for o in opts {
        if eq(o, "nx") {
            f.nx = true;
        } else if eq(o, "xx") {
            f.xx = true;
        } else if eq(o, "gt") {
            f.gt = true;
        } else if eq(o, "lt") {
            f.lt = true;
        } else {
            return Err(format!("ERR Unsupported option {}", lossy(o)).into());
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if f.gt && f.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(f)
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
fn expire_generic(ctx: &mut Ctx, args: &[&[u8]], unit_ms: i64, absolute: bool) -> CmdResult {
    let flags = expire_flags(&args[3..])?;
    let mut when = int_arg(args[2])?;
    let name = lossy(args[0]).to_ascii_lowercase();
    let invalid = || Reject::from(format!("ERR invalid expire time in '{name}' command"));
    if unit_ms == 1000 {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    let now = ctx.now_ms as i64;
    if !absolute {
        when = when.checked_add(now).ok_or_else(invalid)?;
    }
    let db = ctx.db();
    let Some(entry) = db.peek(args[1], now as u64) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = if entry.expire_at == 0 {
        None
    } else {
        Some(entry.expire_at as i64)
    };
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= now {
        db.remove(args[1]);
        ctx.notify(Class::Generic, "del", args[1]);
    } else {
        db.set_expire(args[1], when as u64, now as u64);
        ctx.notify(Class::Generic, "expire", args[1]);
    }
    ctx.out.int(1);
    Ok(())
}

pub fn expire(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 1000, false)
}
pub fn pexpire(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 1, false)
}
pub fn expireat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 1000, true)
}
pub fn pexpireat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 1, true)
}

/// TTL-family reply: -2 missing, -1 no TTL, else `f(expire_at_ms, now_ms)`.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], f: fn(u64, u64) -> i64) -> CmdResult {
    let now = ctx.now_ms;
    let reply = match ctx.db().peek(key, now) {
        None => -2,
        Some(e) if e.expire_at == 0 => -1,
        Some(e) => f(e.expire_at, now),
    };
    ctx.out.int(reply);
    Ok(())
}

pub fn ttl(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], |at, now| ((at - now + 500) / 1000) as i64)
}
pub fn pttl(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], |at, now| (at - now) as i64)
}
pub fn expiretime(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], |at, _| (at / 1000) as i64)
}
pub fn pexpiretime(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], |at, _| at as i64)
}

pub fn persist(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let done = ctx.db().persist(args[1], now);
    if done {
        ctx.notify(Class::Generic, "persist", args[1]);
    }
    ctx.out.int(done as i64);
    Ok(())
}

pub fn copy(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (src, dst) = (args[1], args[2]);
    let mut target = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq(args[i], "replace") {
            replace = true;
            i += 1;
        } else if eq(args[i], "db") && i + 1 < args.len() {
            target = db_arg(args[i + 1], ctx.settings.databases, ERR_NOT_INT)?;
            i += 2;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    let source_db = ctx.client.db;
    if src == dst && source_db == target {
        return Err("ERR source and destination objects are the same".into());
    }
    let now = ctx.now_ms;
    let ks = ctx.ks();
    let Some(entry) = ks.dbs[source_db].peek(src, now).cloned() else {
        ctx.out.int(0);
        return Ok(());
    };
    let dest = &mut ks.dbs[target];
    if dest.contains(dst, now) {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        dest.remove(dst);
    }
    dest.insert_entry(dst, entry);
    ctx.notify_db(target, Class::Generic, "copy_to", dst);
    ctx.out.int(1);
    Ok(())
}

pub fn move_(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let target = db_arg(args[2], ctx.settings.databases, ERR_NOT_INT)?;
    let source = ctx.client.db;
    if source == target {
        return Err("ERR source and destination objects are the same".into());
    }
    let now = ctx.now_ms;
    let ks = ctx.ks();
    if ks.dbs[source].peek(args[1], now).is_none() || ks.dbs[target].contains(args[1], now) {
        ctx.out.int(0);
        return Ok(());
    }
    if let Some(entry) = ks.dbs[source].remove(args[1]) {
        ks.dbs[target].insert_entry(args[1], entry);
    }
    ctx.notify_db(source, Class::Generic, "move_from", args[1]);
    ctx.notify_db(target, Class::Generic, "move_to", args[1]);
    ctx.out.int(1);
    Ok(())
}

pub fn swapdb(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let n = ctx.settings.databases as i64;
    let a = ferrocache_keyspace::parse_i64(args[1])
        .ok_or(Reject::from("ERR invalid first DB index"))?;
    let b = ferrocache_keyspace::parse_i64(args[2])
        .ok_or(Reject::from("ERR invalid second DB index"))?;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        return Err(ERR_DB_RANGE.into());
    }
    let (a, b) = (a as usize, b as usize);
    ctx.ks().swap(a, b);
    ctx.out.ok();
    Ok(())
}

pub fn dbsize(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

fn flush_mode(args: &[&[u8]]) -> CmdResult {
    match args.get(1) {
        None => Ok(()),
        Some(a) if args.len() == 2 && (eq(a, "sync") || eq(a, "async")) => Ok(()),
        Some(_) => Err(ERR_SYNTAX.into()),
    }
}

pub fn flushdb(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    flush_mode(args)?;
    ctx.db().clear();
    ctx.out.ok();
    Ok(())
}

pub fn flushall(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    flush_mode(args)?;
    ctx.ks().dbs.iter_mut().for_each(|d| d.clear());
    ctx.out.ok();
    Ok(())
}
