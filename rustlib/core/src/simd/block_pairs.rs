//! Two blocks of a dot product at once (`dot::dot_product`'s leaves), each
//! summed exactly as the one-block loop sums it.
//!
//! Why: one core streams faster from four arrays at once than from two (the
//! hardware prefetcher follows more streams), and a dot product is bound by
//! that stream. Written with intrinsics because the compiler vectorizes a
//! loop over two blocks across the blocks (shuffles, spilled accumulators)
//! instead of along each.
//!
//! Lanes (as `dot::dot_block`): lane `l` of a block accumulates elements
//! `l + 16c` in float64 — float64 with a fused multiply-add, float32 as the
//! exact float64 product then an add — and the 16 lanes are summed pairwise
//! (`float::halving_sum`). Same operations in the same order: the same bits.

use crate::float::halving_sum;

/// Lanes per block (`dot::dot_block`'s accumulators).
pub const LANES: usize = 16;

/// `(x_a · y_a, x_b · y_b)` for two blocks of equal length, a multiple of
/// [`LANES`]: float64 with fused multiply-adds, float32 as exact float64
/// products then adds (fusing would change nothing); `None` where the CPU
/// has no AVX2 with FMA (the caller then runs its portable loop).
pub fn dot_pair<T: PairDot>(a: (&[T], &[T]), b: (&[T], &[T])) -> Option<(f64, f64)> {
    check(a, b);
    #[cfg(target_arch = "x86_64")]
    if super::level() >= super::Level::Avx2 {
        // SAFETY: level() is Avx2 or higher only when the CPU reports avx2
        // and fma; the four lengths are equal multiples of LANES (check).
        return Some(unsafe { T::pair_avx2(a, b) });
    }
    None
}

/// The element types [`dot_pair`] takes.
pub trait PairDot: Sized {
    /// The AVX2 kernel.
    ///
    /// # Safety
    /// The CPU must support avx2 and fma; all four slices have the same
    /// length, a multiple of `LANES`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn pair_avx2(a: (&[Self], &[Self]), b: (&[Self], &[Self])) -> (f64, f64);
}

impl PairDot for f64 {
    #[cfg(target_arch = "x86_64")]
    unsafe fn pair_avx2(a: (&[f64], &[f64]), b: (&[f64], &[f64])) -> (f64, f64) {
        // SAFETY: the caller's contract is the kernel's.
        unsafe { x86::pair_f64(a, b) }
    }
}

impl PairDot for f32 {
    #[cfg(target_arch = "x86_64")]
    unsafe fn pair_avx2(a: (&[f32], &[f32]), b: (&[f32], &[f32])) -> (f64, f64) {
        // SAFETY: the caller's contract is the kernel's (which needs avx2 only).
        unsafe { x86::pair_f32(a, b) }
    }
}

fn check<T>(a: (&[T], &[T]), b: (&[T], &[T])) {
    let n = a.0.len();
    assert!(n.is_multiple_of(LANES), "whole chunks of {LANES}");
    assert!(a.1.len() == n && b.0.len() == n && b.1.len() == n);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{halving_sum, LANES};
    use std::arch::x86_64::*;

    /// The 16 lanes of 4 registers, summed pairwise.
    #[target_feature(enable = "avx2")]
    fn lane_sum(acc: [__m256d; 4]) -> f64 {
        let mut l = [0.0f64; LANES];
        for (j, a) in acc.into_iter().enumerate() {
            // SAFETY: l holds 16 f64; register j fills 4j..4j+4.
            unsafe { _mm256_storeu_pd(l.as_mut_ptr().add(4 * j), a) };
        }
        halving_sum(l)
    }

    /// Walks both blocks in one loop; `term(acc, x, y)` adds 4 lanes' terms
    /// loaded at `x`, `y`.
    ///
    /// # Safety
    /// The CPU must support avx2 and fma; all four slices have the same
    /// length, a multiple of `LANES`.
    #[inline(always)]
    unsafe fn walk<T>(
        a: (&[T], &[T]),
        b: (&[T], &[T]),
        term: impl Fn(__m256d, *const T, *const T) -> __m256d,
    ) -> [[__m256d; 4]; 2] {
        let n = a.0.len();
        let p = [(a.0.as_ptr(), a.1.as_ptr()), (b.0.as_ptr(), b.1.as_ptr())];
        // SAFETY: register-only intrinsics.
        let mut acc = [[unsafe { _mm256_setzero_pd() }; 4]; 2];
        let mut i = 0;
        while i < n {
            for (s, &(x, y)) in p.iter().enumerate() {
                for (j, a) in acc[s].iter_mut().enumerate() {
                    // SAFETY: i + 4j + 4 <= i + 16 <= n, the length of
                    // every slice (the caller's contract).
                    *a = term(*a, unsafe { x.add(i + 4 * j) }, unsafe { y.add(i + 4 * j) });
                }
            }
            i += LANES;
        }
        acc
    }

    /// # Safety
    /// The CPU must support avx2 and fma; all four slices have the same
    /// length, a multiple of `LANES`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn pair_f64(a: (&[f64], &[f64]), b: (&[f64], &[f64])) -> (f64, f64) {
        // SAFETY: avx2 and fma as this function; each call of the term loads
        // 4 f64 at pointers `walk` keeps in bounds.
        let [sa, sb] = unsafe {
            walk(a, b, |acc, x, y| {
                _mm256_fmadd_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(y), acc)
            })
        };
        (lane_sum(sa), lane_sum(sb))
    }

    /// # Safety
    /// The CPU must support avx2; all four slices have the same length, a
    /// multiple of `LANES`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn pair_f32(a: (&[f32], &[f32]), b: (&[f32], &[f32])) -> (f64, f64) {
        // SAFETY: avx2 as this function; each call of the term loads 4 f32
        // at pointers `walk` keeps in bounds. The product of two f32 is
        // exact in f64; product + acc is the portable `a * b + c`.
        let [sa, sb] = unsafe {
            walk(a, b, |acc, x, y| {
                let (x, y) = (
                    _mm256_cvtps_pd(_mm_loadu_ps(x)),
                    _mm256_cvtps_pd(_mm_loadu_ps(y)),
                );
                _mm256_add_pd(_mm256_mul_pd(x, y), acc)
            })
        };
        (lane_sum(sa), lane_sum(sb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{at_levels, Level};
    use crate::test_data::uniform;

    #[test]
    fn each_block_gets_the_one_block_bits() {
        let _level = crate::simd::test_level_lock();
        for n in [0usize, 16, 48, 2048] {
            let v: Vec<Vec<f64>> = (0..4).map(|s| uniform(n, 20 + s)).collect();
            // Large and small terms: a different order or rounding would show.
            let v: Vec<Vec<f64>> = v
                .into_iter()
                .map(|x| {
                    x.iter()
                        .enumerate()
                        .map(|(i, &e)| if i % 5 == 0 { e * 1e9 } else { e })
                        .collect()
                })
                .collect();
            let f: Vec<Vec<f32>> = v
                .iter()
                .map(|x| x.iter().map(|&e| e as f32).collect())
                .collect();
            at_levels(&[Level::Baseline, Level::Avx2, Level::Avx512], |cap| {
                let fast = crate::simd::level() >= Level::Avx2;
                let got = dot_pair((&v[0], &v[1]), (&v[2], &v[3]));
                // The one-block definition.
                let one = crate::dot::dot_block::<f64, true>;
                let want = (one(&v[0], &v[1]), one(&v[2], &v[3]));
                assert_eq!(got.is_some(), fast, "{cap:?}");
                if let Some((a, b)) = got {
                    assert_eq!(
                        (a.to_bits(), b.to_bits()),
                        (want.0.to_bits(), want.1.to_bits()),
                        "n {n} {cap:?}"
                    );
                }
                let got = dot_pair((&f[0], &f[1]), (&f[2], &f[3]));
                let one = crate::dot::dot_block::<f32, false>;
                let want = (one(&f[0], &f[1]), one(&f[2], &f[3]));
                if let Some((a, b)) = got {
                    assert_eq!(
                        (a.to_bits(), b.to_bits()),
                        (want.0.to_bits(), want.1.to_bits()),
                        "f32 n {n} {cap:?}"
                    );
                }
            });
        }
    }

    #[test]
    #[should_panic(expected = "whole chunks of 16")]
    fn a_partial_chunk_is_refused() {
        let x = [0.0f64; 17];
        dot_pair((&x, &x), (&x, &x));
    }
}
