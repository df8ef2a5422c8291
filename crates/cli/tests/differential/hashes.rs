//! Differential cases: hashes.
