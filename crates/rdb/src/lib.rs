//! Redis's RDB format: a streaming reader (versions 1 to 11, every encoding Redis
//! writes for strings, lists, sets, hashes and sorted sets), a writer of version 10
//! files that Redis 7.0 loads, and DUMP/RESTORE payloads.
//!
//! The crate does no I/O beyond `std::io::Read`/`Write` and knows nothing of the
//! node's keyspace: values come and go as [`RdbValue`]s. Streams and module values
//! are refused with an error that names them.
//!
//! ```
//! use ferrocache_rdb::{read_all, Entry, RdbValue, RdbWriter, WriteOptions};
//! let mut w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
//! w.standard_aux("7.0.15", 0, 0).unwrap();
//! w.select_db(0, 1, 0).unwrap();
//! w.write_entry(&Entry::new(0, "k", RdbValue::String("v".into()))).unwrap();
//! let file = read_all(&w.finish().unwrap()[..]).unwrap();
//! assert_eq!(file.entries[0].value, RdbValue::String("v".into()));
//! ```

mod crc;
mod encode;
pub mod encodings;
mod error;
mod format;
pub mod lzf;
mod model;
mod payload;
mod reader;
mod writer;

pub use crc::crc64;
pub use error::{RdbError, Result};
pub use format::RDB_VERSION;
pub use model::{Entry, Item, RdbFile, RdbValue};
pub use payload::{dump_payload, parse_payload};
pub use reader::{read_all, RdbReader};
pub use writer::{RdbWriter, WriteOptions};

/// The newest RDB version the reader accepts: Redis 7.2's 11 (whose only new
/// encoding, listpack sets, is read too; its streams are refused like all streams).
pub const MAX_READ_VERSION: u32 = 11;
