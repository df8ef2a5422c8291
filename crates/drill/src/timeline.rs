//! Per-100 ms buckets of completed operations (count, errors, latency sum and max):
//! what the progress line, the report and the timeline picture are drawn from.

pub const BUCKET_US: u64 = 100_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct Bucket {
    pub ops: u64,
    pub errors: u64,
    pub latency_sum_us: u64,
    pub latency_max_us: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub buckets: Vec<Bucket>,
}

impl Timeline {
    pub fn record(&mut self, t_us: u64, latency_us: u64, failed: bool) {
        let i = (t_us / BUCKET_US) as usize;
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, Bucket::default());
        }
        let b = &mut self.buckets[i];
        b.ops += 1;
        b.errors += u64::from(failed);
        b.latency_sum_us += latency_us;
        b.latency_max_us = b.latency_max_us.max(latency_us);
    }

    pub fn merge(&mut self, other: &Timeline) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), Bucket::default());
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            a.ops += b.ops;
            a.errors += b.errors;
            a.latency_sum_us += b.latency_sum_us;
            a.latency_max_us = a.latency_max_us.max(b.latency_max_us);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_add_up() {
        let mut a = Timeline::default();
        a.record(50_000, 10, false);
        a.record(250_000, 30, true);
        let mut b = Timeline::default();
        b.record(60_000, 20, false);
        a.merge(&b);
        assert_eq!(a.buckets.len(), 3);
        assert_eq!(a.buckets[0].ops, 2);
        assert_eq!(a.buckets[0].latency_max_us, 20);
        assert_eq!(a.buckets[2].errors, 1);
    }
}
