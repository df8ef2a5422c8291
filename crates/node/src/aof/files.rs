//! The AOF's files on disk: what the writer starts with (a complete AOF to
//! continue, or none yet), writing a complete fresh AOF synchronously (at start
//! without one, and BGREWRITEAOF while appendonly is off), and the small file
//! helpers the writer and the rewrite share.

use super::manifest::{Entry, Manifest};
use super::rewrite::{snapshot_at, Point};
use crate::config::Settings;
use crate::persist::snapshot::{write_rdb, Aux, Snapshot};
use crate::server::Shared;
use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// What the writer starts with.
pub enum Files {
    /// A complete AOF on disk; append to its last incremental file.
    Open(Open),
    /// `CONFIG SET appendonly yes`: begin with a rewrite (the AOF counts once its
    /// first base is written).
    Enabling,
}

/// The manifest on disk and the incremental file being appended to.
pub struct Open {
    pub(super) dir: PathBuf,
    /// The manifest as last persisted.
    pub(super) disk: Manifest,
    pub(super) incr: Entry,
    pub(super) file: Arc<File>,
    /// Length of `file` (everything in it was written whole).
    pub(super) incr_len: u64,
    /// Bytes of the other files the manifest names (base, earlier incrementals).
    pub(super) other_len: u64,
}

pub(super) fn aof_dir(settings: &Settings) -> PathBuf {
    settings.dir.join(&settings.aof.dirname)
}

pub(super) fn open_append(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

pub(super) fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes a base file (RDB) atomically; returns its size.
pub(super) fn write_base(path: &Path, snap: &Snapshot, aux: &Aux) -> anyhow::Result<u64> {
    crate::persist::file::write_atomic(path, |out| write_rdb(snap, out, aux))?;
    Ok(file_len(path))
}

/// Removes the files `old` names that `new` does not.
pub(super) fn delete_replaced(dir: &Path, old: &Manifest, new: &Manifest) {
    for e in old.files() {
        if !new.files().any(|n| n.name == e.name) {
            let _ = std::fs::remove_file(dir.join(&e.name));
        }
    }
}

/// Writes a complete new AOF from the data as it is now: base, an empty
/// incremental file, the manifest; the files of `previous` are deleted after.
/// Synchronous: used at start (before serving) and by BGREWRITEAOF with the AOF off
/// (on a blocking thread).
fn write_fresh(srv: &Shared, settings: &Settings, attach: bool) -> anyhow::Result<Open> {
    let dir = aof_dir(settings);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let filename = &settings.aof.filename;
    let previous = Manifest::read(&dir, filename)?.unwrap_or_default();
    let base = Entry {
        name: Manifest::base_name(filename, previous.next_base_seq()),
        seq: previous.next_base_seq(),
    };
    let incr = Entry {
        name: Manifest::incr_name(filename, previous.next_incr_seq()),
        seq: previous.next_incr_seq(),
    };
    let Point { snap, aux, .. } = snapshot_at(srv, settings, attach);
    tracing::info!("Creating AOF base file {}", base.name);
    let base_len = write_base(&dir.join(&base.name), &snap, &aux)?;
    drop(snap);
    tracing::info!("Creating AOF incr file {}", incr.name);
    let path = dir.join(&incr.name);
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    file.sync_all()?;
    drop(file);
    let disk = Manifest {
        base: Some(base),
        incrs: vec![incr.clone()],
    };
    disk.persist(&dir, filename)?;
    delete_replaced(&dir, &previous, &disk);
    Ok(Open {
        file: Arc::new(open_append(&path)?),
        dir,
        disk,
        incr,
        incr_len: 0,
        other_len: base_len,
    })
}

/// At start with `appendonly yes`: the AOF loaded (if any) is continued; without
/// one, a first base is written from the data loaded from the dump, as Redis does.
pub fn open_at_boot(srv: &Shared, settings: &Settings) -> anyhow::Result<Files> {
    let dir = aof_dir(settings);
    let filename = &settings.aof.filename;
    if let Some(disk) = Manifest::read(&dir, filename)? {
        if let (Some(_), Some(incr)) = (&disk.base, disk.incrs.last().cloned()) {
            let path = dir.join(&incr.name);
            let incr_len = file_len(&path);
            let total: u64 = disk.files().map(|e| file_len(&dir.join(&e.name))).sum();
            return Ok(Files::Open(Open {
                file: Arc::new(open_append(&path)?),
                dir,
                disk,
                incr,
                incr_len,
                other_len: total - incr_len,
            }));
        }
    }
    let open = write_fresh(srv, settings, true)?;
    srv.aof.stats.base_size.store(open.other_len, Relaxed);
    Ok(Files::Open(open))
}

/// BGREWRITEAOF while appendonly is off: Redis still writes a fresh AOF.
pub fn rewrite_offline(srv: &Shared) -> anyhow::Result<()> {
    let settings = srv.settings();
    write_fresh(srv, &settings, false).map(drop)
}
