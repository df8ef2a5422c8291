//! The node's periodic work (Redis's serverCron at `hz`): active expiry of keys
//! nobody reads, idle-client timeouts and pub/sub soft output limits.

use crate::server::{unix_ms, Shared};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(srv: Arc<Shared>) {
    let mut last_clients_check = Instant::now();
    let mut ops_samples = std::collections::VecDeque::new();
    loop {
        let hz = srv.settings().hz.clamp(1, 500) as u64;
        tokio::select! {
            _ = srv.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(1000 / hz)) => {}
        }
        // Under CLIENT PAUSE the dataset must not change, expiry included.
        sample_ops(&srv, &mut ops_samples);
        let paused = srv.pause.is_set() && srv.pause.current(unix_ms()).is_some();
        // A replica deletes expired keys only when its primary says so (a DEL in the
        // stream), so that it stays an exact copy.
        if srv.active_expire.load(Relaxed) && !paused && !srv.repl.is_replica() {
            expire_cycle(&srv, hz);
        }
        crate::persist::jobs::cron(&srv);
        crate::repl::cron(&srv);
        if last_clients_check.elapsed() >= Duration::from_secs(1) {
            last_clients_check = Instant::now();
            check_clients(&srv);
        }
    }
}

/// Sweeps keys with a TTL so that every one is looked at about once a second
/// (expired keys go within a second even if nobody reads them), in chunks with the
/// lock released between them, spending at most a quarter of each tick.
fn expire_cycle(srv: &Shared, hz: u64) {
    const CHUNK: usize = 1000;
    let start = Instant::now();
    let budget = Duration::from_millis(250 / hz);
    let with_ttl: usize = srv
        .keyspace
        .lock()
        .dbs
        .iter()
        .map(|d| d.expires_len())
        .sum();
    if with_ttl == 0 {
        return;
    }
    let mut to_examine = with_ttl / hz as usize + 100;
    while to_examine > 0 && start.elapsed() < budget {
        let settings = srv.settings();
        let mut ks = crate::dispatch::lock_keyspace(srv, &settings);
        ks.sweep_expired(unix_ms(), CHUNK, |_, _| {});
        crate::repl::record::record_expired(srv, &mut ks);
        crate::notify::publish_recorded(srv, &settings, &mut ks, None, 0, unix_ms());
        to_examine = to_examine.saturating_sub(CHUNK);
    }
}

/// Keeps about a second of (time, commands processed) samples for INFO's
/// instantaneous_ops_per_sec.
fn sample_ops(srv: &Shared, samples: &mut std::collections::VecDeque<(Instant, u64)>) {
    let now = Instant::now();
    samples.push_back((now, srv.stats.commands_processed()));
    while samples.len() > 2 && now.duration_since(samples[0].0) > Duration::from_secs(1) {
        samples.pop_front();
    }
    if let (Some(first), Some(last)) = (samples.front(), samples.back()) {
        let secs = last.0.duration_since(first.0).as_secs_f64();
        if secs > 0.0 {
            let ops = (last.1 - first.1) as f64 / secs;
            srv.stats.instantaneous_ops.store(ops as u64, Relaxed);
        }
    }
}

fn check_clients(srv: &Shared) {
    let settings = srv.settings();
    let now = unix_ms();
    let idle_limit = settings.timeout_secs * 1000;
    let soft = settings.output_limits.pubsub;
    for c in srv.clients.all() {
        let limit = match c.idle_timeout_ms.load(Relaxed) {
            u64::MAX => idle_limit,
            own => own,
        };
        if limit > 0
            && !c.is_pubsub()
            && !c.blocked.load(Relaxed)
            && now.saturating_sub(c.last_interaction_ms.load(Relaxed)) > limit
        {
            tracing::debug!(client = c.id, "idle timeout");
            c.request_kill();
        }
        let since = c.soft_limit_since_ms.load(Relaxed);
        if soft.soft > 0 && since != 0 && now.saturating_sub(since) >= soft.soft_seconds * 1000 {
            c.request_kill();
        }
    }
}
