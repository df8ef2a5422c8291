//! A tiny blocking RESP client over a std `TcpStream`, binary-safe, with timeouts on
//! every read and write. It decodes replies with `ferrocache_resp::decode`, so it sees
//! exactly the frames the server sent (RESP2 or RESP3) without any client-side
//! translation.

use anyhow::{bail, Context};
use bytes::BytesMut;
use ferrocache_resp::{decode, Frame};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::process::DEFAULT_DEADLINE;

#[derive(Debug)]
pub struct RespConn {
    stream: TcpStream,
    buf: BytesMut,
    closed: bool,
    timeout: Duration,
}

/// Encodes one command as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl RespConn {
    /// Connects with the default 10 s timeouts.
    pub fn connect(addr: SocketAddr) -> anyhow::Result<RespConn> {
        Self::connect_timeout(addr, DEFAULT_DEADLINE)
    }

    /// Connects with `timeout` for the connect and for every later read and write.
    pub fn connect_timeout(addr: SocketAddr, timeout: Duration) -> anyhow::Result<RespConn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let mut c = RespConn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            closed: false,
            timeout,
        };
        c.set_timeout(timeout)?;
        Ok(c)
    }

    /// Changes the read/write timeout.
    pub fn set_timeout(&mut self, timeout: Duration) -> anyhow::Result<()> {
        self.timeout = timeout;
        self.stream.set_read_timeout(Some(timeout))?;
        self.stream.set_write_timeout(Some(timeout))?;
        Ok(())
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.stream.local_addr()?)
    }

    /// Sends one command and reads one reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> anyhow::Result<Frame> {
        self.write_command(args)?;
        self.read_frame()
    }

    /// `send` for text arguments.
    pub fn cmd(&mut self, args: &[&str]) -> anyhow::Result<Frame> {
        self.send(args)
    }

    /// Sends one command without reading anything (pub/sub, CLIENT REPLY OFF …).
    pub fn write_command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> anyhow::Result<()> {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send_raw(&out)
    }

    /// Writes bytes as they are (malformed frames, inline commands).
    pub fn send_raw(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(bytes).context("writing to server")?;
        Ok(())
    }

    /// Sends all commands in one write, then reads one reply per command.
    pub fn pipeline(&mut self, cmds: &[Vec<Vec<u8>>]) -> anyhow::Result<Vec<Frame>> {
        let mut out = Vec::new();
        for c in cmds {
            encode_command(c, &mut out);
        }
        self.send_raw(&out)?;
        (0..cmds.len()).map(|_| self.read_frame()).collect()
    }

    /// Reads one frame; an error on timeout, on a malformed reply and when the
    /// server closed the connection (then [`RespConn::is_closed`] is true).
    pub fn read_frame(&mut self) -> anyhow::Result<Frame> {
        match self.read_or_timeout()? {
            Some(f) => Ok(f),
            None => bail!("no reply within {:?}", self.timeout),
        }
    }

    /// Reads one frame if one arrives within `timeout`; `None` if none does.
    pub fn read_frame_within(&mut self, timeout: Duration) -> anyhow::Result<Option<Frame>> {
        self.stream.set_read_timeout(Some(timeout))?;
        let r = self.read_or_timeout();
        self.stream.set_read_timeout(Some(self.timeout))?;
        r
    }

    fn read_or_timeout(&mut self) -> anyhow::Result<Option<Frame>> {
        loop {
            if let Some((frame, n)) = decode(&self.buf).context("malformed reply")? {
                let _ = self.buf.split_to(n);
                return Ok(Some(frame));
            }
            if self.closed {
                bail!("connection closed by the server");
            }
            match self.fill() {
                Ok(0) => self.closed = true,
                Ok(_) => {}
                Err(e) if is_timeout(&e) => return Ok(None),
                Err(e) if is_reset(&e) => self.closed = true,
                Err(e) => return Err(e).context("reading from server"),
            }
        }
    }

    /// Reads `n` frames.
    pub fn read_frames(&mut self, n: usize) -> anyhow::Result<Vec<Frame>> {
        (0..n).map(|_| self.read_frame()).collect()
    }

    /// True if the server has closed the connection, as far as can be seen without
    /// waiting: it checks once without blocking (any data that arrived is kept).
    pub fn is_closed(&mut self) -> bool {
        if self.closed {
            return true;
        }
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let r = self.fill();
        let _ = self.stream.set_nonblocking(false);
        match r {
            Ok(0) => self.closed = true,
            Err(e) if is_reset(&e) => self.closed = true,
            _ => {}
        }
        self.closed
    }

    /// Waits up to `timeout` for the server to close the connection, keeping any data
    /// that arrives meanwhile for later `read_frame`s. True if it closed.
    pub fn wait_closed(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        let deadline = Instant::now() + timeout;
        while !self.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.fill() {
                Ok(0) => self.closed = true,
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) if is_reset(&e) => self.closed = true,
                Err(e) => return Err(e).context("reading from server"),
            }
        }
        self.stream.set_read_timeout(Some(self.timeout))?;
        Ok(true)
    }

    /// Bytes received but not yet decoded into frames.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut tmp = [0u8; 64 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}
