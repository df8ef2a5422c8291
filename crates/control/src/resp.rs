//! A small async RESP admin client with a timeout on every step: how the service talks
//! to nodes (ours or redis-server), and nothing else.

use anyhow::{anyhow, bail, Context};
use bytes::{Buf, BytesMut};
use ferrocache_resp::{decode, encode, Frame};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub struct RespClient {
    stream: TcpStream,
    buf: BytesMut,
    timeout: Duration,
}

impl RespClient {
    /// Connects and AUTHs with `password` (the nodes' requirepass).
    pub async fn connect(
        addr: SocketAddr,
        password: &str,
        step_timeout: Duration,
    ) -> anyhow::Result<RespClient> {
        let stream = timeout(step_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| anyhow!("connecting to {addr}: timed out"))?
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let mut c = RespClient {
            stream,
            buf: BytesMut::with_capacity(4096),
            timeout: step_timeout,
        };
        c.ok(&["AUTH", password])
            .await
            .with_context(|| format!("AUTH on {addr}"))?;
        Ok(c)
    }

    /// Sends one command, returns its reply (an error reply is `Ok(Frame::Error)`).
    pub async fn call(&mut self, args: &[&str]) -> anyhow::Result<Frame> {
        let mut out = BytesMut::new();
        encode(&Frame::command(args.iter().map(|a| a.as_bytes())), &mut out);
        timeout(self.timeout, self.stream.write_all(&out))
            .await
            .map_err(|_| anyhow!("{}: write timed out", args[0]))??;
        timeout(self.timeout, self.read_frame())
            .await
            .map_err(|_| anyhow!("{}: no reply within {:?}", args[0], self.timeout))?
    }

    async fn read_frame(&mut self) -> anyhow::Result<Frame> {
        loop {
            if let Some((frame, n)) = decode(&self.buf)? {
                self.buf.advance(n);
                return Ok(frame);
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("connection closed");
            }
        }
    }

    /// A command whose reply must not be an error.
    pub async fn ok(&mut self, args: &[&str]) -> anyhow::Result<Frame> {
        match self.call(args).await? {
            Frame::Error(e) => bail!("{} refused: {}", args[0], String::from_utf8_lossy(&e)),
            f => Ok(f),
        }
    }

    /// `INFO section` as a map of its `field:value` lines.
    pub async fn info(&mut self, section: &str) -> anyhow::Result<HashMap<String, String>> {
        let f = self.ok(&["INFO", section]).await?;
        let text = f
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        Ok(parse_info(&text))
    }
}

pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// What INFO replication says about a node, the facts failover decisions need.
#[derive(Debug, Clone, Default)]
pub struct ReplInfo {
    pub is_primary: bool,
    /// master_repl_offset on a primary, slave_repl_offset on a replica.
    pub offset: u64,
    pub master_port: Option<u16>,
    pub link_up: bool,
    pub sync_in_progress: bool,
    /// How long a replica's primary has been silent, in milliseconds: ferrocache's
    /// `master_last_io_ms_ago`, else Redis's `master_last_io_seconds_ago` (whole
    /// seconds of a clock that ticks once a second, so it may read 1000 ms short).
    pub silent_ms: Option<u64>,
}

/// Silence from the primary that makes a replica a witness of its loss even while
/// its link still counts as up. Primaries ping every second (launch.rs), so a
/// healthy link is never silent much longer than that; Redis checks `repl-timeout`
/// only once a second, so waiting for the link to drop would add up to two seconds.
/// (Redis's whole seconds reach it at 2, as 1 may be a healthy gap.)
const SILENT_MS: u64 = 1500;

impl ReplInfo {
    pub fn from_info(m: &HashMap<String, String>) -> ReplInfo {
        let num = |k: &str| m.get(k).and_then(|v| v.parse::<u64>().ok());
        let is_primary = m.get("role").map(String::as_str) == Some("master");
        ReplInfo {
            is_primary,
            offset: if is_primary {
                num("master_repl_offset").unwrap_or(0)
            } else {
                num("slave_repl_offset").unwrap_or(0)
            },
            master_port: num("master_port").map(|p| p as u16),
            link_up: m.get("master_link_status").map(String::as_str) == Some("up"),
            sync_in_progress: m.get("master_sync_in_progress").map(String::as_str) == Some("1"),
            silent_ms: num("master_last_io_ms_ago")
                .or_else(|| num("master_last_io_seconds_ago").map(|s| s * 1000)),
        }
    }

    /// A replica that has lost its primary: its link is down, or the primary has
    /// been silent for `SILENT_MS`. One witness of two: the service's own probes
    /// must have failed for down-after as well.
    pub fn lost_primary(&self) -> bool {
        !self.is_primary && (!self.link_up || self.silent_ms.is_some_and(|ms| ms >= SILENT_MS))
    }

    /// A replica that holds a complete copy: linked and past its initial sync.
    pub fn in_sync(&self) -> bool {
        !self.is_primary && self.link_up && !self.sync_in_progress
    }
}

impl RespClient {
    pub async fn repl(&mut self) -> anyhow::Result<ReplInfo> {
        Ok(ReplInfo::from_info(&self.info("replication").await?))
    }
}
