//! The idle PING: a connection that has moved no byte for `idle_ping_interval` gets a
//! PING, so the server's idle timeout (10 minutes) never closes it and a dead peer is
//! found while idle rather than by the next real command.

use crate::core::Core;
use crate::exec::Request;
use crate::stats::Counters;
use std::sync::Arc;
use std::time::Instant;

/// Runs until the client is dropped.
pub(crate) async fn run(core: Arc<Core>) {
    let Some(idle) = core.opts.idle_ping_interval else {
        return;
    };
    let ping = redis::cmd("PING");
    loop {
        let due = match core.live_now() {
            Some(c) => c.io.last_io() + idle,
            None => Instant::now() + idle,
        };
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = core.cancel.cancelled() => return,
        }
        let Some(c) = core.live_now() else { continue };
        if c.io.last_io().elapsed() < idle {
            continue;
        }
        Counters::inc(&core.stats.idle_pings);
        // Through the normal path: a PING that times out applies the dead-connection
        // rule like any command.
        if let Err(e) = core.execute_internal(Request::Single(&ping)).await {
            tracing::debug!(error = %e, "idle PING failed");
        }
    }
}
