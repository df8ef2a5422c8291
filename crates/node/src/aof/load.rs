//! Recovery at start with `appendonly yes`: the base (an RDB file, or commands),
//! then each incremental file replayed through dispatch as a client that may
//! write, replies discarded — before anyone is served. Files of commands are
//! streamed (`reader`), never read whole.
//!
//! The last file may end in the middle of a command (the node was killed while
//! appending): with `aof-load-truncated yes` (the default, as in Redis) the
//! complete commands are loaded and the file is cut back to them; a transaction
//! without its EXEC is dropped whole. Anything unreadable elsewhere refuses the
//! start with an error naming the file and the byte offset.

use super::manifest::Manifest;
use super::reader::{corrupt, CommandReader, Next};
use crate::client::Client;
use crate::config::Settings;
use crate::dispatch::{self, Flow};
use crate::server::{unix_ms, Clock, Shared};
use anyhow::{bail, Context};
use ferrocache_resp::{Protocol, ReplyBuf};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Loads the AOF if `appendonly yes` and a manifest exists; returns whether it
/// did (then dump.rdb is not read: the AOF takes precedence, as in Redis).
pub fn load_at_start(srv: &Arc<Shared>) -> anyhow::Result<bool> {
    let settings = srv.settings();
    if !settings.aof.enabled {
        return Ok(false);
    }
    let dir = settings.dir.join(&settings.aof.dirname);
    let Some(manifest) = Manifest::read(&dir, &settings.aof.filename)? else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    let mut total = 0u64;
    if let Some(base) = &manifest.base {
        let path = dir.join(&base.name);
        total += load_base(srv, &settings, &path)?;
    }
    let mut loader = Loader::new(srv);
    for (i, incr) in manifest.incrs.iter().enumerate() {
        let path = dir.join(&incr.name);
        let last = i + 1 == manifest.incrs.len();
        total += loader.replay(&settings, &path, last)?;
    }
    loader.close();
    // A clean stop recorded where in its primary's stream the data is.
    if let Some(h) = super::history::take(&settings.dir, &dir, &settings.aof.filename, &manifest) {
        srv.repl
            .lock()
            .restore_history(&h.replid, h.offset, h.db, settings.databases);
    }
    let keys: u64 = srv.keyspace.lock().dbs.iter().map(|d| d.len() as u64).sum();
    srv.aof.stats.base_size.store(total, Relaxed);
    tracing::info!(
        keys,
        secs = started.elapsed().as_secs_f64(),
        "DB loaded from append only file {}",
        Manifest::path(&dir, &settings.aof.filename).display()
    );
    Ok(true)
}

/// Loads a base file: RDB (the usual case) or commands; returns its size.
fn load_base(srv: &Arc<Shared>, settings: &Settings, path: &Path) -> anyhow::Result<u64> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 5];
    let n = file.read(&mut magic).unwrap_or(0);
    if &magic[..n] != b"REDIS" {
        let mut loader = Loader::new(srv);
        let len = loader.replay(settings, path, false)?;
        loader.close();
        return Ok(len);
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (fresh, info) = crate::persist::read_rdb(
        std::io::BufReader::with_capacity(1 << 20, file),
        settings.databases,
        settings,
        unix_ms(),
    )
    .with_context(|| {
        format!(
            "cannot load the AOF base file {}: it is corrupt or truncated",
            path.display()
        )
    })?;
    let mut ks = srv.keyspace.lock();
    crate::persist::install(&mut ks, fresh);
    srv.persist.last_load_keys.store(info.keys, Relaxed);
    srv.persist
        .last_load_expired
        .store(info.expired_skipped, Relaxed);
    Ok(std::fs::metadata(path).map_or(0, |m| m.len()))
}

/// The client the files' commands run as.
struct Loader<'s> {
    srv: &'s Arc<Shared>,
    client: Client,
    out: ReplyBuf,
}

impl<'s> Loader<'s> {
    fn new(srv: &'s Arc<Shared>) -> Self {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let accepted = crate::connection::register(srv, addr, addr);
        let client = Client::new(
            accepted.handle.clone(),
            true,
            srv.settings(),
            srv.settings_generation(),
        );
        Loader {
            srv,
            client,
            out: ReplyBuf::new(Protocol::Resp2),
        }
    }

    fn close(self) {
        self.srv.clients.unregister(self.client.handle.id);
    }

    /// Replays one file of commands, read a chunk at a time; returns its
    /// (possibly cut back) length.
    fn replay(&mut self, settings: &Settings, path: &Path, last: bool) -> anyhow::Result<u64> {
        let mut reader = CommandReader::open(path)?;
        // Inside MULTI: where it began, and the commands queued since (kept until
        // EXEC, as Redis keeps them: a transaction is applied whole or not at all).
        let mut multi: Option<(u64, Vec<Vec<Vec<u8>>>)> = None;
        let mut guard = Some(dispatch::lock_keyspace(self.srv, settings));
        let mut clock = Clock::start();
        let end = loop {
            let (at, argv) = match reader.next()? {
                Next::Command { at, argv } => (at, argv),
                Next::End { at } => break at,
            };
            let name = argv[0];
            if name.eq_ignore_ascii_case(b"multi") {
                if multi.is_some() {
                    return Err(corrupt(path, at, "MULTI inside MULTI"));
                }
                multi = Some((at, Vec::new()));
            } else if name.eq_ignore_ascii_case(b"exec") {
                let Some((_, queued)) = multi.take() else {
                    return Err(corrupt(path, at, "EXEC without MULTI"));
                };
                for cmd in &queued {
                    let args: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
                    self.run(settings, &mut guard, &mut clock, &args)
                        .map_err(|why| corrupt(path, at, &why))?;
                }
            } else if let Some((_, queued)) = multi.as_mut() {
                queued.push(argv.iter().map(|a| a.to_vec()).collect());
            } else {
                self.run(settings, &mut guard, &mut clock, &argv)
                    .map_err(|why| corrupt(path, at, &why))?;
            }
        };
        drop(guard);
        let len = reader.len();
        drop(reader);
        // Where the last whole command (or whole transaction) ends.
        let good = multi.as_ref().map_or(end, |(start, _)| *start);
        if good < len {
            if !last {
                return Err(corrupt(
                    path,
                    good,
                    "the file ends in the middle of a command",
                ));
            }
            if !settings.aof.load_truncated {
                bail!(
                    "Unexpected end of file reading the append only file {} at offset {good} \
                     (set aof-load-truncated yes to load the complete commands and cut the file there)",
                    path.display()
                );
            }
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! \
                 AOF loaded anyway because aof-load-truncated is enabled; \
                 the file is cut back to offset {good} (of {len})",
                path.display(),
            );
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {} to truncate it", path.display()))?;
            f.set_len(good)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot truncate {}", path.display()))?;
        }
        Ok(good)
    }

    /// Runs one command without admission checks (the file is trusted as Redis
    /// trusts it: it only holds what this node or Redis recorded).
    fn run<'g>(
        &mut self,
        settings: &Settings,
        guard: &mut Option<parking_lot::MutexGuard<'g, ferrocache_keyspace::Keyspace>>,
        clock: &mut Clock,
        argv: &[&[u8]],
    ) -> Result<(), String>
    where
        's: 'g,
    {
        let Some((cmd, stat)) = dispatch::resolve_queued(argv) else {
            return Err(format!(
                "unknown command or wrong number of arguments: '{}'",
                String::from_utf8_lossy(argv[0])
            ));
        };
        let flow = dispatch::run(
            self.srv,
            guard,
            &mut self.client,
            &mut self.out,
            settings,
            cmd,
            stat,
            argv,
            clock,
        );
        self.out.buf.clear();
        if flow != Flow::Continue {
            tracing::warn!(
                ?flow,
                command = cmd.spec.name,
                "an AOF command did not complete normally"
            );
        }
        Ok(())
    }
}
