//! The C ABI of ferrokit.
//!
//! Every `extern "C"` function of the library lives in this crate and nowhere
//! else. Conventions (see `DESIGN.md`):
//! - every fallible function returns [`FkStatus`] (`fk_status` in C); results go
//!   only to trailing out-pointers and are written only on success;
//! - each body runs inside [`boundary::guard`] / [`boundary::guard_value`], which
//!   catch panics, so none ever crosses into C or Python;
//! - raw pointers become slices only in [`slices`].

#![deny(unsafe_op_in_unsafe_fn)]

mod boundary;
mod fork;
mod last_error;
pub mod model;
mod neighbors;
mod neighbors_lp;
pub mod nn;
mod runtime;
mod seed;
mod slices;
mod stats;
mod status;
#[cfg(feature = "testing")]
mod testing;
mod text;

pub use status::FkStatus;

/// Version of the C ABI. Bumped on any incompatible change to an existing
/// function, type or status number; the header carries the same value.
pub const FK_ABI_VERSION: u32 = 5;
