//! Differential cases: blocking.
