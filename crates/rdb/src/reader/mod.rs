//! The streaming RDB reader: header, then one [`Item`] at a time, then the
//! checksum. Nothing bigger than one value is ever held in memory.

mod primitives;
pub(crate) mod source;
pub(crate) mod value;

use crate::error::{RdbError, Result};
use crate::format::opcode;
use crate::model::{Entry, Item, RdbFile};
use crate::MAX_READ_VERSION;
use primitives::{read_len, read_string};
use source::Source;
use std::io::Read;
use value::{is_value_type, read_value};

/// Reads an RDB file record by record.
///
/// Use [`RdbReader::next_item`] (or the `Iterator` impl) until it returns `None`,
/// which happens only after the EOF opcode and a matching checksum: a file that
/// ends early or is corrupt yields an error instead, never a silent end. After an
/// error the iterator is finished.
///
/// The reader stops right after the checksum and does not look for more input, so
/// it can read an RDB that is followed by other data (as in a replication stream).
pub struct RdbReader<R> {
    src: Source<R>,
    version: u32,
    db: u32,
    finished: bool,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the header (`REDIS` and a 4-digit version).
    pub fn new(input: R) -> Result<RdbReader<R>> {
        let mut src = Source::new(input);
        let magic: [u8; 9] = src.array("the 9-byte header").map_err(|e| match e {
            RdbError::Truncated { .. } => RdbError::BadMagic,
            e => e,
        })?;
        if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
            return Err(RdbError::BadMagic);
        }
        let version = magic[5..]
            .iter()
            .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        if version == 0 || version > MAX_READ_VERSION {
            return Err(RdbError::UnsupportedVersion(version));
        }
        Ok(RdbReader {
            src,
            version,
            db: 0,
            finished: false,
        })
    }

    /// The RDB version from the header.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The offset of the next byte to be read (for progress reports).
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// The next record, or `None` after a verified end of file.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        if self.finished {
            return Ok(None);
        }
        let r = self.read_item();
        if !matches!(r, Ok(Some(_))) {
            self.finished = true;
        }
        r
    }

    fn read_item(&mut self) -> Result<Option<Item>> {
        let src = &mut self.src;
        let mut expire_at_ms = None;
        let mut lru_idle_secs = None;
        let mut lfu_freq = None;
        loop {
            let at = src.offset();
            let op = src.u8("an opcode or a value type (the file ends without EOF)")?;
            let pending_meta =
                expire_at_ms.is_some() || lru_idle_secs.is_some() || lfu_freq.is_some();
            if pending_meta
                && !is_value_type(op)
                && !matches!(
                    op,
                    opcode::EXPIRETIME | opcode::EXPIRETIME_MS | opcode::IDLE | opcode::FREQ
                )
            {
                return Err(RdbError::corrupt(
                    at,
                    format!("opcode {op:#04x} between a key's expiry/LRU/LFU and the key"),
                ));
            }
            match op {
                opcode::EXPIRETIME_MS => {
                    expire_at_ms = Some(i64::from_le_bytes(src.array("an expiry time (ms)")?))
                }
                opcode::EXPIRETIME => {
                    let secs = i32::from_le_bytes(src.array("an expiry time (s)")?);
                    expire_at_ms = Some(i64::from(secs) * 1000);
                }
                opcode::IDLE => lru_idle_secs = Some(read_len(src, "an LRU idle time")?),
                opcode::FREQ => lfu_freq = Some(src.u8("an LFU frequency")?),
                opcode::SELECTDB => {
                    let db = read_len(src, "a database number")?;
                    self.db = u32::try_from(db)
                        .map_err(|_| RdbError::corrupt(at, format!("database number {db}")))?;
                    return Ok(Some(Item::SelectDb(self.db)));
                }
                opcode::RESIZEDB => {
                    let keys = read_len(src, "a RESIZEDB key count")?;
                    let expires = read_len(src, "a RESIZEDB expires count")?;
                    return Ok(Some(Item::ResizeDb {
                        db: self.db,
                        keys,
                        expires,
                    }));
                }
                opcode::AUX => {
                    let key = read_string(src, "an AUX field name")?;
                    let value = read_string(src, "an AUX field value")?;
                    return Ok(Some(Item::Aux { key, value }));
                }
                opcode::FUNCTION2 => {
                    return Ok(Some(Item::Function(read_string(
                        src,
                        "a function library",
                    )?)))
                }
                opcode::FUNCTION_PRE_GA => {
                    return Err(RdbError::Unsupported {
                        offset: at,
                        what: "pre-release (7.0 RC) function record".into(),
                    })
                }
                opcode::MODULE_AUX => {
                    return Err(RdbError::Unsupported {
                        offset: at,
                        what: "module auxiliary data: modules are not supported".into(),
                    })
                }
                opcode::EOF => {
                    // Checksums exist from version 5 on; zero means "not computed"
                    // (rdbchecksum no), as Redis treats it.
                    if self.version >= 5 {
                        let actual = src.crc();
                        let expected =
                            u64::from_le_bytes(src.array("the 8-byte checksum after EOF")?);
                        if expected != 0 && expected != actual {
                            return Err(RdbError::Checksum { expected, actual });
                        }
                    }
                    return Ok(None);
                }
                t if is_value_type(t) => {
                    let key = read_string(src, "a key")?;
                    let value = read_value(src, t, &key)?;
                    return Ok(Some(Item::Entry(Entry {
                        db: self.db,
                        key,
                        value,
                        expire_at_ms,
                        lru_idle_secs,
                        lfu_freq,
                    })));
                }
                other => {
                    return Err(RdbError::corrupt(
                        at,
                        format!("unknown opcode or value type {other:#04x}"),
                    ))
                }
            }
        }
    }
}

impl<R: Read> Iterator for RdbReader<R> {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Result<Item>> {
        self.next_item().transpose()
    }
}

/// Reads a whole file into memory (tests, small files).
pub fn read_all<R: Read>(input: R) -> Result<RdbFile> {
    let mut reader = RdbReader::new(input)?;
    let mut file = RdbFile {
        version: reader.version(),
        ..RdbFile::default()
    };
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Aux { key, value } => file.aux.push((key, value)),
            Item::SelectDb(_) => {}
            Item::ResizeDb { db, keys, expires } => file.resize.push((db, keys, expires)),
            Item::Function(code) => file.functions.push(code),
            Item::Entry(e) => file.entries.push(e),
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests;
