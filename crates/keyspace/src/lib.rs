//! The dataset: values, sixteen databases, expiry and WATCH signalling.
//! No I/O and no clock of its own: every call that depends on time takes `now_ms`,
//! so the node decides what "now" is and tests can choose it.

mod db;
pub mod glob;
mod keyspace;
mod value;
mod watch;

pub use db::{Db, Entry, Ttl};
pub use keyspace::{Keyspace, KeyspaceStats};
pub use value::{itoa_buf as value_buf, parse_i64, Value};
pub use watch::WatchFlag;

/// Keys are immutable byte strings; a boxed slice costs 16 bytes where a Vec costs 24.
pub type Key = Box<[u8]>;
