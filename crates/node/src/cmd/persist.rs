//! Persistence commands: SAVE, BGSAVE, LASTSAVE, DEBUG RELOAD, and the save that
//! SHUTDOWN does before the node stops.

use super::*;
use crate::dispatch::Reject;
use crate::persist::jobs::{self, BgsaveRefused};
use std::sync::atomic::Ordering::Relaxed;

const ERR_BGSAVE_RUNNING: &str = "ERR Background save already in progress";

pub fn save(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    if ctx.srv.persist.bgsave_running.load(Relaxed) {
        return Err(ERR_BGSAVE_RUNNING.into());
    }
    let (srv, settings, now) = (ctx.srv, ctx.settings, ctx.now_ms);
    let ks = ctx.ks();
    match jobs::save_sync(srv, ks, settings, now) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "SAVE failed");
            Err("ERR".into())
        }
    }
}

pub fn bgsave(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if eq(args[1], "schedule") => true,
        _ => return Err(ERR_SYNTAX.into()),
    };
    let state = &ctx.srv.persist;
    if state.bgsave_running.load(Relaxed) {
        if schedule {
            // Cron starts it as soon as the running one ends.
            state.bgsave_scheduled.store(true, Relaxed);
            ctx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(ERR_BGSAVE_RUNNING.into());
    }
    let (srv, settings, now) = (ctx.srv, ctx.settings, ctx.now_ms);
    let ks = ctx.ks();
    match jobs::bgsave(srv, ks, settings, now) {
        Ok(()) => {
            ctx.out.simple("Background saving started");
            Ok(())
        }
        Err(BgsaveRefused::AlreadyRunning) => Err(ERR_BGSAVE_RUNNING.into()),
        Err(BgsaveRefused::CannotSpawn) => Err("ERR".into()),
    }
}

pub fn lastsave(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let secs = ctx.srv.persist.last_save_secs.load(Relaxed);
    ctx.out.int(secs as i64);
    Ok(())
}

/// DEBUG RELOAD [NOSAVE]: save the dataset, then load it back from the file.
pub fn debug_reload(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut save = true;
    for a in &args[2..] {
        if eq(a, "nosave") {
            save = false;
        } else {
            return Err(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into(),
            );
        }
    }
    let (srv, settings, now) = (ctx.srv, ctx.settings, ctx.now_ms);
    let ks = ctx.ks();
    if save {
        if let Err(e) = jobs::save_sync(srv, ks, settings, now) {
            tracing::warn!(error = format!("{e:#}"), "DEBUG RELOAD: save failed");
            return Err("ERR".into());
        }
    }
    let path = crate::persist::file::dump_path(settings);
    let loaded = std::fs::File::open(&path)
        .map_err(anyhow::Error::from)
        .and_then(|f| {
            crate::persist::read_rdb(std::io::BufReader::new(f), ks.dbs.len(), settings, now)
        });
    match loaded {
        Ok((fresh, _)) => {
            crate::persist::install(ks, fresh);
            srv.persist.dirty_at_save.store(ks.dirty(), Relaxed);
            ctx.out.ok();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "DEBUG RELOAD: load failed");
            Err("ERR Error trying to load the RDB dump, check server logs.".into())
        }
    }
}

/// SHUTDOWN's save: with SAVE, or without NOSAVE when `save` points are
/// configured. A failed save stops the shutdown unless FORCE, as in Redis.
pub fn before_shutdown(ctx: &mut Ctx, save: bool, nosave: bool, force: bool) -> CmdResult {
    let state = ctx.srv.persist.clone();
    let wanted = save || (!nosave && !ctx.settings.save_points.is_empty());
    if wanted {
        let (srv, settings, now) = (ctx.srv, ctx.settings, ctx.now_ms);
        let ks = ctx.ks();
        if let Err(e) = jobs::save_sync(srv, ks, settings, now) {
            tracing::warn!(
                error = format!("{e:#}"),
                "error trying to save the DB before shutdown"
            );
            if !force {
                return Err(Reject::from("ERR Errors trying to SHUTDOWN. Check logs."));
            }
        }
    }
    state.shutdown_handled.store(true, Relaxed);
    Ok(())
}
