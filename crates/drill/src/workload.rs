//! The verifiable workload: each worker owns one resilient client and loops over
//! unique writes (remembered with their acknowledgement time), counter increments
//! (counted) and reads of its own acknowledged writes (checked).

use crate::timeline::Timeline;
use ferrocache_client::{failure_kind, retry_class, Client};
use hdrhistogram::Histogram;
use redis::AsyncCommands;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shared between the workers and the progress line.
pub struct Live {
    pub t0: Instant,
    pub stop: AtomicBool,
    pub ops: AtomicU64,
    pub errors: AtomicU64,
    pub acked: AtomicU64,
}

impl Live {
    pub fn new() -> Live {
        Live {
            t0: Instant::now(),
            stop: AtomicBool::new(false),
            ops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            acked: AtomicU64::new(0),
        }
    }

    /// Microseconds since the drill started.
    pub fn now_us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }
}

/// An acknowledged write: `seq` names key and value; times in µs since the start.
#[derive(Debug, Clone, Copy)]
pub struct Ack {
    pub seq: u64,
    pub sent_us: u64,
    pub ack_us: u64,
}

/// A client-visible error: when and of which kind.
#[derive(Debug, Clone)]
pub struct ErrorAt {
    pub t_us: u64,
    pub kind: String,
}

pub struct WorkerOut {
    pub worker: usize,
    pub acks: Vec<Ack>,
    pub ops: u64,
    pub errors: Vec<ErrorAt>,
    /// Writes whose outcome is unknown (sent, then the connection broke or timed out).
    pub unknown_writes: u64,
    pub incr_acked: u64,
    pub incr_unknown: u64,
    pub hist: Histogram<u64>,
    pub timeline: Timeline,
}

pub fn key(run: &str, worker: usize, seq: u64) -> String {
    format!("drill:{run}:{worker}:{seq}")
}

pub fn value(run: &str, worker: usize, seq: u64) -> String {
    format!("{run}/{worker}/{seq}")
}

pub fn counter(run: &str, worker: usize) -> String {
    format!("drill:{run}:n:{worker}")
}

enum Op {
    Set,
    Incr,
    Get,
}

pub async fn run_worker(
    worker: usize,
    run: Arc<str>,
    mut client: Client,
    live: Arc<Live>,
) -> WorkerOut {
    let mut out = WorkerOut {
        worker,
        acks: Vec::new(),
        ops: 0,
        errors: Vec::new(),
        unknown_writes: 0,
        incr_acked: 0,
        incr_unknown: 0,
        hist: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
        timeline: Timeline::default(),
    };
    let mut seq = 0u64;
    let mut i = 0u64;
    while !live.stop.load(Ordering::Relaxed) {
        i += 1;
        let op = match i % 4 {
            0 | 1 => Op::Set,
            2 => Op::Incr,
            _ if out.acks.is_empty() => Op::Set,
            _ => Op::Get,
        };
        let sent_us = live.now_us();
        let res: Result<(), String> = match op {
            Op::Set => {
                seq += 1;
                let r: redis::RedisResult<()> = client
                    .set(key(&run, worker, seq), value(&run, worker, seq))
                    .await;
                match r {
                    Ok(()) => {
                        out.acks.push(Ack {
                            seq,
                            sent_us,
                            ack_us: live.now_us(),
                        });
                        live.acked.fetch_add(1, Ordering::Relaxed);
                        Ok(())
                    }
                    Err(e) => {
                        if !retry_class(&e).not_executed() {
                            out.unknown_writes += 1;
                        }
                        Err(failure_kind(&e).name().to_string())
                    }
                }
            }
            Op::Incr => match client.incr::<_, _, i64>(counter(&run, worker), 1).await {
                Ok(_) => {
                    out.incr_acked += 1;
                    Ok(())
                }
                Err(e) => {
                    if !retry_class(&e).not_executed() {
                        out.incr_unknown += 1;
                    }
                    Err(failure_kind(&e).name().to_string())
                }
            },
            Op::Get => {
                let a = out.acks[fastrand::usize(..out.acks.len())];
                match client
                    .get::<_, Option<String>>(key(&run, worker, a.seq))
                    .await
                {
                    Ok(Some(v)) if v == value(&run, worker, a.seq) => Ok(()),
                    Ok(_) => Err("wrong_read".to_string()),
                    Err(e) => Err(failure_kind(&e).name().to_string()),
                }
            }
        };
        let done_us = live.now_us();
        let latency = (done_us - sent_us).max(1);
        let _ = out.hist.record(latency.min(out.hist.high()));
        out.ops += 1;
        live.ops.fetch_add(1, Ordering::Relaxed);
        let failed = res.is_err();
        out.timeline.record(done_us, latency, failed);
        if let Err(kind) = res {
            live.errors.fetch_add(1, Ordering::Relaxed);
            out.errors.push(ErrorAt {
                t_us: done_us,
                kind,
            });
            // An error came back at once (e.g. READONLY on a node port): do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    out
}

/// Errors by kind over all workers.
pub fn errors_by_kind(outs: &[WorkerOut]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in outs.iter().flat_map(|o| &o.errors) {
        *m.entry(e.kind.clone()).or_insert(0) += 1;
    }
    m
}
