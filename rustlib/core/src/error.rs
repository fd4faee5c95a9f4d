//! The one error type of the kernels. The C ABI maps each variant to a status code.

use std::fmt;

/// Why a kernel refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Two inputs that must have the same length (or shape) do not.
    LengthMismatch(String),
    /// An argument is outside its documented domain.
    InvalidArgument(String),
    /// The input holds a value (inf, or NaN where not allowed) the kernel cannot use.
    NonFinite(String),
    /// An integer result does not fit its type.
    Overflow(String),
    /// A file could not be opened, read or written.
    Io(String),
    /// Data is truncated, corrupted or not in the expected format.
    InvalidFormat(String),
    /// Data was written by an unsupported format version.
    UnsupportedVersion(String),
    /// An object is in a state that does not allow the operation (e.g. not fitted, empty).
    InvalidState(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LengthMismatch(m)
            | Error::InvalidArgument(m)
            | Error::NonFinite(m)
            | Error::Overflow(m)
            | Error::Io(m)
            | Error::InvalidFormat(m)
            | Error::UnsupportedVersion(m)
            | Error::InvalidState(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used by every kernel.
pub type Result<T> = std::result::Result<T, Error>;
