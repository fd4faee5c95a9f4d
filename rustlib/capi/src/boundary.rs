//! The panic boundary every export runs inside.
//!
//! A Rust panic must never unwind into C (undefined behaviour) nor abort the
//! host process. `guard` runs an export's body under `catch_unwind`, records the
//! error message for `fk_last_error_message` and returns a status. No global
//! panic hook is installed: the host's (or Rust's default) hook stays in place.

use crate::last_error;
use crate::status::FkStatus;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error on its way to C: a status and the message stored for the caller.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: FkStatus,
    pub message: String,
}

impl FfiError {
    pub fn new(status: FkStatus, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
        }
    }
}

impl From<ferrokit_core::Error> for FfiError {
    fn from(e: ferrokit_core::Error) -> Self {
        use ferrokit_core::Error as E;
        let status = match &e {
            E::LengthMismatch(_) => FkStatus::FK_ERR_LENGTH_MISMATCH,
            E::InvalidArgument(_) => FkStatus::FK_ERR_INVALID_ARGUMENT,
            E::NonFinite(_) => FkStatus::FK_ERR_NON_FINITE,
            E::Overflow(_) => FkStatus::FK_ERR_OVERFLOW,
            E::Io(_) => FkStatus::FK_ERR_IO,
            E::InvalidFormat(_) => FkStatus::FK_ERR_INVALID_FORMAT,
            E::UnsupportedVersion(_) => FkStatus::FK_ERR_UNSUPPORTED_VERSION,
            E::InvalidState(_) => FkStatus::FK_ERR_INVALID_STATE,
        };
        FfiError::new(status, e.to_string())
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "unknown panic payload"
    };
    format!("internal error (caught Rust panic): {text}")
}

/// Runs a status-returning export body; catches panics as `FK_ERR_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), FfiError>) -> FkStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => FkStatus::FK_OK,
        Ok(Err(e)) => {
            last_error::set(&e.message);
            e.status
        }
        Err(payload) => {
            last_error::set(&panic_message(payload.as_ref()));
            FkStatus::FK_ERR_PANIC
        }
    }
}

/// Runs an export body that returns a plain value; a panic gives `fallback`
/// (and sets the last error message).
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            last_error::set(&panic_message(payload.as_ref()));
            fallback
        }
    }
}
