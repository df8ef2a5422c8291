//! Reads a file of RESP commands (an AOF incremental file, or a base written as
//! commands) a chunk at a time, so loading holds at most about one chunk plus the
//! largest single command in memory, whatever the file's size.
//!
//! A command cut off by the end of the file is not an error here: the reader
//! reports where the complete commands end, and the loader decides (truncated tail
//! tolerated or refused). Anything that cannot be a command is an error naming
//! the file and the byte offset of the command it is in.

use anyhow::{anyhow, Context};
use ferrocache_resp::{parse_request, ParseLimits, Request, Spans};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How much is read from the file at a time.
pub const CHUNK: usize = 1 << 20;

/// What `CommandReader::next` found.
pub enum Next<'a> {
    /// A complete command starting at file offset `at`.
    Command { at: u64, argv: Vec<&'a [u8]> },
    /// No further complete command: they end at `at` (the file's length unless
    /// the file ends in the middle of a command).
    End { at: u64 },
}

pub struct CommandReader {
    path: PathBuf,
    file: File,
    /// The file's length when opened (nothing appends to it while it loads).
    len: u64,
    chunk: usize,
    buf: Vec<u8>,
    /// Where the next command starts in `buf`.
    pos: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    /// Nothing more will be read: the end of the file, or a command that
    /// claims more bytes than the file has left.
    done: bool,
    spans: Spans,
    limits: ParseLimits,
}

/// The loader's error for a file it cannot use past `at`.
pub fn corrupt(path: &Path, at: u64, why: &str) -> anyhow::Error {
    anyhow!(
        "Bad file format reading the append only file {} at offset {at}: {why} \
         (make a backup of the file, then remove or repair what follows that offset)",
        path.display()
    )
}

impl CommandReader {
    pub fn open(path: &Path) -> anyhow::Result<CommandReader> {
        Self::with_chunk(path, CHUNK)
    }

    /// `open` with another chunk size (tests use tiny ones to cut commands
    /// everywhere).
    pub fn with_chunk(path: &Path, chunk: usize) -> anyhow::Result<CommandReader> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        Ok(CommandReader {
            path: path.to_path_buf(),
            file,
            len,
            chunk: chunk.max(1),
            buf: Vec::new(),
            pos: 0,
            base: 0,
            done: false,
            spans: Spans::default(),
            limits: ParseLimits {
                max_bulk_len: usize::MAX,
                ..ParseLimits::default()
            },
        })
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The next complete command, or where the complete commands end.
    pub fn next(&mut self) -> anyhow::Result<Next<'_>> {
        loop {
            let at = self.base + self.pos as u64;
            let rest = &self.buf[self.pos..];
            if rest.first().is_some_and(|&b| b != b'*') {
                return Err(corrupt(
                    &self.path,
                    at,
                    "expected the start of a command ('*')",
                ));
            }
            let need = match parse_request(rest, &mut self.spans, &self.limits) {
                Ok(Request::Complete(n)) => {
                    let start = self.pos;
                    self.pos += n;
                    let mut argv = Vec::new();
                    self.spans.collect(&self.buf[start..start + n], &mut argv);
                    if argv.is_empty() {
                        return Err(corrupt(&self.path, at, "an empty command"));
                    }
                    return Ok(Next::Command { at, argv });
                }
                Ok(Request::Incomplete(need)) => need,
                Err(e) => return Err(corrupt(&self.path, at, &e.to_string())),
            };
            if self.done {
                return Ok(Next::End { at });
            }
            self.fill(need)?;
        }
    }

    /// Makes `buf` hold at least `need` bytes from the current command on (and
    /// at least a chunk more than it had), unless the file has not got them.
    fn fill(&mut self, need: usize) -> anyhow::Result<()> {
        // The consumed commands go first, so the buffer never grows with the file.
        self.buf.drain(..self.pos);
        self.base += self.pos as u64;
        self.pos = 0;
        let left = self.len.saturating_sub(self.base + self.buf.len() as u64);
        if self.base.saturating_add(need as u64) > self.len {
            // The command claims more than the file holds: it is the cut-off
            // last one (or a corrupt length); either way nothing more is needed.
            self.done = true;
            return Ok(());
        }
        let want = need.saturating_sub(self.buf.len()).max(self.chunk) as u64;
        let want = want.min(left);
        let got = (&mut self.file)
            .take(want)
            .read_to_end(&mut self.buf)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        if (got as u64) < want || got as u64 == left {
            self.done = true;
        }
        Ok(())
    }

    /// Bytes currently buffered (tests check the bound).
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocache_testkit::TempDir;

    fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }

    fn file_with(dir: &TempDir, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join("t.incr.aof");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    type Command = (u64, Vec<Vec<u8>>);

    /// Every command (with its offset) and the end offset, read with `chunk`.
    fn read_all(path: &Path, chunk: usize) -> anyhow::Result<(Vec<Command>, u64)> {
        let mut r = CommandReader::with_chunk(path, chunk)?;
        let mut cmds = Vec::new();
        loop {
            match r.next()? {
                Next::Command { at, argv } => {
                    cmds.push((at, argv.iter().map(|a| a.to_vec()).collect()))
                }
                Next::End { at } => return Ok((cmds, at)),
            }
        }
    }

    fn sample() -> (Vec<u8>, Vec<Vec<Vec<u8>>>) {
        let big = vec![b'x'; 5000];
        let cmds: Vec<Vec<Vec<u8>>> = vec![
            vec![b"SELECT".to_vec(), b"0".to_vec()],
            vec![b"SET".to_vec(), b"a".to_vec(), b"1".to_vec()],
            vec![b"SET".to_vec(), b"big".to_vec(), big],
            vec![
                b"RPUSH".to_vec(),
                b"l".to_vec(),
                b"".to_vec(),
                b"z".to_vec(),
            ],
        ];
        let mut bytes = Vec::new();
        for c in &cmds {
            let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            encode(&args, &mut bytes);
        }
        (bytes, cmds)
    }

    #[test]
    fn every_chunk_size_reads_the_same_commands() {
        let dir = TempDir::new("aof-reader").unwrap();
        let (bytes, want) = sample();
        let path = file_with(&dir, &bytes);
        for chunk in [1, 2, 3, 7, 64, 4999, 5000, 5001, CHUNK] {
            let (got, end) = read_all(&path, chunk).unwrap();
            let got: Vec<_> = got.into_iter().map(|(_, c)| c).collect();
            assert_eq!(got, want, "chunk {chunk}");
            assert_eq!(end, bytes.len() as u64, "chunk {chunk}");
        }
    }

    #[test]
    fn a_cut_off_last_command_ends_where_the_whole_ones_do() {
        let dir = TempDir::new("aof-reader").unwrap();
        let (bytes, _) = sample();
        // Cut at several places inside the big SET (the third command).
        let mut head = Vec::new();
        encode(&[b"SELECT", b"0"], &mut head);
        encode(&[b"SET", b"a", b"1"], &mut head);
        let third = head.len();
        for cut in [third + 1, third + 10, third + 100, third + 5000] {
            let path = file_with(&dir, &bytes[..cut]);
            for chunk in [3, 64, CHUNK] {
                let (got, end) = read_all(&path, chunk).unwrap();
                assert_eq!(got.len(), 2, "cut {cut}, chunk {chunk}");
                assert_eq!(end, third as u64, "cut {cut}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn a_length_beyond_the_file_is_not_read_for() {
        let dir = TempDir::new("aof-reader").unwrap();
        let mut bytes = Vec::new();
        encode(&[b"SET", b"a", b"1"], &mut bytes);
        let end = bytes.len() as u64;
        bytes.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$999999999999\r\nxx");
        let path = file_with(&dir, &bytes);
        let mut r = CommandReader::with_chunk(&path, 16).unwrap();
        assert!(matches!(r.next().unwrap(), Next::Command { at: 0, .. }));
        assert!(matches!(r.next().unwrap(), Next::End { at } if at == end));
        assert!(r.buffered() < 1024, "buffered {}", r.buffered());
    }

    #[test]
    fn memory_stays_near_one_chunk() {
        let dir = TempDir::new("aof-reader").unwrap();
        let mut bytes = Vec::new();
        for i in 0..20_000 {
            let k = format!("key:{i}");
            encode(&[b"SET", k.as_bytes(), b"some value"], &mut bytes);
        }
        let path = file_with(&dir, &bytes);
        let mut r = CommandReader::with_chunk(&path, 4096).unwrap();
        let (mut n, mut peak) = (0, 0);
        while let Next::Command { .. } = r.next().unwrap() {
            n += 1;
            peak = peak.max(r.buffered());
        }
        assert_eq!(n, 20_000);
        assert!(bytes.len() > 100 * 4096);
        assert!(
            peak <= 3 * 4096,
            "peak buffer {peak} for a {} byte file",
            bytes.len()
        );
    }

    #[test]
    fn garbage_is_refused_with_the_file_and_offset() {
        let dir = TempDir::new("aof-reader").unwrap();
        let mut bytes = Vec::new();
        encode(&[b"SET", b"a", b"1"], &mut bytes);
        let at = bytes.len();
        bytes.extend_from_slice(b"garbage\r\n");
        encode(&[b"DEL", b"a"], &mut bytes);
        let path = file_with(&dir, &bytes);
        for chunk in [1, 5, CHUNK] {
            let err = read_all(&path, chunk).expect_err("an error").to_string();
            assert!(err.contains("Bad file format"), "{err}");
            assert!(err.contains("t.incr.aof"), "{err}");
            assert!(err.contains(&format!("offset {at}:")), "{err}");
        }
        // A bad length inside a command names that command's offset.
        let mut bytes = Vec::new();
        encode(&[b"SET", b"a", b"1"], &mut bytes);
        bytes.extend_from_slice(b"*2\r\n$3\r\nDEL\r\n$x\r\n");
        let path = file_with(&dir, &bytes);
        let err = read_all(&path, 4).expect_err("an error").to_string();
        assert!(err.contains(&format!("offset {at}:")), "{err}");
    }
}
