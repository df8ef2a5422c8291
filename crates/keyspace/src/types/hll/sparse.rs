//! The sparse form: a run-length code of the 16384 registers in three opcodes,
//!
//! - ZERO  `00xxxxxx`           — 1..=64 registers at 0 (length − 1 in x),
//! - XZERO `01xxxxxx yyyyyyyy`  — 1..=16384 registers at 0 (14-bit length − 1),
//! - VAL   `1vvvvvxx`           — 1..=4 registers at value 1..=32 (both minus one),
//!
//! which together must describe exactly 16384 registers. The code is not canonical:
//! the bytes depend on the order of updates, because an update rewrites only the
//! opcode it lands in and then merges equal neighbouring VALs over a short window.
//! Redis's exact update rule is reproduced here so that the stored string matches
//! byte for byte.

use super::{dense, Corrupt, HEADER_LEN, REGISTERS};

/// Longest run one ZERO opcode holds.
const ZERO_MAX_LEN: usize = 64;
/// Longest run one XZERO opcode holds.
const XZERO_MAX_LEN: usize = 16384;
/// Highest register value a VAL opcode can hold; higher values need the dense form.
pub const VAL_MAX_VALUE: u8 = 32;
/// Longest run one VAL opcode holds.
const VAL_MAX_LEN: usize = 4;
/// How many opcodes the merge after an update looks at, from the one before it.
const MERGE_WINDOW: usize = 5;

/// One decoded opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// A ZERO (one byte) or XZERO (two bytes) run.
    Zero {
        len: usize,
        wide: bool,
    },
    Val {
        value: u8,
        len: usize,
    },
}

impl Op {
    fn size(self) -> usize {
        match self {
            Op::Zero { wide: true, .. } => 2,
            _ => 1,
        }
    }
    fn len(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
}

/// The opcode at `p`. A two-byte XZERO cut short by the end of the string (only a
/// corrupt string has one) reads a zero second byte, as Redis does right after the
/// string was written (its strings are NUL-terminated). Redis really reads the byte
/// past the end of its buffer, which an earlier update of such a string may have
/// left non-zero (see `raise`); that hidden state is not reproduced.
fn decode(s: &[u8], p: usize) -> Op {
    let b = s[p];
    if b & 0x80 != 0 {
        Op::Val {
            value: ((b >> 2) & 31) + 1,
            len: (b & 3) as usize + 1,
        }
    } else if b & 0x40 != 0 {
        let low = s.get(p + 1).copied().unwrap_or(0) as usize;
        Op::Zero {
            len: (((b & 63) as usize) << 8 | low) + 1,
            wide: true,
        }
    } else {
        Op::Zero {
            len: (b & 63) as usize + 1,
            wide: false,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

/// The (at most five) opcodes that replace the one an update splits.
#[derive(Default)]
struct Seq {
    bytes: [u8; 5],
    len: usize,
}

impl Seq {
    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }
    /// The opcode for a run of `len` zero registers (ZERO when it fits).
    fn push_zeros(&mut self, len: usize) {
        if len > ZERO_MAX_LEN {
            let l = len - 1;
            self.push(0x40 | (l >> 8) as u8);
            self.push((l & 0xff) as u8);
        } else {
            self.push((len - 1) as u8);
        }
    }
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The body of a new, empty HLL: XZERO runs covering every register.
pub fn empty_body() -> Vec<u8> {
    let mut body = Vec::with_capacity(2);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        let l = n - 1;
        body.extend_from_slice(&[0x40 | (l >> 8) as u8, (l & 0xff) as u8]);
        left -= n;
    }
    body
}

/// Calls `f(first register, value, run length)` for each run (value 0 for zero
/// runs); `Corrupt` unless the runs cover exactly the 16384 registers.
pub fn for_each_run(s: &[u8], mut f: impl FnMut(usize, u8, usize)) -> Result<(), Corrupt> {
    let mut p = HEADER_LEN;
    let mut idx = 0;
    while p < s.len() {
        let op = decode(s, p);
        if idx + op.len() > REGISTERS {
            return Err(Corrupt);
        }
        let value = match op {
            Op::Zero { .. } => 0,
            Op::Val { value, .. } => value,
        };
        f(idx, value, op.len());
        idx += op.len();
        p += op.size();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The dense string holding the same registers (and the same header).
pub fn to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut runs = Vec::new();
    for_each_run(s, |first, value, len| {
        if value > 0 {
            runs.push((first, value, len));
        }
    })?;
    let regs = runs
        .into_iter()
        .flat_map(|(first, value, len)| (first..first + len).map(move |i| (i, value)));
    Ok(dense::from_registers(s, regs))
}

/// What a sparse update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// The register already held at least the value.
    Unchanged,
    Changed,
    /// The value does not fit the sparse form, or the string would outgrow
    /// `hll-sparse-max-bytes`: the caller converts to dense and sets it there.
    NeedsDense,
}

/// Raises register `index` to `count` in the sparse string `s`, rewriting the
/// opcode that covers it as Redis does, and marks the cached count stale (so a
/// later failure on a corrupt body leaves what Redis leaves). `Corrupt` when no
/// opcode covers the register.
pub fn raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<Update, Corrupt> {
    if count > VAL_MAX_VALUE {
        return Ok(Update::NeedsDense);
    }
    // Find the opcode covering `index`, its first register and its predecessor.
    let end = s.len();
    let mut p = HEADER_LEN;
    let mut first = 0;
    let mut prev = None;
    let mut found = None;
    while p < end {
        let op = decode(s, p);
        if index < first + op.len() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.size();
        first += op.len();
    }
    let op = found.ok_or(Corrupt)?;

    // Single-register opcodes change in place.
    match op {
        Op::Val { value, .. } if value >= count => return Ok(Update::Unchanged),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            wide: false,
        } => {
            s[p] = val_byte(count, 1);
            merge_neighbours(s, prev.unwrap_or(HEADER_LEN));
            super::invalidate_cache(s);
            return Ok(Update::Changed);
        }
        _ => {}
    }

    // Otherwise split the run into up to three opcodes: before, the register, after.
    let last = first + op.len() - 1;
    let mut seq = Seq::default();
    match op {
        Op::Zero { .. } => {
            if index != first {
                seq.push_zeros(index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                seq.push_zeros(last - index);
            }
        }
        Op::Val { value, .. } => {
            if index != first {
                seq.push(val_byte(value, index - first));
            }
            seq.push(val_byte(count, 1));
            if index != last {
                seq.push(val_byte(value, last - index));
            }
        }
    }
    let seq = seq.as_slice();
    let old_size = op.size();
    if seq.len() > old_size && end + (seq.len() - old_size) > max_bytes {
        return Ok(Update::NeedsDense);
    }
    // An XZERO cut short by the end of the string: Redis's length arithmetic
    // counts its missing byte, so the string ends one byte short of the new code
    // (Redis keeps that last byte just past the end of its buffer, where a later
    // update may read it back; here it is gone).
    let new_len = end + seq.len() - old_size;
    s.splice(p..(p + old_size).min(end), seq.iter().copied());
    s.truncate(new_len);
    merge_neighbours(s, prev.unwrap_or(HEADER_LEN));
    super::invalidate_cache(s);
    Ok(Update::Changed)
}

/// Merges adjacent VAL opcodes of equal value (while the run fits one opcode),
/// looking at up to `MERGE_WINDOW` opcodes from `p`: Redis's local clean-up after
/// an update, which does not make the code canonical.
fn merge_neighbours(s: &mut Vec<u8>, mut p: usize) {
    let mut window = MERGE_WINDOW;
    while p < s.len() && window > 0 {
        window -= 1;
        let op = decode(s, p);
        let Op::Val { value, len } = op else {
            p += op.size();
            continue;
        };
        if p + 1 < s.len() {
            if let Op::Val { value: v2, len: l2 } = decode(s, p + 1) {
                if v2 == value && len + l2 <= VAL_MAX_LEN {
                    s[p + 1] = val_byte(value, len + l2);
                    s.remove(p);
                    // Stay here: the merged run may merge with the next one too.
                    continue;
                }
            }
        }
        p += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hll(body: &[u8]) -> Vec<u8> {
        let mut s = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        s.extend_from_slice(body);
        s
    }

    #[test]
    fn first_update_splits_the_xzero() {
        // Observed on redis-server 7.0: PFADD h a on a new key.
        let mut s = hll(&empty_body());
        assert_eq!(raise(&mut s, 12711, 2, 3000), Ok(Update::Changed));
        assert_eq!(&s[HEADER_LEN..], b"\x71\xa6\x84\x4e\x57");
        assert_eq!(raise(&mut s, 12711, 2, 3000), Ok(Update::Unchanged));
    }

    #[test]
    fn runs_must_cover_every_register() {
        assert!(for_each_run(&hll(&empty_body()), |_, _, _| {}).is_ok());
        assert_eq!(for_each_run(&hll(b""), |_, _, _| {}), Err(Corrupt));
        assert_eq!(for_each_run(&hll(b"\x7f\xfe"), |_, _, _| {}), Err(Corrupt));
        assert_eq!(
            for_each_run(&hll(b"\x7f\xff\x00"), |_, _, _| {}),
            Err(Corrupt)
        );
        assert_eq!(raise(&mut hll(b""), 0, 1, 3000), Err(Corrupt));
        assert_eq!(raise(&mut hll(b"\x00"), 1, 1, 3000), Err(Corrupt));
    }

    #[test]
    fn equal_neighbours_merge() {
        // VAL(1,1) VAL(1,1) after setting register 1 of "VAL(1,1) ZERO(1) ...".
        let mut s = hll(b"\x80\x00\x7f\xfd");
        assert_eq!(raise(&mut s, 1, 1, 3000), Ok(Update::Changed));
        assert_eq!(&s[HEADER_LEN..], b"\x81\x7f\xfd");
    }
}
