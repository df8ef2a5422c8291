//! The dataset: values, sixteen databases, expiry and WATCH signalling.
//! No I/O and no clock of its own: every call that depends on time takes `now_ms`,
//! so the node decides what "now" is and tests can choose it.

mod bytes;
pub mod cursor;
mod db;
pub mod glob;
mod keyspace;
pub mod lfu;
mod table;
pub mod types;
mod value;
mod watch;

pub use bytes::{SharedBytes, SmallBytes};
pub use db::{Db, Entry, KeyEvent, Ttl};
pub use keyspace::{Keyspace, KeyspaceStats};
pub use types::{Hash, List, Set, ZSet};
pub use value::{itoa_buf as value_buf, parse_i64, Collection, Value, WrongType};
pub use watch::WatchFlag;

/// Keys are immutable byte strings, short ones stored inline.
pub type Key = SmallBytes;
