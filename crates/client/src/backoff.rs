//! Exponential backoff with full jitter, and the random stagger before a first
//! reconnect: the two ways the client keeps many instances from acting in lockstep.

use std::time::Duration;

/// Exponential backoff with full jitter: attempt `n` (from 0) waits a random time in
/// `0..=ceiling(n)`, where the ceiling doubles from `min` up to `max`.
///
/// Full jitter (rather than a fixed delay plus a little noise) is what spreads
/// clients that failed at the same moment over the whole interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The upper bound of the delay before attempt `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.min
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
            .max(self.min.min(self.max))
    }

    /// A delay drawn uniformly from `0..=ceiling(attempt)`.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        uniform(self.ceiling(attempt), rng)
    }
}

/// A duration drawn uniformly from `0..=max` (whole microseconds).
pub fn uniform(max: Duration, rng: &mut fastrand::Rng) -> Duration {
    let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rng.u64(0..=micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_and_saturates() {
        let b = Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        let c: Vec<u128> = (0..10).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(
            c,
            [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]
        );
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn delays_stay_under_the_ceiling() {
        let b = Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let mut rng = fastrand::Rng::with_seed(7);
        for n in 0..40 {
            assert!(b.delay(n, &mut rng) <= b.ceiling(n));
        }
    }
}
