//! A writer that follows the primary across failovers: it writes one command at
//! a time to the node it believes is primary and, when a write is refused with
//! READONLY (the node was demoted: the write was not applied), sends the same
//! write to the other node. It remembers every acknowledged write, so that the
//! test can check each one is on the new primary, exactly once.

use ferrocache_testkit::{poll_until, Frame, RespConn};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// What one writer saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Values acknowledged by `SET f:<tag>:<i> <i>` and `RPUSH f:<tag>:log <i>`,
    /// in order.
    pub acked: Vec<u64>,
    /// READONLY refusals after which the writer moved to the other node.
    pub redirects: u64,
    /// Any other error reply or connection failure.
    pub errors: Vec<String>,
}

pub struct FollowingWriter {
    pub tag: String,
    stop: Arc<AtomicBool>,
    pub acks: Arc<AtomicU64>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<JoinHandle<()>>,
}

impl FollowingWriter {
    /// Starts writing to `nodes[0]`; `nodes[1]` is where a refused write goes next.
    pub fn start(nodes: [SocketAddr; 2], tag: &str) -> FollowingWriter {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (s, a, out, t) = (stop.clone(), acks.clone(), seen.clone(), tag.to_string());
        let thread = std::thread::spawn(move || {
            let mut conns = [
                RespConn::connect(nodes[0]).expect("connect"),
                RespConn::connect(nodes[1]).expect("connect"),
            ];
            let mut at = 0;
            let mut i = 0u64;
            while !s.load(Relaxed) {
                let n = i.to_string();
                let key = format!("f:{t}:{i}");
                let log = format!("f:{t}:log");
                let mut done = true;
                for cmd in [vec!["SET", key.as_str(), &n], vec!["RPUSH", &log, &n]] {
                    match write(&mut conns, &mut at, &cmd, &out) {
                        Ok(()) => {}
                        Err(e) => {
                            out.lock().unwrap().errors.push(e);
                            done = false;
                            break;
                        }
                    }
                }
                if !done {
                    break;
                }
                out.lock().unwrap().acked.push(i);
                a.fetch_add(1, Relaxed);
                i += 1;
            }
        });
        FollowingWriter {
            tag: tag.to_string(),
            stop,
            acks,
            seen,
            thread: Some(thread),
        }
    }

    /// Waits until `more` further iterations have been acknowledged.
    pub fn wait_more(&self, more: u64) {
        let target = self.acks.load(Relaxed) + more;
        assert!(
            poll_until(DEADLINE, || self.acks.load(Relaxed) >= target
                || !self.seen.lock().unwrap().errors.is_empty()),
            "writer {} made no progress",
            self.tag
        );
    }

    pub fn stop(mut self) -> Seen {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the writer thread");
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Sends one write, following READONLY to the other node (twice at most in a
/// row: the node a demoted primary sends us to has already taken over).
fn write(
    conns: &mut [RespConn; 2],
    at: &mut usize,
    cmd: &[&str],
    seen: &Mutex<Seen>,
) -> Result<(), String> {
    for _ in 0..4 {
        match conns[*at].cmd(cmd) {
            Ok(Frame::Error(e)) if e.starts_with(b"READONLY") => {
                seen.lock().unwrap().redirects += 1;
                *at = 1 - *at;
            }
            Ok(Frame::Error(e)) => return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&e))),
            Ok(_) => return Ok(()),
            Err(e) => return Err(format!("{cmd:?}: {e:#}")),
        }
    }
    Err(format!("{cmd:?}: refused by both nodes"))
}
