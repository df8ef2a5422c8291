//! A buffered byte source over any `Read` that knows its offset (for error
//! messages) and keeps a running CRC-64 of everything consumed.

use crate::crc::{digest, Crc64Digest};
use crate::error::{RdbError, Result};
use std::io::{ErrorKind, Read};

const BUF: usize = 64 * 1024;
/// The most a string read reserves before its bytes have actually arrived, so a
/// corrupt length field cannot make us allocate gigabytes.
const MAX_UPFRONT: usize = 1 << 20;

pub(crate) struct Source<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// `buf[crc_from..pos]` is consumed but not yet hashed: hashing happens in
    /// batches, when the buffer is refilled or the checksum is wanted.
    crc_from: usize,
    digest: Crc64Digest,
}

impl<R: Read> Source<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::with_buffer(inner, BUF)
    }

    /// A source with a smaller buffer, for short inputs such as DUMP payloads.
    pub(crate) fn with_buffer(inner: R, size: usize) -> Self {
        Source {
            inner,
            buf: vec![0u8; size.clamp(16, BUF)].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc_from: 0,
            digest: digest(),
        }
    }

    /// The offset of the next byte to be read.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The CRC-64 of every byte consumed so far.
    pub(crate) fn crc(&mut self) -> u64 {
        self.hash_consumed();
        self.digest.clone().finalize()
    }

    fn hash_consumed(&mut self) {
        self.digest.update(&self.buf[self.crc_from..self.pos]);
        self.crc_from = self.pos;
    }

    /// Refills the empty buffer; false at end of input.
    fn fill(&mut self) -> Result<bool> {
        debug_assert_eq!(self.pos, self.end);
        self.hash_consumed();
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        self.crc_from = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.end = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// True if the input has no more bytes.
    pub(crate) fn at_eof(&mut self) -> Result<bool> {
        Ok(self.pos == self.end && !self.fill()?)
    }

    pub(crate) fn u8(&mut self, expected: &'static str) -> Result<u8> {
        if self.pos == self.end && !self.fill()? {
            return Err(self.truncated(expected));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn array<const N: usize>(&mut self, expected: &'static str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        if self.end - self.pos >= N {
            a.copy_from_slice(&self.buf[self.pos..self.pos + N]);
            self.pos += N;
        } else {
            for slot in a.iter_mut() {
                *slot = self.u8(expected)?;
            }
        }
        Ok(a)
    }

    /// Reads exactly `n` bytes, growing the result only as bytes arrive.
    pub(crate) fn bytes(&mut self, n: u64, expected: &'static str) -> Result<Vec<u8>> {
        let start = self.offset();
        let n = usize::try_from(n).map_err(|_| self.truncated(expected))?;
        let mut out = Vec::with_capacity(n.min(MAX_UPFRONT));
        while out.len() < n {
            if self.pos == self.end && !self.fill()? {
                return Err(RdbError::Truncated {
                    offset: start + out.len() as u64,
                    expected,
                });
            }
            let take = (n - out.len()).min(self.end - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
        }
        Ok(out)
    }

    pub(crate) fn truncated(&self, expected: &'static str) -> RdbError {
        RdbError::Truncated {
            offset: self.offset(),
            expected,
        }
    }
}
