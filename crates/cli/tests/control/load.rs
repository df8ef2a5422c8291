//! A writer through the endpoint: SETs distinct keys in a loop, remembers every
//! acknowledged one and every error, and checks afterwards that each acknowledged
//! write is there.

use ferrocache_testkit::{Frame, RespConn};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    handle: JoinHandle<(u64, Vec<String>)>,
}

pub struct Report {
    pub acked: u64,
    pub errors: Vec<String>,
}

impl Writer {
    pub fn start(endpoint: SocketAddr, key: &str) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let mut c = RespConn::connect(endpoint).unwrap();
        assert_eq!(c.cmd(&["AUTH", key]).unwrap(), Frame::Simple("OK".into()));
        let (s, a) = (stop.clone(), acked.clone());
        let handle = std::thread::spawn(move || {
            let mut errors = Vec::new();
            let mut i = 0u64;
            while !s.load(Relaxed) && errors.len() < 10 {
                let k = format!("w:{i}");
                match c.cmd(&["SET", &k, &i.to_string()]) {
                    Ok(Frame::Simple(_)) => {
                        a.store(i + 1, Relaxed);
                        i += 1;
                    }
                    other => errors.push(format!("SET {k}: {other:?}")),
                }
            }
            (i, errors)
        });
        Writer {
            stop,
            acked,
            handle,
        }
    }

    pub fn acked(&self) -> u64 {
        self.acked.load(Relaxed)
    }

    pub fn stop(self) -> Report {
        self.stop.store(true, Relaxed);
        let (acked, errors) = self.handle.join().unwrap();
        Report { acked, errors }
    }
}

impl Report {
    /// Every acknowledged write is readable through the endpoint.
    pub fn verify(&self, c: &mut RespConn) {
        for i in 0..self.acked {
            let k = format!("w:{i}");
            assert_eq!(
                c.cmd(&["GET", &k]).unwrap(),
                Frame::Bulk(i.to_string().into()),
                "acknowledged write {k} lost"
            );
        }
    }
}
