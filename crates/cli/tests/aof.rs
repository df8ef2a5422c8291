//! The append-only file against the real binary (and a real `redis-server`):
//! no acknowledged write lost after `kill -9` with `appendfsync always`, a bounded
//! loss with `everysec`, a truncated tail tolerated and corruption refused,
//! BGREWRITEAOF and `CONFIG SET appendonly yes` under writers, and the AOF
//! directory moving between ferrocache and `redis-server` in both directions.
//!
//! - `common`: writer threads that record what was acknowledged, and helpers;
//! - `crash`: SIGKILL under concurrent writers, both fsync policies;
//! - `files`: truncation, corruption, interoperability with `redis-server`;
//! - `rewrite`: BGREWRITEAOF and runtime enabling under load.

mod aof {
    pub mod common;
    mod crash;
    #[allow(dead_code)]
    #[path = "../persistence/data.rs"]
    pub mod data;
    mod files;
    mod rewrite;
}
