//! The declarative command table: every command the node serves, with its arity,
//! flags, key positions and documentation. The node's dispatch, COMMAND INFO/DOCS,
//! the gateway's routing and the client's key extraction all read this one table.

mod flags;
mod keys;
mod table;

pub use flags::*;
pub use keys::{key_indexes, ks, BeginSearch, FindKeys, KeySpec};
pub use table::COMMANDS;

/// One command (or subcommand) as Redis 7 describes it in `COMMAND INFO`/`COMMAND DOCS`.
/// Argument descriptions (the `arguments` of `COMMAND DOCS`) are not carried.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; for a subcommand, the subcommand alone (`"getname"`).
    pub name: &'static str,
    /// Redis convention: N = exactly N arguments including the name, -N = at least N.
    pub arity: i32,
    /// Bitwise OR of the `flags` constants.
    pub flags: u32,
    /// Legacy key positions, as `COMMAND INFO` reports them (1-based; 0 = no keys;
    /// last -1 = up to the end). `key_specs` is the full description.
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
    /// COMMAND INFO: tips for clients and proxies (e.g. `"nondeterministic_output"`,
    /// `"request_policy:all_shards"`).
    pub tips: &'static [&'static str],
    /// COMMAND INFO: the Redis 7 key specs, in Redis's order.
    pub key_specs: &'static [KeySpec],
    /// COMMAND DOCS: `(version, change)` entries, oldest first.
    pub history: &'static [(&'static str, &'static str)],
    /// COMMAND DOCS: documentation flags (`"deprecated"`, `"syscmd"`).
    pub doc_flags: &'static [&'static str],
    /// COMMAND DOCS: empty unless the command is deprecated.
    pub deprecated_since: &'static str,
    pub replaced_by: &'static str,
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
    /// Whether this command has subcommands (`CLIENT`, `CONFIG` ...).
    pub const fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }
    /// Looks up a subcommand case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Looks up a top-level command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    table::name_index()
        .get(&Lower::new(name)?)
        .and_then(|&i| COMMANDS.get(i))
}

/// Looks up the command a request names: for a container (`CLIENT`, `CONFIG` ...)
/// given a second argument, the subcommand it names. `Err(container)` when the
/// container has no such subcommand; `Ok(container)` when there is no second argument
/// (its arity check then fails, as in Redis). `None` for an unknown command.
pub fn lookup_request(
    args: &[&[u8]],
) -> Option<Result<&'static CommandSpec, &'static CommandSpec>> {
    let cmd = lookup(args.first()?)?;
    match args.get(1) {
        Some(sub) if cmd.is_container() => Some(cmd.subcommand(sub).ok_or(cmd)),
        _ => Some(Ok(cmd)),
    }
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
        Some(Lower {
            len: name.len() as u8,
            buf,
        })
    }
}

impl std::fmt::Debug for Lower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            String::from_utf8_lossy(&self.buf[..self.len as usize])
        )
    }
}
