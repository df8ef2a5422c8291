//! The cardinality estimator Redis uses since 5.0: Otmar Ertl's improved raw
//! estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
//! 2017), computed from the histogram of register values. The floating-point steps
//! follow the same order as Redis's, so that equal registers give an equal count.

use super::{Histogram, Q, REGISTERS};

/// The bias-correction constant for m → ∞: 1 / (2 ln 2).
#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721347520444481703680;

/// Ertl's σ(x) for the fraction of registers still at zero.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

/// Ertl's τ(x) for the fraction of registers below the maximum value.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality for a register histogram (values above Q+1, which
/// only a hand-made dense string can hold, are ignored as in Redis).
pub fn cardinality(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    llround(ALPHA_INF * m * m / z) as u64
}

/// C's `llround`: half away from zero; out of range (or NaN) gives the x86
/// "integer indefinite" value, i64::MIN, which is what Redis then returns.
fn llround(x: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    let r = x.round();
    if (-LIMIT..LIMIT).contains(&r) {
        r as i64
    } else {
        i64::MIN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_one() {
        let mut h = [0u32; 64];
        h[0] = REGISTERS as u32;
        assert_eq!(cardinality(&h), 0);
        h[0] -= 1;
        h[2] = 1;
        assert_eq!(cardinality(&h), 1);
    }
}
