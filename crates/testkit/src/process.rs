//! Owning a child process: signals, bounded waits, and a guard that always reaps it.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// The default bound on every wait in this crate.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Polls `cond` every few milliseconds until it returns true or `timeout` passes.
/// Returns whether the condition became true. This is how tests wait: on a condition
/// with a deadline, never on a fixed sleep.
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A child process that is terminated (SIGTERM, then SIGKILL after a deadline) and
/// reaped when dropped.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    child: Option<Child>,
    pid: u32,
    log: PathBuf,
}

impl ChildGuard {
    pub(crate) fn new(child: Child, log: &Path) -> ChildGuard {
        ChildGuard {
            pid: child.id(),
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// `Some(status)` if the process has exited (and is now reaped).
    pub(crate) fn try_wait(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(c) => Ok(c.try_wait()?),
            None => bail!("process {} was already reaped", self.pid),
        }
    }

    pub(crate) fn signal(&self, sig: libc::c_int) {
        if self.child.is_some() {
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own
            // unreaped child, so it cannot have been recycled for another process.
            unsafe {
                libc::kill(self.pid as libc::pid_t, sig);
            }
        }
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
        let mut status = None;
        let mut err = None;
        poll_until(timeout, || match self.try_wait() {
            Ok(Some(s)) => {
                status = Some(s);
                true
            }
            Ok(None) => false,
            Err(e) => {
                err = Some(e);
                true
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        if status.is_some() {
            self.child = None;
        }
        Ok(status)
    }

    /// Sends `sig` and waits up to `timeout` for the exit status. If the process
    /// is still running then, it is killed and an error is returned.
    pub(crate) fn stop(
        &mut self,
        sig: libc::c_int,
        timeout: Duration,
    ) -> anyhow::Result<ExitStatus> {
        self.signal(sig);
        match self.wait_timeout(timeout)? {
            Some(status) => Ok(status),
            None => {
                self.kill();
                bail!(
                    "process {} did not exit within {timeout:?} of signal {sig}; killed it",
                    self.pid
                )
            }
        }
    }

    /// SIGKILL and reap, ignoring errors.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The last `n` lines of the process log.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        read_tail(&self.log, n)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if self.stop(libc::SIGTERM, Duration::from_secs(5)).is_err() {
            self.kill();
        }
    }
}

pub(crate) fn read_tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

/// Opens (creating) a log file for a child's output.
pub(crate) fn log_file(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}
