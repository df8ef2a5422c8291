//! HyperLogLog in Redis's own representation (the "HYLL" string, sparse and dense).
