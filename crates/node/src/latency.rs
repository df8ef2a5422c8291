//! Per-command latency histograms for INFO latencystats: log-linear buckets (16 per
//! power of two, about 6% resolution) of atomic counters, so recording is one
//! relaxed increment and never locks.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = 64 * SUB;

/// A histogram allocated on first use (most commands are never called).
#[derive(Default)]
pub struct Histogram {
    counts: OnceLock<Box<[AtomicU64]>>,
}

fn bucket(ns: u64) -> usize {
    let v = ns.max(1);
    let p = 63 - v.leading_zeros();
    if p < SUB_BITS {
        return v as usize;
    }
    let sub = ((v >> (p - SUB_BITS)) as usize) & (SUB - 1);
    ((p - SUB_BITS + 1) as usize) * SUB + sub
}

/// The largest value that falls in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let p = (i / SUB) as u32 + SUB_BITS - 1;
    let sub = (i % SUB) as u64;
    ((SUB as u64 + sub + 1) << (p - SUB_BITS)) - 1
}

impl Histogram {
    pub fn record(&self, ns: u64) {
        let counts = self
            .counts
            .get_or_init(|| (0..BUCKETS).map(|_| AtomicU64::new(0)).collect());
        counts[bucket(ns)].fetch_add(1, Relaxed);
    }

    pub fn reset(&self) {
        if let Some(c) = self.counts.get() {
            c.iter().for_each(|a| a.store(0, Relaxed));
        }
    }

    /// Values (ns) at the given percentiles, or None if nothing was recorded.
    pub fn percentiles(&self, ps: &[f64]) -> Option<Vec<u64>> {
        let counts: Vec<u64> = self.counts.get()?.iter().map(|a| a.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        Some(
            ps.iter()
                .map(|p| {
                    let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
                    let mut seen = 0;
                    let i = counts
                        .iter()
                        .position(|&c| {
                            seen += c;
                            seen >= rank
                        })
                        .unwrap_or(BUCKETS - 1);
                    upper(i)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_contain_their_values() {
        for v in [1u64, 2, 15, 16, 17, 100, 1000, 12345, 1 << 40] {
            let i = bucket(v);
            assert!(upper(i) >= v, "{v} above its bucket bound {}", upper(i));
            assert!(i == 0 || upper(i - 1) < v, "{v} belongs lower");
        }
        let h = Histogram::default();
        (1..=100).for_each(|v| h.record(v * 1000));
        let p = h.percentiles(&[50.0, 99.0]).unwrap();
        assert!((48_000..=54_000).contains(&p[0]), "{p:?}");
        assert!((96_000..=104_000).contains(&p[1]), "{p:?}");
    }
}
