//! Busy polling while under load: after a burst of requests the event loop keeps
//! polling for a short while instead of going to sleep in epoll_wait, because the
//! next requests usually arrive within microseconds and a sleep/wake-up costs more
//! than the polls. Idle, the spinner sleeps and costs nothing.

use crate::server::Shared;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Default)]
pub struct BusyPoll {
    batches: AtomicU64,
    sleeping: AtomicBool,
    wake: Notify,
}

impl BusyPoll {
    /// Called once per batch read from a client.
    pub fn touch(&self) {
        self.batches.fetch_add(1, Relaxed);
        if self.sleeping.load(Relaxed) {
            self.sleeping.store(false, Relaxed);
            self.wake.notify_one();
        }
    }
}

/// Scheduler rounds without a new batch before the spinner goes back to sleep.
const IDLE_ROUNDS: u32 = 200;

pub async fn spin(srv: Arc<Shared>) {
    let busy = &srv.busy;
    loop {
        busy.sleeping.store(true, Relaxed);
        tokio::select! {
            _ = busy.wake.notified() => {}
            _ = srv.shutdown.cancelled() => return,
        }
        let mut idle = 0;
        while idle < IDLE_ROUNDS {
            let before = busy.batches.load(Relaxed);
            tokio::task::yield_now().await;
            if busy.batches.load(Relaxed) == before {
                idle += 1;
            } else {
                idle = 0;
            }
        }
    }
}
