//! Connection handoff between the gateway and a `ferrocache node` on the same machine.
//!
//! Proxying every request costs the endpoint as much work as the node does, which a
//! small machine cannot afford. So once a client connection is idle and in a plain
//! state, the gateway passes its socket (SCM_RIGHTS over a Unix socket) to the node
//! that is its current target, with the state it has (database, protocol, name,
//! unread input). The node serves it from then on at full speed. Before a switch, the
//! gateway asks for the connections back (`Release`); the node returns each at a
//! command boundary with its state, and the gateway moves it like any proxied one.
//!
//! Endpoint connections may only run on a node that holds a fresh *lease* (`Lease`):
//! a primary that was frozen and failed over must not serve them when it wakes up.
//!
//! Wire format on the Unix stream: `[u32 LE header length][u32 LE payload length]
//! [JSON header][payload bytes]`; a message that carries a socket has it attached as
//! ancillary data to its first byte. Sockets arrive in order with their bytes, so the
//! reader pairs each `has_fd` message with the next received descriptor.

mod clock;
mod wire;

pub use clock::monotonic_ms;
pub use wire::{Link, LinkReader, LinkWriter, Received};

use serde::{Deserialize, Serialize};

/// The state of a connection that moves with its socket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnState {
    pub db: i64,
    pub resp3: bool,
    pub name: Option<Vec<u8>>,
    /// Channels and patterns subscribed to (a node returns them; the gateway hands
    /// off only connections without any).
    #[serde(default)]
    pub channels: Vec<Vec<u8>>,
    #[serde(default)]
    pub patterns: Vec<Vec<u8>>,
    /// A WATCH was active: it cannot move, so the next EXEC must fail.
    #[serde(default)]
    pub watching: bool,
}

/// Which of the gateway's routes the connection follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The endpoint: served only under a valid lease.
    Endpoint,
    /// The node's own direct port.
    Direct,
}

/// Gateway → node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ToNode {
    /// Serve this socket (attached) from now on; the payload is input the gateway
    /// read and did not forward.
    Adopt {
        id: u64,
        via: Via,
        state: ConnState,
        /// Passwords `AUTH` accepts on this connection (the cache's access keys).
        keys: Vec<String>,
        /// Close the connection after this long without input (0: never).
        idle_timeout_ms: u64,
    },
    /// Endpoint connections may run until this `monotonic_ms` time.
    Lease { until_ms: u64 },
    /// Give every adopted connection back (of `via`, or all), each at a command
    /// boundary.
    Release { via: Option<Via> },
}

/// Node → gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ToGateway {
    /// The connection `id` is back (socket attached; payload: unread input).
    Released { id: u64, via: Via, state: ConnState },
    /// The connection `id` ended on the node (or could not be adopted).
    Closed { id: u64 },
    /// The node is shutting down: it gives everything back and adopts nothing more.
    Draining,
}
