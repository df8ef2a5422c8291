//! The AOF writer: one task that follows the replication stream from an offset (as
//! a replica's feeder does), appends its commands to the current incremental file
//! and fsyncs it by `appendfsync`; and the rewrite, which writes a new RDB base
//! from a point-in-time snapshot at offset O while the writer appends everything
//! after O to a new incremental file, then switches the manifest.
//!
//! File I/O happens on blocking threads; while one write + fsync runs, later
//! batches accumulate in the backlog and go together into the next one, so one
//! fsync covers many clients' writes (group commit).
//!
//! What is not a data change stays out of the file: a replica keepalive PING, the
//! REPLCONF GETACK of WAIT/FAILOVER, and PUBLISH (Redis sends those to replicas
//! only).

use super::manifest::{Entry, Manifest};
use crate::config::{AofFsync, Settings};
use crate::persist::snapshot::{take, write_rdb, Aux, Snapshot};
use crate::server::{unix_ms, Shared};
use anyhow::Context;
use ferrocache_resp::{parse_request, ParseLimits, Request, Spans};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// At most this much of the stream is read from the backlog at a time.
const CHUNK: usize = 1 << 20;
/// After a failed write or rewrite, wait this long before trying again.
const RETRY: Duration = Duration::from_secs(1);

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
    dir: PathBuf,
    /// The manifest as last persisted.
    disk: Manifest,
    incr: Entry,
    file: Arc<File>,
    /// Length of `file` (everything in it was written whole).
    incr_len: u64,
    /// Bytes of the other files the manifest names (base, earlier incrementals).
    other_len: u64,
}

fn aof_dir(settings: &Settings) -> PathBuf {
    settings.dir.join(&settings.aof.dirname)
}

fn open_append(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A point-in-time copy of the data and the stream offset it corresponds to,
/// both taken under the keyspace lock (every write is recorded under it). With
/// `attach`, the stream is made to exist (the backlog; on a primary this turns on
/// recording) and its next command selects its database again, so a file that
/// starts at this offset replays in the right database.
fn snapshot_at(srv: &Shared, settings: &Settings, attach: bool) -> (Snapshot, Aux, u64) {
    let mut ks = crate::dispatch::lock_keyspace(srv, settings);
    let offset = {
        let mut st = srv.repl.lock();
        if attach {
            st.ensure_backlog(settings.repl.backlog_size);
            srv.repl.sync_flags(&st);
            st.force_select();
        }
        st.offset()
    };
    // From now on expiries are recorded (as DELs) like every other write.
    ks.log_expired(srv.repl.is_active());
    let aux = crate::persist::jobs::aux_now(srv, settings);
    (take(&ks, unix_ms()), aux, offset)
}

/// Appends `SELECT db` as the stream writes it.
fn encode_select(out: &mut Vec<u8>, db: &[u8]) {
    out.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$");
    out.extend_from_slice(itoa::Buffer::new().format(db.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(db);
    out.extend_from_slice(b"\r\n");
}

/// Writes a base file (RDB) atomically; returns its size.
fn write_base(path: &Path, snap: &Snapshot, aux: &Aux) -> anyhow::Result<u64> {
    crate::persist::file::write_atomic(path, |out| write_rdb(snap, out, aux))?;
    Ok(file_len(path))
}

/// Removes the files `old` names that `new` does not.
fn delete_replaced(dir: &Path, old: &Manifest, new: &Manifest) {
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
    let (snap, aux, _) = snapshot_at(srv, settings, attach);
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

/// A rewrite whose base is being written.
struct Job {
    task: JoinHandle<anyhow::Result<u64>>,
    base: Entry,
    /// The files that were current when the rewrite started (deleted after).
    old: Manifest,
}

struct Writer {
    srv: Arc<Shared>,
    open: Option<Open>,
    /// Stream offset read up to.
    pos: u64,
    /// The tail of what was read that is not a complete command yet.
    pending: Vec<u8>,
    /// Commands ready to be written.
    out: Vec<u8>,
    spans: Spans,
    /// The database the stream last selected, if known.
    db: Option<Vec<u8>>,
    /// The stream's replication ID as last seen, to notice a new history.
    replid: String,
    /// Written since the last fsync.
    dirty: bool,
    last_fsync: Instant,
    /// The file misses part of the stream (fell behind the backlog, or a full
    /// resync replaced the data): nothing counts as durable until a rewrite.
    gap: bool,
    job: Option<Job>,
    retry_at: Option<Instant>,
}

pub async fn run(
    srv: Arc<Shared>,
    files: Files,
    mut requests: mpsc::UnboundedReceiver<()>,
    stop: CancellationToken,
) {
    let mut w = Writer {
        srv: srv.clone(),
        open: None,
        pos: 0,
        pending: Vec::new(),
        out: Vec::new(),
        spans: Spans::default(),
        db: None,
        replid: srv.repl.lock().replid.clone(),
        dirty: false,
        last_fsync: Instant::now(),
        gap: false,
        job: None,
        retry_at: None,
    };
    match files {
        Files::Open(open) => {
            // Attach at the current offset: the files hold everything before it.
            let settings = srv.settings();
            let offset = {
                let mut ks = crate::dispatch::lock_keyspace(&srv, &settings);
                let mut st = srv.repl.lock();
                st.ensure_backlog(settings.repl.backlog_size);
                srv.repl.sync_flags(&st);
                st.force_select();
                ks.log_expired(srv.repl.is_active());
                st.offset()
            };
            w.pos = offset;
            w.update_sizes_from(&open);
            w.open = Some(open);
            srv.aof.set_synced(offset);
            srv.aof.on.store(true, Relaxed);
        }
        Files::Enabling => w.start_rewrite().await,
    }
    let mut end_rx = srv.repl.subscribe_end();
    loop {
        w.catch_up(None).await;
        if w.job.is_none() {
            let due = w.retry_at.is_some_and(|t| Instant::now() >= t);
            if due || w.wants_auto_rewrite() {
                w.retry_at = None;
                w.start_rewrite().await;
            }
        }
        let settings = srv.settings();
        let fsync_in = match settings.aof.fsync {
            AofFsync::EverySec if w.dirty => {
                Duration::from_secs(1).saturating_sub(w.last_fsync.elapsed())
            }
            _ => Duration::from_secs(1),
        };
        if fsync_in.is_zero() {
            w.fsync().await;
            continue;
        }
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            done = async { (&mut w.job.as_mut().expect("guarded").task).await }, if w.job.is_some() => {
                let result = done.unwrap_or_else(|e| Err(anyhow::anyhow!("the rewrite thread failed: {e}")));
                w.finish_rewrite(result);
            }
            r = requests.recv() => match r {
                Some(()) if w.job.is_none() => w.start_rewrite().await,
                Some(()) => {}
                None => break,
            },
            _ = end_rx.changed() => {}
            _ = tokio::time::sleep(fsync_in) => {
                if w.dirty && settings.aof.fsync == AofFsync::EverySec {
                    w.fsync().await;
                }
            }
        }
    }
    // Stopping (appendonly no, or the node exits): everything recorded goes in.
    w.catch_up(None).await;
    if w.dirty {
        w.fsync().await;
    }
    srv.aof.on.store(false, Relaxed);
    srv.aof.set_synced(u64::MAX);
    srv.aof.stats.rewrite_in_progress.store(false, Relaxed);
    tracing::info!("AOF writer stopped");
}

impl Writer {
    fn update_sizes_from(&self, open: &Open) {
        self.srv
            .aof
            .stats
            .current_size
            .store(open.other_len + open.incr_len, Relaxed);
    }

    fn wants_auto_rewrite(&self) -> bool {
        let settings = self.srv.settings();
        let a = &settings.aof;
        if a.auto_rewrite_percentage == 0 || self.open.is_none() {
            return false;
        }
        let stats = &self.srv.aof.stats;
        let current = stats.current_size.load(Relaxed);
        let base = stats.base_size.load(Relaxed).max(1);
        current > a.auto_rewrite_min_size
            && (current.saturating_sub(base)) * 100 / base >= a.auto_rewrite_percentage
    }

    /// Reads the stream past `pos` (up to `limit` if given), keeps its data
    /// commands, writes them and fsyncs as the policy says.
    async fn catch_up(&mut self, limit: Option<u64>) {
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let got = {
                let st = self.srv.repl.lock();
                if st.replid != self.replid {
                    // A new ID that does not continue ours (replid2) is a new
                    // history: a full resync replaced the data.
                    if st.replid2 != self.replid && self.open.is_some() && !self.gap {
                        tracing::warn!(
                            "the replication history changed: the AOF will be rewritten"
                        );
                        self.gap = true;
                    }
                    self.replid = st.replid.clone();
                }
                let max = limit.map_or(CHUNK, |l| (l.saturating_sub(self.pos) as usize).min(CHUNK));
                if max == 0 {
                    Some(0)
                } else {
                    st.backlog()
                        .and_then(|b| b.read_after(self.pos, max, &mut raw))
                }
            };
            match got {
                None => {
                    if !self.gap {
                        tracing::error!(
                            offset = self.pos,
                            "the AOF writer fell behind the replication backlog: rewriting the AOF"
                        );
                    }
                    self.gap = true;
                    self.pending.clear();
                    // Continue from the end; the rewrite makes the file whole again.
                    self.pos = self.srv.repl.lock().offset();
                    break;
                }
                Some(0) => break,
                Some(n) => {
                    self.pos += n as u64;
                    self.filter(&raw);
                    if self.out.len() >= CHUNK {
                        self.write().await;
                    }
                }
            }
        }
        if self.gap && self.job.is_none() && self.retry_at.is_none() {
            self.retry_at = Some(Instant::now());
        }
        self.write().await;
        if self.dirty && self.srv.settings().aof.fsync == AofFsync::Always {
            self.fsync().await;
        } else if !self.dirty {
            self.publish_synced();
        }
    }

    /// Moves the complete commands of `raw` (after any pending tail) into `out`,
    /// dropping those that are not data changes.
    fn filter(&mut self, raw: &[u8]) {
        self.pending.extend_from_slice(raw);
        let limits = ParseLimits {
            max_bulk_len: usize::MAX,
            ..ParseLimits::default()
        };
        let mut p = 0;
        loop {
            let rest = &self.pending[p..];
            match parse_request(rest, &mut self.spans, &limits) {
                Ok(Request::Complete(n)) => {
                    let mut argv: Vec<&[u8]> = Vec::with_capacity(4);
                    self.spans.collect(rest, &mut argv);
                    let name = argv.first().copied().unwrap_or_default();
                    let skip = [&b"ping"[..], b"replconf", b"publish"]
                        .iter()
                        .any(|s| name.eq_ignore_ascii_case(s));
                    if name.eq_ignore_ascii_case(b"select") {
                        self.db = argv.get(1).map(|d| d.to_vec());
                    }
                    if !skip && !argv.is_empty() {
                        self.out.extend_from_slice(&rest[..n]);
                    }
                    p += n;
                }
                Ok(Request::Incomplete(_)) => break,
                Err(e) => {
                    // The stream is written by this node; this cannot happen.
                    tracing::error!(
                        "unparsable replication stream ({e}); the AOF will be rewritten"
                    );
                    self.gap = true;
                    p = self.pending.len();
                    break;
                }
            }
        }
        self.pending.drain(..p);
    }

    /// The stream offset everything written so far corresponds to.
    fn written_offset(&self) -> u64 {
        self.pos - self.pending.len() as u64
    }

    fn publish_synced(&self) {
        if !self.gap && self.open.is_some() && self.srv.aof.on.load(Relaxed) {
            self.srv.aof.set_synced(self.written_offset());
        }
    }

    /// Appends `out` to the incremental file (on a blocking thread). On failure
    /// the file is cut back to its last whole command and the data kept for the
    /// next attempt.
    async fn write(&mut self) {
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

    fn update_sizes(&self) {
        if let Some(open) = &self.open {
            self.update_sizes_from(open);
        }
    }

    async fn fsync(&mut self) {
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

    /// Starts a rewrite: snapshot at offset O; everything before O goes into the
    /// current file; a new incremental file takes everything after O (the manifest
    /// lists it at once, so a crash meanwhile loses nothing); the base is written
    /// by a blocking thread.
    async fn start_rewrite(&mut self) {
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
        let (snap, aux, offset) = snapshot_at(&self.srv, settings, true);
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
        if let (true, Some(db)) = (self.srv.repl.is_replica(), &self.db) {
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
    fn finish_rewrite(&mut self, result: anyhow::Result<u64>) {
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
