//! Child processes (nodes, gateways): spawned with their output in a log file, watched
//! so that an exit is noticed at once (the task waits on the child), and stopped with
//! SIGTERM then SIGKILL. Processes left running by a previous instance of the service
//! (it was killed) are adopted by pid and watched by polling instead.

use anyhow::Context;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

/// Who a process is, so the owner of an exit notice knows what died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Node(usize),
    Gateway,
}

/// Sent when a process exits, whatever the reason.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    pub member: Member,
    pub pid: u32,
}

pub struct Proc {
    pub pid: u32,
    exited: watch::Receiver<bool>,
}

impl Proc {
    /// Spawns `cmd` in its own process group (a Ctrl-C at the terminal reaches only the
    /// service, which then stops its children in order), stdout and stderr to `log`.
    pub fn spawn(
        mut cmd: Command,
        log: &Path,
        member: Member,
        exits: mpsc::UnboundedSender<Exit>,
    ) -> anyhow::Result<Proc> {
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .kill_on_drop(false);
        let mut child = cmd.spawn().context("spawning a child process")?;
        let pid = child.id().context("child has no pid")?;
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            let status = child.wait().await;
            tracing::debug!(?member, pid, ?status, "child exited");
            let _ = tx.send(true);
            let _ = exits.send(Exit { member, pid });
        });
        Ok(Proc { pid, exited: rx })
    }

    /// Watches a process this instance did not start (found alive at start-up).
    pub fn adopt(pid: u32, member: Member, exits: mpsc::UnboundedSender<Exit>) -> Proc {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            while alive(pid) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = tx.send(true);
            let _ = exits.send(Exit { member, pid });
        });
        Proc { pid, exited: rx }
    }

    pub fn has_exited(&self) -> bool {
        *self.exited.borrow()
    }

    pub fn signal(&self, sig: libc::c_int) {
        if !self.has_exited() {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe {
                libc::kill(self.pid as libc::pid_t, sig);
            }
        }
    }

    /// Waits up to `limit` for the exit; whether it happened.
    pub async fn wait_exit(&self, limit: Duration) -> bool {
        let mut rx = self.exited.clone();
        let exited =
            tokio::time::timeout(limit, async move { rx.wait_for(|e| *e).await.is_ok() }).await;
        exited.unwrap_or(false)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`. SIGTERM is
    /// repeated every second: redis-server refuses a shutdown while it writes the
    /// initial AOF after a full sync ("Writing initial AOF, can't exit.") and does
    /// not retry it by itself, while a repeated SIGTERM only reschedules the
    /// shutdown (ours ignores it: its first SIGTERM already started one).
    pub async fn stop(&self, grace: Duration) {
        const RETERM: Duration = Duration::from_secs(1);
        let deadline = tokio::time::Instant::now() + grace;
        let mut exited = false;
        while !exited {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            self.signal(libc::SIGTERM);
            exited = self.wait_exit(left.min(RETERM)).await;
        }
        if !exited {
            tracing::warn!(pid = self.pid, "no exit after SIGTERM; killing");
            self.signal(libc::SIGKILL);
            self.wait_exit(Duration::from_secs(5)).await;
        }
    }
}

/// Whether a process with this pid exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence.
    let exists = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the parenthesised command name.
        Ok(s) => s
            .rsplit_once(')')
            .is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
