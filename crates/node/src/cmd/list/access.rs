//! Indexed access and edits inside a list: LINDEX, LSET, LRANGE, LINSERT,
//! LREM, LTRIM. Each validates its arguments and looks its key up in Redis's
//! order, because that order decides which error a bad call gets.

use super::*;

pub fn lindex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    // The key first: LINDEX on a missing key is nil whatever the index says.
    let Some(list) = db.get_coll::<List>(args[1], now)? else {
        out.null();
        return Ok(());
    };
    match list.get(int_arg(args[2])?) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

pub fn lset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let list = db
        .get_coll::<List>(key, now)?
        .ok_or(Reject::from(ERR_NO_SUCH_KEY))?;
    if !list.set(int_arg(args[2])?, args[3]) {
        return Err("ERR index out of range".into());
    }
    db.modified(key);
    ctx.out.ok();
    ctx.notify(Class::List, "lset", key);
    Ok(())
}

pub fn lrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int_arg(args[2])?, int_arg(args[3])?);
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    match db.get_coll::<List>(args[1], now)? {
        None => out.array(0),
        Some(list) => {
            // Straight from the list into the reply: no copy of the range.
            let range = list.range(start, stop);
            out.array(range.len());
            for v in range {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

pub fn linsert(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let after = if eq(args[2], "after") {
        true
    } else if eq(args[2], "before") {
        false
    } else {
        return Err(ERR_SYNTAX.into());
    };
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(list) = db.get_coll::<List>(key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if !list.insert(after, args[3], args[4]) {
        ctx.out.int(-1);
        return Ok(());
    }
    let len = list.len();
    db.modified(key);
    ctx.notify(Class::List, "linsert", key);
    ctx.out.int(len as i64);
    Ok(())
}

pub fn lrem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let count = int_arg(args[2])?;
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(list) = db.get_coll::<List>(key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = list.remove(count, args[3]);
    // Nothing removed: no event and no WATCH signal, as in Redis.
    if removed > 0 {
        let deleted = db.modified(key);
        ctx.notify(Class::List, "lrem", key);
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
    }
    ctx.out.int(removed as i64);
    Ok(())
}

pub fn ltrim(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int_arg(args[2])?, int_arg(args[3])?);
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(list) = db.get_coll::<List>(key, now)? else {
        ctx.out.ok();
        return Ok(());
    };
    list.trim(start, stop);
    // Redis signals and notifies even when the range kept everything.
    let deleted = db.modified(key);
    ctx.notify(Class::List, "ltrim", key);
    if deleted {
        ctx.notify(Class::Generic, "del", key);
    }
    ctx.out.ok();
    Ok(())
}
