//! History records and published events: append-only.

use super::Store;
use ferrocache_api::event::EventRecord;
use ferrocache_api::HistoryRecord;
use rusqlite::params;

fn sql_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.to_string().into())
}

impl Store {
    /// Appends a record; its `id` is assigned here.
    pub fn add_history(&self, mut rec: HistoryRecord) -> anyhow::Result<HistoryRecord> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO history(cache, record) VALUES (?1, '')",
                params![rec.cache],
            )?;
            rec.id = tx.last_insert_rowid() as u64;
            let json = serde_json::to_string(&rec).map_err(sql_err)?;
            tx.execute(
                "UPDATE history SET record=?2 WHERE id=?1",
                params![rec.id, json],
            )?;
            tx.commit()?;
            Ok(rec)
        })
    }

    pub fn history(&self, cache: &str) -> anyhow::Result<Vec<HistoryRecord>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT record FROM history WHERE cache=?1 ORDER BY id")?;
            let rows = st.query_map([cache], |r| r.get::<_, String>(0))?;
            rows.map(|r| r.and_then(|j| serde_json::from_str(&j).map_err(sql_err)))
                .collect()
        })
    }

    pub fn add_event(&self, ev: &EventRecord) -> anyhow::Result<u64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO events(cache, shard, node, published_ms, message) VALUES (?1,?2,?3,?4,?5)",
                params![ev.cache, ev.shard, ev.node, ev.published_ms, ev.message],
            )?;
            Ok(c.last_insert_rowid() as u64)
        })
    }

    /// Events of a cache with an id above `after`, oldest first.
    pub fn events(&self, cache: &str, after: u64) -> anyhow::Result<Vec<EventRecord>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, cache, shard, node, published_ms, message FROM events \
                 WHERE cache=?1 AND id>?2 ORDER BY id",
            )?;
            let rows = st.query_map(params![cache, after], |r| {
                Ok(EventRecord {
                    id: r.get(0)?,
                    cache: r.get(1)?,
                    shard: r.get(2)?,
                    node: r.get(3)?,
                    published_ms: r.get(4)?,
                    message: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }
}
