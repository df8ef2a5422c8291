//! Running saves and loads: SAVE (in the caller), BGSAVE (snapshot under the
//! lock, serialisation on its own thread), the `save` schedule from cron, the
//! save at exit, and the load at start. Also the INFO persistence section.

use super::file::{dump_path, write_atomic};
use super::load::{install, read_rdb};
use super::snapshot::{take, write_rdb, Aux, Meta, Snapshot};
use super::State;
use crate::config::Settings;
use crate::evict::Policy;
use crate::server::{unix_ms, Shared};
use anyhow::Context;
use ferrocache_keyspace::Keyspace;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// After a failed scheduled save, wait this long before the schedule tries again
/// (Redis's CONFIG_BGSAVE_RETRY_DELAY), so a full disk is not hammered.
const RETRY_DELAY_MS: u64 = 5000;

/// Which per-key metadata a file gets under the current maxmemory policy.
pub fn meta(settings: &Settings) -> Meta {
    match settings.policy {
        Policy::AllKeysLru | Policy::VolatileLru => Meta::Lru,
        p if p.is_lfu() => Meta::Lfu(settings.lfu),
        _ => Meta::None,
    }
}

/// The aux fields for a file of the data as it is now. Call with the keyspace
/// locked, so the replication offset matches the snapshot (lock order: keyspace,
/// then replication).
pub fn aux_now(srv: &Shared, settings: &Settings) -> Aux {
    let repl = srv.repl.lock();
    Aux {
        repl_id: repl.replid.clone(),
        repl_offset: repl.offset(),
        repl_stream_db: repl.stream_db_at_end() as u32,
        used_mem: crate::alloc::allocated().unwrap_or(0) as u64,
        ctime_secs: (unix_ms() / 1000) as i64,
        compress: settings.rdbcompression,
        meta: meta(settings),
    }
}

/// A snapshot ready to be written, with what its success will record.
struct Job {
    snap: Snapshot,
    aux: Aux,
    path: PathBuf,
    seq: u64,
    dirty: u64,
}

fn prepare(srv: &Shared, ks: &Keyspace, settings: &Settings, now_ms: u64) -> Job {
    let seq = srv.persist.snapshot_seq.fetch_add(1, Relaxed) + 1;
    Job {
        snap: take(srv, ks, now_ms),
        aux: aux_now(srv, settings),
        path: dump_path(settings),
        seq,
        dirty: ks.dirty(),
    }
}

impl Job {
    /// Writes the file unless a newer snapshot was written meanwhile.
    fn write(&self, state: &State) -> anyhow::Result<()> {
        let mut newest = state.file.lock();
        if *newest > self.seq {
            return Ok(());
        }
        write_atomic(&self.path, |out| write_rdb(&self.snap, out, &self.aux))?;
        *newest = self.seq;
        Ok(())
    }

    fn record_success(&self, state: &State) {
        state.last_save_secs.store(unix_ms() / 1000, Relaxed);
        state.dirty_at_save.store(self.dirty, Relaxed);
        state.saves.fetch_add(1, Relaxed);
    }
}

/// SAVE: snapshot and write in the caller, which holds the keyspace lock (Redis's
/// SAVE blocks every client too).
pub fn save_sync(
    srv: &Shared,
    ks: &Keyspace,
    settings: &Settings,
    now_ms: u64,
) -> anyhow::Result<()> {
    let job = prepare(srv, ks, settings, now_ms);
    let started = Instant::now();
    srv.persist.last_try_ms.store(now_ms, Relaxed);
    job.write(&srv.persist)
        .with_context(|| format!("saving {}", job.path.display()))?;
    job.record_success(&srv.persist);
    srv.persist.last_bgsave_ok.store(true, Relaxed);
    tracing::info!(
        keys = job.snap.keys(),
        ms = started.elapsed().as_millis() as u64,
        "DB saved on disk"
    );
    Ok(())
}

/// Why a BGSAVE could not start.
#[derive(Debug, PartialEq, Eq)]
pub enum BgsaveRefused {
    AlreadyRunning,
    CannotSpawn,
}

/// BGSAVE: the snapshot is taken here (keyspace locked by the caller) and written
/// by a thread of its own, so clients keep being served meanwhile.
pub fn bgsave(
    srv: &Shared,
    ks: &Keyspace,
    settings: &Settings,
    now_ms: u64,
) -> Result<(), BgsaveRefused> {
    let state = srv.persist.clone();
    if state.bgsave_running.swap(true, Relaxed) {
        return Err(BgsaveRefused::AlreadyRunning);
    }
    let t0 = Instant::now();
    let job = prepare(srv, ks, settings, now_ms);
    let stall = t0.elapsed();
    state.bgsave_started_ms.store(now_ms, Relaxed);
    state.last_try_ms.store(now_ms, Relaxed);
    tracing::info!(
        keys = job.snap.keys(),
        snapshot_us = stall.as_micros() as u64,
        "Background saving started"
    );
    let thread_state = state.clone();
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let state = thread_state;
            let started = Instant::now();
            let result = job.write(&state);
            let secs = started.elapsed().as_secs_f64();
            match &result {
                Ok(()) => {
                    job.record_success(&state);
                    tracing::info!(
                        keys = job.snap.keys(),
                        secs,
                        "Background saving terminated with success"
                    );
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "Background saving error"),
            }
            state.last_bgsave_ok.store(result.is_ok(), Relaxed);
            // Whole seconds between start and end, as Redis counts them.
            let start_secs = state.bgsave_started_ms.load(Relaxed) / 1000;
            let took = (unix_ms() / 1000).saturating_sub(start_secs);
            state.last_bgsave_secs.store(took as i64, Relaxed);
            // Free the snapshot here, not on the event loop.
            drop(job);
            state.bgsave_running.store(false, Relaxed);
        });
    if spawned.is_err() {
        state.bgsave_running.store(false, Relaxed);
        return Err(BgsaveRefused::CannotSpawn);
    }
    Ok(())
}

/// From cron: starts a scheduled BGSAVE, or one the `save` points call for
/// ("after N seconds if at least M changes").
pub fn cron(srv: &Shared) {
    let state = &srv.persist;
    if state.bgsave_running.load(Relaxed) {
        return;
    }
    let settings = srv.settings();
    let scheduled = state.bgsave_scheduled.load(Relaxed);
    if !scheduled && settings.save_points.is_empty() {
        return;
    }
    let now = unix_ms();
    let ks = crate::dispatch::lock_keyspace(srv, &settings);
    let reason = if scheduled {
        Some("Scheduled background save".to_string())
    } else {
        let changes = ks.dirty().saturating_sub(state.dirty_at_save.load(Relaxed));
        let since = (now / 1000).saturating_sub(state.last_save_secs.load(Relaxed));
        let may_retry = state.last_bgsave_ok.load(Relaxed)
            || now.saturating_sub(state.last_try_ms.load(Relaxed)) >= RETRY_DELAY_MS;
        settings
            .save_points
            .iter()
            .find(|(secs, min_changes)| may_retry && changes >= *min_changes && since > *secs)
            .map(|(secs, _)| format!("{changes} changes in {secs} seconds"))
    };
    if let Some(reason) = reason {
        state.bgsave_scheduled.store(false, Relaxed);
        tracing::info!("{reason}. Saving...");
        let _ = bgsave(srv, &ks, &settings, now);
    }
}

/// When the node stops without SHUTDOWN having decided (SIGTERM): save if `save`
/// points are configured, as Redis does.
pub fn save_on_exit(srv: &Shared) {
    if srv.persist.shutdown_handled.load(Relaxed) {
        return;
    }
    let settings = srv.settings();
    if settings.save_points.is_empty() {
        return;
    }
    let ks = crate::dispatch::lock_keyspace(srv, &settings);
    tracing::info!("saving the final RDB snapshot before exiting");
    if let Err(e) = save_sync(srv, &ks, &settings, unix_ms()) {
        tracing::error!(
            error = format!("{e:#}"),
            "error trying to save the DB at exit"
        );
    }
}

/// Loads `dir`/`dbfilename` if it exists, before the node serves anyone. A file
/// that cannot be loaded is an error: the node must not start with data silently
/// missing (Redis exits too).
pub fn load_at_start(srv: &Shared) -> anyhow::Result<()> {
    let settings = srv.settings();
    let path = dump_path(&settings);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let started = Instant::now();
    let now = unix_ms();
    let (fresh, info) = read_rdb(
        std::io::BufReader::with_capacity(1 << 20, file),
        settings.databases,
        &settings,
        now,
    )
    .with_context(|| {
        format!(
            "cannot load {}: the file is corrupt, truncated or not an RDB file \
             (move it away to start with an empty dataset)",
            path.display()
        )
    })?;
    let mut ks = srv.keyspace.lock();
    install(&mut ks, fresh);
    let state = &srv.persist;
    state.dirty_at_save.store(ks.dirty(), Relaxed);
    state.last_load_keys.store(info.keys, Relaxed);
    state.last_load_expired.store(info.expired_skipped, Relaxed);
    if let (Some(id), Some(off)) = (&info.repl_id, info.repl_offset) {
        *state.loaded_repl.lock() = Some((id.clone(), off));
        let db = info.repl_stream_db.unwrap_or(0);
        srv.repl
            .lock()
            .restore_history(id, off, db, settings.databases);
    }
    tracing::info!(
        keys = info.keys,
        expired_skipped = info.expired_skipped,
        secs = started.elapsed().as_secs_f64(),
        "DB loaded from {}",
        path.display()
    );
    Ok(())
}

/// INFO's Persistence section, in Redis 7.0's field order.
pub fn info(srv: &Shared, ks: &Keyspace, o: &mut String) {
    let s = &srv.persist;
    let running = s.bgsave_running.load(Relaxed);
    let current = if running {
        (unix_ms().saturating_sub(s.bgsave_started_ms.load(Relaxed)) / 1000) as i64
    } else {
        -1
    };
    let changes = ks.dirty().saturating_sub(s.dirty_at_save.load(Relaxed));
    let _ = write!(
        o,
        "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{changes}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        u8::from(running),
        s.last_save_secs.load(Relaxed),
        if s.last_bgsave_ok.load(Relaxed) { "ok" } else { "err" },
        s.last_bgsave_secs.load(Relaxed),
        s.saves.load(Relaxed),
        s.last_load_expired.load(Relaxed),
        s.last_load_keys.load(Relaxed),
    );
    crate::aof::info_status(srv, o);
    o.push_str("module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    crate::aof::info_sizes(srv, o);
}
