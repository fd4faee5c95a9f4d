//! The per-thread message of the last error.

use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `msg` as the calling thread's last error message.
pub(crate) fn set(msg: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(msg);
    });
}

/// Copies the calling thread's last error message into `buf` (capacity `cap`
/// bytes, including the terminating NUL), snprintf-style: the copy is truncated
/// to fit and always NUL-terminated when `cap > 0`. Returns the message length
/// in bytes (excluding the NUL), so a return value `>= cap` means it was
/// truncated. `buf` may be NULL when `cap` is 0, to query the length.
/// The message is not cleared by successful calls; it describes the last error.
///
/// # Safety
/// `buf` must be NULL or point to at least `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fk_last_error_message(buf: *mut c_char, cap: usize) -> usize {
    crate::boundary::guard_value(0, || {
        LAST_ERROR.with(|m| {
            // SAFETY: forwarded from this function's contract.
            unsafe { copy_to_c(m.borrow().as_bytes(), buf, cap, "fk_last_error_message") }
        })
    })
}

/// Copies `bytes` into `buf` (capacity `cap` bytes, including the terminating
/// NUL) snprintf-style, as `fk_last_error_message` documents; returns
/// `bytes.len()`. `func` names the export for the (unreachable) error path.
///
/// # Safety
/// `buf` must be NULL or point to at least `cap` writable bytes.
pub(crate) unsafe fn copy_to_c(
    bytes: &[u8],
    buf: *mut c_char,
    cap: usize,
    func: &'static str,
) -> usize {
    // SAFETY: the caller guarantees buf is NULL or has cap writable bytes.
    let out =
        unsafe { crate::slices::out_slice(buf.cast::<u8>(), cap, crate::slices::Arg(func, "buf")) };
    if let Ok(out) = out {
        if let Some((last, body)) = out.split_last_mut() {
            let k = bytes.len().min(body.len());
            body[..k].copy_from_slice(&bytes[..k]);
            if k < body.len() {
                body[k] = 0;
            } else {
                *last = 0;
            }
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(cap: usize) -> (usize, Vec<u8>) {
        let mut buf = vec![0x7fu8; cap];
        // SAFETY: buf has cap writable bytes.
        let n = unsafe { fk_last_error_message(buf.as_mut_ptr().cast(), cap) };
        (n, buf)
    }

    #[test]
    fn copies_truncates_and_terminates() {
        set("hello world");
        let (n, buf) = read(64);
        assert_eq!(n, 11);
        assert_eq!(&buf[..12], b"hello world\0");
        let (n, buf) = read(6);
        assert_eq!(n, 11);
        assert_eq!(&buf, b"hello\0");
        let (n, _) = read(0);
        assert_eq!(n, 11);
        // SAFETY: NULL with cap 0 is the documented length query.
        assert_eq!(
            unsafe { fk_last_error_message(std::ptr::null_mut(), 0) },
            11
        );
    }

    #[test]
    fn is_per_thread() {
        set("main thread");
        std::thread::spawn(|| set("other thread")).join().unwrap();
        let (n, _) = read(64);
        assert_eq!(n, "main thread".len());
    }
}
