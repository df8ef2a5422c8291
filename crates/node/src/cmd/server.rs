//! Server commands: INFO, CONFIG, TIME, SHUTDOWN, DEBUG, MEMORY, OBJECT, LASTSAVE,
//! and the HELP reply shape they share.

use super::*;
use crate::dispatch::{Flow, Reject};
use crate::server::unix_us;
use ferrocache_keyspace::Value;

/// The reply of `<CMD> HELP`: status lines, as Redis's addReplyHelp.
pub fn help(ctx: &mut Ctx, name: &str, lines: &[&str]) -> CmdResult {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Print this help.");
    Ok(())
}

pub fn info(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sections: Vec<String> = args[1..]
        .iter()
        .map(|a| lossy(a).to_ascii_lowercase())
        .collect();
    let srv = ctx.srv;
    let ks = ctx.ks();
    let text = crate::info::render(srv, ks, &sections);
    ctx.out.verbatim(text);
    Ok(())
}

pub fn config(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"get" => {
            let config = ctx.srv.config();
            let mut pairs: Vec<(String, String)> = Vec::new();
            for pattern in &args[2..] {
                // A plain name is looked up directly and echoed as typed, as Redis does;
                // a glob is matched against every option.
                if !pattern.iter().any(|c| b"*?[\\".contains(c)) {
                    let name = lossy(pattern);
                    if let Some(value) = config.get(&name) {
                        if !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                            let shown = crate::config::Config::display(&name, value);
                            pairs.push((name, shown));
                        }
                    }
                    continue;
                }
                for (name, value) in config.matching(pattern) {
                    if !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                        pairs.push((
                            name.to_string(),
                            crate::config::Config::display(name, value),
                        ));
                    }
                }
            }
            drop(config);
            ctx.out.map(pairs.len());
            for (n, v) in pairs {
                ctx.out.bulk(n);
                ctx.out.bulk(v);
            }
        }
        b"set" => {
            if args.len() < 4 || !args.len().is_multiple_of(2) {
                return Err("ERR wrong number of arguments for 'config|set' command".into());
            }
            let pairs: Vec<(String, String)> = args[2..]
                .chunks(2)
                .map(|p| (lossy(p[0]).to_ascii_lowercase(), lossy(p[1])))
                .collect();
            for (i, (n, _)) in pairs.iter().enumerate() {
                if pairs[..i].iter().any(|(m, _)| m == n) {
                    return Err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{n}') - duplicate parameter"
                    )
                    .into());
                }
            }
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            ctx.srv
                .update_config(|c| c.set_many(&refs, true))
                .map_err(|e| Reject::from(e.to_string()))?;
            crate::aof::config_changed(ctx.srv);
            ctx.out.ok();
        }
        b"resetstat" => {
            ctx.srv.stats.reset();
            let ks = ctx.ks();
            ks.stats = Default::default();
            ks.dbs.iter_mut().for_each(|d| {
                d.expired_count = 0;
                d.hits = 0;
                d.misses = 0;
            });
            ctx.out.ok();
        }
        _ => {
            return help(
                ctx,
                "CONFIG",
                &[
                    "GET <pattern>",
                    "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>",
                    "    Set the configuration <directive> to <value>.",
                    "RESETSTAT",
                    "    Reset statistics reported by the INFO command.",
                    "REWRITE",
                    "    Rewrite the configuration file.",
                ],
            )
        }
    }
    Ok(())
}

pub fn time(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let us = unix_us();
    ctx.out.array(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

pub fn shutdown(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (mut abort, mut save, mut nosave, mut other) = (false, false, false, false);
    let mut force = false;
    for a in &args[1..] {
        if eq(a, "abort") {
            abort = true;
        } else if eq(a, "nosave") {
            nosave = true;
        } else if eq(a, "save") {
            save = true;
        } else if eq(a, "now") || eq(a, "force") {
            force |= eq(a, "force");
            other = true;
        } else {
            return Err(ERR_SYNTAX.into());
        }
    }
    if (save && nosave) || (abort && (save || nosave || other)) {
        return Err(ERR_SYNTAX.into());
    }
    if abort {
        return Err("ERR No shutdown in progress.".into());
    }
    super::persist::before_shutdown(ctx, save, nosave, force)?;
    tracing::info!("SHUTDOWN requested by client {}", ctx.client.handle.id);
    ctx.srv.shutdown.cancel();
    ctx.flow = Flow::Close;
    Ok(())
}

pub fn debug(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"sleep" if args.len() == 3 => {
            let secs = float_arg(args[2]).filter(|s| *s >= 0.0).ok_or(Reject::from(ERR_NOT_FLOAT))?;
            ctx.flow = Flow::Sleep((secs * 1000.0) as u64);
            ctx.out.ok();
        }
        b"set-active-expire" if args.len() == 3 => {
            let on = int_arg(args[2])? != 0;
            ctx.srv.active_expire.store(on, std::sync::atomic::Ordering::Relaxed);
            ctx.out.ok();
        }
        b"object" if args.len() == 3 => {
            let now = ctx.now_ms;
            let Some(e) = ctx.db().peek(args[2], now) else {
                return Err(ERR_NO_SUCH_KEY.into());
            };
            let text = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.value.encoding(),
                e.value.str_len(),
                e.lru,
                (now / 1000).saturating_sub(e.lru as u64)
            );
            ctx.out.simple(text);
        }
        b"reload" => return super::persist::debug_reload(ctx, args),
        b"help" => {
            return help(
                ctx,
                "DEBUG",
                &[
                    "OBJECT <key>",
                    "    Show low level info about the key and associated value.",
                    "RELOAD [NOSAVE]",
                    "    Save the RDB on disk and reload it back to memory.",
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                    "SLEEP <seconds>",
                    "    Stop the server for <seconds>. Decimals allowed.",
                ],
            )
        }
        _ => return Err(subcommand_error("DEBUG", args[1])),
    }
    Ok(())
}

pub fn memory(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if eq(args[1], "usage") {
        if args.len() != 3 && !(args.len() == 5 && eq(args[3], "samples")) {
            return Err(ERR_SYNTAX.into());
        }
        if args.len() == 5 {
            int_arg(args[4])?;
        }
        let now = ctx.now_ms;
        let key_len = args[2].len();
        match ctx.db().peek(args[2], now) {
            // Entry overhead (map slot, header) plus key and value storage, rounded
            // to allocator size classes like Redis's estimate.
            Some(e) => {
                let usage = 56 + alloc_size(key_len) + alloc_size(e.value.heap_size());
                ctx.out.int(usage as i64);
            }
            None => ctx.out.null(),
        }
        return Ok(());
    }
    help(
        ctx,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

/// Rounds a request up to the malloc size class it really occupies.
fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else if n <= 8 {
        8
    } else if n <= 128 {
        n.div_ceil(16) * 16
    } else {
        n.next_power_of_two()
    }
}

const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

pub fn object(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    if sub == b"help" {
        return help(
            ctx,
            "OBJECT",
            &[
                "ENCODING <key>",
                "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "FREQ <key>",
                "    Return the access frequency index of the <key>. The returned integer is",
                "    proportional to the logarithm of the recent access frequency of the key.",
                "IDLETIME <key>",
                "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>",
                "    Return the number of references of the value associated with the specified",
                "    <key>.",
            ],
        );
    }
    let lfu = ctx.settings.maxmemory_policy.contains("lfu");
    let lru = ctx.settings.maxmemory_policy.contains("lru");
    let now = ctx.now_ms;
    let Some(e) = ctx.db().peek(args[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    match sub.as_slice() {
        b"encoding" => {
            let enc = e.value.encoding();
            ctx.out.bulk(enc);
        }
        b"idletime" => {
            if lfu {
                return Err(LFU_SELECTED.into());
            }
            let idle = (now / 1000).saturating_sub(e.lru as u64);
            ctx.out.int(idle as i64);
        }
        b"freq" => {
            if !lfu {
                return Err(LFU_NOT_SELECTED.into());
            }
            let freq = ferrocache_keyspace::lfu::counter(e.lru, now, ctx.settings.lfu);
            ctx.out.int(freq as i64);
        }
        _ => {
            // Small integers are shared objects in Redis unless an LRU/LFU policy needs
            // per-key metadata; REFCOUNT reports that.
            let shared =
                matches!(e.value, Value::Int(i) if (0..10_000).contains(&i)) && !lru && !lfu;
            ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
        }
    }
    Ok(())
}
