//! BGREWRITEAOF: a new AOF base written off the event loop while clients keep
//! being served (see `aof::writer`).

use super::*;
use crate::aof::RewriteRefused;
use std::sync::atomic::Ordering::Relaxed;

pub fn bgrewriteaof(ctx: &mut Ctx, _: &[&[u8]]) -> CmdResult {
    let srv = ctx.srv;
    if srv.aof.is_enabled() {
        return match srv.aof.request_rewrite() {
            Ok(()) => {
                ctx.out
                    .simple("Background append only file rewriting started");
                Ok(())
            }
            Err(RewriteRefused::AlreadyRunning) => {
                Err("ERR Background append only file rewriting already in progress".into())
            }
        };
    }
    // appendonly no: Redis still writes a complete AOF directory; here on a
    // blocking thread, so clients keep being served.
    let stats = &srv.aof.stats;
    if stats.rewrite_in_progress.swap(true, Relaxed) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    let Some(shared) = srv.self_arc() else {
        stats.rewrite_in_progress.store(false, Relaxed);
        return Err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into());
    };
    stats
        .rewrite_started_ms
        .store(crate::server::unix_ms(), Relaxed);
    tokio::task::spawn_blocking(move || crate::aof::rewrite_offline(&shared));
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}
