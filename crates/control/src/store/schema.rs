//! The database schema. Operator intent and what must survive a restart of the
//! service: caches and their nodes, access keys, the epoch log, workflows (step by
//! step), history and published events, node software versions, each node's version,
//! each cache's update channel and maintenance windows.

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS caches (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,          -- CacheSpec as JSON (ports as resolved at creation)
    epoch INTEGER NOT NULL,
    gateway TEXT,                -- GatewayRecord as JSON: pid, admin and client addresses
    created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    cache TEXT NOT NULL REFERENCES caches(name) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    port INTEGER NOT NULL,
    role TEXT NOT NULL,          -- the assigned role: primary | replica
    pid INTEGER,
    PRIMARY KEY (cache, idx));
CREATE TABLE IF NOT EXISTS access_keys (
    cache TEXT NOT NULL REFERENCES caches(name) ON DELETE CASCADE,
    which TEXT NOT NULL,         -- primary | secondary
    key TEXT NOT NULL,
    PRIMARY KEY (cache, which));
CREATE TABLE IF NOT EXISTS epochs (
    cache TEXT NOT NULL REFERENCES caches(name) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    primary_node INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (cache, epoch));
CREATE TABLE IF NOT EXISTS workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cache TEXT NOT NULL,
    kind TEXT NOT NULL,
    shard INTEGER NOT NULL,
    state TEXT NOT NULL,         -- running | done | failed
    ops TEXT NOT NULL,           -- JSON list of node operations
    op INTEGER NOT NULL,         -- the operation in progress
    phase TEXT NOT NULL,         -- its phase; a restarted service re-runs it
    error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cache TEXT NOT NULL,
    record TEXT NOT NULL);       -- HistoryRecord as JSON
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cache TEXT NOT NULL,
    shard INTEGER NOT NULL,
    node INTEGER NOT NULL,
    published_ms INTEGER NOT NULL,
    message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT PRIMARY KEY,       -- newest of a channel: the highest rowid
    engine TEXT NOT NULL,        -- builtin | redis
    binary TEXT NOT NULL,
    channel TEXT NOT NULL,       -- stable | preview
    added_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS node_versions (
    cache TEXT NOT NULL,
    idx INTEGER NOT NULL,
    version TEXT NOT NULL,       -- what the node runs (and runs again when restarted)
    PRIMARY KEY (cache, idx));
CREATE TABLE IF NOT EXISTS cache_settings (
    cache TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    windows TEXT NOT NULL);      -- [Window] as JSON
";

/// Columns added after the first release of the schema; `ALTER TABLE … ADD COLUMN`
/// fails with "duplicate column name" once applied, which is how a second start
/// knows to skip it.
pub const MIGRATIONS: &[&str] = &[
    "ALTER TABLE workflows ADD COLUMN grp TEXT",
    "ALTER TABLE workflows ADD COLUMN version TEXT",
    "ALTER TABLE workflows ADD COLUMN not_before_ms INTEGER",
    "ALTER TABLE workflows ADD COLUMN started_ms INTEGER",
    "ALTER TABLE workflows ADD COLUMN window INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE workflows ADD COLUMN announced INTEGER NOT NULL DEFAULT 0",
];
