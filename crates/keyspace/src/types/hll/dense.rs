//! The dense form: 16384 six-bit registers packed least-significant bit first
//! (register i occupies bits 6i..6i+5 of the body, counting from the low bit of
//! each byte), 12288 bytes after the header.

use super::{Histogram, HEADER_LEN, REGISTERS};

/// Bytes of the dense register area.
pub const BODY_LEN: usize = REGISTERS * 6 / 8;

/// Register `i` of a dense body.
pub fn get(body: &[u8], i: usize) -> u8 {
    let bit = i * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    let lo = body[byte] >> shift;
    // The last register ends inside its byte; no byte follows it.
    let hi = match body.get(byte + 1) {
        Some(&b) if shift > 2 => b << (8 - shift),
        _ => 0,
    };
    (lo | hi) & 63
}

/// Sets register `i` of a dense body to `v` (< 64).
pub fn set(body: &mut [u8], i: usize, v: u8) {
    let bit = i * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    body[byte] = (body[byte] & !(63 << shift)) | (v << shift);
    if shift > 2 {
        let spill = 8 - shift;
        body[byte + 1] = (body[byte + 1] & !(63 >> spill)) | (v >> spill);
    }
}

/// Raises register `i` to `v` if it is lower; true if it changed.
pub fn raise(body: &mut [u8], i: usize, v: u8) -> bool {
    if get(body, i) >= v {
        return false;
    }
    set(body, i, v);
    true
}

/// Calls `f(i, value)` for every register, four at a time (three bytes hold four).
fn for_each(body: &[u8], mut f: impl FnMut(usize, u8)) {
    for (n, c) in body.chunks_exact(3).enumerate() {
        let i = n * 4;
        f(i, c[0] & 63);
        f(i + 1, ((c[0] >> 6) | (c[1] << 2)) & 63);
        f(i + 2, ((c[1] >> 4) | (c[2] << 4)) & 63);
        f(i + 3, c[2] >> 2);
    }
}

/// How many registers hold each value.
pub fn histogram(body: &[u8], h: &mut Histogram) {
    for_each(body, |_, v| h[v as usize] += 1);
}

/// Raises each of `max` to the dense register at the same index.
pub fn merge_into(body: &[u8], max: &mut [u8; REGISTERS]) {
    for_each(body, |i, v| {
        if v > max[i] {
            max[i] = v;
        }
    });
}

/// A dense HLL string with `header` (its encoding byte set to dense) and the
/// registers a sparse body described.
pub fn from_registers(header: &[u8], regs: impl Iterator<Item = (usize, u8)>) -> Vec<u8> {
    let mut s = vec![0u8; HEADER_LEN + BODY_LEN];
    s[..HEADER_LEN].copy_from_slice(&header[..HEADER_LEN]);
    s[4] = super::DENSE;
    let body = &mut s[HEADER_LEN..];
    for (i, v) in regs {
        set(body, i, v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_round_trip_and_stay_apart() {
        let mut body = vec![0u8; BODY_LEN];
        for i in 0..REGISTERS {
            set(&mut body, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(get(&body, i), (i % 64) as u8);
        }
        let mut seen = vec![0u8; REGISTERS];
        for_each(&body, |i, v| seen[i] = v);
        assert!(seen.iter().enumerate().all(|(i, &v)| v == (i % 64) as u8));
        set(&mut body, REGISTERS - 1, 0);
        assert_eq!(get(&body, REGISTERS - 2), ((REGISTERS - 2) % 64) as u8);
        assert_eq!(get(&body, REGISTERS - 1), 0);
    }
}
