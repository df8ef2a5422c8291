//! The framing errors a peer can cause, worded as Redis words them.

/// A malformed frame. The `Display` text is exactly what Redis puts after
/// `-ERR ` before it closes the connection, because clients and tests match on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: expected '$', got '{0}'")]
    ExpectedBulk(char),
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A reply frame (client side) that does not follow RESP.
    #[error("Protocol error: {0}")]
    Invalid(&'static str),
}
