//! MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis's semantics: a command rejected
//! while queueing aborts EXEC (EXECABORT); errors inside EXEC do not stop the rest;
//! a watched key touched by anyone (or expired) makes EXEC return nil.

use super::*;
use crate::dispatch::{self, Flow};
use std::sync::atomic::Ordering::Relaxed;

pub fn multi(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    dispatch::begin_multi(ctx.client);
    ctx.client.handle.multi.store(1, Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Leaves MULTI state without replying.
pub fn discard_state(ctx: &mut Ctx) {
    ctx.client.multi = None;
    ctx.client.handle.multi.store(0, Relaxed);
}

pub fn unwatch_all(ctx: &mut Ctx) {
    if ctx.client.watched.is_empty() {
        ctx.client.watch_flag.clear();
        return;
    }
    let watched = std::mem::take(&mut ctx.client.watched);
    let flag = ctx.client.watch_flag.clone();
    let ks = ctx.ks();
    for (db, key, _) in &watched {
        ks.dbs[*db].unwatch(key, &flag);
    }
    ctx.client.watch_flag.clear();
}

pub fn discard(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    discard_state(ctx);
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

pub fn watch(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let db = ctx.client.db;
    let flag = ctx.client.watch_flag.clone();
    let now = ctx.now_ms;
    for key in &args[1..] {
        if ctx
            .client
            .watched
            .iter()
            .any(|(d, k, _)| *d == db && &k[..] == *key)
        {
            continue;
        }
        let ks = ctx.ks();
        let expired = ks.dbs[db].is_logically_expired(key, now);
        ks.dbs[db].watch(key, &flag);
        ctx.client.watched.push((db, (*key).into(), expired));
    }
    ctx.out.ok();
    Ok(())
}

pub fn unwatch(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

/// Whether a watched key changed, or expired since it was watched.
fn watch_broken(ctx: &mut Ctx) -> bool {
    if ctx.client.watch_flag.is_set() {
        return true;
    }
    let now = ctx.now_ms;
    let watched = std::mem::take(&mut ctx.client.watched);
    let ks = ctx.ks();
    let expired = watched
        .iter()
        .any(|(db, key, was_expired)| !was_expired && ks.dbs[*db].is_logically_expired(key, now));
    ctx.client.watched = watched;
    expired
}

pub fn exec(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err("ERR EXEC without MULTI".into());
    };
    ctx.client.handle.multi.store(0, Relaxed);
    if multi.aborted {
        unwatch_all(ctx);
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    if watch_broken(ctx) {
        unwatch_all(ctx);
        ctx.out.null_array();
        return Ok(());
    }
    unwatch_all(ctx);
    ctx.out.array(multi.queued.len());
    ctx.client.in_exec = true;
    let recording = ctx.srv.repl.is_active();
    if recording {
        ctx.srv.repl.lock().begin_exec();
    }
    for argv in &multi.queued {
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        match dispatch::resolve_queued(&args) {
            Some((cmd, stat)) => {
                let flow = dispatch::run(
                    ctx.srv,
                    &mut *ctx.guard,
                    &mut *ctx.client,
                    &mut *ctx.out,
                    ctx.settings,
                    cmd,
                    stat,
                    &args,
                    &mut *ctx.clock,
                );
                if flow == Flow::Close {
                    ctx.flow = Flow::Close;
                }
            }
            None => ctx.out.error("ERR unknown command"),
        }
    }
    ctx.client.in_exec = false;
    if recording {
        ctx.srv.repl.lock().end_exec();
    }
    Ok(())
}
