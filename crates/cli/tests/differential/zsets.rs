//! Differential cases: zsets.
