//! AVX-512 loops of the int8 row coder (`neighbors::quant::code_row`): the
//! row statistics in float64 and the codes with their measured error.
//!
//! Why a kernel: LLVM compiles the portable loops (float64 sums in 8 explicit
//! lanes fed by float32 → float64 conversions) to scalar code, which made
//! coding the rows the largest cost of adding them to an index. The results
//! need not equal the portable loops' bits: every value is a float64 sum whose
//! rounding is far below the slack the coder adds to its bounds, and any code
//! is valid because its error is measured, not assumed.

/// `max |x − μ|`, `Σ x²`, `Σ (x − μ)²` and `Σ x·μ` of one row (NaN entries are
/// skipped by the maximum and make the sums NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowStats {
    pub max: f64,
    pub sq: f64,
    pub centred_sq: f64,
    pub mu_dot: f64,
}

/// Element types the kernels read (float32 rows are widened to float64).
pub trait RowElement: Copy {
    /// [`row_stats`] on AVX-512, `None` on other CPUs.
    fn stats(x: &[Self], mu: &[f32]) -> Option<RowStats>;
    /// [`codes`] on AVX-512, `None` on other CPUs.
    fn codes(x: &[Self], mu: &[f32], inv: f64, step: f64, out: &mut [i8]) -> Option<f64>;
}

/// The statistics of `x − mu` (equal lengths) where the CPU has AVX-512.
pub fn row_stats<T: RowElement>(x: &[T], mu: &[f32]) -> Option<RowStats> {
    T::stats(x, mu)
}

/// Writes `out[e] = clamp(round(c_e · inv), ±127)` with `c = x − mu` and
/// returns `Σ (c_e − step · out[e])²`, where the CPU has AVX-512.
pub fn codes<T: RowElement>(
    x: &[T],
    mu: &[f32],
    inv: f64,
    step: f64,
    out: &mut [i8],
) -> Option<f64> {
    T::codes(x, mu, inv, step, out)
}

macro_rules! element {
    ($t:ty, $stats:ident, $codes:ident) => {
        impl RowElement for $t {
            fn stats(x: &[$t], mu: &[f32]) -> Option<RowStats> {
                assert_eq!(x.len(), mu.len());
                #[cfg(target_arch = "x86_64")]
                if super::level() == super::Level::Avx512 {
                    // SAFETY: level() is Avx512 only if the CPU reports
                    // avx512f/vl/bw/dq; lengths asserted.
                    return Some(unsafe { x86::$stats(x, mu) });
                }
                None
            }

            fn codes(x: &[$t], mu: &[f32], inv: f64, step: f64, out: &mut [i8]) -> Option<f64> {
                assert!(x.len() == mu.len() && x.len() == out.len());
                #[cfg(target_arch = "x86_64")]
                if super::level() == super::Level::Avx512 {
                    // SAFETY: as in `stats`.
                    return Some(unsafe { x86::$codes(x, mu, inv, step, out) });
                }
                None
            }
        }
    };
}
element!(f32, stats_f32, codes_f32);
element!(f64, stats_f64, codes_f64);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::RowStats;
    use std::arch::x86_64::*;

    /// Loads 8 (or the `mask`ed first few, zeros elsewhere) float32 as float64.
    #[inline(always)]
    unsafe fn load_f32(p: *const f32, mask: __mmask8) -> __m512d {
        // SAFETY: the caller passes a pointer with the masked elements readable.
        unsafe { _mm512_cvtps_pd(_mm256_maskz_loadu_ps(mask, p)) }
    }

    /// Loads 8 (or the `mask`ed first few, zeros elsewhere) float64.
    #[inline(always)]
    unsafe fn load_f64(p: *const f64, mask: __mmask8) -> __m512d {
        // SAFETY: as load_f32.
        unsafe { _mm512_maskz_loadu_pd(mask, p) }
    }

    /// The mask of the `len − 8c` elements left at chunk `c` (all 8 if more).
    #[inline(always)]
    fn mask_at(c: usize, len: usize) -> __mmask8 {
        let left = len - 8 * c;
        if left >= 8 {
            0xff
        } else {
            ((1u32 << left) - 1) as __mmask8
        }
    }

    macro_rules! kernels {
        ($t:ty, $load:ident, $stats:ident, $codes:ident) => {
            /// # Safety
            /// The CPU must support avx512f/vl/bw/dq; `x.len() == mu.len()`.
            #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,avx")]
            pub unsafe fn $stats(x: &[$t], mu: &[f32]) -> RowStats {
                let n = x.len();
                // SAFETY: chunk c reads the mask_at(c, n) elements from 8c,
                // all below n = x.len() = mu.len(); the rest is register work.
                unsafe {
                    let sign = _mm512_set1_pd(-0.0);
                    let (mut mx, mut sq) = (_mm512_setzero_pd(), _mm512_setzero_pd());
                    let (mut csq, mut md) = (_mm512_setzero_pd(), _mm512_setzero_pd());
                    for c in 0..n.div_ceil(8) {
                        let k = mask_at(c, n);
                        let f = $load(x.as_ptr().add(8 * c), k);
                        let m = load_f32(mu.as_ptr().add(8 * c), k);
                        let d = _mm512_sub_pd(f, m);
                        // max(|d|, mx) returns mx when |d| is NaN: NaN skipped.
                        mx = _mm512_max_pd(_mm512_andnot_pd(sign, d), mx);
                        sq = _mm512_add_pd(sq, _mm512_mul_pd(f, f));
                        csq = _mm512_add_pd(csq, _mm512_mul_pd(d, d));
                        md = _mm512_add_pd(md, _mm512_mul_pd(f, m));
                    }
                    RowStats {
                        max: _mm512_reduce_max_pd(mx),
                        sq: _mm512_reduce_add_pd(sq),
                        centred_sq: _mm512_reduce_add_pd(csq),
                        mu_dot: _mm512_reduce_add_pd(md),
                    }
                }
            }

            /// # Safety
            /// The CPU must support avx512f/vl/bw/dq; `x`, `mu` and `out` of
            /// one length.
            #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,avx")]
            pub unsafe fn $codes(x: &[$t], mu: &[f32], inv: f64, step: f64, out: &mut [i8]) -> f64 {
                let n = x.len();
                // SAFETY: as in the statistics kernel; the masked store writes
                // the mask_at(c, n) bytes of `out` from 8c, below n = out.len().
                unsafe {
                    let (vi, vs) = (_mm512_set1_pd(inv), _mm512_set1_pd(step));
                    let (lo, hi) = (_mm512_set1_pd(-127.0), _mm512_set1_pd(127.0));
                    let mut e2 = _mm512_setzero_pd();
                    for c in 0..n.div_ceil(8) {
                        let k = mask_at(c, n);
                        let d = _mm512_sub_pd(
                            $load(x.as_ptr().add(8 * c), k),
                            load_f32(mu.as_ptr().add(8 * c), k),
                        );
                        let q = _mm512_roundscale_pd::<
                            { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
                        >(_mm512_mul_pd(d, vi));
                        let q = _mm512_min_pd(_mm512_max_pd(q, lo), hi);
                        let r = _mm512_sub_pd(d, _mm512_mul_pd(vs, q));
                        e2 = _mm512_add_pd(e2, _mm512_mul_pd(r, r));
                        let b = _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(q));
                        _mm_mask_storeu_epi8(out.as_mut_ptr().add(8 * c), k as __mmask16, b);
                    }
                    _mm512_reduce_add_pd(e2)
                }
            }
        };
    }
    kernels!(f32, load_f32, stats_f32, codes_f32);
    kernels!(f64, load_f64, stats_f64, codes_f64);
}
