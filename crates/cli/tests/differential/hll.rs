//! Differential cases: hll.
