//! The append-only file, in Redis 7's multi-part layout (`dir`/`appenddirname`:
//! an RDB base, incremental command files, a manifest), so `redis-server` can load
//! what ferrocache writes and the other way round.
//!
//! The AOF is one more consumer of the replication stream (`repl::backlog`): the
//! writer follows it from an offset exactly as a replica's feeder does, so what a
//! replica receives and what the AOF records can never disagree.
//!
//! - `manifest`: file names and the manifest's text format;
//! - `writer`: the task that follows the stream and keeps its data commands;
//! - `append`: appending them to the incremental file and fsyncing it (always /
//!   everysec / no, group commit);
//! - `rewrite`: a new RDB base off the event loop while the writer runs, then the
//!   manifest switch;
//! - `files`: what the writer starts with, and a fresh AOF written synchronously;
//! - `load`: recovery at start (base, then the incremental files replayed through
//!   dispatch), tolerating a truncated tail and refusing corruption;
//! - `reader`: files of commands read in bounded chunks for `load`;
//! - `history`: the replication history the AOF ends at, recorded at a clean stop
//!   so that a restarted replica resyncs partially.

mod append;
mod files;
mod history;
mod load;
mod manifest;
mod reader;
mod rewrite;
mod writer;

pub use load::load_at_start;

use crate::clients::ClientHandle;
use crate::config::{AofFsync, Settings};
use crate::server::{unix_ms, Shared};
use parking_lot::Mutex;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The AOF's state, shared by the writer task, connections (the durability wait),
/// BGREWRITEAOF and INFO.
pub struct Aof {
    /// `appendonly` is on and a writer runs (INFO aof_enabled).
    enabled: AtomicBool,
    /// The manifest on disk names a base and the file the writer appends to: what
    /// is fsynced now survives a crash. (Off while the first base of a runtime
    /// `CONFIG SET appendonly yes` is being written, as Redis's WAIT_REWRITE.)
    on: AtomicBool,
    /// The stream offset up to which the AOF is fsynced (u64::MAX releases every
    /// waiter when the writer stops).
    synced: watch::Sender<u64>,
    control: Mutex<Option<Control>>,
    pub stats: Stats,
}

/// INFO persistence's aof_* counters.
#[derive(Default)]
pub struct Stats {
    pub rewrite_in_progress: AtomicBool,
    pub rewrite_scheduled: AtomicBool,
    pub rewrite_started_ms: AtomicU64,
    /// Whole seconds the last rewrite took (-1 before any).
    pub last_rewrite_secs: AtomicI64,
    pub last_rewrite_failed: AtomicBool,
    pub rewrites: AtomicU64,
    pub consecutive_failures: AtomicU64,
    pub last_write_failed: AtomicBool,
    /// Bytes of the base plus the incremental files.
    pub current_size: AtomicU64,
    /// `current_size` when the last rewrite finished (auto-aof-rewrite compares with it).
    pub base_size: AtomicU64,
}

/// How to reach the running writer.
struct Control {
    rewrite: mpsc::UnboundedSender<()>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Default for Aof {
    fn default() -> Self {
        let stats = Stats::default();
        stats.last_rewrite_secs.store(-1, Relaxed);
        Aof {
            enabled: AtomicBool::new(false),
            on: AtomicBool::new(false),
            synced: watch::Sender::new(0),
            control: Mutex::new(None),
            stats,
        }
    }
}

/// Why BGREWRITEAOF could not start one.
#[derive(Debug, PartialEq, Eq)]
pub enum RewriteRefused {
    AlreadyRunning,
}

impl Aof {
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    /// Whether a connection must wait for the fsync before replying (one relaxed
    /// load when the AOF is off).
    #[inline]
    pub fn must_wait(&self, settings: &Settings) -> bool {
        self.on.load(Relaxed) && settings.aof.fsync == AofFsync::Always
    }

    pub(crate) fn set_synced(&self, offset: u64) {
        self.synced.send_if_modified(|v| {
            let changed = *v != offset;
            *v = offset;
            changed
        });
    }

    /// BGREWRITEAOF with the AOF on: asks the writer for a rewrite.
    pub fn request_rewrite(&self) -> Result<(), RewriteRefused> {
        if self.stats.rewrite_in_progress.swap(true, Relaxed) {
            return Err(RewriteRefused::AlreadyRunning);
        }
        match self.control.lock().as_ref() {
            Some(c) => {
                let _ = c.rewrite.send(());
            }
            None => self.stats.rewrite_in_progress.store(false, Relaxed),
        }
        Ok(())
    }
}

/// BGREWRITEAOF with appendonly off (on a blocking thread): Redis still writes a
/// complete AOF directory from the data as it is.
pub fn rewrite_offline(srv: &Shared) {
    let s = &srv.aof.stats;
    let result = files::rewrite_offline(srv);
    let took = (unix_ms() / 1000).saturating_sub(s.rewrite_started_ms.load(Relaxed) / 1000);
    s.last_rewrite_secs.store(took as i64, Relaxed);
    match result {
        Ok(()) => {
            s.rewrites.fetch_add(1, Relaxed);
            s.consecutive_failures.store(0, Relaxed);
            s.last_rewrite_failed.store(false, Relaxed);
            tracing::info!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            s.consecutive_failures.fetch_add(1, Relaxed);
            s.last_rewrite_failed.store(true, Relaxed);
            tracing::error!("Background AOF rewrite failed: {e:#}");
        }
    }
    s.rewrite_in_progress.store(false, Relaxed);
}

/// The durability wait of `appendfsync always`: returns once everything the
/// stream holds now (this client's writes and any it may have read) is fsynced.
/// False if the client was killed or the node is stopping meanwhile: the reply
/// must then not be sent, since the write may not be durable.
pub async fn wait_durable(srv: &Shared, handle: &ClientHandle) -> bool {
    let target = srv.repl.lock().offset();
    let mut rx = srv.aof.synced.subscribe();
    if *rx.borrow_and_update() >= target {
        return true;
    }
    tokio::select! {
        r = rx.wait_for(|v| *v >= target) => r.is_ok(),
        _ = handle.kill.notified() => false,
        _ = srv.shutdown.cancelled() => false,
    }
}

/// At start, after the data is loaded: with `appendonly yes`, makes sure a
/// complete AOF exists (writing its first base synchronously, as Redis does on
/// start, when there is none) and starts the writer.
pub fn start_at_boot(srv: &Arc<Shared>) -> anyhow::Result<()> {
    let settings = srv.settings();
    if !settings.aof.enabled {
        return Ok(());
    }
    let files = files::open_at_boot(srv, &settings)?;
    spawn(srv, files);
    Ok(())
}

/// After CONFIG SET: starts or stops the AOF when `appendonly` changed.
pub fn config_changed(srv: &Shared) {
    let Some(srv) = srv.self_arc() else { return };
    let wanted = srv.settings().aof.enabled;
    if wanted == srv.aof.is_enabled() {
        return;
    }
    if wanted {
        tracing::info!("appendonly turned on: writing a new AOF base");
        // The previous writer (if it is still finishing) must be done with the files.
        let previous = srv.aof.control.lock().take();
        srv.aof.enabled.store(true, Relaxed);
        let s = srv.clone();
        tokio::spawn(async move {
            if let Some(p) = previous {
                p.stop.cancel();
                let _ = p.task.await;
            }
            if s.aof.is_enabled() {
                spawn(&s, files::Files::Enabling);
            }
        });
    } else {
        tracing::info!("appendonly turned off");
        srv.aof.enabled.store(false, Relaxed);
        srv.aof.on.store(false, Relaxed);
        if let Some(c) = srv.aof.control.lock().as_ref() {
            c.stop.cancel();
        }
    }
}

fn spawn(srv: &Arc<Shared>, files: files::Files) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    srv.aof.enabled.store(true, Relaxed);
    let task = tokio::spawn(writer::run(srv.clone(), files, rx, stop.clone()));
    *srv.aof.control.lock() = Some(Control {
        rewrite: tx,
        stop,
        task,
    });
}

/// At exit, after every connection has closed: the writer appends what is left
/// of the stream, fsyncs and stops.
pub async fn stop(srv: &Shared) {
    let control = srv.aof.control.lock().take();
    if let Some(c) = control {
        c.stop.cancel();
        let _ = c.task.await;
    }
}

/// INFO persistence's aof fields from `aof_enabled` to `aof_last_cow_size`.
pub fn info_status(srv: &Shared, o: &mut String) {
    let a = &srv.aof;
    let s = &a.stats;
    let running = s.rewrite_in_progress.load(Relaxed);
    let current = if running {
        (unix_ms().saturating_sub(s.rewrite_started_ms.load(Relaxed)) / 1000) as i64
    } else {
        -1
    };
    let status = |failed: &AtomicBool| if failed.load(Relaxed) { "err" } else { "ok" };
    let _ = write!(
        o,
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{current}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\n",
        u8::from(a.is_enabled()),
        u8::from(running),
        u8::from(s.rewrite_scheduled.load(Relaxed) && !running),
        s.last_rewrite_secs.load(Relaxed),
        status(&s.last_rewrite_failed),
        s.rewrites.load(Relaxed),
        s.consecutive_failures.load(Relaxed),
        status(&s.last_write_failed),
    );
}

/// The fields Redis adds after `module_fork_last_cow_size` while the AOF is on.
pub fn info_sizes(srv: &Shared, o: &mut String) {
    if !srv.aof.is_enabled() {
        return;
    }
    let s = &srv.aof.stats;
    let _ = write!(
        o,
        "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
        s.current_size.load(Relaxed),
        s.base_size.load(Relaxed),
    );
}
