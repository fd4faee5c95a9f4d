//! Memory advice for large, long-lived buffers, and cache-line prefetch.
//!
//! Streaming a 50 MB database once per query is bound by memory traffic, and
//! with 4 KiB pages also by TLB misses. Linux backs a region with transparent
//! huge pages when asked (`madvise(MADV_HUGEPAGE)`, the default THP mode
//! "madvise"), as numpy does for its large arrays. Asking before the pages are
//! first touched makes the first-touch faults allocate huge pages directly.

/// Below this many bytes the advice is not worth a system call.
const MIN_BYTES: usize = 4 << 20;
const PAGE: usize = 4096;

/// `v.reserve(additional)`, then asks the OS to back the page-aligned interior of
/// the (still untouched) spare capacity with huge pages. Advice only: contents,
/// validity and behaviour never change; a no-op off Linux or on failure.
pub fn reserve_huge<T>(v: &mut Vec<T>, additional: usize) {
    v.reserve(additional);
    let spare = v.spare_capacity_mut();
    let bytes = std::mem::size_of_val(spare);
    if bytes < MIN_BYTES {
        return;
    }
    let start = spare.as_ptr() as usize;
    let lo = start.next_multiple_of(PAGE);
    let hi = (start + bytes) / PAGE * PAGE;
    if hi > lo {
        advise(lo, hi - lo);
    }
}

/// Asks the CPU to start loading the cache line holding `r`, so that a read
/// of it soon after (e.g. a hash-table probe) does not wait for memory. A
/// hint: it never changes results.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `r` is a live reference, so the address is valid; a prefetch
    // reads nothing architecturally and never faults (SSE, always present on
    // x86_64).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (r as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// [`prefetch`] of every cache line of `s` (a row about to be read at random).
#[inline]
pub fn prefetch_slice<T>(s: &[T]) {
    let step = (64 / std::mem::size_of::<T>().max(1)).max(1);
    for v in s.iter().step_by(step) {
        prefetch(v);
    }
    if let Some(last) = s.last() {
        prefetch(last);
    }
}

#[cfg(target_os = "linux")]
fn advise(addr: usize, len: usize) {
    // SAFETY: [addr, addr + len) is page-aligned and lies inside the spare
    // capacity of a live Vec allocation (computed above). MADV_HUGEPAGE only
    // sets a flag on the mapping; it never changes memory contents or makes
    // any address invalid. The result is ignored: the advice is optional.
    unsafe {
        libc::madvise(addr as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_addr: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn reserve_huge_keeps_contents_and_reserves() {
        let mut v: Vec<f32> = (0..10).map(|i| i as f32).collect();
        super::reserve_huge(&mut v, 3 << 20);
        assert!(v.capacity() >= 10 + (3 << 20));
        assert_eq!(v, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        v.extend(std::iter::repeat_n(1.5f32, 3 << 20));
        assert_eq!(v.len(), 10 + (3 << 20));
        assert_eq!(v[5], 5.0);
    }
}
