//! LZF, the small LZ77 variant Redis uses for compressed strings (`rdbcompression`).
//!
//! The stream is a sequence of chunks, each starting with a control byte `c`:
//! - `c < 32`: a literal run of `c + 1` bytes follows;
//! - otherwise a back reference: length `c >> 5` (7 means "add the next byte"),
//!   plus 2; distance `((c & 31) << 8 | next byte) + 1` back from the output end.

/// The longest back-reference distance the format can express.
const MAX_OFFSET: usize = 1 << 13;
/// The longest match: 7 + 255 in the length fields, plus the implicit 2.
const MAX_MATCH: usize = 7 + 255 + 2;
/// The longest literal run one control byte can announce.
const MAX_LITERAL: usize = 32;
const HASH_BITS: u32 = 14;

/// Why a compressed block could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LzfError {
    /// The input ends inside a chunk.
    Truncated,
    /// A back reference points before the start of the output.
    BadReference,
    /// The output would not have the announced length.
    LengthMismatch,
}

/// Expands `input` into exactly `out_len` bytes.
///
/// The output never grows beyond `out_len`, and `out_len` is not allocated up front
/// beyond what the input could possibly expand to, so a lying length field cannot
/// make us allocate gigabytes.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, LzfError> {
    // A 3-byte chunk expands to at most MAX_MATCH bytes: a bound on honest lengths.
    let bound = input.len().saturating_mul(MAX_MATCH / 3 + 1);
    if out_len > bound {
        return Err(LzfError::LengthMismatch);
    }
    let mut out = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run).ok_or(LzfError::Truncated)?;
            if out.len() + run > out_len {
                return Err(LzfError::LengthMismatch);
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i).ok_or(LzfError::Truncated)? as usize;
                i += 1;
            }
            len += 2;
            let low = *input.get(i).ok_or(LzfError::Truncated)? as usize;
            i += 1;
            let dist = (((ctrl & 31) << 8) | low) + 1;
            if dist > out.len() {
                return Err(LzfError::BadReference);
            }
            if out.len() + len > out_len {
                return Err(LzfError::LengthMismatch);
            }
            // Source and destination may overlap (a run repeating itself with
            // period `dist`). What lies from `start` on repeats with that period,
            // so copying all of it (a whole number of periods) is correct and
            // doubles the run each time: a run of 264 zeros is 9 copies, not 264.
            let start = out.len() - dist;
            let end = out.len() + len;
            while out.len() < end {
                let take = (out.len() - start).min(end - out.len());
                out.extend_from_within(start..start + take);
            }
        }
    }
    if out.len() != out_len {
        return Err(LzfError::LengthMismatch);
    }
    Ok(out)
}

/// Compresses `input`; `None` if the result would not be shorter than `max_out`
/// bytes (Redis only stores compressed strings that save at least 4 bytes).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.is_empty() {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let (table, base) = &mut *t;
        if table.is_empty() {
            *table = vec![0; 1 << HASH_BITS];
        }
        let out = compress_with(table, *base, input, max_out);
        *base += input.len() as u64 + 1;
        out
    })
}

/// How many leading bytes `a` and `b` share, eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

thread_local! {
    /// The match table, kept between calls: zeroing 128 KiB for every string took
    /// longer than compressing it (a replica's full sync of a million 1 KB values
    /// spent 3 s there). Entries are `base + position + 1`, and every call starts
    /// at a base above all earlier entries, so stale ones read as empty.
    static TABLE: std::cell::RefCell<(Vec<u64>, u64)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

fn compress_with(table: &mut [u64], base: u64, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n + n / 32 + 1));
    let hash = |p: usize| {
        let v = u32::from(input[p]) << 16 | u32::from(input[p + 1]) << 8 | u32::from(input[p + 2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
    };
    let mut lit_start = 0;
    let mut i = 0;
    // Flushes literals input[lit_start..end] in runs of at most MAX_LITERAL bytes.
    let flush = |out: &mut Vec<u8>, from: usize, to: usize| {
        let mut s = from;
        while s < to {
            let run = (to - s).min(MAX_LITERAL);
            out.push((run - 1) as u8);
            out.extend_from_slice(&input[s..s + run]);
            s += run;
        }
    };
    while i + 2 < n {
        let h = hash(i);
        let candidate = table[h];
        table[h] = base + i as u64 + 1;
        if candidate > base {
            let r = (candidate - base - 1) as usize;
            let dist = i - r;
            if dist <= MAX_OFFSET && input[r..r + 3] == input[i..i + 3] {
                let limit = (n - i).min(MAX_MATCH);
                let len = 3 + common_prefix(&input[r + 3..r + limit], &input[i + 3..i + limit]);
                flush(&mut out, lit_start, i);
                let code_len = len - 2;
                let off = dist - 1;
                if code_len < 7 {
                    out.push(((code_len << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((code_len - 7) as u8);
                }
                out.push((off & 0xff) as u8);
                // Index the last two positions of the match, as LZF's fast mode
                // does: indexing every position inside long matches (runs of one
                // byte, repeated text) cost more than the rest of the compression.
                let end = i + len;
                let mut p = (i + 1).max(end.saturating_sub(2));
                while p < end && p + 2 < n {
                    table[hash(p)] = base + p as u64 + 1;
                    p += 1;
                }
                i = end;
                lit_start = i;
                if out.len() >= max_out {
                    return None;
                }
                continue;
            }
        }
        i += 1;
        if out.len() + (i - lit_start) >= max_out + MAX_LITERAL {
            return None;
        }
    }
    flush(&mut out, lit_start, n);
    (out.len() < max_out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let samples: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"abcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            vec![0u8; 100_000],
            (0..70_000u32).map(|i| (i % 251) as u8).collect(),
            (0..5_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect(),
            b"hello hello hello world world world hello world".repeat(300),
        ];
        for s in samples {
            match compress(&s, s.len() + 64) {
                Some(c) => assert_eq!(decompress(&c, s.len()).unwrap(), s),
                None => panic!("compress refused {} bytes with room to spare", s.len()),
            }
        }
    }

    #[test]
    fn common_prefix_counts_across_word_boundaries() {
        let a = b"abcdefghijklmnopqrstuvwxyz";
        for cut in 0..a.len() {
            let mut b = a.to_vec();
            b[cut] = b'!';
            assert_eq!(common_prefix(a, &b), cut);
            assert_eq!(common_prefix(&a[..cut], a), cut);
        }
    }

    #[test]
    fn long_runs_compress_to_a_few_bytes() {
        let c = compress(&[b'x'; 1000], 997).unwrap();
        assert!(c.len() < 20, "{} bytes", c.len());
        assert_eq!(decompress(&c, 1000).unwrap(), vec![b'x'; 1000]);
    }

    #[test]
    fn hand_built_stream() {
        // Literal "abc" then a back reference of length 6 at distance 3: "abcabcabc".
        let c = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&c, 9).unwrap(), b"abcabcabc");
        // Long form: length field 7 plus extra byte 1 → 7 + 1 + 2 = 10 bytes.
        let c = [0, b'x', (7 << 5), 1, 0];
        assert_eq!(decompress(&c, 11).unwrap(), vec![b'x'; 11]);
    }

    #[test]
    fn overlapping_references_repeat_their_period() {
        for period in 1..=9usize {
            // A length field of 0 would be a literal: back references copy at least 3.
            for len in 3..=MAX_MATCH {
                let lit: Vec<u8> = (0..period as u8).map(|b| b'a' + b).collect();
                let mut c = vec![(period - 1) as u8];
                c.extend_from_slice(&lit);
                let d = period - 1;
                if len - 2 < 7 {
                    c.push((((len - 2) << 5) | (d >> 8)) as u8);
                } else {
                    c.push(((7 << 5) | (d >> 8)) as u8);
                    c.push((len - 2 - 7) as u8);
                }
                c.push((d & 0xFF) as u8);
                let want: Vec<u8> = (0..period + len).map(|i| lit[i % period]).collect();
                assert_eq!(decompress(&c, want.len()).unwrap(), want, "{period} {len}");
            }
        }
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(decompress(&[5, b'a'], 6), Err(LzfError::Truncated));
        assert_eq!(decompress(&[(1 << 5), 0], 3), Err(LzfError::BadReference));
        assert_eq!(decompress(&[0, b'a'], 2), Err(LzfError::LengthMismatch));
        assert_eq!(
            decompress(&[0, b'a'], 1_000_000),
            Err(LzfError::LengthMismatch)
        );
        assert_eq!(
            decompress(&[0, b'a', 0, b'b'], 1),
            Err(LzfError::LengthMismatch)
        );
        assert_eq!(decompress(&[0xE0], 50), Err(LzfError::Truncated));
    }

    #[test]
    fn incompressible_is_refused() {
        let s: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert_eq!(compress(&s, s.len() - 4), None);
    }
}
