//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET.

use super::*;
use crate::client::ReplyMode;
use crate::dispatch::{Flow, Reject};
use ferrocache_resp::Protocol;
use std::sync::atomic::Ordering::Relaxed;

pub fn ping(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 2 {
        return Err("ERR wrong number of arguments for 'ping' command".into());
    }
    if ctx.client.subscription_count() > 0 && !ctx.out.is_resp3() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).copied().unwrap_or(b""));
    } else if let Some(msg) = args.get(1) {
        ctx.out.bulk(msg);
    } else {
        ctx.out.simple("PONG");
    }
    Ok(())
}

pub fn echo(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ctx.out.bulk(args[1]);
    Ok(())
}

pub fn quit(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    ctx.out.ok();
    ctx.flow = Flow::Close;
    Ok(())
}

pub fn select(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let db = db_arg(args[1], ctx.settings.databases, ERR_NOT_INT)?;
    ctx.client.db = db;
    ctx.client.handle.db.store(db as u32, Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Checks a password for a user; only the `default` user exists.
fn check_password(ctx: &Ctx, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    // A connection handed over by the gateway also takes the cache's access keys.
    let keys = adopted_keys(ctx);
    match &ctx.settings.requirepass {
        None if keys.is_empty() => true,
        rp => {
            rp.as_ref().is_some_and(|p| p.as_slice() == pass)
                || keys.iter().any(|k| k.as_bytes() == pass)
        }
    }
}

fn adopted_keys<'a>(ctx: &'a Ctx) -> &'a [String] {
    ctx.client
        .adopted
        .as_ref()
        .map(|a| a.keys.as_slice())
        .unwrap_or_default()
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

pub fn auth(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(ERR_SYNTAX.into());
    }
    let (user, pass) = if args.len() == 3 {
        (args[1], args[2])
    } else {
        (&b"default"[..], args[1])
    };
    if args.len() == 2 && ctx.settings.requirepass.is_none() && adopted_keys(ctx).is_empty() {
        return Err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into());
    }
    if !check_password(ctx, user, pass) {
        return Err(WRONGPASS.into());
    }
    ctx.client.authenticated = true;
    ctx.out.ok();
    Ok(())
}

pub fn hello(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if let Some(v) = args.get(1) {
        let v = ferrocache_keyspace::parse_i64(v).ok_or(Reject::from(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        if !(2..=3).contains(&v) {
            return Err("NOPROTO unsupported protocol version".into());
        }
        proto = Some(v);
        i = 2;
    }
    let mut auth = None;
    let mut name = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq(args[i], "auth") && more >= 2 {
            auth = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if eq(args[i], "setname") && more >= 1 {
            name = Some(args[i + 1]);
            i += 2;
        } else {
            return Err(format!("ERR Syntax error in HELLO option '{}'", lossy(args[i])).into());
        }
    }
    if let Some((user, pass)) = auth {
        if !check_password(ctx, user, pass) {
            return Err(WRONGPASS.into());
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some(n) = name {
        super::client::validate_name(n)?;
        *ctx.client.handle.name.lock() =
            Some(bytes::Bytes::copy_from_slice(n)).filter(|n| !n.is_empty());
    }
    if let Some(p) = proto {
        ctx.out.proto = if p == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        ctx.client.handle.resp.store(p as u32, Relaxed);
    }
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::info::REDIS_VERSION);
    out.bulk(b"proto");
    out.int(if out.is_resp3() { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.handle.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

pub fn reset(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    super::transactions::discard_state(ctx);
    super::transactions::unwatch_all(ctx);
    super::pubsub::unsubscribe_all(ctx, false);
    super::pubsub::unsubscribe_all(ctx, true);
    ctx.client.db = 0;
    ctx.client.handle.db.store(0, Relaxed);
    ctx.client.reply_mode = ReplyMode::On;
    ctx.client.authenticated = ctx.settings.requirepass.is_none();
    *ctx.client.handle.name.lock() = None;
    ctx.client.handle.no_evict.store(false, Relaxed);
    ctx.out.proto = Protocol::Resp2;
    ctx.client.handle.resp.store(2, Relaxed);
    ctx.out.simple("RESET");
    Ok(())
}
