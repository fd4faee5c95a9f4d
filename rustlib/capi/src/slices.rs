//! The one place where raw pointers from C become Rust references.
//!
//! Rules: `(NULL, 0)` and `(any, 0)` are an empty slice; NULL with `n > 0` is
//! `FK_ERR_NULL_POINTER`; a misaligned pointer is `FK_ERR_MISALIGNED`;
//! `n * size_of::<T>() > isize::MAX` is `FK_ERR_TOO_LARGE`.

use crate::boundary::FfiError;
use crate::status::FkStatus;
use std::fmt;

/// Names an argument for error messages ("fk_dot_f64: x") without formatting
/// anything on the success path.
#[derive(Clone, Copy)]
pub(crate) struct Arg(pub &'static str, pub &'static str);

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

fn check<T>(ptr: *const T, n: usize, arg: Arg) -> Result<bool, FfiError> {
    if n == 0 {
        return Ok(false);
    }
    if ptr.is_null() {
        return Err(FfiError::new(
            FkStatus::FK_ERR_NULL_POINTER,
            format!("{arg} is NULL but its length is {n}"),
        ));
    }
    if !(ptr as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return Err(FfiError::new(
            FkStatus::FK_ERR_MISALIGNED,
            format!(
                "{arg} is not aligned to {} bytes for its element type",
                std::mem::align_of::<T>()
            ),
        ));
    }
    if n.checked_mul(std::mem::size_of::<T>())
        .is_none_or(|bytes| bytes > isize::MAX as usize)
    {
        return Err(FfiError::new(
            FkStatus::FK_ERR_TOO_LARGE,
            format!("{arg} has length {n}, larger than the address space allows"),
        ));
    }
    Ok(true)
}

/// Borrows `n` elements at `ptr` as an input slice.
///
/// # Safety
/// If `n > 0` and `ptr` is non-NULL, `ptr` must point to `n` initialized
/// elements that stay valid and unmodified for `'a`.
pub(crate) unsafe fn in_slice<'a, T>(
    ptr: *const T,
    n: usize,
    arg: Arg,
) -> Result<&'a [T], FfiError> {
    if !check(ptr, n, arg)? {
        return Ok(&[]);
    }
    // SAFETY: ptr is non-null and aligned, n * size fits isize (checked above);
    // the caller guarantees n valid elements for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// Borrows `n` elements at `ptr` as an output slice.
///
/// # Safety
/// If `n > 0` and `ptr` is non-NULL, `ptr` must point to `n` writable elements
/// that nothing else accesses for `'a`.
pub(crate) unsafe fn out_slice<'a, T>(
    ptr: *mut T,
    n: usize,
    arg: Arg,
) -> Result<&'a mut [T], FfiError> {
    if !check(ptr, n, arg)? {
        return Ok(&mut []);
    }
    // SAFETY: as in_slice; the caller guarantees exclusive access for 'a.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
}

/// Borrows a single output value (a trailing out-pointer).
///
/// # Safety
/// `ptr` must be NULL or point to a writable `T` nothing else accesses for `'a`.
pub(crate) unsafe fn out_ref<'a, T>(ptr: *mut T, arg: Arg) -> Result<&'a mut T, FfiError> {
    // SAFETY: forwarded contract; n = 1 makes NULL an error.
    let s = unsafe { out_slice(ptr, 1, arg)? };
    Ok(&mut s[0])
}

/// How an output buffer relates to an input buffer of the same element type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// No byte in common.
    Disjoint,
    /// The very same buffer (same start, same length): an in-place call.
    Same,
    /// Partial overlap: no kernel supports that.
    Partial,
}

/// Compares the address ranges `[a, a+n)` and `[b, b+m)` (element counts).
pub(crate) fn overlap<T>(a: *const T, n: usize, b: *const T, m: usize) -> Overlap {
    let size = std::mem::size_of::<T>();
    let (a0, b0) = (a as usize, b as usize);
    let a1 = a0.saturating_add(n.saturating_mul(size));
    let b1 = b0.saturating_add(m.saturating_mul(size));
    if n == 0 || m == 0 || a1 <= b0 || b1 <= a0 {
        Overlap::Disjoint
    } else if a0 == b0 && n == m {
        Overlap::Same
    } else {
        Overlap::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Arg = Arg("test", "x");

    #[test]
    fn null_empty_misaligned_too_large() {
        // SAFETY: the helpers only dereference after their checks pass; here they must fail
        // or return empty slices.
        unsafe {
            assert!(in_slice::<f64>(std::ptr::null(), 0, X).unwrap().is_empty());
            assert_eq!(
                in_slice::<f64>(std::ptr::null(), 3, X).unwrap_err().status,
                FkStatus::FK_ERR_NULL_POINTER
            );
            let buf = [0u64; 4];
            let odd = (buf.as_ptr() as *const u8).add(1) as *const f64;
            assert_eq!(
                in_slice(odd, 2, X).unwrap_err().status,
                FkStatus::FK_ERR_MISALIGNED
            );
            assert_eq!(
                in_slice(buf.as_ptr() as *const f64, usize::MAX / 4, X)
                    .unwrap_err()
                    .status,
                FkStatus::FK_ERR_TOO_LARGE
            );
        }
    }

    #[test]
    fn overlap_cases() {
        let v = [0.0f64; 10];
        let p = v.as_ptr();
        // SAFETY: pointer arithmetic within the array.
        let q = unsafe { p.add(5) };
        assert_eq!(overlap(p, 5, q, 5), Overlap::Disjoint);
        assert_eq!(overlap(p, 10, p, 10), Overlap::Same);
        assert_eq!(overlap(p, 6, q, 5), Overlap::Partial);
        assert_eq!(overlap(p, 0, p, 10), Overlap::Disjoint);
    }
}
