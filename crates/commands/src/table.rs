//! The table itself. Entries are grouped as Redis groups them in COMMAND DOCS.

use crate::flags::*;
use crate::{CommandSpec, Lower};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Shorthand for a table entry without subcommands.
macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr,
     [$($acl:literal),*], $group:literal, $since:literal, $complexity:literal, $summary:literal) => {
        CommandSpec {
            name: $name, arity: $arity, flags: $flags,
            first_key: $first, last_key: $last, step: $step,
            acl: &[$($acl),*], group: $group, summary: $summary, since: $since,
            complexity: $complexity, subcommands: &[],
        }
    };
}

pub static COMMANDS: &[CommandSpec] = &[
    cmd!("get", 2, READONLY | FAST, 1, 1, 1, ["read", "string", "fast"], "string", "1.0.0", "O(1)",
         "Returns the string value of a key."),
    cmd!("set", -3, WRITE | DENYOOM, 1, 1, 1, ["write", "string", "slow"], "string", "1.0.0", "O(1)",
         "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    cmd!("ping", -1, FAST, 0, 0, 0, ["fast", "connection"], "connection", "1.0.0", "O(1)",
         "Returns the server's liveliness response."),
];

pub(crate) fn index() -> &'static HashMap<Lower, usize> {
    static INDEX: OnceLock<HashMap<Lower, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        COMMANDS
            .iter()
            .enumerate()
            .map(|(i, c)| (Lower::new(c.name.as_bytes()).expect("short name"), i))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_unique_and_found() {
        for c in COMMANDS {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(std::ptr::eq(crate::lookup(c.name.to_uppercase().as_bytes()).unwrap(), c));
        }
        assert_eq!(index().len(), COMMANDS.len());
    }
}
