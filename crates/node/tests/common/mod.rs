//! What the node's integration tests share: a node served in this process on a
//! free loopback port (restartable on the same data directory), INFO fields,
//! waiting for a replica's link and offsets, and reading an AOF's commands.

#![allow(dead_code)]

use ferrocache_testkit::{poll_until, Frame, RespConn, Server, TempDir};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const DEADLINE: Duration = Duration::from_secs(20);

/// A `ferrocache node` on its own runtime thread; stopped gracefully (as at
/// SIGTERM: the AOF writer flushes) by `stop` or on drop.
pub struct InProcessNode {
    addr: SocketAddr,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessNode {
    /// Starts a node whose data directory is `dir`, with `options` as CONFIG names.
    pub fn start(dir: &Path, options: &[(&str, &str)]) -> anyhow::Result<InProcessNode> {
        let mut config = ferrocache_node::Config::default();
        let dir = dir.display().to_string();
        for (name, value) in [("port", "0"), ("bind", "127.0.0.1"), ("dir", &dir)]
            .into_iter()
            .chain(options.iter().copied())
        {
            config
                .set(name, value)
                .map_err(|e| anyhow::anyhow!("option {name}: {e}"))?;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let node = match ferrocache_node::Node::bind(config).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let _ = tx.send(Ok((node.local_addr(), node.shutdown_token())));
                if let Err(e) = node.serve().await {
                    eprintln!("node stopped with an error: {e:#}");
                }
            });
        });
        let started = rx
            .recv_timeout(DEADLINE)
            .map_err(|_| anyhow::anyhow!("the node thread did not answer"))?;
        match started {
            Ok((addr, stop)) => Ok(InProcessNode {
                addr,
                stop,
                thread: Some(thread),
            }),
            Err(e) => {
                let _ = thread.join();
                anyhow::bail!("the node did not start: {e}")
            }
        }
    }

    /// Stops the node and waits until it has finished (files closed).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Server for InProcessNode {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn pid(&self) -> u32 {
        std::process::id()
    }
    fn name(&self) -> &str {
        "ferrocache node (in process)"
    }
    fn log_tail(&self) -> String {
        "(in process: see the test's output)".into()
    }
}

impl Drop for InProcessNode {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A fresh temporary data directory.
pub fn tempdir(prefix: &str) -> TempDir {
    TempDir::new(prefix).expect("a temporary directory")
}

pub fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Integer(i) => i.to_string(),
        Frame::Null => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

pub fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(i) => i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

pub fn ok(f: Frame) {
    assert!(
        matches!(&f, Frame::Simple(s) if s.starts_with(b"OK")),
        "expected OK, got {f:?}"
    );
}

/// One field of `INFO section`, if present.
pub fn info(c: &mut RespConn, section: &str, field: &str) -> Option<String> {
    let t = text(c.cmd(&["INFO", section]).ok()?);
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

pub fn info_u64(c: &mut RespConn, section: &str, field: &str) -> u64 {
    info(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Makes `replica` follow `primary` and waits until the link is up.
pub fn follow(replica: &dyn Server, primary: &dyn Server) {
    let mut c = replica.connect().unwrap();
    ok(
        c.cmd(&["REPLICAOF", "127.0.0.1", &primary.port().to_string()])
            .unwrap(),
    );
    assert!(
        poll_until(DEADLINE, || info(
            &mut c,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "the replica never got its link up"
    );
}

/// Waits until the replica has applied everything the primary has produced.
pub fn wait_caught_up(primary: &dyn Server, replica: &dyn Server) {
    let mut p = primary.connect().unwrap();
    let mut r = replica.connect().unwrap();
    assert!(
        poll_until(DEADLINE, || {
            let po = info_u64(&mut p, "replication", "master_repl_offset");
            let ro = info_u64(&mut r, "replication", "slave_repl_offset");
            po > 0 && po == ro
        }),
        "the replica never caught up: primary {:?}, replica {:?}",
        info(&mut p, "replication", "master_repl_offset"),
        info(&mut r, "replication", "slave_repl_offset"),
    );
}

/// The AOF directory of a node whose data directory is `dir` (default names).
pub fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// The incremental files the manifest names, in order.
pub fn incr_files(dir: &Path) -> Vec<PathBuf> {
    let aof = aof_dir(dir);
    let manifest =
        std::fs::read_to_string(aof.join("appendonly.aof.manifest")).expect("the AOF manifest");
    manifest
        .lines()
        .filter(|l| l.ends_with("type i"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|name| aof.join(name))
        .collect()
}

/// Every complete command of an AOF incremental file, as strings (the writer
/// may be in the middle of appending the last one).
pub fn aof_commands(path: &Path) -> Vec<Vec<String>> {
    let data = std::fs::read(path).expect("the AOF file");
    let mut rest = &data[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (frame, n) = match ferrocache_resp::decode(rest) {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) => panic!("unparsable AOF {}: {e:?}", path.display()),
        };
        let Frame::Array(items) = frame else {
            panic!("an AOF command that is not an array: {frame:?}");
        };
        out.push(items.into_iter().map(text).collect());
        rest = &rest[n..];
    }
    out
}

/// Waits until the AOF's incremental files hold a command `pred` accepts.
pub fn wait_aof_command(dir: &Path, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut found = None;
    let seen = poll_until(DEADLINE, || {
        found = incr_files(dir)
            .iter()
            .flat_map(|f| aof_commands(f))
            .find(|c| pred(c));
        found.is_some()
    });
    assert!(seen, "the AOF never held the expected command");
    found.unwrap()
}
