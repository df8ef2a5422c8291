//! Where an element lands: Redis hashes it with MurmurHash64A (Austin Appleby's
//! public-domain 64-bit hash, read in little-endian order on every platform) and a
//! fixed seed; the low 14 bits pick the register, and the run of zero bits above
//! them (plus one) is the value offered to that register.

use super::{P, Q, REGISTERS};

/// The seed Redis passes to MurmurHash64A for HyperLogLog.
const SEED: u64 = 0xadc8_3b19;

/// MurmurHash64A of `key` with `seed`.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().expect("8-byte chunk"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= (byte as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `element` maps to and the value it offers (1..=Q+1).
pub fn position(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    // A sentinel bit at Q bounds the count at Q+1 when the remaining bits are all 0.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_positions() {
        // Observed on redis-server 7.0: PFADD h a sets register 12711 to 2.
        assert_eq!(position(b"a"), (12711, 2));
    }
}
