//! Node software versions (SYSTEM.md §2): a version names an engine and the binary that
//! runs it. The service registers itself as the first builtin version and Debian's
//! redis-server as the first redis version; each node runs a recorded version, which a
//! patch changes.

use crate::api::ApiError;
use crate::secret::now_ms;
use crate::service::Ctl;
use ferrocache_api::version::{AddVersion, VersionInfo, CHANNELS};
use ferrocache_api::Engine;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `BINARY --version` prints, or None when it does not run.
fn version_text(binary: &Path) -> Option<String> {
    let out = Command::new(binary).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Registers the first version of each engine that is installed.
pub fn register_defaults(ctl: &Ctl) -> anyhow::Result<()> {
    let me = std::fs::canonicalize(&ctl.config.ferrocache_bin)
        .unwrap_or_else(|_| ctl.config.ferrocache_bin.clone());
    let name = format!("builtin-{}", env!("CARGO_PKG_VERSION"));
    let builtin = VersionInfo {
        name: name.clone(),
        engine: Engine::Builtin,
        binary: me.display().to_string(),
        channel: "stable".into(),
        added_ms: now_ms(),
    };
    if !ctl.store.add_version(&builtin)? {
        // The running binary is this version, wherever it was started from.
        ctl.store.set_version_binary(&name, &builtin.binary)?;
    }
    if let Some(text) = version_text(&ctl.config.redis_server) {
        // `Redis server v=7.0.15 sha=…`
        let v = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .unwrap_or("unknown");
        let binary = which(&ctl.config.redis_server).unwrap_or(ctl.config.redis_server.clone());
        ctl.store.add_version(&VersionInfo {
            name: format!("redis-{v}"),
            engine: Engine::Redis,
            binary: binary.display().to_string(),
            channel: "stable".into(),
            added_ms: now_ms(),
        })?;
    }
    Ok(())
}

/// The absolute path of a command name, as the shell would find it.
fn which(cmd: &Path) -> Option<PathBuf> {
    if cmd.components().count() > 1 {
        return Some(cmd.to_path_buf());
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

/// `POST /versions`: checks the name, the channel, and that the binary runs and is
/// of the engine it claims.
pub fn add(ctl: &Ctl, req: AddVersion) -> Result<VersionInfo, ApiError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if req.name.is_empty() || req.name.len() > 63 || !req.name.chars().all(ok) {
        return Err(ApiError::bad_request(format!(
            "invalid version name '{}': 1-63 letters, digits, '-', '_' or '.'",
            req.name
        )));
    }
    if !CHANNELS.contains(&req.channel.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown channel '{}': expected stable or preview",
            req.channel
        )));
    }
    let binary = PathBuf::from(&req.binary);
    if !binary.is_absolute() || !binary.is_file() {
        return Err(ApiError::bad_request(format!(
            "binary '{}' is not an absolute path to a file",
            req.binary
        )));
    }
    let text = version_text(&binary)
        .ok_or_else(|| ApiError::bad_request(format!("'{} --version' does not run", req.binary)))?;
    let expect = match req.engine {
        Engine::Builtin => "ferrocache",
        Engine::Redis => "Redis server",
    };
    if !text.starts_with(expect) {
        return Err(ApiError::bad_request(format!(
            "'{} --version' says '{text}': not engine {}",
            req.binary, req.engine
        )));
    }
    let v = VersionInfo {
        name: req.name,
        engine: req.engine,
        binary: req.binary,
        channel: req.channel,
        added_ms: now_ms(),
    };
    if !ctl.store.add_version(&v).map_err(ApiError::internal)? {
        return Err(ApiError::conflict(format!(
            "version {} already exists",
            v.name
        )));
    }
    Ok(v)
}

/// The version node `idx` of `cache` runs: as recorded, else (a new node) the newest
/// of the cache's channel, else the engine's first; recorded from then on.
pub fn of_node(ctl: &Ctl, cache: &str, engine: Engine, idx: usize) -> anyhow::Result<VersionInfo> {
    if let Some(name) = ctl.store.node_version(cache, idx)? {
        if let Some(v) = ctl.store.version(&name)? {
            return Ok(v);
        }
    }
    let (channel, _) = ctl.store.settings(cache)?;
    let v = match ctl.store.pick_version(engine, Some(&channel))? {
        Some(v) => v,
        None => ctl
            .store
            .pick_version(engine, None)?
            .ok_or_else(|| anyhow::anyhow!("no version of engine {engine} is registered"))?,
    };
    ctl.store.set_node_version(cache, idx, &v.name)?;
    Ok(v)
}
