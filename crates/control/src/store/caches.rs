//! Caches, their nodes, access keys and the epoch log.

use super::Store;
use ferrocache_api::{CacheSpec, Role};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Where the cache's gateway runs, as learnt from its ready line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayRecord {
    pub pid: Option<u32>,
    pub admin: String,
    pub endpoint: String,
    pub tls_endpoint: String,
    /// Direct plain and TLS ports, node by node.
    pub node_ports: Vec<u16>,
    pub tls_node_ports: Vec<u16>,
}

#[derive(Debug, Clone)]
pub struct CacheRow {
    pub spec: CacheSpec,
    pub epoch: u64,
    pub gateway: Option<GatewayRecord>,
    pub nodes: Vec<NodeRow>,
    pub keys: (String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub index: usize,
    pub shard: usize,
    pub port: u16,
    pub role: Role,
    pub pid: Option<u32>,
}

fn role_text(r: Role) -> &'static str {
    match r {
        Role::Primary => "primary",
        Role::Replica => "replica",
    }
}

fn sql_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.to_string().into())
}

impl Store {
    /// Creates a cache with its nodes and keys in one transaction; an error if the
    /// name is taken.
    pub fn insert_cache(
        &self,
        spec: &CacheSpec,
        nodes: &[NodeRow],
        keys: (&str, &str),
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let spec_json = serde_json::to_string(spec)?;
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO caches(name, spec, epoch, created_ms) VALUES (?1, ?2, 0, ?3)",
                params![spec.name, spec_json, now_ms],
            )?;
            for n in nodes {
                tx.execute(
                    "INSERT INTO nodes(cache, idx, shard, port, role) VALUES (?1,?2,?3,?4,?5)",
                    params![spec.name, n.index, n.shard, n.port, role_text(n.role)],
                )?;
            }
            for (which, key) in [("primary", keys.0), ("secondary", keys.1)] {
                tx.execute(
                    "INSERT INTO access_keys(cache, which, key) VALUES (?1, ?2, ?3)",
                    params![spec.name, which, key],
                )?;
            }
            tx.commit()
        })
    }

    pub fn delete_cache(&self, name: &str) -> anyhow::Result<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            for table in [
                "nodes",
                "access_keys",
                "epochs",
                "node_versions",
                "cache_settings",
            ] {
                tx.execute(&format!("DELETE FROM {table} WHERE cache=?1"), [name])?;
            }
            let n = tx.execute("DELETE FROM caches WHERE name=?1", [name])?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    pub fn cache_names(&self) -> anyhow::Result<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT name FROM caches ORDER BY name")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    pub fn cache(&self, name: &str) -> anyhow::Result<Option<CacheRow>> {
        self.with(|c| {
            let head: Option<(String, u64, Option<String>)> = c
                .query_row(
                    "SELECT spec, epoch, gateway FROM caches WHERE name=?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((spec, epoch, gateway)) = head else {
                return Ok(None);
            };
            let spec: CacheSpec = serde_json::from_str(&spec).map_err(sql_err)?;
            let gateway = match gateway {
                Some(g) => Some(serde_json::from_str(&g).map_err(sql_err)?),
                None => None,
            };
            let mut st = c.prepare(
                "SELECT idx, shard, port, role, pid FROM nodes WHERE cache=?1 ORDER BY idx",
            )?;
            let nodes = st
                .query_map([name], |r| {
                    let role: String = r.get(3)?;
                    Ok(NodeRow {
                        index: r.get(0)?,
                        shard: r.get(1)?,
                        port: r.get(2)?,
                        role: if role == "primary" {
                            Role::Primary
                        } else {
                            Role::Replica
                        },
                        pid: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let key = |which: &str| -> rusqlite::Result<String> {
                c.query_row(
                    "SELECT key FROM access_keys WHERE cache=?1 AND which=?2",
                    [name, which],
                    |r| r.get(0),
                )
            };
            let keys = (key("primary")?, key("secondary")?);
            Ok(Some(CacheRow {
                spec,
                epoch,
                gateway,
                nodes,
                keys,
            }))
        })
    }

    pub fn set_gateway(&self, name: &str, g: &GatewayRecord) -> anyhow::Result<()> {
        let json = serde_json::to_string(g)?;
        self.with(|c| {
            c.execute(
                "UPDATE caches SET gateway=?2 WHERE name=?1",
                params![name, json],
            )
        })?;
        Ok(())
    }

    pub fn set_node_pid(&self, name: &str, idx: usize, pid: Option<u32>) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE nodes SET pid=?3 WHERE cache=?1 AND idx=?2",
                params![name, idx, pid],
            )
        })?;
        Ok(())
    }

    pub fn set_key(&self, name: &str, which: &str, key: &str) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE access_keys SET key=?3 WHERE cache=?1 AND which=?2",
                params![name, which, key],
            )
        })?;
        Ok(())
    }

    /// Records a change of primary durably: epoch+1, the new roles, and the epoch log,
    /// in one transaction. Called before anything routes to the new primary.
    pub fn record_promotion(
        &self,
        name: &str,
        shard: usize,
        new_primary: usize,
        reason: &str,
        now_ms: i64,
    ) -> anyhow::Result<u64> {
        self.with(|c| {
            let tx = c.transaction()?;
            let epoch: u64 =
                tx.query_row("SELECT epoch FROM caches WHERE name=?1", [name], |r| {
                    r.get(0)
                })?;
            let epoch = epoch + 1;
            tx.execute(
                "UPDATE caches SET epoch=?2 WHERE name=?1",
                params![name, epoch],
            )?;
            tx.execute(
                "UPDATE nodes SET role=CASE WHEN idx=?3 THEN 'primary' ELSE 'replica' END \
                 WHERE cache=?1 AND shard=?2",
                params![name, shard, new_primary],
            )?;
            tx.execute(
                "INSERT INTO epochs(cache, epoch, shard, primary_node, reason, at_ms) \
                 VALUES (?1,?2,?3,?4,?5,?6)",
                params![name, epoch, shard, new_primary, reason, now_ms],
            )?;
            tx.commit()?;
            Ok(epoch)
        })
    }
}
