//! Node software versions, the version each node runs, and each cache's update
//! channel and maintenance windows.

use super::Store;
use ferrocache_api::version::{VersionInfo, Window};
use ferrocache_api::Engine;
use rusqlite::{params, OptionalExtension};

fn sql_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.to_string().into())
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<VersionInfo> {
    let engine: String = r.get(1)?;
    Ok(VersionInfo {
        name: r.get(0)?,
        engine: engine.parse().map_err(sql_err)?,
        binary: r.get(2)?,
        channel: r.get(3)?,
        added_ms: r.get(4)?,
    })
}

const COLUMNS: &str = "name, engine, binary, channel, added_ms";

impl Store {
    /// Registers a version; false if the name is taken (nothing changes then).
    pub fn add_version(&self, v: &VersionInfo) -> anyhow::Result<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO versions(name, engine, binary, channel, added_ms) \
                 VALUES (?1,?2,?3,?4,?5)",
                params![
                    v.name,
                    v.engine.to_string(),
                    v.binary,
                    v.channel,
                    v.added_ms
                ],
            )?;
            Ok(n > 0)
        })
    }

    /// Points an existing version at another binary (the service's own version, whose
    /// binary is wherever the running service was started from).
    pub fn set_version_binary(&self, name: &str, binary: &str) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE versions SET binary=?2 WHERE name=?1",
                params![name, binary],
            )
        })?;
        Ok(())
    }

    pub fn versions(&self) -> anyhow::Result<Vec<VersionInfo>> {
        self.with(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM versions ORDER BY rowid"))?;
            let rows = st.query_map([], row)?;
            rows.collect()
        })
    }

    pub fn version(&self, name: &str) -> anyhow::Result<Option<VersionInfo>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM versions WHERE name=?1"),
                [name],
                row,
            )
            .optional()
        })
    }

    /// The newest version of `engine` in `channel`, or (channel None) the first one
    /// registered for the engine: what nodes run when nothing else was chosen.
    pub fn pick_version(
        &self,
        engine: Engine,
        channel: Option<&str>,
    ) -> anyhow::Result<Option<VersionInfo>> {
        let e = engine.to_string();
        self.with(|c| match channel {
            Some(ch) => c
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM versions WHERE engine=?1 AND channel=?2 \
                         ORDER BY rowid DESC LIMIT 1"
                    ),
                    [e.as_str(), ch],
                    row,
                )
                .optional(),
            None => c
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM versions WHERE engine=?1 ORDER BY rowid LIMIT 1"
                    ),
                    [e.as_str()],
                    row,
                )
                .optional(),
        })
    }

    pub fn node_version(&self, cache: &str, idx: usize) -> anyhow::Result<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT version FROM node_versions WHERE cache=?1 AND idx=?2",
                params![cache, idx],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn set_node_version(&self, cache: &str, idx: usize, version: &str) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO node_versions(cache, idx, version) VALUES (?1,?2,?3) \
                 ON CONFLICT(cache, idx) DO UPDATE SET version=excluded.version",
                params![cache, idx, version],
            )
        })?;
        Ok(())
    }

    /// The cache's update channel and maintenance windows (stable and none by default).
    pub fn settings(&self, cache: &str) -> anyhow::Result<(String, Vec<Window>)> {
        let found: Option<(String, String)> = self.with(|c| {
            c.query_row(
                "SELECT channel, windows FROM cache_settings WHERE cache=?1",
                [cache],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        match found {
            Some((ch, w)) => Ok((ch, serde_json::from_str(&w)?)),
            None => Ok(("stable".into(), vec![])),
        }
    }

    pub fn set_settings(
        &self,
        cache: &str,
        channel: &str,
        windows: &[Window],
    ) -> anyhow::Result<()> {
        let w = serde_json::to_string(windows)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO cache_settings(cache, channel, windows) VALUES (?1,?2,?3) \
                 ON CONFLICT(cache) DO UPDATE SET channel=excluded.channel, windows=excluded.windows",
                params![cache, channel, w],
            )
        })?;
        Ok(())
    }
}
