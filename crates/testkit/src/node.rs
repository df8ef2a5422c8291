//! Starts a `ferrocache node` on a free 127.0.0.1 port and learns its address from
//! the ready line it prints.

use crate::process::{log_file, ChildGuard, DEFAULT_DEADLINE};
use crate::{Server, TempDir};
use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `ferrocache node`; on drop it gets SIGTERM, then SIGKILL after a deadline.
#[derive(Debug)]
pub struct FerroNode {
    // Field order matters: the process stops before its directory is removed.
    proc: ChildGuard,
    addr: SocketAddr,
    dir: TempDir,
}

impl FerroNode {
    /// Spawns `<bin> node --port 0 --bind 127.0.0.1 --dir <tempdir> <extra_args>` and
    /// waits (bounded) for the line on stdout whose last word is the bound address,
    /// e.g. `ferrocache node ready, listening on 127.0.0.1:43211`.
    ///
    /// Everything the node writes to stdout and stderr goes to `node.log` in its
    /// directory; [`Server::log_tail`] shows the end of it.
    pub fn start(bin: &Path, extra_args: &[&str]) -> anyhow::Result<FerroNode> {
        Self::start_in(bin, extra_args, TempDir::new("node")?)
    }

    /// Like [`FerroNode::start`], with a data directory the caller prepared (e.g.
    /// holding a config file or an RDB to load).
    pub fn start_in(bin: &Path, extra_args: &[&str], dir: TempDir) -> anyhow::Result<FerroNode> {
        let log = dir.path().join("node.log");
        let mut child = Command::new(bin)
            .args(["node", "--port", "0", "--bind", "127.0.0.1", "--dir"])
            .arg(dir.path())
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file(&log)?))
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut proc = ChildGuard::new(child, &log);

        // A reader thread forwards stdout to the log and reports the ready line;
        // it keeps draining after that so the node never blocks on a full pipe.
        let (tx, rx) = mpsc::channel::<Result<SocketAddr, String>>();
        let mut log_out = log_file(&log)?;
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log_out, "{line}");
                if let Some(addr) = line.split_whitespace().last().and_then(|w| w.parse().ok()) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(addr));
                    }
                }
            }
            if let Some(tx) = tx {
                let _ = tx.send(Err("stdout closed before the ready line".into()));
            }
        });

        match rx.recv_timeout(DEFAULT_DEADLINE) {
            Ok(Ok(addr)) => Ok(FerroNode { proc, addr, dir }),
            Ok(Err(why)) => {
                let status = proc.wait_timeout(Duration::from_secs(2)).ok().flatten();
                bail!(
                    "ferrocache node did not start ({why}; exit status {status:?}):\n{}",
                    proc.log_tail(30)
                )
            }
            Err(_) => {
                proc.kill();
                bail!(
                    "ferrocache node printed no ready line within {DEFAULT_DEADLINE:?}:\n{}",
                    proc.log_tail(30)
                )
            }
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// SIGTERM, then waits (bounded) for the exit status, so tests can assert a
    /// clean shutdown. An error if it had to be killed.
    pub fn stop(self) -> anyhow::Result<ExitStatus> {
        self.stop_with_signal(libc::SIGTERM)
    }

    /// Like [`FerroNode::stop`] with another signal (e.g. `libc::SIGINT`).
    pub fn stop_with_signal(mut self, sig: libc::c_int) -> anyhow::Result<ExitStatus> {
        self.proc.stop(sig, DEFAULT_DEADLINE)
    }

    /// Waits (bounded) for the node to exit by itself, e.g. after SHUTDOWN.
    pub fn wait_exit(mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        match self.proc.wait_timeout(timeout)? {
            Some(s) => Ok(s),
            None => bail!("ferrocache node still running after {timeout:?}"),
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(None))
    }
}

impl Server for FerroNode {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn pid(&self) -> u32 {
        self.proc.pid()
    }
    fn name(&self) -> &str {
        "ferrocache"
    }
    fn log_tail(&self) -> String {
        self.proc.log_tail(30)
    }
}

impl Drop for FerroNode {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- ferrocache node log (tail) ---\n{}",
                self.proc.log_tail(30)
            );
        }
    }
}
