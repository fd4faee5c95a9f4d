//! The three seed functions: add_numbers, dot, normalize.
//!
//! Exports are spelled out per dtype (cbindgen does not expand macros); each is
//! a one-line call of a generic body below.

use crate::boundary::{guard, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, overlap, Arg, Overlap};
use crate::status::FkStatus;
use ferrokit_core::normalize::{normalize_inplace, normalize_into, NormalizeElement};
use ferrokit_core::{dot, scalar};

/// Adds two 32-bit signed integers into `*out`.
/// Returns `FK_ERR_OVERFLOW` (and leaves `*out` untouched) if the sum does not
/// fit: it never wraps.
///
/// # Safety
/// `out` must be NULL (an error) or point to a writable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_add_numbers(a: i32, b: i32, out: *mut i32) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { out_ref(out, Arg("fk_add_numbers", "out")) }?;
        *out = scalar::add_numbers(a, b)?;
        Ok(())
    })
}

/// Shared body of the dot exports.
///
/// # Safety
/// As the exports: `x`/`y` valid for `nx`/`ny` reads, `out` writable.
unsafe fn dot_body<T>(
    name: &'static str,
    x: *const T,
    nx: usize,
    y: *const T,
    ny: usize,
    out: *mut f64,
    kernel: fn(&[T], &[T]) -> ferrokit_core::Result<f64>,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let (x, y, out) = unsafe {
            (
                in_slice(x, nx, Arg(name, "x"))?,
                in_slice(y, ny, Arg(name, "y"))?,
                out_ref(out, Arg(name, "out"))?,
            )
        };
        *out = kernel(x, y)?;
        Ok(())
    })
}

/// Dot product of two float64 vectors into `*out`.
///
/// Both lengths are passed so the check happens here: different lengths give
/// `FK_ERR_LENGTH_MISMATCH` ("Vectors must be of the same length"). Empty
/// vectors give 0.0. The result is bit-identical for any thread count.
///
/// # Safety
/// `x` / `y` must point to `nx` / `ny` readable elements (or be NULL with
/// length 0); `out` must point to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn fk_dot_f64(
    x: *const f64,
    nx: usize,
    y: *const f64,
    ny: usize,
    out: *mut f64,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { dot_body("fk_dot_f64", x, nx, y, ny, out, dot::dot_f64) }
}

/// Dot product of two float32 vectors into `*out`, a double: products and sums
/// are formed in float64 (the product of two floats is exact there), so the
/// input is never up-cast as a whole yet no precision is lost to float32 sums.
/// Same rules as `fk_dot_f64`.
///
/// # Safety
/// As `fk_dot_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_dot_f32(
    x: *const f32,
    nx: usize,
    y: *const f32,
    ny: usize,
    out: *mut f64,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { dot_body("fk_dot_f32", x, nx, y, ny, out, dot::dot_f32) }
}

/// Shared body of the normalize exports.
///
/// # Safety
/// As the exports.
unsafe fn normalize_body<T: NormalizeElement>(
    name: &'static str,
    x: *const T,
    n: usize,
    out: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        if n != n_out {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{name}: out has {n_out} elements, expected {n} like x"),
            ));
        }
        match overlap(x, n, out.cast_const(), n_out) {
            Overlap::Same => {
                // SAFETY: x and out are one buffer of n writable elements
                // (contract); only this one mutable view of it exists.
                let xs = unsafe { out_slice(out, n, Arg(name, "out"))? };
                normalize_inplace(xs)?;
            }
            Overlap::Disjoint => {
                // SAFETY: contract; the buffers do not overlap, so a shared and a
                // mutable view can coexist.
                let (xs, os) = unsafe {
                    (
                        in_slice(x, n, Arg(name, "x"))?,
                        out_slice(out, n_out, Arg(name, "out"))?,
                    )
                };
                normalize_into(xs, os)?;
            }
            Overlap::Partial => {
                return Err(FfiError::new(
                    FkStatus::FK_ERR_ALIASING,
                    format!("{name}: out partially overlaps x (pass the same buffer for in-place)"),
                ));
            }
        }
        Ok(())
    })
}

/// Min-max scales all `n` float64 values of `x` to [0, 1] into `out` (`n_out`
/// elements, must equal `n`). NaNs are ignored for the range and stay NaN; if
/// max - min is below DBL_EPSILON every finite value becomes 0; all-NaN stays
/// NaN; infinity gives `FK_ERR_NON_FINITE`. `out == x` (the same buffer)
/// normalizes in place; a partial overlap gives `FK_ERR_ALIASING`. On any error
/// `out` is not modified.
///
/// # Safety
/// `x` must point to `n` readable and `out` to `n_out` writable elements (or be
/// NULL with length 0); no other thread may write them during the call.
#[no_mangle]
pub unsafe extern "C" fn fk_normalize_f64(
    x: *const f64,
    n: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { normalize_body("fk_normalize_f64", x, n, out, n_out) }
}

/// Float32 version of `fk_normalize_f64` (epsilon is FLT_EPSILON).
///
/// # Safety
/// As `fk_normalize_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_normalize_f32(
    x: *const f32,
    n: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { normalize_body("fk_normalize_f32", x, n, out, n_out) }
}
