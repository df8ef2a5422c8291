//! HyperLogLog as Redis stores it: a plain string value in the "HYLL" format, so
//! that GET, SET, APPEND … see (and may copy or damage) the same bytes as Redis.
//!
//! Layout: a 16-byte header — magic `HYLL`, one encoding byte (0 dense, 1 sparse),
//! three unused bytes, and the cached cardinality as a little-endian u64 whose most
//! significant bit means "stale" — followed by 16384 registers in the dense form
//! (`dense`) or the run-length sparse form (`sparse`). A new HLL is sparse; it turns
//! dense for good when a register needs a value above 32 or the sparse string would
//! outgrow `hll-sparse-max-bytes`.
//!
//! Everything here works on the raw string bytes. `check` is the gate (Redis's
//! "not a valid HyperLogLog" test: magic, encoding, dense length); a string that
//! passes it may still have a sparse body that does not add up, which the
//! operations report as `Corrupt`. Nothing panics on any input that passed `check`.

mod dense;
mod estimate;
mod hash;
mod sparse;

/// Bits of the hash that select the register.
pub const P: usize = 14;
/// Bits left for the run of zeros (the register value is at most Q+1).
pub const Q: usize = 64 - P;
pub const REGISTERS: usize = 1 << P;
pub const HEADER_LEN: usize = 16;
/// Length of every dense HLL string.
pub const DENSE_LEN: usize = HEADER_LEN + dense::BODY_LEN;

const MAGIC: &[u8; 4] = b"HYLL";
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Byte of the header whose top bit marks the cached cardinality stale.
const CACHE_FLAG_BYTE: usize = 15;

/// How many registers hold each value 0..=63.
type Histogram = [u32; 64];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

/// The string is not a HyperLogLog (Redis: "WRONGTYPE Key is not a valid
/// HyperLogLog string value.").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotHll;

/// The sparse body does not describe exactly 16384 registers (Redis:
/// "INVALIDOBJ Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A new, empty HLL: sparse, cached cardinality 0 (valid).
pub fn new() -> Vec<u8> {
    let mut s = Vec::with_capacity(64);
    s.extend_from_slice(MAGIC);
    s.extend_from_slice(&[SPARSE, 0, 0, 0]);
    s.extend_from_slice(&[0; 8]);
    s.extend_from_slice(&sparse::empty_body());
    s
}

/// Whether `s` is an HLL string, and its encoding.
pub fn check(s: &[u8]) -> Result<Encoding, NotHll> {
    if s.len() < HEADER_LEN || &s[..4] != MAGIC {
        return Err(NotHll);
    }
    match s[4] {
        SPARSE => Ok(Encoding::Sparse),
        DENSE if s.len() == DENSE_LEN => Ok(Encoding::Dense),
        _ => Err(NotHll),
    }
}

fn encoding(s: &[u8]) -> Encoding {
    if s[4] == DENSE {
        Encoding::Dense
    } else {
        Encoding::Sparse
    }
}

/// The cached cardinality, unless it is marked stale.
pub fn cached(s: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(s[8..HEADER_LEN].try_into().expect("8 bytes"));
    (s[CACHE_FLAG_BYTE] & 0x80 == 0).then_some(card)
}

/// Stores `card` as the cached cardinality (a value with the top bit set reads
/// back as stale, as in Redis).
pub fn set_cached(s: &mut [u8], card: u64) {
    s[8..HEADER_LEN].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale (after any register change).
pub fn invalidate_cache(s: &mut [u8]) {
    s[CACHE_FLAG_BYTE] |= 0x80;
}

/// Adds `element`; true if a register changed. A sparse HLL turns dense when the
/// update needs it (see the module comment). The cache is left to the caller.
pub fn add(s: &mut Vec<u8>, element: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = hash::position(element);
    raise(s, index, count, sparse_max_bytes)
}

/// Raises register `index` to `count` if it is lower; true if it changed.
fn raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    if encoding(s) == Encoding::Dense {
        return Ok(dense::raise(&mut s[HEADER_LEN..], index, count));
    }
    match sparse::raise(s, index, count, sparse_max_bytes)? {
        sparse::Update::Unchanged => Ok(false),
        sparse::Update::Changed => Ok(true),
        sparse::Update::NeedsDense => {
            make_dense(s)?;
            Ok(dense::raise(&mut s[HEADER_LEN..], index, count))
        }
    }
}

/// Converts a sparse HLL to dense in place (a dense one stays as it is).
pub fn make_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if encoding(s) == Encoding::Sparse {
        *s = sparse::to_dense(s)?;
    }
    Ok(())
}

/// The estimated cardinality of the registers (ignores the cache).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut h: Histogram = [0; 64];
    match encoding(s) {
        Encoding::Dense => dense::histogram(&s[HEADER_LEN..], &mut h),
        Encoding::Sparse => {
            sparse::for_each_run(s, |_, value, len| h[value as usize] += len as u32)?
        }
    }
    Ok(estimate::cardinality(&h))
}

/// The register-wise maximum of several HLLs (PFCOUNT of many keys, PFMERGE).
#[derive(Clone)]
pub struct Union {
    max: Box<[u8; REGISTERS]>,
}

impl Default for Union {
    fn default() -> Self {
        Union {
            max: Box::new([0; REGISTERS]),
        }
    }
}

impl Union {
    /// Folds one HLL string (which passed `check`) into the union.
    pub fn merge(&mut self, s: &[u8]) -> Result<(), Corrupt> {
        let max = &mut *self.max;
        match encoding(s) {
            Encoding::Dense => dense::merge_into(&s[HEADER_LEN..], max),
            Encoding::Sparse => sparse::for_each_run(s, |first, value, len| {
                for r in &mut max[first..first + len] {
                    *r = (*r).max(value);
                }
            })?,
        }
        Ok(())
    }

    /// The estimated cardinality of the union.
    pub fn count(&self) -> u64 {
        let mut h: Histogram = [0; 64];
        for &r in self.max.iter() {
            h[r as usize] += 1;
        }
        estimate::cardinality(&h)
    }

    /// Raises the registers of HLL `s` to the union's, one register at a time in
    /// index order as Redis does (so a sparse `s` gets Redis's exact bytes, and
    /// turns dense if it outgrows `sparse_max_bytes`).
    pub fn write_into(&self, s: &mut Vec<u8>, sparse_max_bytes: usize) -> Result<(), Corrupt> {
        for (i, &v) in self.max.iter().enumerate() {
            if v > 0 {
                raise(s, i, v, sparse_max_bytes)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_add_count() {
        let mut s = new();
        assert_eq!(check(&s), Ok(Encoding::Sparse));
        assert_eq!(cached(&s), Some(0));
        assert_eq!(add(&mut s, b"a", 3000), Ok(true));
        assert_eq!(add(&mut s, b"a", 3000), Ok(false));
        invalidate_cache(&mut s);
        assert_eq!(cached(&s), None);
        assert_eq!(count(&s), Ok(1));
        set_cached(&mut s, 1);
        assert_eq!(cached(&s), Some(1));
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sp = new();
        let mut de = new();
        make_dense(&mut de).unwrap();
        assert_eq!(check(&de), Ok(Encoding::Dense));
        for i in 0..5000 {
            let e = format!("e{i}");
            assert_eq!(
                add(&mut sp, e.as_bytes(), usize::MAX),
                add(&mut de, e.as_bytes(), 0)
            );
        }
        assert_eq!(check(&sp), Ok(Encoding::Sparse));
        assert_eq!(count(&sp), count(&de));
        let mut converted = sp.clone();
        make_dense(&mut converted).unwrap();
        assert!(
            converted[HEADER_LEN..] == de[HEADER_LEN..],
            "same registers"
        );
        let mut u = Union::default();
        u.merge(&sp).unwrap();
        assert_eq!(Ok(u.count()), count(&de));
    }

    #[test]
    fn not_hll() {
        assert_eq!(check(b"HYLL"), Err(NotHll));
        assert_eq!(check(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), Err(NotHll));
        assert_eq!(check(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"), Err(NotHll));
        assert_eq!(check(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0"), Err(NotHll));
        assert_eq!(
            check(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0"),
            Ok(Encoding::Sparse)
        );
    }
}
