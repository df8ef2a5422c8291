//! Which entries a range selects, as a run of consecutive ranks: by rank (ZRANGE),
//! by score (BYSCORE) or lexicographically (BYLEX), forwards or in reverse, with
//! LIMIT's offset and count — Redis's rules, including its odd corners:
//!
//! - a negative LIMIT offset selects nothing, a negative count means "all";
//! - lexicographic ranges assume all members share one score. When they do not,
//!   Redis answers from how it walks its encoding: a listpack is scanned from one
//!   end for the first member inside the range, and the run continues while members
//!   stay on the near side of the far end. Small sets reproduce that scan exactly;
//!   for skiplists Redis's answer depends on its random node levels, so any
//!   consistent answer is as good (binary search, as for uniform scores).

use super::parse::{LexRange, ScoreRange};
use ferrocache_keyspace::ZSet;

/// `len` entries starting at rank `start`, towards higher ranks (`up`) or lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: usize,
    pub up: bool,
    pub len: usize,
}

impl Run {
    pub const EMPTY: Run = Run {
        start: 0,
        up: true,
        len: 0,
    };

    /// The lowest rank of the run (its first entry when going up, its last when
    /// going down).
    pub fn low(&self) -> usize {
        if self.up {
            self.start
        } else {
            self.start + 1 - self.len
        }
    }
}

/// LIMIT offset count (count -1 = no limit).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub offset: i64,
    pub count: i64,
}

impl Limit {
    pub const NONE: Limit = Limit {
        offset: 0,
        count: -1,
    };

    /// At most how many of `available` entries the count lets through.
    fn cap(&self, available: usize) -> usize {
        if self.count < 0 {
            available
        } else {
            available.min(self.count as usize)
        }
    }
}

/// ZRANGE start stop [REV]: indexes from the end when negative, clamped.
pub fn by_rank(len: usize, start: i64, end: i64, rev: bool) -> Run {
    let llen = len as i64;
    let mut s = if start < 0 { start + llen } else { start };
    let mut e = if end < 0 { end + llen } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= llen {
        return Run::EMPTY;
    }
    if e >= llen {
        e = llen - 1;
    }
    let n = (e - s + 1) as usize;
    if rev {
        Run {
            start: len - 1 - s as usize,
            up: false,
            len: n,
        }
    } else {
        Run {
            start: s as usize,
            up: true,
            len: n,
        }
    }
}

/// The run of entries whose score lies in `r` (scores are always ordered, so two
/// binary searches find it in either encoding).
pub fn by_score(z: &ZSet, r: &ScoreRange, rev: bool, limit: Limit) -> Run {
    // Redis checks this before anything else: a positive offset past the set.
    if limit.offset < 0 || (limit.offset > 0 && limit.offset as u64 >= z.len() as u64) {
        return Run::EMPTY;
    }
    if r.is_empty() {
        return Run::EMPTY;
    }
    let below = z.partition_point(|e| !r.gte_min(e.score));
    let upto = z.partition_point(|e| r.lte_max(e.score));
    within(below, upto, rev, limit)
}

/// The entries of the sorted interval `[below, upto)` a LIMIT selects.
fn within(below: usize, upto: usize, rev: bool, limit: Limit) -> Run {
    if below >= upto || limit.offset < 0 {
        return Run::EMPTY;
    }
    let offset = limit.offset as u64;
    let available = (upto - below) as u64;
    if offset >= available {
        return Run::EMPTY;
    }
    let len = limit.cap((available - offset) as usize);
    if len == 0 {
        return Run::EMPTY;
    }
    let offset = offset as usize;
    if rev {
        Run {
            start: upto - 1 - offset,
            up: false,
            len,
        }
    } else {
        Run {
            start: below + offset,
            up: true,
            len,
        }
    }
}

/// The run of entries a lexicographic range selects (see the module comment).
pub fn by_lex(z: &ZSet, r: &LexRange, rev: bool, limit: Limit) -> Run {
    if r.is_empty() || z.is_empty() || limit.offset < 0 {
        return Run::EMPTY;
    }
    if !z.is_listpack() {
        let below = z.partition_point(|e| !r.gte_min(&e.member));
        let upto = z.partition_point(|e| r.lte_max(&e.member));
        return within(below, upto, rev, limit);
    }
    // The listpack scan, step by step as Redis takes it.
    let n = z.len();
    let first = z.get(0).expect("not empty");
    let last = z.get(n - 1).expect("not empty");
    if !r.gte_min(&last.member) || !r.lte_max(&first.member) {
        return Run::EMPTY;
    }
    let offset = usize::try_from(limit.offset).unwrap_or(usize::MAX);
    if !rev {
        let Some(start) = z.iter().position(|e| r.gte_min(&e.member)) else {
            return Run::EMPTY;
        };
        if !r.lte_max(&z.get(start).expect("found").member) || offset >= n - start {
            return Run::EMPTY;
        }
        let from = start + offset;
        let cap = limit.cap(n - from);
        let mut len = 0;
        z.walk(from, true, |e| {
            if len < cap && r.lte_max(&e.member) {
                len += 1;
                true
            } else {
                false
            }
        });
        Run {
            start: from,
            up: true,
            len,
        }
    } else {
        let mut end = None;
        let mut i = n;
        z.walk(n - 1, false, |e| {
            i -= 1;
            if r.lte_max(&e.member) {
                end = Some(i);
                false
            } else {
                true
            }
        });
        let Some(end) = end else {
            return Run::EMPTY;
        };
        if !r.gte_min(&z.get(end).expect("found").member) || offset > end {
            return Run::EMPTY;
        }
        let from = end - offset;
        let cap = limit.cap(from + 1);
        let mut len = 0;
        z.walk(from, false, |e| {
            if len < cap && r.gte_min(&e.member) {
                len += 1;
                true
            } else {
                false
            }
        });
        Run {
            start: from,
            up: false,
            len,
        }
    }
}

/// Calls `f` on each entry of the run, in the run's direction.
pub fn for_each(z: &ZSet, run: Run, mut f: impl FnMut(&[u8], f64)) {
    if run.len == 0 {
        return;
    }
    let mut left = run.len;
    z.walk(run.start, run.up, |e| {
        f(&e.member, e.score);
        left -= 1;
        left > 0
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocache_keyspace::types::zset::Limits;

    fn set(items: &[(f64, &str)]) -> ZSet {
        let mut z = ZSet::default();
        let limits = Limits {
            entries: 128,
            value: 64,
        };
        for (s, m) in items {
            z.insert(m.as_bytes(), *s, limits);
        }
        z
    }

    fn names(z: &ZSet, run: Run) -> String {
        let mut out = String::new();
        for_each(z, run, |m, _| out.push_str(std::str::from_utf8(m).unwrap()));
        out
    }

    #[test]
    fn ranks_like_redis() {
        assert_eq!(by_rank(4, 0, -1, false).len, 4);
        assert_eq!(by_rank(4, -100, 1, false).len, 2);
        assert_eq!(by_rank(4, 2, 1, false), Run::EMPTY);
        assert_eq!(by_rank(4, i64::MIN, i64::MAX, false).len, 4);
        assert_eq!(by_rank(4, 4, 10, false), Run::EMPTY);
        let r = by_rank(4, 0, 0, true);
        assert_eq!((r.start, r.len, r.up), (3, 1, false));
    }

    #[test]
    fn scores_with_limits() {
        let z = set(&[(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")]);
        let r = ScoreRange::parse(b"(1", b"4").unwrap();
        assert_eq!(names(&z, by_score(&z, &r, false, Limit::NONE)), "bcd");
        assert_eq!(names(&z, by_score(&z, &r, true, Limit::NONE)), "dcb");
        let l = Limit {
            offset: 1,
            count: 1,
        };
        assert_eq!(names(&z, by_score(&z, &r, true, l)), "c");
        let neg = Limit {
            offset: -1,
            count: 2,
        };
        assert_eq!(by_score(&z, &r, false, neg), Run::EMPTY);
        let r = ScoreRange::parse(b"3", b"(3").unwrap();
        assert_eq!(by_score(&z, &r, false, Limit::NONE), Run::EMPTY);
    }

    #[test]
    fn lex_on_mixed_scores_scans_like_a_listpack() {
        // Members out of lexicographic order: b(1) z(2) c(3).
        let z = set(&[(1.0, "b"), (2.0, "z"), (3.0, "c")]);
        let r = LexRange::parse(b"[a", b"[d").unwrap();
        assert_eq!(names(&z, by_lex(&z, &r, false, Limit::NONE)), "b");
        let skip2 = Limit {
            offset: 2,
            count: -1,
        };
        assert_eq!(names(&z, by_lex(&z, &r, false, skip2)), "c");
        // Going down, the run continues while members stay ≥ min: z too (as Redis).
        assert_eq!(names(&z, by_lex(&z, &r, true, Limit::NONE)), "czb");
    }
}
