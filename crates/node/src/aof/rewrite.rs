//! The AOF rewrite while the writer runs: a point-in-time snapshot at stream
//! offset O, everything before O appended to the current file, a new incremental
//! file taking everything after O (named in the manifest at once, so a crash
//! meanwhile loses nothing), the RDB base written by a blocking thread, then the
//! manifest switched to the new base and file and the older files deleted.

use super::files::{aof_dir, delete_replaced, file_len, open_append, sync_dir, write_base, Open};
use super::manifest::{Entry, Manifest};
use super::writer::{Writer, RETRY};
use crate::config::Settings;
use crate::persist::snapshot::{take, Aux, Snapshot};
use crate::server::{unix_ms, Shared};
use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinHandle;

/// A point-in-time copy of the data and where in the stream it stands.
pub(super) struct Point {
    pub(super) snap: Snapshot,
    pub(super) aux: Aux,
    /// The stream offset the copy corresponds to.
    pub(super) offset: u64,
    /// On a replica: the database its primary's stream has selected at `offset`.
    /// A file that starts there must select it first, since the primary will
    /// not say it again (on a primary, `attach` makes its own stream say it).
    pub(super) replica_db: Option<usize>,
}

/// The data and the stream's offset, both taken under the keyspace lock (every
/// write is recorded under it; a replica adds its primary's bytes under it too).
/// With `attach`, the stream is made to exist (the backlog; on a primary this
/// turns on recording) and its next command selects its database again, so a
/// file that starts at this offset replays in the right database.
pub(super) fn snapshot_at(srv: &Shared, settings: &Settings, attach: bool) -> Point {
    let mut ks = crate::dispatch::lock_keyspace(srv, settings);
    let (offset, replica_db) = {
        let mut st = srv.repl.lock();
        if attach {
            st.ensure_backlog(settings.repl.backlog_size);
            srv.repl.sync_flags(&st);
            st.force_select();
        }
        let replica = matches!(st.role, crate::repl::Role::Replica { .. });
        (st.offset(), replica.then_some(st.applied_db))
    };
    // From now on expiries are recorded (as DELs) like every other write.
    ks.log_expired(srv.repl.is_active());
    let aux = crate::persist::jobs::aux_now(srv, settings);
    Point {
        snap: take(srv, &ks, unix_ms()),
        aux,
        offset,
        replica_db,
    }
}

/// `SELECT db` as the stream writes it.
fn encode_select(out: &mut Vec<u8>, db: usize) {
    let db = db.to_string();
    out.extend_from_slice(format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n", db.len()).as_bytes());
}

/// A rewrite whose base is being written.
pub(super) struct Job {
    pub(super) task: JoinHandle<anyhow::Result<u64>>,
    base: Entry,
    /// The files that were current when the rewrite started (deleted after).
    old: Manifest,
}

impl Writer {
    /// Starts a rewrite: snapshot at offset O; everything before O goes into the
    /// current file; a new incremental file takes everything after O (the manifest
    /// lists it at once, so a crash meanwhile loses nothing); the base is written
    /// by a blocking thread.
    pub(super) async fn start_rewrite(&mut self) {
        let srv = self.srv.clone();
        let stats = &srv.aof.stats;
        stats.rewrite_scheduled.store(false, Relaxed);
        stats.rewrite_in_progress.store(true, Relaxed);
        stats.rewrite_started_ms.store(unix_ms(), Relaxed);
        let settings = srv.settings();
        match self.begin(&settings).await {
            Ok(job) => {
                tracing::info!("Background append only file rewriting started");
                self.job = Some(job);
            }
            Err(e) => {
                tracing::error!("cannot start the AOF rewrite: {e:#}");
                self.rewrite_failed();
            }
        }
    }

    async fn begin(&mut self, settings: &Settings) -> anyhow::Result<Job> {
        let dir = aof_dir(settings);
        let filename = settings.aof.filename.clone();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let Point {
            snap,
            aux,
            offset,
            replica_db,
        } = snapshot_at(&self.srv, settings, true);
        // Everything before O belongs to the current file.
        if self.open.is_some() && !self.gap {
            self.catch_up(Some(offset)).await;
            if self.dirty {
                self.fsync().await;
            }
        }
        if self.pos != offset || !self.pending.is_empty() {
            // Enabling, or the file has a gap: the new base covers everything.
            self.pos = offset;
            self.pending.clear();
        }
        // The interim manifest: the current files (if they are whole) plus the new
        // incremental file, so a crash during the rewrite loses nothing.
        let (old, mut interim) = match &self.open {
            Some(open) if !self.gap => (open.disk.clone(), open.disk.clone()),
            Some(open) => (open.disk.clone(), Manifest::default()),
            None => {
                let on_disk = Manifest::read(&dir, &filename)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                (on_disk, Manifest::default())
            }
        };
        let seq = old.next_incr_seq().max(interim.next_incr_seq());
        let incr = Entry {
            name: Manifest::incr_name(&filename, seq),
            seq,
        };
        let path = dir.join(&incr.name);
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        // A replica's stream comes from its primary (force_select cannot reach
        // it): say the database again.
        let mut incr_len = 0;
        if let Some(db) = replica_db {
            let mut head = Vec::new();
            encode_select(&mut head, db);
            file.write_all(&head)?;
            incr_len = head.len() as u64;
        }
        file.sync_all()?;
        tracing::info!("Creating AOF incr file {} on background rewrite", incr.name);
        let base_seq = old.next_base_seq();
        let base = Entry {
            name: Manifest::base_name(&filename, base_seq),
            seq: base_seq,
        };
        let whole = interim.base.is_some();
        if whole {
            interim.incrs.push(incr.clone());
            interim.persist(&dir, &filename)?;
        } else {
            sync_dir(&dir);
        }
        let other_len: u64 = interim
            .files()
            .filter(|e| e.name != incr.name)
            .map(|e| file_len(&dir.join(&e.name)))
            .sum();
        self.open = Some(Open {
            file: Arc::new(open_append(&path)?),
            dir: dir.clone(),
            disk: if whole { interim } else { old.clone() },
            incr,
            incr_len,
            other_len,
        });
        self.update_sizes();
        let base_path = dir.join(&base.name);
        let task = tokio::task::spawn_blocking(move || {
            let r = write_base(&base_path, &snap, &aux);
            drop(snap);
            r
        });
        Ok(Job { task, base, old })
    }

    /// The base is written: the manifest now names it and the incremental file
    /// begun at O; the older files go.
    pub(super) fn finish_rewrite(&mut self, result: anyhow::Result<u64>) {
        let Some(job) = self.job.take() else { return };
        let srv = self.srv.clone();
        let stats = &srv.aof.stats;
        let settings = srv.settings();
        let outcome = result.and_then(|base_len| {
            let open = self.open.as_mut().context("no incremental file")?;
            let new = Manifest {
                base: Some(job.base.clone()),
                incrs: vec![open.incr.clone()],
            };
            new.persist(&open.dir, &settings.aof.filename)?;
            delete_replaced(&open.dir, &job.old, &new);
            delete_replaced(&open.dir, &open.disk, &new);
            open.disk = new;
            open.other_len = base_len;
            Ok(base_len)
        });
        match outcome {
            Ok(_) => {
                let took = (unix_ms() / 1000)
                    .saturating_sub(stats.rewrite_started_ms.load(Relaxed) / 1000);
                stats.last_rewrite_secs.store(took as i64, Relaxed);
                stats.last_rewrite_failed.store(false, Relaxed);
                stats.consecutive_failures.store(0, Relaxed);
                stats.rewrites.fetch_add(1, Relaxed);
                stats.rewrite_in_progress.store(false, Relaxed);
                self.gap = false;
                self.update_sizes();
                stats
                    .base_size
                    .store(stats.current_size.load(Relaxed), Relaxed);
                if srv.aof.is_enabled() {
                    srv.aof.on.store(true, Relaxed);
                }
                // What was fsynced into the new incremental file now counts.
                if !self.dirty {
                    self.publish_synced();
                }
                tracing::info!("Background AOF rewrite finished successfully");
            }
            Err(e) => {
                tracing::error!("Background AOF rewrite failed: {e:#}");
                self.rewrite_failed();
            }
        }
    }

    fn rewrite_failed(&mut self) {
        let stats = &self.srv.aof.stats;
        stats.last_rewrite_failed.store(true, Relaxed);
        stats.consecutive_failures.fetch_add(1, Relaxed);
        stats.rewrite_in_progress.store(false, Relaxed);
        // Until a base exists (enabling) or while the file has a gap, keep trying.
        if self.gap || !self.srv.aof.on.load(Relaxed) {
            self.retry_at = Some(Instant::now() + RETRY);
        }
    }
}
