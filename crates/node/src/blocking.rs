//! Blocking commands (BLPOP, BZPOPMIN …): clients waiting on keys, served first
//! come, first served when a write makes one of their keys ready.

use crate::dispatch::Ctx;

/// Registers the client as blocked (see `Ctx::block`).
pub fn block(ctx: &mut Ctx, keys: &[&[u8]], timeout_ms: Option<u64>) -> bool {
    let _ = (ctx, keys, timeout_ms);
    false
}
