//! Which replication history (ID, offset, selected database) the AOF ends at,
//! recorded at a clean stop and taken back at the next start, so that a replica
//! with `appendonly yes` that is restarted (a patch, a reboot) continues its
//! primary's stream with a partial resync instead of copying everything — as it
//! does from an RDB file's `repl-id`/`repl-offset`. Redis 7.0 keeps no such record
//! for the AOF, so its replicas resync fully after a restart.
//!
//! The record is a file beside the AOF directory (`dir`/`appendonly.aof.history`),
//! so the directory keeps Redis's layout. It names the last incremental file and
//! its length: if anything was appended after it (or the file was cut back at
//! load), it no longer describes the data and is ignored. It is deleted when
//! read, so a later crash can never reuse it.

use super::manifest::Manifest;
use std::path::{Path, PathBuf};

/// The history the AOF's data corresponds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct History {
    pub replid: String,
    pub offset: u64,
    pub db: usize,
}

fn path(data_dir: &Path, filename: &str) -> PathBuf {
    data_dir.join(format!("{filename}.history"))
}

/// Writes the record (in the node's `data_dir`) after the writer's last fsync: the
/// AOF, whose last incremental file is `incr` of `incr_len` bytes, holds exactly
/// `history`.
pub(super) fn record(
    data_dir: &Path,
    filename: &str,
    incr: &str,
    incr_len: u64,
    history: &History,
) {
    let line = format!(
        "{} {} {} {incr_len} {incr}\n",
        history.replid, history.offset, history.db
    );
    let written = crate::persist::file::write_atomic(&path(data_dir, filename), |out| {
        use std::io::Write;
        out.write_all(line.as_bytes())?;
        Ok(())
    });
    match written {
        Ok(()) => tracing::info!(offset = history.offset, "AOF: replication history recorded"),
        // Only a partial resync is lost: the next start copies everything.
        Err(e) => tracing::warn!("cannot record the AOF's replication history: {e:#}"),
    }
}

/// Takes the record back from `data_dir` (deleting it) if it still describes the
/// AOF that `manifest` names in `aof_dir`; None otherwise.
pub(super) fn take(
    data_dir: &Path,
    aof_dir: &Path,
    filename: &str,
    manifest: &Manifest,
) -> Option<History> {
    let p = path(data_dir, filename);
    let text = std::fs::read_to_string(&p).ok()?;
    let _ = std::fs::remove_file(&p);
    let mut f = text.split_whitespace();
    let replid = f.next()?.to_string();
    let offset = f.next()?.parse().ok()?;
    let db = f.next()?.parse().ok()?;
    let incr_len: u64 = f.next()?.parse().ok()?;
    let incr = f.next()?;
    let last = manifest.incrs.last()?;
    let on_disk = std::fs::metadata(aof_dir.join(&last.name)).ok()?.len();
    if last.name != incr || on_disk != incr_len {
        tracing::info!("AOF: the recorded replication history is stale; ignored");
        return None;
    }
    Some(History { replid, offset, db })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_history_is_taken_once_and_only_while_it_matches() {
        let dir = ferrocache_testkit::TempDir::new("aof-history").unwrap();
        let d = dir.path();
        let name = Manifest::incr_name("appendonly.aof", 1);
        std::fs::write(d.join(&name), b"*1\r\n$4\r\nPING\r\n").unwrap();
        let manifest = Manifest::parse(&format!("file {name} seq 1 type i\n")).unwrap();
        let h = History {
            replid: "a".repeat(40),
            offset: 1234,
            db: 3,
        };
        record(d, "appendonly.aof", &name, 14, &h);
        assert_eq!(take(d, d, "appendonly.aof", &manifest), Some(h.clone()));
        assert_eq!(
            take(d, d, "appendonly.aof", &manifest),
            None,
            "deleted when read"
        );
        // Appended to after the record: it no longer describes the data.
        record(d, "appendonly.aof", &name, 10, &h);
        assert_eq!(take(d, d, "appendonly.aof", &manifest), None);
    }
}
