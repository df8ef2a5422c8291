//! Export and import (SYSTEM.md §8). Export: BGSAVE on a synced replica (else the
//! primary) and the file it wrote — the cache keeps serving; in the modes that never
//! load a dump (`none`, the AOF modes) the snapshot is removed again, so no restart
//! comes back with it. Import: the cache is unavailable meanwhile, as the seeds say:
//! every node stops, the file becomes the primary's dump.rdb (an AOF set aside), the
//! primary starts and loads it (with `appendonly no` this once in the AOF modes, then
//! the AOF is turned on and written from the imported data), the replicas, wiped,
//! copy it. Both engines write and read Redis's RDB format, so both directions
//! interoperate with redis-server.

use crate::api::ApiError;
use crate::cache::{CacheRt, Starting};
use crate::launch::Start;
use crate::resp::RespClient;
use crate::secret::now_ms;
use crate::service::Ctl;
use anyhow::{bail, Context};
use ferrocache_api::cache::Persistence;
use ferrocache_api::http::Imported;
use ferrocache_api::{HistoryRecord, Role};
use ferrocache_resp::Frame;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SAVE_LIMIT: Duration = Duration::from_secs(120);

async fn config_get(c: &mut RespClient, name: &str) -> anyhow::Result<String> {
    match c.ok(&["CONFIG", "GET", name]).await? {
        Frame::Array(v) if v.len() == 2 => v[1]
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .context("CONFIG GET: not a string"),
        other => bail!("CONFIG GET {name}: unexpected reply {other:?}"),
    }
}

/// The file a node's snapshots go to (`dir`/`dbfilename`, as the node reports them).
async fn dump_path(c: &mut RespClient) -> anyhow::Result<PathBuf> {
    Ok(PathBuf::from(config_get(c, "dir").await?).join(config_get(c, "dbfilename").await?))
}

/// A number from an INFO map (0 when absent).
fn num(m: &HashMap<String, String>, k: &str) -> u64 {
    m.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// Whether a node of the cache reads dump.rdb when it starts: only `rdb` does (`none`
/// must come back empty; the AOF modes load the AOF).
fn keeps_dump(rt: &CacheRt) -> bool {
    rt.spec.persistence == Persistence::Rdb
}

fn aof_mode(rt: &CacheRt) -> bool {
    matches!(
        rt.spec.persistence,
        Persistence::Aof | Persistence::AofAlways
    )
}

/// One lock per cache for exports that remove their snapshot: a second export must
/// not lose the file it waits for to the first one's clean-up.
fn export_lock(cache: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut locks = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    locks.entry(cache.to_string()).or_default().clone()
}

/// A fresh RDB snapshot of the cache's data.
pub async fn export(ctl: &Ctl, rt: &CacheRt) -> anyhow::Result<Vec<u8>> {
    // A synced replica spares the primary the work; the primary when there is none.
    let node = {
        let st = rt.state.lock();
        st.nodes
            .iter()
            .find(|n| n.role == Role::Replica && n.synced && !n.maintenance)
            .or_else(|| st.nodes.iter().find(|n| n.role == Role::Primary))
            .map(|n| n.index)
            .context("the cache has no node")?
    };
    // Everything acknowledged before the export began must be in it: a replica
    // first catches up with the primary's offset of this moment.
    let node = match rt.primary_of(0) {
        Some(p) if p != node && !caught_up(ctl, rt, p, node).await => p,
        _ => node,
    };
    let lock = export_lock(&rt.name);
    let _one_at_a_time = if keeps_dump(rt) {
        None
    } else {
        Some(lock.lock().await)
    };
    let mut c = rt.client(ctl, node).await?;
    let path = dump_path(&mut c).await?;
    // A later save replaces the file by rename; the one read here stays whole.
    let bytes = match bgsave(&mut c, node).await {
        Ok(()) => std::fs::read(&path).with_context(|| format!("reading {}", path.display())),
        Err(e) => Err(e),
    };
    if !keeps_dump(rt) {
        // Left there, the snapshot would be loaded by the node's next start: old
        // data in a `none` cache, or in place of a missing AOF (ferrocache node).
        if let Err(e) = remove_file_if_any(&path) {
            tracing::warn!(cache = %rt.name, node, "removing the export's snapshot {}: {e}", path.display());
        }
    }
    bytes
}

/// BGSAVE and its end.
async fn bgsave(c: &mut RespClient, node: usize) -> anyhow::Result<()> {
    let before = num(&c.info("persistence").await?, "rdb_saves");
    let deadline = Instant::now() + SAVE_LIMIT;
    // BGSAVE, retried while another save or (redis-server) an AOF rewrite runs, as
    // after a replica's full sync in an AOF mode.
    let busy = |e: &str| e.contains("in progress") || e.contains("Another child process is active");
    loop {
        match c.call(&["BGSAVE"]).await? {
            Frame::Error(e) if busy(&String::from_utf8_lossy(&e)) => {}
            Frame::Error(e) => bail!("BGSAVE refused: {}", String::from_utf8_lossy(&e)),
            _ => break,
        }
        if Instant::now() > deadline {
            bail!("node {node} stayed busy saving for {SAVE_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let m = c.info("persistence").await?;
        if num(&m, "rdb_saves") > before && num(&m, "rdb_bgsave_in_progress") == 0 {
            if m.get("rdb_last_bgsave_status").map(String::as_str) != Some("ok") {
                bail!("node {node} failed to write its snapshot");
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("node {node} did not finish its snapshot within {SAVE_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether replica `r` reaches primary `p`'s current offset within a few seconds.
async fn caught_up(ctl: &Ctl, rt: &CacheRt, p: usize, r: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    let Ok(target) = async { rt.client(ctl, p).await?.repl().await }.await else {
        return false;
    };
    let Ok(mut c) = rt.client(ctl, r).await else {
        return false;
    };
    while Instant::now() < deadline {
        match c.repl().await {
            Ok(i) if i.in_sync() && i.offset >= target.offset => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// Checks the header: `REDIS` and a four-digit version this cache's engine loads.
fn check_rdb(bytes: &[u8], rt: &CacheRt) -> Result<(), ApiError> {
    let version = (bytes.len() >= 9 && bytes.starts_with(b"REDIS"))
        .then(|| std::str::from_utf8(&bytes[5..9]).ok()?.parse::<u32>().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::bad_request("not an RDB file: it must start with REDIS and a 4-digit version")
        })?;
    // Redis 7.0 loads versions up to 10; ferrocache up to 11.
    let max = match rt.spec.engine {
        ferrocache_api::Engine::Redis => 10,
        ferrocache_api::Engine::Builtin => 11,
    };
    if version == 0 || version > max {
        return Err(ApiError::bad_request(format!(
            "RDB version {version} cannot be loaded by engine {} (at most {max})",
            rt.spec.engine
        )));
    }
    Ok(())
}

/// Replaces the cache's data with `bytes`. The cache is unavailable meanwhile; if the
/// primary cannot load the file, its previous data is put back and served again.
pub async fn import(ctl: &Ctl, rt: &CacheRt, bytes: &[u8]) -> Result<Imported, ApiError> {
    check_rdb(bytes, rt)?;
    let row = ctl
        .store
        .insert_workflow(&rt.name, "import", 0, &[], now_ms())
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::conflict(format!("cache {} is already running a workflow", rt.name))
        })?;
    let id = row.info.id;
    let started = Instant::now();
    let started_ms = now_ms();
    let result = {
        let _guard = rt.op_lock.lock().await;
        replace(ctl, rt, bytes).await
    };
    let err = result.as_ref().err().map(|e| e.message.clone());
    let _ = ctl.store.finish_workflow(id, err.as_deref(), now_ms());
    let (primary, keys) = result?;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    ctl.store
        .add_history(HistoryRecord {
            id: 0,
            cache: rt.name.clone(),
            kind: "import".into(),
            shard: 0,
            node: primary,
            role: Role::Primary,
            started_ms,
            ended_ms: now_ms(),
            write_pause_ms: None,
            connections_moved: None,
            connections_closed: None,
            workflow: Some(id),
            version: None,
            resync: None,
            epoch: rt.state.lock().epoch,
            detail: format!(
                "data replaced by an imported RDB file of {} bytes ({keys} keys); every node restarted, replicas resynchronised",
                bytes.len()
            ),
        })
        .map_err(ApiError::internal)?;
    Ok(Imported {
        cache: rt.name.clone(),
        bytes: bytes.len() as u64,
        keys,
        duration_ms,
    })
}

/// A node's files as it reports them: the dump, the AOF directory and its manifest.
struct NodeFiles {
    dump: PathBuf,
    aof: PathBuf,
    manifest: PathBuf,
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn remove_dir_if_any(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn remove_file_if_any(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl NodeFiles {
    async fn of(c: &mut RespClient) -> anyhow::Result<NodeFiles> {
        let dir = PathBuf::from(config_get(c, "dir").await?);
        let aof = dir.join(config_get(c, "appenddirname").await?);
        let manifest = aof.join(format!(
            "{}.manifest",
            config_get(c, "appendfilename").await?
        ));
        Ok(NodeFiles {
            dump: dir.join(config_get(c, "dbfilename").await?),
            aof,
            manifest,
        })
    }

    /// The same names in another node's directory (the nodes of a cache are configured
    /// alike).
    fn in_dir(&self, dir: &Path) -> NodeFiles {
        let name = |p: &Path| dir.join(p.file_name().unwrap_or_default());
        let aof = name(&self.aof);
        NodeFiles {
            dump: name(&self.dump),
            manifest: aof.join(self.manifest.file_name().unwrap_or_default()),
            aof,
        }
    }

    fn dump_backup(&self) -> PathBuf {
        beside(&self.dump, ".before-import")
    }

    fn aof_backup(&self) -> PathBuf {
        beside(&self.aof, ".before-import")
    }

    /// Makes `bytes` the dump, the previous one (and in an AOF mode the AOF
    /// directory, which both engines would load instead) kept aside.
    fn place(&self, bytes: &[u8], aof_mode: bool) -> anyhow::Result<()> {
        // Left over by an import that failed later on: not this data's backups.
        remove_file_if_any(&self.dump_backup())?;
        remove_dir_if_any(&self.aof_backup())?;
        let tmp = beside(&self.dump, ".import");
        std::fs::write(&tmp, bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        if self.dump.exists() {
            std::fs::rename(&self.dump, self.dump_backup())?;
        }
        std::fs::rename(&tmp, &self.dump)?;
        if aof_mode && self.aof.exists() {
            std::fs::rename(&self.aof, self.aof_backup())?;
        }
        Ok(())
    }

    /// Undoes `place` (and whatever the node wrote since): the previous files return.
    fn put_back(&self, aof_mode: bool) {
        let restore = |from: PathBuf, to: &Path, is_dir: bool| {
            let cleared = if is_dir {
                remove_dir_if_any(to)
            } else {
                remove_file_if_any(to)
            };
            let r = cleared.and_then(|()| match from.exists() {
                true => std::fs::rename(&from, to),
                false => Ok(()),
            });
            if let Err(e) = r {
                tracing::error!("putting {} back: {e}", to.display());
            }
        };
        restore(self.dump_backup(), &self.dump, false);
        if aof_mode {
            // Whatever the node wrote there came from the data being given up.
            restore(self.aof_backup(), &self.aof, true);
        }
    }

    fn drop_backups(&self) {
        let _ = remove_file_if_any(&self.dump_backup());
        let _ = remove_dir_if_any(&self.aof_backup());
    }
}

/// Stop, place, start, resync (per shard). Answers (primary of shard 0, its keys).
async fn replace(ctl: &Ctl, rt: &CacheRt, bytes: &[u8]) -> Result<(usize, u64), ApiError> {
    let shards: Vec<usize> = {
        let st = rt.state.lock();
        let mut s: Vec<usize> = st.nodes.iter().map(|n| n.shard).collect();
        s.dedup();
        s
    };
    let aof = aof_mode(rt);
    let mut answer = None;
    for shard in shards {
        let p = rt
            .primary_of(shard)
            .ok_or_else(|| ApiError::internal("shard has no primary"))?;
        let replicas = rt.replicas_of(shard);
        let files = {
            let mut c = rt.client(ctl, p).await.map_err(ApiError::internal)?;
            NodeFiles::of(&mut c).await.map_err(ApiError::internal)?
        };
        for &r in &replicas {
            rt.stop_node(r).await;
        }
        rt.stop_node(p).await;
        if let Err(e) = files.place(bytes, aof) {
            files.put_back(aof);
            restart_all(ctl, rt, p, &replicas).await;
            return Err(ApiError::internal(format!("placing the file: {e:#}")));
        }
        // Replicas copy everything from the primary: neither their dump nor their
        // AOF (which a replica reloads at its next start) may bring old data back.
        for &r in &replicas {
            let theirs = files.in_dir(&crate::launch::node_dir(&rt.dir, r));
            let _ = remove_file_if_any(&theirs.dump);
            if let Err(e) = remove_dir_if_any(&theirs.aof) {
                tracing::error!(cache = %rt.name, node = r, "removing {}: {e}", theirs.aof.display());
            }
        }
        let how = Starting {
            launch: if aof { Start::LoadDump } else { Start::Normal },
            caller_handles_exit: true,
        };
        if let Err(e) = rt.start_node_with(ctl, p, None, how).await {
            tracing::error!(cache = %rt.name, "the primary could not load the import: {e:#}");
            rt.stop_node(p).await;
            files.put_back(aof);
            restart_all(ctl, rt, p, &replicas).await;
            return Err(ApiError::bad_request(format!(
                "the node could not load the file ({e:#}); the previous data is back"
            )));
        }
        if aof {
            if let Err(e) = enable_aof(ctl, rt, p, &files).await {
                tracing::error!(cache = %rt.name, "the AOF of the import was not written: {e:#}");
                rt.stop_node(p).await;
                files.put_back(aof);
                restart_all(ctl, rt, p, &replicas).await;
                return Err(ApiError::internal(format!(
                    "the imported data could not be written to the append-only file ({e:#}); \
                     the previous data is back"
                )));
            }
        }
        if !keeps_dump(rt) {
            // Loaded, and (AOF modes) in the AOF now: a `none` node must come back
            // empty, and nothing may fall back to this file later.
            if let Err(e) = remove_file_if_any(&files.dump) {
                tracing::warn!(cache = %rt.name, "removing {}: {e}", files.dump.display());
            }
        }
        let keys = keys_of(ctl, rt, p).await.map_err(ApiError::internal)?;
        let port = rt.node_addr(p).port();
        for &r in &replicas {
            rt.start_node(ctl, r, Some(port))
                .await
                .map_err(ApiError::internal)?;
            crate::workflows::resync_gate(ctl, rt, shard, r)
                .await
                .map_err(ApiError::internal)?;
        }
        files.drop_backups();
        answer.get_or_insert((p, keys));
    }
    // The endpoint reconnects by itself; the topology is resent for good measure.
    if let Err(e) = rt.push_topology().await {
        tracing::warn!(cache = %rt.name, "topology after import: {e:#}");
    }
    answer.ok_or_else(|| ApiError::internal("the cache has no shard"))
}

/// Turns the AOF on at run time (the primary was started with `appendonly no` to load
/// the dump) and waits until its first base holds the data and the manifest names it:
/// only then does a restart with the cache's own `appendonly yes` find the import.
async fn enable_aof(ctl: &Ctl, rt: &CacheRt, node: usize, files: &NodeFiles) -> anyhow::Result<()> {
    let mut c = rt.client(ctl, node).await?;
    let before = num(&c.info("persistence").await?, "aof_rewrites");
    c.ok(&["CONFIG", "SET", "appendonly", "yes"]).await?;
    let deadline = Instant::now() + SAVE_LIMIT;
    loop {
        let m = c.info("persistence").await?;
        // A rewrite that failed is retried by both engines while the AOF is being
        // turned on; `aof_rewrites` counts finished ones.
        let written = num(&m, "aof_enabled") == 1
            && num(&m, "aof_rewrite_in_progress") == 0
            && num(&m, "aof_rewrite_scheduled") == 0
            && num(&m, "aof_rewrites") > before
            && m.get("aof_last_bgrewrite_status").map(String::as_str) == Some("ok");
        if written && files.manifest.exists() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "node {node} did not write its AOF within {SAVE_LIMIT:?} (last rewrite: {})",
                m.get("aof_last_bgrewrite_status")
                    .map_or("?", String::as_str)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn restart_all(ctl: &Ctl, rt: &CacheRt, p: usize, replicas: &[usize]) {
    if let Err(e) = rt.start_node(ctl, p, None).await {
        tracing::error!(cache = %rt.name, "cannot restart the primary: {e:#}");
    }
    let port = rt.node_addr(p).port();
    for &r in replicas {
        if let Err(e) = rt.start_node(ctl, r, Some(port)).await {
            tracing::error!(cache = %rt.name, node = r, "cannot restart: {e:#}");
        }
    }
}

/// Keys over every database, from INFO keyspace (`db0:keys=3,expires=0,…`).
async fn keys_of(ctl: &Ctl, rt: &CacheRt, node: usize) -> anyhow::Result<u64> {
    let m = rt.client(ctl, node).await?.info("keyspace").await?;
    Ok(m.iter()
        .filter(|(k, _)| k.starts_with("db"))
        .filter_map(|(_, v)| {
            v.split(',')
                .next()?
                .strip_prefix("keys=")?
                .parse::<u64>()
                .ok()
        })
        .sum())
}
