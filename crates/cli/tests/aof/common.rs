//! Writers that record every acknowledged write (and when), and small helpers the
//! AOF tests share.

use super::data::cmd;
use ferrocache_testkit::{FerroNode, Frame, RespConn, Server};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One writer's record: the i-th acknowledged write set `w{id}:{i}` to `i`, and
/// when its acknowledgement arrived.
#[derive(Default)]
pub struct Acked {
    pub at: Mutex<Vec<Instant>>,
    /// Errors received (a refused write is a failure of the test where none is expected).
    pub errors: AtomicU64,
}

pub struct Writers {
    pub acked: Vec<Arc<Acked>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

pub fn key(writer: usize, i: usize) -> String {
    format!("w{writer}:{i}")
}

impl Writers {
    /// Starts `n` threads writing sequentially (each waits for its reply, so
    /// acknowledgement order is write order); every fourth write is a
    /// MULTI/EXEC of the key and a counter, so transactions are in the file too.
    pub fn start(addr: SocketAddr, n: usize) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let mut acked = Vec::new();
        let mut threads = Vec::new();
        for w in 0..n {
            let rec = Arc::new(Acked::default());
            acked.push(rec.clone());
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let Ok(mut c) = RespConn::connect(addr) else {
                    return;
                };
                let _ = c.set_timeout(Duration::from_secs(10));
                let mut i = 0usize;
                while !stop.load(Relaxed) {
                    let k = key(w, i);
                    let v = i.to_string();
                    let ok = if i % 4 == 3 {
                        let counter = format!("c{w}");
                        let cmds: Vec<Vec<Vec<u8>>> = vec![
                            vec![b"MULTI".to_vec()],
                            vec![b"SET".to_vec(), k.into_bytes(), v.into_bytes()],
                            vec![b"INCR".to_vec(), counter.into_bytes()],
                            vec![b"EXEC".to_vec()],
                        ];
                        match c.pipeline(&cmds) {
                            Ok(r) => matches!(r.last(), Some(Frame::Array(_))),
                            Err(_) => return,
                        }
                    } else {
                        match c.cmd(&["SET", &k, &v]) {
                            Ok(Frame::Simple(s)) => &s[..] == b"OK",
                            Ok(_) => false,
                            Err(_) => return,
                        }
                    };
                    if !ok {
                        rec.errors.fetch_add(1, Relaxed);
                        return;
                    }
                    rec.at.lock().unwrap().push(Instant::now());
                    i += 1;
                }
            }));
        }
        Writers {
            acked,
            stop,
            threads,
        }
    }

    pub fn total(&self) -> usize {
        self.acked.iter().map(|a| a.at.lock().unwrap().len()).sum()
    }

    pub fn errors(&self) -> u64 {
        self.acked.iter().map(|a| a.errors.load(Relaxed)).sum()
    }

    /// Stops the writers and waits for them (a killed server ends them too).
    pub fn finish(mut self) -> Vec<Vec<Instant>> {
        self.stop.store(true, Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.acked
            .iter()
            .map(|a| a.at.lock().unwrap().clone())
            .collect()
    }
}

/// Asserts that writer `w`'s first `count` writes are all present.
pub fn assert_present(c: &mut RespConn, w: usize, count: usize) {
    let mut i = 0;
    while i < count {
        let end = (i + 500).min(count);
        let mut args: Vec<String> = vec!["MGET".into()];
        args.extend((i..end).map(|j| key(w, j)));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let Frame::Array(values) = c.cmd(&refs).unwrap() else {
            panic!("MGET failed")
        };
        for (j, v) in (i..end).zip(values) {
            assert_eq!(
                v,
                Frame::Bulk(j.to_string().into_bytes().into()),
                "acknowledged write {} of writer {w} is missing after the restart",
                key(w, j)
            );
        }
        i = end;
    }
}

/// A field of INFO persistence.
pub fn info_field(c: &mut RespConn, field: &str) -> String {
    let text = match cmd(c, "INFO persistence") {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other:?}"),
    };
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

/// The incremental file the manifest in `dir`/appendonlydir names last.
pub fn last_incr(dir: &Path) -> std::path::PathBuf {
    let aof = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).unwrap();
    let name = manifest
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("an incremental file in the manifest")
        .to_string();
    aof.join(name)
}

/// Stops a node cleanly with SHUTDOWN NOSAVE (the AOF is flushed and fsynced).
pub fn shutdown(node: FerroNode) {
    let mut c = node.connect().unwrap();
    c.write_command(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(c.wait_closed(Duration::from_secs(10)).unwrap());
    assert!(node.wait_exit(Duration::from_secs(10)).unwrap().success());
}
