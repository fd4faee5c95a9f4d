//! Library information and thread control.

use crate::boundary::{guard, guard_value, FfiError};
use crate::status::FkStatus;
use ferrokit_core::{pool, simd};
use std::ffi::{c_char, CStr};

/// Largest thread count `fk_set_num_threads` accepts; `FERROKIT_NUM_THREADS`
/// and `OMP_NUM_THREADS` above it are clamped to it.
pub const FK_MAX_THREADS: usize = 1024;
const _: () = assert!(FK_MAX_THREADS == ferrokit_core::threads_env::MAX_THREADS);

/// The ABI version of the loaded library; compare with `FK_ABI_VERSION` from the
/// header you compiled against.
#[no_mangle]
pub extern "C" fn fk_abi_version() -> u32 {
    guard_value(0, || crate::FK_ABI_VERSION)
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("version contains NUL"),
    };

/// The library version ("0.1.0"); a static string, never NULL, not to be freed.
#[no_mangle]
pub extern "C" fn fk_version() -> *const c_char {
    guard_value(c"unknown".as_ptr(), || VERSION.as_ptr())
}

/// The SIMD instruction set the kernels dispatch to on this CPU ("avx512",
/// "avx2" or "sse2"); a static string.
#[no_mangle]
pub extern "C" fn fk_simd_level() -> *const c_char {
    guard_value(c"unknown".as_ptr(), || match simd::level() {
        simd::Level::Avx512 => c"avx512".as_ptr(),
        simd::Level::Avx2 => c"avx2".as_ptr(),
        simd::Level::Baseline => c"sse2".as_ptr(),
    })
}

/// The number of threads kernels use: the value set by `fk_set_num_threads`,
/// else `FERROKIT_NUM_THREADS`, else `OMP_NUM_THREADS`, else the usable CPUs.
/// The two variables are read once, when the library first needs them (its
/// first parallel call or thread-count query): changing them later in the
/// running process has no effect; use `fk_set_num_threads`.
/// An environment value must be a positive integer: one above `FK_MAX_THREADS`
/// is clamped to it, any other (`0`, `-1`, `abc`, `1.5`) is ignored and the
/// next source used; `fk_num_threads_warning` describes what happened.
#[no_mangle]
pub extern "C" fn fk_get_num_threads() -> usize {
    guard_value(1, pool::num_threads)
}

/// The value last given to `fk_set_num_threads` (0: none, so the default of
/// `fk_get_num_threads` applies). Save it to restore a setting exactly.
#[no_mangle]
pub extern "C" fn fk_requested_num_threads() -> usize {
    guard_value(0, pool::requested_num_threads)
}

/// Sets the number of threads kernels use from the next call on; 0 restores the
/// default. Values above `FK_MAX_THREADS` give `FK_ERR_INVALID_ARGUMENT`.
/// Thread-safe; calls already running finish with the old pool.
#[no_mangle]
pub extern "C" fn fk_set_num_threads(n: usize) -> FkStatus {
    guard(|| {
        if n > FK_MAX_THREADS {
            return Err(FfiError::new(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!("fk_set_num_threads: n is {n}, expected 0..={FK_MAX_THREADS}"),
            ));
        }
        pool::set_num_threads(n);
        Ok(())
    })
}

/// Describes how `FERROKIT_NUM_THREADS` / `OMP_NUM_THREADS` were not taken as
/// given (clamped to `FK_MAX_THREADS`, or ignored as not a positive integer)
/// and what is used instead; an empty string when they were (or are unset).
/// Describes the values read once at first use, like `fk_get_num_threads`.
/// Copied into `buf` snprintf-style like `fk_last_error_message`; returns the
/// message length (0: nothing to report). Bindings show it to users once.
///
/// # Safety
/// `buf` must be NULL or point to at least `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fk_num_threads_warning(buf: *mut c_char, cap: usize) -> usize {
    guard_value(0, || {
        let msg = pool::env_threads().warning.as_deref().unwrap_or("");
        // SAFETY: forwarded from this function's contract.
        unsafe { crate::last_error::copy_to_c(msg.as_bytes(), buf, cap, "fk_num_threads_warning") }
    })
}
