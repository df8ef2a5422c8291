//! The differential test: the same command sequences go to a real `redis-server`
//! (7.0, started by the test) and to `ferrocache node`, and the replies must match.
//!
//! Each test starts its own pair of servers on 127.0.0.1 (through `ferrocache-testkit`)
//! and drives them over parallel connections with `harness::Differ`, which collects
//! every mismatch (command, both replies) and fails the test with the whole list.
//! Cases: hand-written per command group (`strings`, `keyspace`, `connection`,
//! `server`, `transactions`, `pubsub`, `protocol`) and seeded random sequences
//! (`random`).
//!
//! Knobs (environment):
//! - `FERRO_DIFF_SELF=1` — the subject is a second redis-server instead of the node
//!   (tests the harness itself: everything must pass).
//! - `FERRO_DIFF_TRACE=1` — print every command and both replies (`--nocapture`).
//! - `FERRO_DIFF_SEEDS=3,17`, `FERRO_DIFF_SEED_COUNT=n`, `FERRO_DIFF_COMMANDS=n` —
//!   see `random`.
//!
//! # Normalisation: replies that may legitimately differ
//!
//! Replies are compared exactly — frame types, bytes, error texts — except where a
//! rule below says otherwise (the code is `normalise::rule`). An error reply on either
//! side is always compared exactly, whatever the rule.
//!
//! | command | compared |
//! | --- | --- |
//! | KEYS, PUBSUB CHANNELS (and SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS) | elements sorted: Redis's order is its hash table's |
//! | HGETALL, CONFIG GET | pairs sorted by name; CONFIG GET hides the values of dir, port, bind, logfile, pidfile, unixsocket (they depend on how each server was started) |
//! | COMMAND INFO name … | exact, with each container command's subcommands sorted (Redis: dict order) |
//! | TIME, DEBUG, MEMORY (but USAGE), COMMAND, COMMAND DOCS, COMMAND LIST, COMMAND INFO without names, any HELP | RESP type only (clock; free-form text; ferrocache serves a subset of Redis's commands) |
//! | CLIENT ID, OBJECT IDLETIME, OBJECT FREQ, LASTSAVE, COMMAND COUNT | any integer |
//! | MEMORY USAGE | any integer, or nil (allocator-specific) |
//! | TTL, EXPIRETIME: ±2 s; PTTL, PEXPIRETIME: ±2000 ms | clock; negative values (-1, -2) exactly |
//! | INFO | section headers, presence of a checklist of fields tools parse, and the `dbN:keys=K,expires=E` lines (not avg_ttl, not other values) |
//! | CLIENT LIST, CLIENT INFO | per line: field names in order, and the values of name, db, sub, psub, ssub, multi, flags, cmd, user, resp, redir (not id, addr, fd, age, idle, buffer sizes) |
//! | HELLO | all keys; values of proto, mode, role, modules (not server, version, id) |
//! | RANDOMKEY | nil on both, or on each side a key that EXISTS there |
//! | SCAN 0 … | iterated to cursor 0 on each side: the sorted set of keys (cursors and batch sizes are implementation details); SCAN with another cursor: type only |
//! | HSCAN key 0 … | iterated to cursor 0 on each side: the sorted set of field/value pairs (a hashtable's cursors are implementation details; a listpack hash's single exact reply is checked with `check_exact` in `hashes`); another cursor: type only |
//! | HRANDFIELD | structure and length exactly; each field (and value) must belong to the hash (checked with HGETALL on the same connection); with a positive count, the fields must be distinct |
//! | SSCAN key 0 … | iterated to cursor 0 on each side: the sorted set of members (a hashtable's cursors are implementation details; an intset's single exact reply is checked with `check_exact` in `sets`); another cursor: type only |
//! | SPOP, SRANDMEMBER | reply type and length exactly; each member must belong to the set (SRANDMEMBER) or have left it (SPOP), checked with SMEMBERS on the same connection; SPOP and a positive count: members distinct. `sets` checks the exact whole-set replies and puts popped members back to keep both servers' sets equal |
//! | ZSCAN key 0 … | iterated to cursor 0 on each side: the sorted set of member/score pairs (a skiplist's cursors are implementation details; a listpack's single exact reply is checked with `check_exact` in `zsets`); another cursor: type only |
//! | ZRANDMEMBER | as HRANDFIELD, with the sorted set read by ZRANGE key 0 -1 WITHSCORES: structure and length exactly, each member (and score) must belong to the set, distinct with a positive count |
//! | UNSUBSCRIBE / PUNSUBSCRIBE without arguments | channel names sorted, remaining counts in order (Redis's order is its dict's) |
//!
//! Tests that observe timing (expiry, idle timeout, output-buffer limits) compare
//! outcomes within deadlines, not exact instants.
//!
//! # Deliberate differences
//!
//! Where ferrocache must differ from Redis on purpose, the case is adjusted here with a
//! comment giving the reason, and the difference is listed below (and in the README):
//!
//! - HELLO `server`/`version` values and INFO values are not compared: ferrocache may
//!   name itself and report its own numbers.
//! - COMMAND / COMMAND COUNT / COMMAND LIST / COMMAND DOCS: ferrocache serves the
//!   commands of its issues only, so the lists differ; COMMAND INFO of a served command
//!   is compared exactly.
//! - The reference runs with `--enable-debug-command yes` (Redis 7 refuses DEBUG by
//!   default); ferrocache always serves DEBUG SLEEP.

mod differential {
    pub mod harness;
    pub mod normalise;

    mod blocking;
    mod connection;
    mod dump;
    mod hashes;
    mod hll;
    mod keyspace;
    mod lists;
    mod notifications;
    mod protocol;
    mod pubsub;
    pub mod random;
    mod server;
    mod sets;
    mod strings;
    mod transactions;
    mod zsets;
}
