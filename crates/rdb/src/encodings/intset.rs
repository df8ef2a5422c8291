//! Intset: a sorted array of integers of one width (2, 4 or 8 bytes), Redis's
//! encoding for small sets of integers.
//!
//! Layout: width in bytes (u32 LE), count (u32 LE), then the integers, little-endian.

/// Decodes the integers, checking the width, the length and the ascending order
/// (Redis relies on it for binary search, so an unsorted intset is corrupt).
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, String> {
    let err = |m: String| format!("intset (blob of {} bytes): {m}", blob.len());
    if blob.len() < 8 {
        return Err(err("shorter than its 8-byte header".into()));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(err(format!("bad integer width {width}")));
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(blob.len()) {
        return Err(err(format!(
            "header says {count} integers of {width} bytes"
        )));
    }
    let mut out = Vec::with_capacity(count);
    for chunk in blob[8..].chunks_exact(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes([chunk[0], chunk[1]])),
            4 => i64::from(i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
            _ => {
                let mut a = [0u8; 8];
                a.copy_from_slice(chunk);
                i64::from_le_bytes(a)
            }
        };
        if out.last().is_some_and(|&last| last >= v) {
            return Err(err(format!("not strictly ascending at {v}")));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_width() {
        assert_eq!(
            decode(&[2, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0xFF, 7, 0]).unwrap(),
            [-1, 7]
        );
        let mut b = vec![4, 0, 0, 0, 1, 0, 0, 0];
        b.extend_from_slice(&100_000i32.to_le_bytes());
        assert_eq!(decode(&b).unwrap(), [100_000]);
        let mut b = vec![8, 0, 0, 0, 2, 0, 0, 0];
        b.extend_from_slice(&i64::MIN.to_le_bytes());
        b.extend_from_slice(&i64::MAX.to_le_bytes());
        assert_eq!(decode(&b).unwrap(), [i64::MIN, i64::MAX]);
        assert_eq!(
            decode(&[2, 0, 0, 0, 0, 0, 0, 0]).unwrap(),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn refuses_corruption() {
        assert!(decode(&[2, 0, 0]).is_err());
        assert!(decode(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]).is_err());
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_err());
        assert!(decode(&[2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0]).is_err());
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 7, 0, 7, 0]).is_err());
    }
}
