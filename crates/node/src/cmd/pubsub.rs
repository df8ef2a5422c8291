//! Pub/sub commands. Confirmations are push frames in RESP3 and plain arrays in
//! RESP2, as Redis sends them.

use super::*;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;

fn confirm(ctx: &mut Ctx, kind: &str, name: Option<&[u8]>) {
    let count = ctx.client.subscription_count();
    ctx.out.push(3);
    ctx.out.bulk(kind);
    match name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    ctx.out.int(count as i64);
}

fn sync_counts(ctx: &Ctx) {
    ctx.client
        .handle
        .subscriptions
        .store(ctx.client.channels.len(), Relaxed);
    ctx.client
        .handle
        .psubscriptions
        .store(ctx.client.patterns.len(), Relaxed);
}

fn subscribe_generic(ctx: &mut Ctx, args: &[&[u8]], patterns: bool) -> CmdResult {
    let handle = ctx.client.handle.clone();
    for name in &args[1..] {
        let added = if patterns {
            ctx.client.patterns.insert(Bytes::copy_from_slice(name))
        } else {
            ctx.client.channels.insert(Bytes::copy_from_slice(name))
        };
        if added {
            let mut ps = ctx.srv.pubsub.lock();
            if patterns {
                ps.psubscribe(name, &handle);
            } else {
                ps.subscribe(name, &handle);
            }
        }
        sync_counts(ctx);
        confirm(
            ctx,
            if patterns { "psubscribe" } else { "subscribe" },
            Some(name),
        );
    }
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx, args: &[&[u8]], patterns: bool) -> CmdResult {
    let kind = if patterns {
        "punsubscribe"
    } else {
        "unsubscribe"
    };
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect()
    } else if patterns {
        ctx.client.patterns.iter().cloned().collect()
    } else {
        ctx.client.channels.iter().cloned().collect()
    };
    if names.is_empty() {
        confirm(ctx, kind, None);
        return Ok(());
    }
    let id = ctx.client.handle.id;
    for name in names {
        let removed = if patterns {
            ctx.client.patterns.remove(&name)
        } else {
            ctx.client.channels.remove(&name)
        };
        if removed {
            let mut ps = ctx.srv.pubsub.lock();
            if patterns {
                ps.punsubscribe(&name, id);
            } else {
                ps.unsubscribe(&name, id);
            }
        }
        sync_counts(ctx);
        confirm(ctx, kind, Some(&name));
    }
    Ok(())
}

/// Drops every subscription without replying (RESET).
pub fn unsubscribe_all(ctx: &mut Ctx, patterns: bool) {
    let id = ctx.client.handle.id;
    let names: Vec<Bytes> = if patterns {
        ctx.client.patterns.drain().collect()
    } else {
        ctx.client.channels.drain().collect()
    };
    let mut ps = ctx.srv.pubsub.lock();
    for n in names {
        if patterns {
            ps.punsubscribe(&n, id);
        } else {
            ps.unsubscribe(&n, id);
        }
    }
    drop(ps);
    sync_counts(ctx);
}

pub fn subscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, args, false)
}
pub fn psubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, args, true)
}
pub fn unsubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, args, false)
}
pub fn punsubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, args, true)
}

pub fn publish(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let limit = ctx.settings.output_limits.pubsub;
    let me = ctx.client.handle.id;
    let (n, to_me) = ctx
        .srv
        .pubsub
        .lock()
        .publish(args[1], args[2], &limit, ctx.now_ms, me);
    for pattern in to_me {
        crate::connection::encode_message(ctx.out, pattern.as_deref(), args[1], args[2]);
    }
    ctx.out.int(n as i64);
    Ok(())
}

pub fn pubsub(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    if eq(sub, "help") {
        return super::server::help(
            ctx,
            "PUBSUB",
            &[
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
            ],
        );
    }
    if eq(sub, "channels") && args.len() > 3 {
        return Err(subcommand_error("PUBSUB", sub));
    }
    let ps = ctx.srv.pubsub.lock();
    if eq(sub, "channels") {
        let list = ps.channels(args.get(2).copied());
        drop(ps);
        ctx.out.array(list.len());
        for c in &list {
            ctx.out.bulk(c);
        }
    } else if eq(sub, "numsub") {
        let counts: Vec<usize> = args[2..].iter().map(|c| ps.numsub(c)).collect();
        drop(ps);
        ctx.out.array(counts.len() * 2);
        for (c, n) in args[2..].iter().zip(counts) {
            ctx.out.bulk(c);
            ctx.out.int(n as i64);
        }
    } else {
        let n = ps.numpat();
        drop(ps);
        ctx.out.int(n as i64);
    }
    Ok(())
}
