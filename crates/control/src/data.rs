//! Export and import (SYSTEM.md §8). Export: BGSAVE on a synced replica (else the
//! primary) and the file it wrote — the cache keeps serving. Import: the cache is
//! unavailable meanwhile, as the seeds say: every node stops, the file becomes the
//! primary's dump.rdb, the primary starts and loads it, the replicas resynchronise.
//! Both engines write and read Redis's RDB format, so both directions interoperate
//! with redis-server.

use crate::api::ApiError;
use crate::cache::CacheRt;
use crate::resp::RespClient;
use crate::secret::now_ms;
use crate::service::Ctl;
use anyhow::{bail, Context};
use ferrocache_api::http::Imported;
use ferrocache_api::{HistoryRecord, Role};
use ferrocache_resp::Frame;
use std::path::PathBuf;
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
    let mut c = rt.client(ctl, node).await?;
    let saves = |m: &std::collections::HashMap<String, String>, k: &str| {
        m.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    let before = saves(&c.info("persistence").await?, "rdb_saves");
    let deadline = Instant::now() + SAVE_LIMIT;
    // BGSAVE, retried while another save is running (then it must finish first).
    loop {
        match c.call(&["BGSAVE"]).await? {
            Frame::Error(e) if String::from_utf8_lossy(&e).contains("in progress") => {}
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
        if saves(&m, "rdb_saves") > before && saves(&m, "rdb_bgsave_in_progress") == 0 {
            if m.get("rdb_last_bgsave_status").map(String::as_str) != Some("ok") {
                bail!("node {node} failed to write its snapshot");
            }
            break;
        }
        if Instant::now() > deadline {
            bail!("node {node} did not finish its snapshot within {SAVE_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let path = dump_path(&mut c).await?;
    // A later save replaces the file by rename; the one read here stays whole.
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
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

/// Stop, place, start, resync (per shard). Answers (primary of shard 0, its keys).
async fn replace(ctl: &Ctl, rt: &CacheRt, bytes: &[u8]) -> Result<(usize, u64), ApiError> {
    let shards: Vec<usize> = {
        let st = rt.state.lock();
        let mut s: Vec<usize> = st.nodes.iter().map(|n| n.shard).collect();
        s.dedup();
        s
    };
    let mut answer = None;
    for shard in shards {
        let p = rt
            .primary_of(shard)
            .ok_or_else(|| ApiError::internal("shard has no primary"))?;
        let replicas = rt.replicas_of(shard);
        let path = {
            let mut c = rt.client(ctl, p).await.map_err(ApiError::internal)?;
            dump_path(&mut c).await.map_err(ApiError::internal)?
        };
        for &r in &replicas {
            rt.stop_node(r).await;
        }
        rt.stop_node(p).await;
        let backup = path.with_extension("rdb.before-import");
        let placed = (|| -> anyhow::Result<()> {
            let tmp = path.with_extension("rdb.import");
            std::fs::write(&tmp, bytes)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            if path.exists() {
                std::fs::rename(&path, &backup)?;
            }
            std::fs::rename(&tmp, &path)?;
            Ok(())
        })();
        if let Err(e) = placed {
            restart_all(ctl, rt, p, &replicas).await;
            return Err(ApiError::internal(format!("placing the file: {e:#}")));
        }
        // Replicas copy everything from the primary; their old files must not serve.
        for &r in &replicas {
            let _ = std::fs::remove_file(rt.dir.join(format!("node-{r}")).join("dump.rdb"));
        }
        if let Err(e) = rt.start_node(ctl, p, None).await {
            tracing::error!(cache = %rt.name, "the primary could not load the import: {e:#}");
            rt.stop_node(p).await;
            let _ = std::fs::rename(&backup, &path);
            restart_all(ctl, rt, p, &replicas).await;
            return Err(ApiError::bad_request(format!(
                "the node could not load the file ({e:#}); the previous data is back"
            )));
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
        let _ = std::fs::remove_file(&backup);
        answer.get_or_insert((p, keys));
    }
    // The endpoint reconnects by itself; the topology is resent for good measure.
    if let Err(e) = rt.push_topology().await {
        tracing::warn!(cache = %rt.name, "topology after import: {e:#}");
    }
    answer.ok_or_else(|| ApiError::internal("the cache has no shard"))
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
