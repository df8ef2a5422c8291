//! Differential cases: sets.
