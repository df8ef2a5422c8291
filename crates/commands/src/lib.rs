//! The declarative command table: every command the node serves, with its arity,
//! flags, key positions and documentation. The node's dispatch, COMMAND INFO/DOCS,
//! the gateway's routing and the client's key extraction all read this one table.

mod flags;
mod keys;
mod table;

pub use flags::*;
pub use keys::key_indexes;
pub use table::COMMANDS;

/// One command (or subcommand) as Redis 7 describes it in `COMMAND INFO`/`COMMAND DOCS`.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name; for a subcommand, the subcommand alone (`"getname"`).
    pub name: &'static str,
    /// Redis convention: N = exactly N arguments including the name, -N = at least N.
    pub arity: i32,
    /// Bitwise OR of the `flags` constants.
    pub flags: u32,
    /// Key positions (1-based; 0 = no keys; last -1 = up to the end).
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories without the '@' (e.g. `"write"`, `"string"`, `"fast"`).
    pub acl: &'static [&'static str],
    /// COMMAND DOCS: group (e.g. `"string"`), summary, since, complexity.
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub const fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
    /// Whether `argc` (including the command name) satisfies the arity.
    pub const fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }
    /// Looks up a subcommand case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Looks up a top-level command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    table::index().get(&Lower::new(name)?).map(|&i| &COMMANDS[i])
}

/// A command name lower-cased into a fixed buffer (no command name is longer).
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Lower {
    len: u8,
    buf: [u8; 32],
}

impl Lower {
    pub(crate) fn new(name: &[u8]) -> Option<Self> {
        if name.len() > 32 {
            return None;
        }
        let mut buf = [0u8; 32];
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        Some(Lower { len: name.len() as u8, buf })
    }
}

impl std::fmt::Debug for Lower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&self.buf[..self.len as usize]))
    }
}
