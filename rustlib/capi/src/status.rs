//! Status codes returned by every fallible function.

use std::ffi::{c_char, CStr};

/// Result of a ferrokit call. `FK_OK` is 0; every other value is an error whose
/// details are available from `fk_last_error_message`. Numbers are stable and
/// never reused; new codes are only ever appended.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkStatus {
    /// Success.
    FK_OK = 0,
    /// A required pointer was NULL (a NULL pointer with length 0 is an empty array, not an error).
    FK_ERR_NULL_POINTER = 1,
    /// Two arguments that must have the same length or shape do not.
    FK_ERR_LENGTH_MISMATCH = 2,
    /// An argument is outside its documented domain.
    FK_ERR_INVALID_ARGUMENT = 3,
    /// The input holds infinity or NaN where the function cannot accept it.
    FK_ERR_NON_FINITE = 4,
    /// An integer result does not fit its type.
    FK_ERR_OVERFLOW = 5,
    /// Memory could not be allocated.
    FK_ERR_ALLOCATION = 6,
    /// An internal error (a Rust panic) was caught; the library stays usable.
    FK_ERR_PANIC = 7,
    /// A pointer is not aligned for its element type.
    FK_ERR_MISALIGNED = 8,
    /// A length times the element size exceeds the address space (PTRDIFF_MAX).
    FK_ERR_TOO_LARGE = 9,
    /// An output buffer partially overlaps an input buffer (exactly the same buffer is allowed where documented).
    FK_ERR_ALIASING = 10,
    /// A file could not be opened, read or written.
    FK_ERR_IO = 11,
    /// Data (a file or buffer) is truncated, corrupted or not in the expected format.
    FK_ERR_INVALID_FORMAT = 12,
    /// A file or object was written by an unsupported format version.
    FK_ERR_UNSUPPORTED_VERSION = 13,
    /// A handle is used in a state that does not allow the call (e.g. searching an empty index).
    FK_ERR_INVALID_STATE = 14,
}

impl FkStatus {
    /// Every status, for tables and tests.
    pub const ALL: [FkStatus; 15] = [
        FkStatus::FK_OK,
        FkStatus::FK_ERR_NULL_POINTER,
        FkStatus::FK_ERR_LENGTH_MISMATCH,
        FkStatus::FK_ERR_INVALID_ARGUMENT,
        FkStatus::FK_ERR_NON_FINITE,
        FkStatus::FK_ERR_OVERFLOW,
        FkStatus::FK_ERR_ALLOCATION,
        FkStatus::FK_ERR_PANIC,
        FkStatus::FK_ERR_MISALIGNED,
        FkStatus::FK_ERR_TOO_LARGE,
        FkStatus::FK_ERR_ALIASING,
        FkStatus::FK_ERR_IO,
        FkStatus::FK_ERR_INVALID_FORMAT,
        FkStatus::FK_ERR_UNSUPPORTED_VERSION,
        FkStatus::FK_ERR_INVALID_STATE,
    ];

    /// The static name of this status, as spelled in the header.
    pub fn name(self) -> &'static CStr {
        match self {
            FkStatus::FK_OK => c"FK_OK",
            FkStatus::FK_ERR_NULL_POINTER => c"FK_ERR_NULL_POINTER",
            FkStatus::FK_ERR_LENGTH_MISMATCH => c"FK_ERR_LENGTH_MISMATCH",
            FkStatus::FK_ERR_INVALID_ARGUMENT => c"FK_ERR_INVALID_ARGUMENT",
            FkStatus::FK_ERR_NON_FINITE => c"FK_ERR_NON_FINITE",
            FkStatus::FK_ERR_OVERFLOW => c"FK_ERR_OVERFLOW",
            FkStatus::FK_ERR_ALLOCATION => c"FK_ERR_ALLOCATION",
            FkStatus::FK_ERR_PANIC => c"FK_ERR_PANIC",
            FkStatus::FK_ERR_MISALIGNED => c"FK_ERR_MISALIGNED",
            FkStatus::FK_ERR_TOO_LARGE => c"FK_ERR_TOO_LARGE",
            FkStatus::FK_ERR_ALIASING => c"FK_ERR_ALIASING",
            FkStatus::FK_ERR_IO => c"FK_ERR_IO",
            FkStatus::FK_ERR_INVALID_FORMAT => c"FK_ERR_INVALID_FORMAT",
            FkStatus::FK_ERR_UNSUPPORTED_VERSION => c"FK_ERR_UNSUPPORTED_VERSION",
            FkStatus::FK_ERR_INVALID_STATE => c"FK_ERR_INVALID_STATE",
        }
    }
}

/// The static name of a status code (`"FK_OK"`, `"FK_ERR_NULL_POINTER"`, …).
/// Accepts any integer: unknown values give `"FK_UNKNOWN_STATUS"`. Never NULL;
/// the string is static and must not be freed.
#[no_mangle]
pub extern "C" fn fk_status_name(status: i32) -> *const c_char {
    crate::boundary::guard_value(c"FK_UNKNOWN_STATUS".as_ptr(), || {
        FkStatus::ALL
            .iter()
            .find(|s| **s as i32 == status)
            .map_or(c"FK_UNKNOWN_STATUS", |s| s.name())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_names_match() {
        for (i, s) in FkStatus::ALL.iter().enumerate() {
            assert_eq!(*s as i32, i as i32);
            // SAFETY: fk_status_name always returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(fk_status_name(*s as i32)) };
            assert_eq!(name, s.name());
            assert!(format!("{s:?}") == name.to_str().unwrap());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(fk_status_name(-3)) };
        assert_eq!(unknown, c"FK_UNKNOWN_STATUS");
    }
}
