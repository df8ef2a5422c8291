//! Differential cases: notifications.
