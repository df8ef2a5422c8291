//! The clock leases are written in: CLOCK_MONOTONIC, which every process on the
//! machine reads alike (unlike `Instant`, whose values cannot leave a process).

/// Milliseconds of CLOCK_MONOTONIC.
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}
