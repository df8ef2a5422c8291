//! The service's durable state in SQLite (rusqlite, bundled): one file in the data
//! directory, written in transactions so that nothing is ever half-applied.

mod caches;
mod records;
mod schema;
mod versions;
mod workflows;

pub use caches::{GatewayRecord, NodeRow};
pub use workflows::{Op, WorkflowRow};

use anyhow::Context;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        // WAL + synchronous=NORMAL: a commit survives a killed process (the case that
        // matters: the service SIGKILLed mid-workflow) without an fsync per write.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )?;
        conn.execute_batch(schema::SCHEMA)?;
        for m in schema::MIGRATIONS {
            match conn.execute_batch(m) {
                Err(e) if e.to_string().contains("duplicate column name") => {}
                other => other.with_context(|| format!("migrating the store: {m}"))?,
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> anyhow::Result<T> {
        let mut c = self.conn.lock();
        Ok(f(&mut c)?)
    }

    /// A value of the meta table, created by `make` the first time it is asked for.
    pub fn meta_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> anyhow::Result<String>,
    ) -> anyhow::Result<String> {
        let found: Option<String> = self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
                .optional()
        })?;
        if let Some(v) = found {
            return Ok(v);
        }
        let v = make()?;
        self.with(|c| c.execute("INSERT INTO meta(key, value) VALUES (?1, ?2)", [key, &v]))?;
        Ok(v)
    }
}
