//! Fuzzes every seed C entry point through its C signature: arbitrary bytes
//! become lengths, pointers (valid, NULL, misaligned, overlapping) and values.
//! Contract checked: no crash, no out-of-bounds access (ASan), every return is
//! a known status, outputs are written only on success, and the error message
//! API is always usable.
#![no_main]

// Links the library; its C symbols are then called through the declarations below.
extern crate ferrokit;

use libfuzzer_sys::fuzz_target;
use std::ffi::c_char;

extern "C" {
    fn fk_add_numbers(a: i32, b: i32, out: *mut i32) -> i32;
    fn fk_dot_f64(x: *const f64, nx: usize, y: *const f64, ny: usize, out: *mut f64) -> i32;
    fn fk_dot_f32(x: *const f32, nx: usize, y: *const f32, ny: usize, out: *mut f64) -> i32;
    fn fk_normalize_f64(x: *const f64, n: usize, out: *mut f64, n_out: usize) -> i32;
    fn fk_normalize_f32(x: *const f32, n: usize, out: *mut f32, n_out: usize) -> i32;
    fn fk_last_error_message(buf: *mut c_char, cap: usize) -> usize;
    fn fk_status_name(status: i32) -> *const c_char;
    fn fk_set_num_threads(n: usize) -> i32;
}

/// Reads little pieces of the input in order; zero when exhausted.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn f64(&mut self) -> f64 {
        let lo = self.u32() as u64;
        let hi = self.u32() as u64;
        f64::from_bits(lo | (hi << 32))
    }
}

const KNOWN_STATUSES: i32 = 15;

fn check_status(st: i32) {
    assert!((0..KNOWN_STATUSES).contains(&st), "unknown status {st}");
    // SAFETY: fk_status_name returns a static NUL-terminated string for any input.
    let name = unsafe { std::ffi::CStr::from_ptr(fk_status_name(st)) };
    assert!(name.to_bytes().starts_with(b"FK_"));
    if st != 0 {
        let mut buf = [0 as c_char; 32];
        // SAFETY: buf has 32 writable bytes.
        let n = unsafe { fk_last_error_message(buf.as_mut_ptr(), buf.len()) };
        assert!(n > 0, "error without message");
        assert_eq!(buf[n.min(31)], 0, "not NUL-terminated");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let op = b.u8();
    let n = (b.u8() as usize) * 37 + b.u8() as usize; // up to ~9.7k: crosses block sizes
    let values: Vec<f64> = (0..n).map(|_| b.f64()).collect();
    let values32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let delta = (b.u8() % 5) as usize; // length disagreements
    let mode = b.u8();
    if mode % 17 == 0 {
        // SAFETY: any size_t is valid input.
        check_status(unsafe { fk_set_num_threads((mode as usize / 17) % 4) });
    }
    let claimed = |len: usize| match mode % 4 {
        0 => len,
        1 => len.saturating_sub(delta),
        2 => len + delta, // claims more than exists only when the pointer is NULL below
        _ => len,
    };
    match op % 5 {
        0 => {
            let mut out = 0x5a5a_5a5a_i32;
            let (a, c) = (b.u32() as i32, b.u32() as i32);
            let ptr = if mode % 7 == 0 {
                std::ptr::null_mut()
            } else {
                &mut out as *mut i32
            };
            // SAFETY: ptr is NULL or points to a live i32.
            let st = unsafe { fk_add_numbers(a, c, ptr) };
            check_status(st);
            if st == 0 {
                assert_eq!(out, a.checked_add(c).unwrap());
            } else if !ptr.is_null() {
                assert_eq!(out, 0x5a5a_5a5a, "output written on error");
            }
        }
        1 | 2 => {
            let split = values.len() / 2;
            let (x, y) = values.split_at(split);
            let ny = claimed(y.len()).min(y.len()); // never claim more than exists with a real pointer
            let mut out = -7.0;
            let st = if op % 5 == 1 {
                // SAFETY: x/y point to at least nx/ny valid f64; out is live.
                unsafe { fk_dot_f64(x.as_ptr(), x.len().min(y.len()), y.as_ptr(), ny, &mut out) }
            } else {
                let (xs, ys) = values32.split_at(split);
                // SAFETY: as above for f32.
                unsafe {
                    fk_dot_f32(
                        xs.as_ptr(),
                        xs.len().min(ys.len()),
                        ys.as_ptr(),
                        ny,
                        &mut out,
                    )
                }
            };
            check_status(st);
            if st != 0 {
                assert_eq!(out, -7.0, "output written on error");
            }
            // NULL with a non-zero length must be refused, NULL with zero is empty.
            let (null_len, expect) = if claimed(3) > 0 {
                (claimed(3), 1)
            } else {
                (0, 0)
            };
            // SAFETY: NULL pointers are never dereferenced by contract.
            let st = unsafe {
                fk_dot_f64(
                    std::ptr::null(),
                    null_len,
                    std::ptr::null(),
                    null_len,
                    &mut out,
                )
            };
            assert_eq!(st, expect);
        }
        _ => {
            let mut out = vec![-3.0f64; values.len() + 8];
            let n_out = claimed(values.len()).min(out.len());
            let st = match mode % 3 {
                // SAFETY: x has n valid elements, out has n_out writable ones.
                0 => unsafe {
                    fk_normalize_f64(values.as_ptr(), values.len(), out.as_mut_ptr(), n_out)
                },
                1 => {
                    // In place: the same buffer for input and output.
                    let mut v = values.clone();
                    let p = v.as_mut_ptr();
                    // SAFETY: p points to v.len() elements; in-place is documented.
                    let st = unsafe { fk_normalize_f64(p, v.len(), p, v.len()) };
                    if st == 0 {
                        assert!(v.iter().all(|r| r.is_nan() || (0.0..=1.0).contains(r)));
                    } else {
                        assert!(v
                            .iter()
                            .zip(&values)
                            .all(|(a, b)| a.to_bits() == b.to_bits()));
                    }
                    st
                }
                _ => {
                    let mut o32 = vec![-3.0f32; values32.len()];
                    // Partial overlap when delta > 0: must be refused, not corrupt memory.
                    let mut buf = values32.clone();
                    buf.extend_from_slice(&[0.0; 8]);
                    let p = buf.as_mut_ptr();
                    let k = values32.len();
                    // SAFETY: both ranges lie inside buf (k + delta <= k + 8).
                    let st = unsafe { fk_normalize_f32(p, k, p.add(delta.min(k)), k) };
                    check_status(st);
                    // SAFETY: o32 has k writable elements.
                    unsafe { fk_normalize_f32(values32.as_ptr(), k, o32.as_mut_ptr(), k) }
                }
            };
            check_status(st);
            if st == 0 && mode % 3 == 0 {
                assert!(out[..n_out]
                    .iter()
                    .all(|r| r.is_nan() || (0.0..=1.0).contains(r)));
            } else if st != 0 && mode % 3 == 0 {
                assert!(out.iter().all(|&r| r == -3.0), "output written on error");
            }
        }
    }
});
