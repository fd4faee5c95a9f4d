//! Software prefetch: asks the CPU to start loading the cache lines of a slice
//! that the kernel will read soon, so the memory transfer overlaps the
//! arithmetic on the current data instead of following it.
//!
//! Hardware prefetchers follow a stream, but a compute-heavy row kernel (an
//! `exp` per element) has few loads in flight; on a cold input it alternates
//! "wait for the row" and "compute the row". Prefetching row `i + 1` while row
//! `i` is computed turns that into one overlapped stream.

/// Bytes per cache line on every x86_64 CPU this library dispatches to.
const LINE: usize = 64;

/// Hints that `data` will be read soon (into all cache levels). A hint only:
/// no effect on results, never faults, a no-op off x86_64.
#[inline(always)]
pub fn prefetch_read<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = data.as_ptr() as *const i8;
        let bytes = std::mem::size_of_val(data);
        let mut off = 0;
        while off < bytes {
            // SAFETY: prefetch is a hint that never faults or changes memory;
            // the address is inside `data` (off < its size in bytes).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
            off += LINE;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
