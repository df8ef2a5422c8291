//! Command handlers, one file per family. A handler is a function of the context
//! and the arguments: it writes its reply into the context's buffer and changes
//! state through the context; it never touches a socket.

mod aof;
mod args;
mod bits;
mod client;
mod command;
mod connection;
mod dump;
mod float_text;
mod hash;
mod hll;
mod keys;
mod list;
pub mod persist;
mod pubsub;
mod replication;
mod server;
mod set;
mod strings;
mod transactions;
mod zset;

pub use crate::notify::Class;
pub use args::*;

use crate::dispatch::{CmdResult, Ctx};

pub type Handler = fn(&mut Ctx<'_, '_>, &[&[u8]]) -> CmdResult;

/// The handler for a command-table name.
pub fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        // connection
        // replication
        "replicaof" | "slaveof" => replication::replicaof,
        "role" => replication::role,
        "replconf" => replication::replconf,
        "psync" => replication::psync,
        "sync" => replication::sync,
        "wait" => replication::wait,
        "bgrewriteaof" => aof::bgrewriteaof,
        "failover" => replication::failover,
        "ping" => connection::ping,
        "echo" => connection::echo,
        "quit" => connection::quit,
        "select" => connection::select,
        "hello" => connection::hello,
        "auth" => connection::auth,
        "reset" => connection::reset,
        // keyspace
        "del" | "unlink" => keys::del,
        "exists" => keys::exists,
        "type" => keys::type_,
        "rename" => keys::rename,
        "renamenx" => keys::renamenx,
        "keys" => keys::keys,
        "scan" => keys::scan,
        "randomkey" => keys::randomkey,
        "expire" => keys::expire,
        "pexpire" => keys::pexpire,
        "expireat" => keys::expireat,
        "pexpireat" => keys::pexpireat,
        "ttl" => keys::ttl,
        "pttl" => keys::pttl,
        "expiretime" => keys::expiretime,
        "pexpiretime" => keys::pexpiretime,
        "persist" => keys::persist,
        "touch" => keys::touch,
        "copy" => keys::copy,
        "move" => keys::move_,
        "swapdb" => keys::swapdb,
        "dbsize" => keys::dbsize,
        "flushdb" => keys::flushdb,
        "flushall" => keys::flushall,
        // strings
        "get" => strings::get,
        "set" => strings::set,
        "setnx" => strings::setnx,
        "setex" => strings::setex,
        "psetex" => strings::psetex,
        "getset" => strings::getset,
        "getdel" => strings::getdel,
        "getex" => strings::getex,
        "mget" => strings::mget,
        "mset" => strings::mset,
        "msetnx" => strings::msetnx,
        "append" => strings::append,
        "strlen" => strings::strlen,
        "incr" => strings::incr,
        "decr" => strings::decr,
        "incrby" => strings::incrby,
        "decrby" => strings::decrby,
        "incrbyfloat" => strings::incrbyfloat,
        "getrange" | "substr" => strings::getrange,
        "setrange" => strings::setrange,
        "setbit" => bits::setbit,
        "getbit" => bits::getbit,
        "bitcount" => bits::bitcount,
        "bitpos" => bits::bitpos,
        // pub/sub
        "subscribe" => pubsub::subscribe,
        "unsubscribe" => pubsub::unsubscribe,
        "psubscribe" => pubsub::psubscribe,
        "punsubscribe" => pubsub::punsubscribe,
        "publish" => pubsub::publish,
        "pubsub" => pubsub::pubsub,
        // transactions
        "multi" => transactions::multi,
        "exec" => transactions::exec,
        "discard" => transactions::discard,
        "watch" => transactions::watch,
        "unwatch" => transactions::unwatch,
        // server
        "client" => client::client,
        "info" => server::info,
        "config" => server::config,
        "time" => server::time,
        "command" => command::command,
        "shutdown" => server::shutdown,
        "debug" => server::debug,
        "memory" => server::memory,
        "object" => server::object,
        // persistence
        "save" => persist::save,
        "bgsave" => persist::bgsave,
        "lastsave" => persist::lastsave,
        "dump" => dump::dump,
        "restore" => dump::restore,
        // the aggregate types and HyperLogLog: each family names its own commands
        _ => {
            return list::handler(name)
                .or_else(|| hash::handler(name))
                .or_else(|| set::handler(name))
                .or_else(|| zset::handler(name))
                .or_else(|| hll::handler(name))
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_table_command_has_a_handler() {
        for c in ferrocache_commands::COMMANDS {
            assert!(
                super::handler(c.name).is_some(),
                "no handler for {}",
                c.name
            );
        }
    }
}
