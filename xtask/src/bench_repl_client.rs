//! The load the replication benchmarks drive themselves: a small blocking RESP
//! connection, INFO fields, a pipelined bulk loader, and writers that follow the
//! primary across failovers (a READONLY refusal sends the write to the other
//! node) while recording when each write was acknowledged.

use anyhow::{bail, Context, Result};
use ferrocache_resp::Frame;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        // A hang guard: a benchmark step that waits this long has failed.
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
            out: Vec::new(),
        })
    }

    /// Queues one command (sent by `flush`).
    pub fn queue<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let o = &mut self.out;
        o.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            let a = a.as_ref();
            o.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            o.extend_from_slice(a);
            o.extend_from_slice(b"\r\n");
        }
    }

    /// Sends what is queued and reads `n` replies.
    pub fn flush(&mut self, n: usize) -> Result<Vec<Frame>> {
        self.stream.write_all(&self.out)?;
        self.out.clear();
        (0..n).map(|_| self.read()).collect()
    }

    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame> {
        self.queue(args);
        Ok(self.flush(1)?.remove(0))
    }

    /// Like `call`, but an error reply is an error.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame> {
        match self.call(args)? {
            Frame::Error(e) => bail!("the server replied {}", String::from_utf8_lossy(&e)),
            f => Ok(f),
        }
    }

    fn read(&mut self) -> Result<Frame> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some((frame, used)) = ferrocache_resp::decode(&self.buf)? {
                self.buf.drain(..used);
                return Ok(frame);
            }
            let n = self.stream.read(&mut chunk).context("reading a reply")?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// One field of `INFO section`.
    pub fn info(&mut self, section: &str, field: &str) -> Result<String> {
        let f = self.ok(&["INFO", section])?;
        let text = match f {
            Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
            other => bail!("INFO replied {other:?}"),
        };
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or("")
            .trim()
            .to_string())
    }

    pub fn info_u64(&mut self, section: &str, field: &str) -> Result<u64> {
        Ok(self.info(section, field)?.parse().unwrap_or(0))
    }
}

/// Polls `cond` every millisecond until it holds; fails after `timeout`.
pub fn wait_for(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !cond()? {
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Loads `keys` keys of `value_size` bytes (`key:<i>`) with pipelined SETs from
/// `threads` connections.
pub fn load(addr: SocketAddr, keys: u64, value_size: usize, threads: u64) -> Result<()> {
    let value = vec![b'x'; value_size];
    let handles: Vec<JoinHandle<Result<()>>> = (0..threads)
        .map(|t| {
            let value = value.clone();
            std::thread::spawn(move || {
                let mut c = Conn::connect(addr)?;
                let mut i = t;
                while i < keys {
                    let mut n = 0;
                    while i < keys && n < 256 {
                        c.queue(&[b"SET" as &[u8], format!("key:{i}").as_bytes(), &value]);
                        i += threads;
                        n += 1;
                    }
                    for r in c.flush(n)? {
                        if let Frame::Error(e) = r {
                            bail!("loading: {}", String::from_utf8_lossy(&e));
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("a loader thread panicked"))??;
    }
    Ok(())
}

/// A writer that keeps writing to whichever of two nodes is primary.
pub struct Writer {
    stop: Arc<AtomicBool>,
    pub acks: Arc<AtomicU64>,
    thread: Option<JoinHandle<Result<Vec<Instant>>>>,
}

impl Writer {
    /// `pipeline` SETs per round trip; with `record`, the instant of every
    /// acknowledged round trip is kept (the pause measurement).
    pub fn start(nodes: [SocketAddr; 2], tag: usize, pipeline: usize, record: bool) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicU64::new(0));
        let (s, a) = (stop.clone(), acks.clone());
        let thread = std::thread::spawn(move || {
            let mut conns = [Conn::connect(nodes[0])?, Conn::connect(nodes[1])?];
            let mut at = 0;
            let mut times = Vec::new();
            let mut i = 0u64;
            while !s.load(Relaxed) {
                let mut tries = 0;
                loop {
                    for k in 0..pipeline {
                        let key = format!("w{tag}:{}", (i + k as u64) % 10_000);
                        conns[at].queue(&[b"SET" as &[u8], key.as_bytes(), b"v"]);
                    }
                    let replies = conns[at].flush(pipeline)?;
                    let refused = replies
                        .iter()
                        .any(|r| matches!(r, Frame::Error(e) if e.starts_with(b"READONLY")));
                    if let Some(Frame::Error(e)) = replies
                        .iter()
                        .find(|r| matches!(r, Frame::Error(_)) && !refused)
                    {
                        bail!("a write failed: {}", String::from_utf8_lossy(e));
                    }
                    if !refused {
                        break;
                    }
                    // Demoted: the other node has taken over (or is about to).
                    at = 1 - at;
                    tries += 1;
                    if tries > 10_000 {
                        bail!("no node accepted writes");
                    }
                }
                if record {
                    times.push(Instant::now());
                }
                a.fetch_add(pipeline as u64, Relaxed);
                i += pipeline as u64;
            }
            Ok(times)
        });
        Writer {
            stop,
            acks,
            thread: Some(thread),
        }
    }

    /// Stops and returns the recorded acknowledgement instants.
    pub fn stop(mut self) -> Result<Vec<Instant>> {
        self.stop.store(true, Relaxed);
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("a writer thread panicked"))?,
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
    }
}

/// The longest gap between consecutive acknowledgements that overlaps
/// `[from, to]`: how long the writer was held by what happened in that window.
pub fn longest_gap(times: &[Instant], from: Instant, to: Instant) -> Duration {
    times
        .windows(2)
        .filter(|w| w[1] >= from && w[0] <= to)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_overlapping_a_window() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let times = [at(0), at(1), at(2), at(50), at(51), at(300)];
        assert_eq!(
            longest_gap(&times, at(10), at(20)),
            Duration::from_millis(48)
        );
        assert_eq!(longest_gap(&times, at(0), at(1)), Duration::from_millis(1));
    }
}
