//! Where the dump file lives and how it is replaced: written to a temporary file
//! in the same directory, flushed and fsynced, then renamed over `dbfilename` and
//! the directory fsynced, so a crash at any moment leaves either the old file or
//! the new one, never a torn dump.

use crate::config::Settings;
use anyhow::Context;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// `dir`/`dbfilename`.
pub fn dump_path(settings: &Settings) -> PathBuf {
    settings.dir.join(&settings.dbfilename)
}

/// Writes `path` atomically with `fill`; the temporary file is removed on error.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Unique per process and save, like Redis's temp-<pid>.rdb.
    let tmp = dir.join(format!(
        "temp-{}-{}.rdb",
        std::process::id(),
        COUNTER.fetch_add(1, Relaxed)
    ));
    let result = (|| {
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
            .with_context(|| format!("fsync {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        // The rename itself is durable only once the directory is.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
