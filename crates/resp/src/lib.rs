//! RESP2/RESP3 wire format: a fast request parser for servers, a general frame
//! decoder for clients and proxies, and reply encoding. Bytes only — no I/O, no tokio.

mod error;
mod frame;
mod request;
mod write;

pub use error::ProtocolError;
pub use frame::{decode, encode, Frame};
pub use request::{parse_request, ParseLimits, Request, Spans};
pub use write::{format_double, Protocol, ReplyBuf};
