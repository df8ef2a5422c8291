//! Redis's LFU access counter, kept in an entry's 32-bit `lru` field when an LFU
//! eviction policy is chosen: the low 8 bits are a logarithmic access counter,
//! the upper bits the time (minutes, 16 bits) it was last decayed.

/// A new key's counter, so that fresh keys are not evicted before they are used.
pub const INIT: u8 = 5;

/// LFU parameters (`lfu-log-factor`, `lfu-decay-time` in minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lfu {
    pub log_factor: u32,
    pub decay_minutes: u32,
}

fn minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// The field value for a key created now.
pub fn fresh(now_ms: u64) -> u32 {
    (minutes(now_ms) << 8) | INIT as u32
}

/// The counter after decay for the minutes elapsed since it was last decayed.
pub fn counter(field: u32, now_ms: u64, lfu: Lfu) -> u8 {
    let counter = (field & 0xFF) as u8;
    if lfu.decay_minutes == 0 {
        return counter;
    }
    let then = field >> 8;
    let now = minutes(now_ms);
    // The 16-bit minute clock wraps about every 45 days.
    let elapsed = if now >= then {
        now - then
    } else {
        0x10000 - then + now
    };
    let periods = elapsed / lfu.decay_minutes;
    counter.saturating_sub(periods.min(255) as u8)
}

/// The field after one access: decay, then a probabilistic logarithmic increment.
pub fn touch(field: u32, now_ms: u64, lfu: Lfu) -> u32 {
    let mut c = counter(field, now_ms, lfu);
    if c < 255 {
        let base = c.saturating_sub(INIT) as f64;
        let p = 1.0 / (base * lfu.log_factor as f64 + 1.0);
        if fastrand::f64() < p {
            c += 1;
        }
    }
    (minutes(now_ms) << 8) | c as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_logarithmically_and_decays() {
        let lfu = Lfu {
            log_factor: 10,
            decay_minutes: 1,
        };
        let mut f = fresh(0);
        for _ in 0..100 {
            f = touch(f, 0, lfu);
        }
        let c = counter(f, 0, lfu);
        assert!(c > INIT && c < 40, "{c}");
        assert_eq!(counter(f, 3 * 60_000, lfu), c - 3);
        assert_eq!(counter(f, 1000 * 60_000, lfu), 0);
    }
}
