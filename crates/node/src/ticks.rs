//! A cheap monotonic clock for timing each command: the CPU's time-stamp counter
//! where it ticks at a constant rate, otherwise `Instant`.
//!
//! Why: profiling pipelined PING showed `clock_gettime` (one per command, for
//! INFO commandstats and latencystats) at about 4% of the node's time, more than
//! parsing and dispatch together. Reading the TSC costs a few nanoseconds. Redis
//! makes the same choice for its monotonic clock when the CPU reports
//! `constant_tsc`. The rate is calibrated once against `Instant`, so an error of
//! a fraction of a percent shows only in statistics, never in expiry: wall-clock
//! time is still read once per batch (`server::Clock`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A point on the tick clock; only differences mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tick(u64);

/// How ticks are read and converted.
#[derive(Debug)]
enum Source {
    /// The TSC, at this many nanoseconds per tick (scaled by 2^32).
    Tsc { ns_per_tick_q32: u64 },
    /// `Instant` as nanoseconds since this origin.
    Instant(Instant),
}

fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| calibrate_tsc().unwrap_or_else(|| Source::Instant(Instant::now())))
}

/// Uses the TSC only when the kernel says it is invariant (constant rate, not
/// stopped in sleep states) and the calibration looks sane.
#[cfg(target_arch = "x86_64")]
fn calibrate_tsc() -> Option<Source> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return None;
    }
    let t0 = Instant::now();
    let c0 = rdtsc();
    // Two milliseconds keep the rate's error well under 0.1% and start-up fast.
    while t0.elapsed() < Duration::from_millis(2) {
        std::hint::spin_loop();
    }
    let c1 = rdtsc();
    let ns = t0.elapsed().as_nanos() as u64;
    let ticks = c1.checked_sub(c0)?;
    // Below 100 MHz or above 100 GHz the counter is not what we think it is.
    if ticks < ns / 10 || ticks > ns * 100 {
        return None;
    }
    Some(Source::Tsc {
        ns_per_tick_q32: ((ns as u128) << 32).checked_div(ticks as u128)? as u64,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn calibrate_tsc() -> Option<Source> {
    None
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no memory effects and exists on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn rdtsc() -> u64 {
    0
}

impl Tick {
    #[inline]
    pub fn now() -> Tick {
        match source() {
            Source::Tsc { .. } => Tick(rdtsc()),
            Source::Instant(origin) => Tick(origin.elapsed().as_nanos() as u64),
        }
    }

    /// Nanoseconds from `earlier` to `self` (0 if the counter went backwards, as it
    /// can by a little when a thread moves between cores).
    #[inline]
    pub fn nanos_since(self, earlier: Tick) -> u64 {
        let d = self.0.saturating_sub(earlier.0);
        match source() {
            Source::Tsc { ns_per_tick_q32 } => {
                ((d as u128 * *ns_per_tick_q32 as u128) >> 32) as u64
            }
            Source::Instant(_) => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_measure_elapsed_time() {
        let t0 = Tick::now();
        let i0 = Instant::now();
        while i0.elapsed() < Duration::from_millis(20) {
            std::hint::spin_loop();
        }
        let ticks_ns = Tick::now().nanos_since(t0);
        let real_ns = i0.elapsed().as_nanos() as u64;
        // Generous bounds: this checks the conversion, not the machine's timing.
        assert!(
            ticks_ns >= real_ns / 2 && ticks_ns <= real_ns * 2,
            "{ticks_ns} vs {real_ns}"
        );
        assert_eq!(t0.nanos_since(Tick::now()), 0);
    }
}
