//! DUMP and RESTORE: values in Redis's serialisation, so they move between
//! ferrocache and redis-server in either direction.

use super::*;
use crate::dispatch::Reject;
use crate::persist::convert::{from_rdb, invalid, to_rdb};
use ferrocache_keyspace::{lfu, Entry};
use ferrocache_rdb::{dump_payload, parse_payload};

pub fn dump(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    match db.get_mut(args[1], now) {
        None => out.null(),
        Some(e) => out.bulk(dump_payload(&to_rdb(&e.value))),
    }
    Ok(())
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency],
/// checking in Redis's order: options, existing key, TTL, payload footer, body.
pub fn restore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if eq(args[j], "replace") {
            replace = true;
        } else if eq(args[j], "absttl") {
            absttl = true;
        } else if eq(args[j], "idletime") && more && freq.is_none() {
            let v = int_arg(args[j + 1])?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            idle = Some(v);
            j += 1;
        } else if eq(args[j], "freq") && more && idle.is_none() {
            let v = int_arg(args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(ERR_SYNTAX.into());
        }
        j += 1;
    }
    let (key, now) = (args[1], ctx.now_ms);
    if !replace && ctx.db().contains(key, now) {
        return Err("BUSYKEY Target key name already exists.".into());
    }
    let ttl = int_arg(args[2])?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let value = parse_payload(args[3]).map_err(|e| Reject::from(e.restore_error_text()))?;
    if value.is_empty() || invalid(&value).is_some() {
        return Err("ERR Bad data format".into());
    }
    let value = from_rdb(value, ctx.settings);
    let deleted = replace && ctx.db().remove(key).is_some();
    let expire_at = match ttl {
        0 => 0,
        t if absttl => t as u64,
        t => (now as i64).saturating_add(t) as u64,
    };
    // A TTL already in the past: the key is not created (a replica keeps it, as
    // its primary will send the DEL).
    if expire_at != 0 && expire_at <= now && !ctx.srv.repl.is_replica() {
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
        ctx.out.ok();
        return Ok(());
    }
    let lfu_policy = ctx.settings.policy.is_lfu();
    let lru = match (lfu_policy, freq, idle) {
        (true, Some(f), _) => (lfu::fresh(now) & !0xFF) | f as u32,
        (true, None, _) => lfu::fresh(now),
        (false, _, Some(i)) => (now / 1000).saturating_sub(i as u64) as u32,
        (false, _, None) => (now / 1000) as u32,
    };
    ctx.db().insert_entry(
        key,
        Entry {
            value,
            expire_at,
            lru,
        },
    );
    ctx.notify(Class::Generic, "restore", key);
    ctx.out.ok();
    Ok(())
}
