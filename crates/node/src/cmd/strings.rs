//! String commands: GET/SET and their variants, multi-key forms, APPEND, STRLEN,
//! counters, ranges.

use super::*;
use crate::dispatch::Reject;
use ferrocache_keyspace::value_buf::Buf;
use ferrocache_keyspace::{Db, Ttl, Value};

/// The string at `key`: None if missing, WRONGTYPE if another type.
pub fn read_string<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
    buf: &'a mut Buf,
) -> Result<Option<&'a [u8]>, Reject> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(e) if !e.value.is_string() => Err(ERR_WRONGTYPE.into()),
        Some(e) => Ok(Some(e.value.as_bytes(buf))),
    }
}

pub fn get(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let mut buf = Buf::default();
    let idx = ctx.client.db;
    let (ks, out) = ctx.ks_and_out();
    match read_string(&mut ks.dbs[idx], args[1], now, &mut buf)? {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// Options shared by SET and GETEX.
#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (unit ms, absolute, raw argument)
    expire: Option<(i64, bool, usize)>,
}

/// Parses SET/GETEX options with Redis's rules for which ones may combine.
fn parse_set_options(args: &[&[u8]], from: usize, is_set: bool) -> Result<SetOptions, Reject> {
    let mut o = SetOptions::default();
    let mut j = from;
    while j < args.len() {
        let a = args[j];
        let has_next = j + 1 < args.len();
        let timed = |o: &SetOptions, unit| {
            o.expire.is_none_or(|(u, abs, _)| (u, abs) == unit) && !o.keepttl && !o.persist
        };
        if is_set && eq(a, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && eq(a, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && eq(a, "get") {
            o.get = true;
        } else if is_set && eq(a, "keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if !is_set && eq(a, "persist") && o.expire.is_none() {
            o.persist = true;
        } else if let Some(unit) = [
            ("ex", (1000, false)),
            ("px", (1, false)),
            ("exat", (1000, true)),
            ("pxat", (1, true)),
        ]
        .iter()
        .find(|(n, _)| eq(a, n))
        .map(|(_, u)| *u)
        {
            if !has_next || !timed(&o, unit) {
                return Err(ERR_SYNTAX.into());
            }
            o.expire = Some((unit.0, unit.1, j + 1));
            j += 1;
        } else {
            return Err(ERR_SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// Converts an expire argument to absolute Unix ms, as `getExpireMillisecondsOrReply`.
fn expire_at(arg: &[u8], unit: i64, absolute: bool, now: u64, cmd: &str) -> Result<u64, Reject> {
    let invalid = || Reject::from(format!("ERR invalid expire time in '{cmd}' command"));
    let v = int_arg(arg)?;
    if v <= 0 {
        return Err(invalid());
    }
    let mut ms = v.checked_mul(unit).ok_or_else(invalid)?;
    if !absolute {
        ms = ms.checked_add(now as i64).ok_or_else(invalid)?;
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms as u64)
}

pub fn set(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let o = parse_set_options(args, 3, true)?;
    let now = ctx.now_ms;
    let ttl = match o.expire {
        Some((unit, abs, i)) => Ttl::At(expire_at(args[i], unit, abs, now, "set")?),
        None if o.keepttl => Ttl::Keep,
        None => Ttl::Clear,
    };
    let key = args[1];
    let db = ctx.db();
    let mut buf = Buf::default();
    let old = if o.get {
        read_string(db, key, now, &mut buf)?.map(<[u8]>::to_vec)
    } else {
        None
    };
    let found = if o.get {
        old.is_some()
    } else {
        db.contains(key, now)
    };
    if (o.nx && found) || (o.xx && !found) {
        if o.get {
            reply_opt(ctx, old.as_deref());
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    db.set(key, Value::string(args[2]), ttl, now);
    ctx.notify(Class::String, "set", key);
    if o.expire.is_some() {
        ctx.notify(Class::Generic, "expire", key);
    }
    if o.get {
        reply_opt(ctx, old.as_deref());
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn reply_opt(ctx: &mut Ctx, v: Option<&[u8]>) {
    match v {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
}

pub fn setnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let created = !db.contains(args[1], now);
    if created {
        db.set(args[1], Value::string(args[2]), Ttl::Clear, now);
        ctx.notify(Class::String, "set", args[1]);
    }
    ctx.out.int(created as i64);
    Ok(())
}

fn setex_generic(ctx: &mut Ctx, args: &[&[u8]], unit: i64, name: &str) -> CmdResult {
    let now = ctx.now_ms;
    let at = expire_at(args[2], unit, false, now, name)?;
    ctx.db()
        .set(args[1], Value::string(args[3]), Ttl::At(at), now);
    ctx.notify(Class::String, "set", args[1]);
    ctx.notify(Class::Generic, "expire", args[1]);
    ctx.out.ok();
    Ok(())
}

pub fn setex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, args, 1000, "setex")
}

pub fn psetex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, args, 1, "psetex")
}

pub fn getset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut buf = Buf::default();
    let old = read_string(db, args[1], now, &mut buf)?.map(<[u8]>::to_vec);
    db.set(args[1], Value::string(args[2]), Ttl::Clear, now);
    ctx.notify(Class::String, "set", args[1]);
    reply_opt(ctx, old.as_deref());
    Ok(())
}

pub fn getdel(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut buf = Buf::default();
    let old = read_string(db, args[1], now, &mut buf)?.map(<[u8]>::to_vec);
    if old.is_some() {
        db.remove(args[1]);
        ctx.notify(Class::Generic, "del", args[1]);
    }
    reply_opt(ctx, old.as_deref());
    Ok(())
}

pub fn getex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    // Redis's order: option syntax, then the key (missing: nil), then the expiry value.
    let o = parse_set_options(args, 2, false)?;
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut buf = Buf::default();
    let Some(v) = read_string(db, args[1], now, &mut buf)?.map(<[u8]>::to_vec) else {
        ctx.out.null();
        return Ok(());
    };
    let at = match o.expire {
        Some((unit, abs, i)) => Some(expire_at(args[i], unit, abs, now, "getex")?),
        None => None,
    };
    let db = ctx.db();
    match at {
        Some(at) if at <= now => {
            db.remove(args[1]);
            ctx.notify(Class::Generic, "del", args[1]);
        }
        Some(at) => {
            db.set_expire(args[1], at, now);
            ctx.notify(Class::Generic, "expire", args[1]);
        }
        None if o.persist && db.persist(args[1], now) => {
            ctx.notify(Class::Generic, "persist", args[1]);
        }
        None => {}
    }
    ctx.out.bulk(&v);
    Ok(())
}

pub fn mget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    out.array(args.len() - 1);
    for k in &args[1..] {
        let mut buf = Buf::default();
        match db.get_mut(k, now) {
            Some(e) if e.value.is_string() => out.bulk(e.value.as_bytes(&mut buf)),
            _ => out.null(),
        }
    }
    Ok(())
}

fn mset_pairs<'a>(args: &'a [&'a [u8]], name: &str) -> Result<&'a [&'a [u8]], Reject> {
    if args.len().is_multiple_of(2) {
        return Err(format!("ERR wrong number of arguments for '{name}' command").into());
    }
    Ok(&args[1..])
}

pub fn mset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pairs = mset_pairs(args, "mset")?;
    let now = ctx.now_ms;
    for kv in pairs.chunks(2) {
        ctx.db().set(kv[0], Value::string(kv[1]), Ttl::Clear, now);
        ctx.notify(Class::String, "set", kv[0]);
    }
    ctx.out.ok();
    Ok(())
}

pub fn msetnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pairs = mset_pairs(args, "msetnx")?;
    let now = ctx.now_ms;
    let db = ctx.db();
    if pairs.chunks(2).any(|kv| db.contains(kv[0], now)) {
        ctx.out.int(0);
        return Ok(());
    }
    for kv in pairs.chunks(2) {
        ctx.db().set(kv[0], Value::string(kv[1]), Ttl::Clear, now);
        ctx.notify(Class::String, "set", kv[0]);
    }
    ctx.out.int(1);
    Ok(())
}

const ERR_TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

pub fn append(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let max = ctx.settings.proto_max_bulk_len;
    let db = ctx.db();
    let len = match db.get_mut(args[1], now) {
        None => {
            db.set(args[1], Value::string(args[2]), Ttl::Clear, now);
            args[2].len()
        }
        Some(e) if !e.value.is_string() => return Err(ERR_WRONGTYPE.into()),
        Some(e) => {
            if e.value.str_len() + args[2].len() > max {
                return Err(ERR_TOO_BIG.into());
            }
            let raw = e.value.make_raw();
            raw.extend_from_slice(args[2]);
            let len = raw.len();
            db.signal(args[1]);
            len
        }
    };
    ctx.notify(Class::String, "append", args[1]);
    ctx.out.int(len as i64);
    Ok(())
}

pub fn strlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let len = match ctx.db().get_mut(args[1], now) {
        None => 0,
        Some(e) if !e.value.is_string() => return Err(ERR_WRONGTYPE.into()),
        Some(e) => e.value.str_len(),
    };
    ctx.out.int(len as i64);
    Ok(())
}

fn incr_generic(ctx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let current = match db.get_mut(key, now) {
        None => 0,
        Some(e) => match &e.value {
            Value::Int(i) => *i,
            v if v.is_string() => {
                let mut buf = Buf::default();
                ferrocache_keyspace::parse_i64(v.as_bytes(&mut buf))
                    .ok_or(Reject::from(ERR_NOT_INT))?
            }
            _ => return Err(ERR_WRONGTYPE.into()),
        },
    };
    let next = current.checked_add(by).ok_or(Reject::from(ERR_OVERFLOW))?;
    db.set(key, Value::Int(next), Ttl::Keep, now);
    ctx.notify(Class::String, "incrby", key);
    ctx.out.int(next);
    Ok(())
}

pub fn incr(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, args[1], 1)
}
pub fn decr(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, args[1], -1)
}
pub fn incrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let by = int_arg(args[2])?;
    incr_generic(ctx, args[1], by)
}
pub fn decrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let by = int_arg(args[2])?;
    if by == i64::MIN {
        return Err("ERR decrement would overflow".into());
    }
    incr_generic(ctx, args[1], -by)
}

pub fn incrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    use super::float_text;
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut buf = Buf::default();
    let current = read_string(db, args[1], now, &mut buf)?.map(<[u8]>::to_vec);
    let (Some(cur), Some(by)) = (
        float_text::parse(current.as_deref().unwrap_or(b"0")),
        float_text::parse(args[2]),
    ) else {
        return Err(ERR_NOT_FLOAT.into());
    };
    let sum = float_text::add(cur, by)
        .ok_or(Reject::from("ERR increment would produce NaN or Infinity"))?;
    let text = float_text::human(sum);
    db.set(args[1], Value::string(text.as_bytes()), Ttl::Keep, now);
    ctx.notify(Class::String, "incrbyfloat", args[1]);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

pub fn getrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let start = int_arg(args[2])?;
    let end = int_arg(args[3])?;
    let now = ctx.now_ms;
    let mut buf = Buf::default();
    let s = read_string(ctx.db(), args[1], now, &mut buf)?.unwrap_or(b"");
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    match clamp_range(start, end, len) {
        Some((start, end)) => {
            let slice = s[start as usize..=end as usize].to_vec();
            ctx.out.bulk(&slice);
        }
        None => ctx.out.bulk(b""),
    }
    Ok(())
}

pub fn setrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let offset = int_arg(args[2])?;
    if offset < 0 {
        return Err("ERR offset is out of range".into());
    }
    let offset = offset as usize;
    let value = args[3];
    let max = ctx.settings.proto_max_bulk_len;
    let now = ctx.now_ms;
    let db = ctx.db();
    let len = match db.get_mut(args[1], now) {
        None => {
            if value.is_empty() {
                0
            } else {
                if offset + value.len() > max {
                    return Err(ERR_TOO_BIG.into());
                }
                let mut v = vec![0u8; offset];
                v.extend_from_slice(value);
                let len = v.len();
                db.set(args[1], Value::raw(v), Ttl::Clear, now);
                len
            }
        }
        Some(e) if !e.value.is_string() => return Err(ERR_WRONGTYPE.into()),
        Some(e) => {
            if value.is_empty() {
                e.value.str_len()
            } else {
                if offset + value.len() > max {
                    return Err(ERR_TOO_BIG.into());
                }
                let raw = e.value.make_raw();
                if raw.len() < offset + value.len() {
                    raw.resize(offset + value.len(), 0);
                }
                raw[offset..offset + value.len()].copy_from_slice(value);
                let len = raw.len();
                db.signal(args[1]);
                len
            }
        }
    };
    if !value.is_empty() {
        ctx.notify(Class::String, "setrange", args[1]);
    }
    ctx.out.int(len as i64);
    Ok(())
}
