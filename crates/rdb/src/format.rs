//! Numbers of the RDB format: opcodes, value type bytes, and their names.

/// The version this crate writes: Redis 7.0's.
pub const RDB_VERSION: u16 = 10;

pub(crate) mod opcode {
    pub const FUNCTION2: u8 = 0xF5;
    /// The pre-release (7.0 RC) function format; Redis refuses it too.
    pub const FUNCTION_PRE_GA: u8 = 0xF6;
    pub const MODULE_AUX: u8 = 0xF7;
    pub const IDLE: u8 = 0xF8;
    pub const FREQ: u8 = 0xF9;
    pub const AUX: u8 = 0xFA;
    pub const RESIZEDB: u8 = 0xFB;
    pub const EXPIRETIME_MS: u8 = 0xFC;
    pub const EXPIRETIME: u8 = 0xFD;
    pub const SELECTDB: u8 = 0xFE;
    pub const EOF: u8 = 0xFF;
}

pub(crate) mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Quicklist 2 node containers.
pub(crate) const QUICKLIST_NODE_PLAIN: u64 = 1;
pub(crate) const QUICKLIST_NODE_PACKED: u64 = 2;

/// Special string encodings (the low 6 bits after a `11` length prefix).
pub(crate) mod enc {
    pub const INT8: u8 = 0;
    pub const INT16: u8 = 1;
    pub const INT32: u8 = 2;
    pub const LZF: u8 = 3;
}

/// A human name for a value type byte, for error messages.
pub(crate) fn type_name(t: u8) -> &'static str {
    match t {
        ty::STRING => "string",
        ty::LIST => "list (linked list)",
        ty::SET => "set",
        ty::ZSET => "zset (string scores)",
        ty::HASH => "hash",
        ty::ZSET_2 => "zset",
        ty::MODULE_PRE_GA | ty::MODULE_2 => "module value",
        ty::HASH_ZIPMAP => "hash (zipmap)",
        ty::LIST_ZIPLIST => "list (ziplist)",
        ty::SET_INTSET => "set (intset)",
        ty::ZSET_ZIPLIST => "zset (ziplist)",
        ty::HASH_ZIPLIST => "hash (ziplist)",
        ty::LIST_QUICKLIST => "list (quicklist)",
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => "stream",
        ty::HASH_LISTPACK => "hash (listpack)",
        ty::ZSET_LISTPACK => "zset (listpack)",
        ty::LIST_QUICKLIST_2 => "list (quicklist 2)",
        ty::SET_LISTPACK => "set (listpack)",
        _ => "unknown type",
    }
}
