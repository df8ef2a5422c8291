//! The one error type of this crate: what went wrong, and where in the input.

use thiserror::Error;

/// Why a file or payload could not be read or written.
///
/// Reading errors carry the byte offset (from the start of the file or payload) at
/// which the problem was found, so a corrupt file can be inspected with a hex dump.
#[derive(Debug, Error)]
pub enum RdbError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    #[error("not an RDB file: the first 9 bytes are not \"REDIS\" and a 4-digit version")]
    BadMagic,

    #[error("unsupported RDB version {0} (readable: 1 to {max})", max = crate::MAX_READ_VERSION)]
    UnsupportedVersion(u32),

    /// The input ended in the middle of something.
    #[error("truncated input at offset {offset}: expected {expected}")]
    Truncated { offset: u64, expected: &'static str },

    /// The bytes are there but make no sense.
    #[error("corrupt input at offset {offset}: {what}")]
    Corrupt { offset: u64, what: String },

    /// A well-formed record of a kind this crate refuses (streams, modules, …).
    #[error("unsupported {what} at offset {offset}")]
    Unsupported { offset: u64, what: String },

    #[error(
        "checksum mismatch: the file says {expected:#018x}, its contents hash to {actual:#018x}"
    )]
    Checksum { expected: u64, actual: u64 },

    /// A DUMP payload whose footer (version or CRC) is wrong; the text is Redis's.
    #[error("ERR DUMP payload version or checksum are wrong")]
    PayloadFooter,

    /// A value the writer cannot put into a file Redis would load.
    #[error("cannot write value: {0}")]
    InvalidValue(String),
}

impl RdbError {
    /// The error text Redis's RESTORE replies with for this error: the footer check
    /// has its own text, any other problem with the payload is "Bad data format".
    pub fn restore_error_text(&self) -> &'static str {
        match self {
            RdbError::PayloadFooter => "ERR DUMP payload version or checksum are wrong",
            _ => "ERR Bad data format",
        }
    }

    pub(crate) fn corrupt(offset: u64, what: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset,
            what: what.into(),
        }
    }
}

pub type Result<T, E = RdbError> = std::result::Result<T, E>;
