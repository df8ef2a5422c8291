//! Appending to the incremental file and fsyncing it, each on a blocking thread
//! so the event loop never waits on the disk. While one write + fsync runs, later
//! batches accumulate in the backlog and go together into the next one, so one
//! fsync covers many clients' writes (group commit). When `appendfsync` asks for
//! an fsync is decided here too.

use super::writer::{Writer, RETRY};
use crate::config::{AofFsync, Settings};
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

impl Writer {
    /// Appends `out` to the incremental file (on a blocking thread). On failure
    /// the file is cut back to its last whole command and the data kept for the
    /// next attempt.
    pub(super) async fn write(&mut self) {
        let Some(open) = self.open.as_mut() else {
            self.out.clear();
            return;
        };
        if self.out.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.out);
        let file = open.file.clone();
        let good_len = open.incr_len;
        let (data, result) = tokio::task::spawn_blocking(move || {
            let r = (&*file).write_all(&data);
            if r.is_err() {
                let _ = file.set_len(good_len);
            }
            (data, r)
        })
        .await
        .unwrap_or_else(|_| {
            (
                Vec::new(),
                Err(std::io::Error::other("AOF write thread failed")),
            )
        });
        let stats = &self.srv.aof.stats;
        match result {
            Ok(()) => {
                open.incr_len += data.len() as u64;
                self.dirty = true;
                stats.last_write_failed.store(false, Relaxed);
                let mut data = data;
                data.clear();
                self.out = data;
                self.update_sizes();
            }
            Err(e) => {
                if !stats.last_write_failed.swap(true, Relaxed) {
                    tracing::error!("error writing to the AOF file: {e}");
                }
                self.out = data;
                tokio::time::sleep(RETRY).await;
            }
        }
    }

    pub(super) async fn fsync(&mut self) {
        let Some(open) = self.open.as_ref() else {
            return;
        };
        let file = open.file.clone();
        let result = tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("AOF fsync thread failed")));
        match result {
            Ok(()) => {
                self.dirty = false;
                self.last_fsync = Instant::now();
                self.publish_synced();
            }
            Err(e) => {
                if !self.srv.aof.stats.last_write_failed.swap(true, Relaxed) {
                    tracing::error!("error fsyncing the AOF file: {e}");
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }

    /// After a batch was written: `appendfsync always` fsyncs it now; with
    /// nothing left unsynced, what was written counts as durable at once.
    pub(super) async fn sync_written(&mut self) {
        if self.dirty && self.srv.settings().aof.fsync == AofFsync::Always {
            self.fsync().await;
        } else if !self.dirty {
            self.publish_synced();
        }
    }

    /// How long until `appendfsync everysec` owes an fsync (a second when none is
    /// owed: the writer wakes up at least that often).
    pub(super) fn fsync_due_in(&self, settings: &Settings) -> Duration {
        match settings.aof.fsync {
            AofFsync::EverySec if self.dirty => {
                Duration::from_secs(1).saturating_sub(self.last_fsync.elapsed())
            }
            _ => Duration::from_secs(1),
        }
    }
}
