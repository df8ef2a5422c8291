//! The SCAN-family cursor over a table addressed by position (an IndexMap's
//! slots). The cursor counts down from the top: a removal moves the last entry
//! into the hole, and that entry was already visited, so nothing present for the
//! whole scan is ever missed. The cursor is the number of slots still to visit.

/// One step: visits about `count` slots below `cursor` (0 starts at the top) and
/// returns the next cursor, 0 when done.
pub fn scan_positions(len: usize, cursor: u64, count: usize, mut visit: impl FnMut(usize)) -> u64 {
    let len = len as u64;
    let mut next = if cursor == 0 || cursor > len {
        len
    } else {
        cursor
    };
    let mut seen = 0;
    while next > 0 && seen < count.max(1) {
        next -= 1;
        visit(next as usize);
        seen += 1;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_to_zero() {
        let mut seen = Vec::new();
        let next = scan_positions(5, 0, 2, |i| seen.push(i));
        assert_eq!((next, seen.clone()), (3, vec![4, 3]));
        let next = scan_positions(5, next, 10, |i| seen.push(i));
        assert_eq!((next, seen), (0, vec![4, 3, 2, 1, 0]));
    }
}
