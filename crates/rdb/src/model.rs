//! The neutral value model: what an RDB file holds, independent of any keyspace.

use bytes::Bytes;

/// One value, in the shape of its data type (not of its encoding).
///
/// Aggregates keep the order the file stored them in. Sets and hashes are expected
/// to hold no duplicate members/fields (Redis refuses such files); the reader does
/// not check it.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    String(Bytes),
    List(Vec<Bytes>),
    Set(Vec<Bytes>),
    Hash(Vec<(Bytes, Bytes)>),
    ZSet(Vec<(Bytes, f64)>),
}

impl RdbValue {
    /// The Redis type name (`TYPE` command's reply).
    pub fn type_name(&self) -> &'static str {
        match self {
            RdbValue::String(_) => "string",
            RdbValue::List(_) => "list",
            RdbValue::Set(_) => "set",
            RdbValue::Hash(_) => "hash",
            RdbValue::ZSet(_) => "zset",
        }
    }

    /// Number of elements (1 for a string).
    pub fn len(&self) -> usize {
        match self {
            RdbValue::String(_) => 1,
            RdbValue::List(v) | RdbValue::Set(v) => v.len(),
            RdbValue::Hash(v) => v.len(),
            RdbValue::ZSet(v) => v.len(),
        }
    }

    /// True for an aggregate without elements (Redis never stores one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One key with its value and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The database index (SELECTDB) the key belongs to.
    pub db: u32,
    pub key: Bytes,
    pub value: RdbValue,
    /// Absolute expiry time in Unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// Seconds since last access (written when maxmemory-policy is an LRU one).
    pub lru_idle_secs: Option<u64>,
    /// The LFU counter (written when maxmemory-policy is an LFU one).
    pub lfu_freq: Option<u8>,
}

impl Entry {
    /// An entry without expiry or eviction metadata.
    pub fn new(db: u32, key: impl Into<Bytes>, value: RdbValue) -> Entry {
        Entry {
            db,
            key: key.into(),
            value,
            expire_at_ms: None,
            lru_idle_secs: None,
            lfu_freq: None,
        }
    }
}

/// One record of an RDB file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An AUX field (`redis-ver`, `redis-bits`, `ctime`, `used-mem`, `repl-id`,
    /// `repl-offset`, `aof-base` …). Integer-encoded values are given as decimal text.
    Aux {
        key: Bytes,
        value: Bytes,
    },
    /// SELECTDB: the following keys belong to `db`.
    SelectDb(u32),
    /// RESIZEDB: size hints for the current database.
    ResizeDb {
        db: u32,
        keys: u64,
        expires: u64,
    },
    /// A FUNCTION2 record: the source code of one function library.
    Function(Bytes),
    Entry(Entry),
}

/// A whole file read into memory by [`crate::read_all`] (for tests and small files;
/// the node streams with [`crate::RdbReader`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RdbFile {
    pub version: u32,
    pub aux: Vec<(Bytes, Bytes)>,
    /// (db, keys, expires) per RESIZEDB record.
    pub resize: Vec<(u32, u64, u64)>,
    pub functions: Vec<Bytes>,
    pub entries: Vec<Entry>,
}

impl RdbFile {
    /// The value of an aux field, if present.
    pub fn aux(&self, key: &str) -> Option<&Bytes> {
        self.aux
            .iter()
            .find(|(k, _)| &k[..] == key.as_bytes())
            .map(|(_, v)| v)
    }
}
