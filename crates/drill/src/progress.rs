//! The live progress line while a drill runs (indicatif, on stderr; hidden when
//! stderr is not a terminal or the caller asked for JSON).

use crate::workload::Live;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Progress {
    bar: ProgressBar,
    pub phase: Arc<Mutex<String>>,
}

impl Progress {
    pub fn new(visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
        );
        Progress {
            bar,
            phase: Arc::new(Mutex::new("warm-up".into())),
        }
    }

    pub fn set_phase(&self, phase: impl Into<String>) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase.into();
        }
    }

    /// Redraws the line every 250 ms until the workload stops.
    pub fn spawn(&self, live: Arc<Live>) -> tokio::task::JoinHandle<()> {
        let bar = self.bar.clone();
        let phase = self.phase.clone();
        tokio::spawn(async move {
            let mut last = (0u64, std::time::Instant::now());
            while !live.stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let ops = live.ops.load(Ordering::Relaxed);
                let dt = last.1.elapsed().as_secs_f64().max(0.001);
                let rate = (ops - last.0) as f64 / dt;
                last = (ops, std::time::Instant::now());
                let p = phase.lock().map(|p| p.clone()).unwrap_or_default();
                bar.set_message(format!(
                    "{p} | ops {ops} ({rate:.0}/s) | acked writes {} | errors {}",
                    live.acked.load(Ordering::Relaxed),
                    live.errors.load(Ordering::Relaxed)
                ));
                bar.tick();
            }
        })
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
