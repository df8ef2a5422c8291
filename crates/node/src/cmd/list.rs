//! Lists.

#[allow(unused_imports)]
use super::*;

/// The handler for one of this family's command-table names.
pub fn handler(name: &str) -> Option<Handler> {
    let _ = name;
    None
}
