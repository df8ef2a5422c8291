//! Differential cases: lists.
