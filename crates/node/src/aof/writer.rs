//! The AOF writer: one task that follows the replication stream from an offset (as
//! a replica's feeder does), keeps its data commands and hands them to `append`;
//! it starts rewrites (`rewrite`) on request, on `auto-aof-rewrite-percentage`, and
//! whenever the file has a gap.
//!
//! What is not a data change stays out of the file: a replica keepalive PING, the
//! REPLCONF GETACK of WAIT/FAILOVER, and PUBLISH (Redis sends those to replicas
//! only).

use super::files::{Files, Open};
use super::rewrite::Job;
use crate::config::AofFsync;
use crate::server::Shared;
use ferrocache_resp::{parse_request, ParseLimits, Request, Spans};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// At most this much of the stream is read from the backlog at a time.
const CHUNK: usize = 1 << 20;
/// After a failed write or rewrite, wait this long before trying again.
pub(super) const RETRY: Duration = Duration::from_secs(1);

pub(super) struct Writer {
    pub(super) srv: Arc<Shared>,
    pub(super) open: Option<Open>,
    /// Stream offset read up to.
    pub(super) pos: u64,
    /// The tail of what was read that is not a complete command yet.
    pub(super) pending: Vec<u8>,
    /// Commands ready to be written.
    pub(super) out: Vec<u8>,
    pub(super) spans: Spans,
    /// The stream's replication ID as last seen, to notice a new history.
    pub(super) replid: String,
    /// Written since the last fsync.
    pub(super) dirty: bool,
    pub(super) last_fsync: Instant,
    /// The file misses part of the stream (fell behind the backlog, or a full
    /// resync replaced the data): nothing counts as durable until a rewrite.
    pub(super) gap: bool,
    pub(super) job: Option<Job>,
    pub(super) retry_at: Option<Instant>,
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
        let fsync_in = w.fsync_due_in(&settings);
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
    w.record_history();
    srv.aof.on.store(false, Relaxed);
    srv.aof.set_synced(u64::MAX);
    srv.aof.stats.rewrite_in_progress.store(false, Relaxed);
    tracing::info!("AOF writer stopped");
}

impl Writer {
    pub(super) fn update_sizes_from(&self, open: &Open) {
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
    pub(super) async fn catch_up(&mut self, limit: Option<u64>) {
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
        self.sync_written().await;
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

    /// At the stop, after the last fsync: records which history and offset the
    /// files hold, if they hold the stream whole up to its current end (no gap, no
    /// rewrite half done, and nothing recorded since the last catch-up).
    fn record_history(&self) {
        let Some(open) = &self.open else { return };
        if self.gap || self.job.is_some() || self.dirty {
            return;
        }
        let history = {
            let st = self.srv.repl.lock();
            if st.replid != self.replid || st.offset() != self.written_offset() {
                return;
            }
            super::history::History {
                replid: st.replid.clone(),
                offset: st.offset(),
                db: st.stream_db_at_end(),
            }
        };
        let settings = self.srv.settings();
        super::history::record(
            &settings.dir,
            &settings.aof.filename,
            &open.incr.name,
            open.incr_len,
            &history,
        );
    }

    /// The stream offset everything written so far corresponds to.
    pub(super) fn written_offset(&self) -> u64 {
        self.pos - self.pending.len() as u64
    }

    pub(super) fn publish_synced(&self) {
        if !self.gap && self.open.is_some() && self.srv.aof.on.load(Relaxed) {
            self.srv.aof.set_synced(self.written_offset());
        }
    }

    pub(super) fn update_sizes(&self) {
        if let Some(open) = &self.open {
            self.update_sizes_from(open);
        }
    }
}
