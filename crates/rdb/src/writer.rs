//! The RDB file writer: version 10 (Redis 7.0), with aux fields, per-database
//! SELECTDB/RESIZEDB, expiry and LRU/LFU metadata, EOF and the CRC-64.

use crate::crc::{digest, Crc64Digest};
use crate::encode::{check_value, put_len, put_string, put_value, type_byte, Sink};
use crate::error::{RdbError, Result};
use crate::format::{opcode, RDB_VERSION};
use crate::model::Entry;
use std::io::{self, Write};

const BUF: usize = 64 * 1024;

/// How values are written.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// LZF-compress strings longer than 20 bytes when it saves space (Redis's
    /// `rdbcompression`, on by default).
    pub compress: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { compress: true }
    }
}

/// Writes an RDB file; call [`RdbWriter::finish`] at the end or the file is
/// incomplete (no EOF, no checksum) and every reader will refuse it.
pub struct RdbWriter<W: Write> {
    out: Out<W>,
    opts: WriteOptions,
    db: Option<u32>,
}

impl<W: Write> RdbWriter<W> {
    /// Writes the header `REDIS0010`.
    pub fn new(inner: W, opts: WriteOptions) -> Result<RdbWriter<W>> {
        let mut out = Out {
            inner,
            buf: Vec::with_capacity(BUF),
            digest: digest(),
        };
        out.put(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        Ok(RdbWriter {
            out,
            opts,
            db: None,
        })
    }

    /// Writes one AUX field. Values that are canonical integers are stored as
    /// integers, as Redis stores `redis-bits`, `ctime` …
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.out.put(&[opcode::AUX])?;
        put_string(&mut self.out, key, false)?;
        put_string(&mut self.out, value, false)?;
        Ok(())
    }

    /// Writes the aux fields Redis 7.0 starts every file with: `redis-ver`,
    /// `redis-bits`, `ctime` (Unix seconds), `used-mem`, `aof-base`.
    pub fn standard_aux(&mut self, redis_ver: &str, ctime_secs: i64, used_mem: u64) -> Result<()> {
        self.aux(b"redis-ver", redis_ver.as_bytes())?;
        self.aux(b"redis-bits", b"64")?;
        self.aux(b"ctime", ctime_secs.to_string().as_bytes())?;
        self.aux(b"used-mem", used_mem.to_string().as_bytes())?;
        self.aux(b"aof-base", b"0")
    }

    /// Starts database `db` with RESIZEDB hints (number of keys, number with a TTL).
    pub fn select_db(&mut self, db: u32, keys: u64, expires: u64) -> Result<()> {
        self.put_select(db)?;
        self.out.put(&[opcode::RESIZEDB])?;
        put_len(&mut self.out, keys)?;
        put_len(&mut self.out, expires)?;
        Ok(())
    }

    fn put_select(&mut self, db: u32) -> Result<()> {
        self.out.put(&[opcode::SELECTDB])?;
        put_len(&mut self.out, u64::from(db))?;
        self.db = Some(db);
        Ok(())
    }

    /// Writes a FUNCTION2 record (the source of one function library).
    pub fn function(&mut self, code: &[u8]) -> Result<()> {
        self.out.put(&[opcode::FUNCTION2])?;
        put_string(&mut self.out, code, false)?;
        Ok(())
    }

    /// Writes one key. A SELECTDB (without size hints) is written first if the entry
    /// belongs to another database than the previous one. Values Redis would refuse
    /// to load (empty aggregates, NaN scores) are refused here.
    pub fn write_entry(&mut self, e: &Entry) -> Result<()> {
        check_value(&e.value).map_err(|why| {
            RdbError::InvalidValue(format!("key {:?}: {why}", String::from_utf8_lossy(&e.key)))
        })?;
        if self.db != Some(e.db) {
            self.put_select(e.db)?;
        }
        if let Some(ms) = e.expire_at_ms {
            self.out.put(&[opcode::EXPIRETIME_MS])?;
            self.out.put(&ms.to_le_bytes())?;
        }
        if let Some(idle) = e.lru_idle_secs {
            self.out.put(&[opcode::IDLE])?;
            put_len(&mut self.out, idle)?;
        }
        if let Some(freq) = e.lfu_freq {
            self.out.put(&[opcode::FREQ, freq])?;
        }
        self.out.put(&[type_byte(&e.value)])?;
        put_string(&mut self.out, &e.key, self.opts.compress)?;
        put_value(&mut self.out, &e.value, self.opts.compress)?;
        Ok(())
    }

    /// Writes EOF and the checksum, flushes, and hands back the output.
    pub fn finish(mut self) -> Result<W> {
        self.out.put(&[opcode::EOF])?;
        self.out.flush_buf()?;
        let crc = self.out.digest.clone().finalize();
        self.out.inner.write_all(&crc.to_le_bytes())?;
        self.out.inner.flush()?;
        Ok(self.out.inner)
    }
}

/// Buffered output that hashes every byte on its way out.
struct Out<W> {
    inner: W,
    buf: Vec<u8>,
    digest: Crc64Digest,
}

impl<W: Write> Out<W> {
    fn flush_buf(&mut self) -> io::Result<()> {
        self.digest.update(&self.buf);
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Sink for Out<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() > BUF {
            self.flush_buf()?;
        }
        if bytes.len() >= BUF {
            self.digest.update(bytes);
            self.inner.write_all(bytes)
        } else {
            self.buf.extend_from_slice(bytes);
            Ok(())
        }
    }
}
