//! AVX-512 kernel of softmax's hot loop for float32: `e[i] = exp(x[i] - m)`
//! and the sum of the `e[i]`.
//!
//! The portable loop (`nn::kernels`) is vectorized by LLVM but has to build
//! `2^n` from integer bits and scale by a multiply; AVX-512 rounds with
//! `vrndscaleps` and scales with `vscalefps`, and the polynomial is evaluated
//! as `1 + r (1 + r P(r))`: about a fifth fewer instructions per element in a
//! loop that is most of softmax's time. Same method otherwise: Cody–Waite
//! reduction, the Cephes `expf` polynomial, and the exact rounding error of
//! `x - m` (two-difference) folded into the reduced argument so that tiny
//! probabilities keep full relative accuracy. Results (≤ 2 ulp from the exact
//! `exp`) may differ in the last bit from the portable loop's; they never
//! depend on the thread count.

/// `e[..x.len()] = exp(x - m)` (0 where `x - m < -87.33`, NaN where it is NaN)
/// and their sum, accumulated in 32 lanes (element `i` in lane `i % 32`) and
/// combined by halving. `None` when the CPU has no AVX-512 (the caller then
/// runs its portable loop). `m` is the row's maximum, so `x - m <= 0`.
pub fn exp_shifted_sum_f32(x: &[f32], m: f32, e: &mut [f32]) -> Option<f32> {
    assert!(e.len() >= x.len());
    #[cfg(target_arch = "x86_64")]
    {
        if super::level() == super::Level::Avx512 {
            // SAFETY: level() is Avx512 only if the CPU reports avx512f.
            return Some(unsafe { x86::exp_shifted_sum(x, m, &mut e[..x.len()]) });
        }
    }
    let _ = m;
    None
}

#[cfg(target_arch = "x86_64")]
// The Cephes coefficients are kept digit for digit as published.
#[allow(clippy::excessive_precision)]
mod x86 {
    use std::arch::x86_64::*;

    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n * C1 is exact for the n that occur (|n| <= 126).
    const C1: f32 = 0.693_359_375;
    const C2: f32 = -2.121_944_4E-4;
    // Cephes expf: e^r = 1 + r + r^2 P(r) on |r| <= ln2/2.
    const P: [f32; 6] = [
        1.987_569_15E-4,
        1.398_199_950_7E-3,
        8.333_451_907_3E-3,
        4.166_579_589_4E-2,
        1.666_666_545_9E-1,
        5.000_000_120_1E-1,
    ];
    /// Below this `x - m` the result is flushed to +0 (as the portable loop does).
    const TINY: f32 = -87.33;

    /// `exp(x - m)` for 16 lanes.
    #[inline(always)]
    unsafe fn exp16(v: __m512, m: __m512) -> __m512 {
        let d = _mm512_sub_ps(v, m);
        // Two-difference: err = (v - m) - d exactly.
        let back = _mm512_add_ps(d, m);
        let err = _mm512_sub_ps(
            _mm512_sub_ps(v, back),
            _mm512_sub_ps(m, _mm512_sub_ps(back, d)),
        );
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(d, _mm512_set1_ps(LOG2E)),
        );
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(C1), d);
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(C2), r);
        let r = _mm512_add_ps(r, err);
        let mut p = _mm512_set1_ps(P[0]);
        for &c in &P[1..] {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        }
        let one = _mm512_set1_ps(1.0);
        let q = _mm512_fmadd_ps(r, p, one);
        let y = _mm512_fmadd_ps(r, q, one);
        // Keep lanes with d >= TINY or NaN (so NaN propagates); zero the rest.
        let keep = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(d, _mm512_set1_ps(TINY));
        _mm512_maskz_scalef_ps(keep, y, n)
    }

    /// # Safety
    /// The CPU must support AVX-512F; `e.len() == x.len()`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn exp_shifted_sum(x: &[f32], m: f32, e: &mut [f32]) -> f32 {
        let n = x.len();
        let vm = _mm512_set1_ps(m);
        let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        let xp = x.as_ptr();
        let ep = e.as_mut_ptr();
        let mut i = 0;
        while i + 32 <= n {
            // SAFETY: i + 32 <= n = x.len() = e.len(): both 16-lane accesses at
            // i and i + 16 are in bounds (unaligned loads/stores).
            unsafe {
                let y0 = exp16(_mm512_loadu_ps(xp.add(i)), vm);
                let y1 = exp16(_mm512_loadu_ps(xp.add(i + 16)), vm);
                _mm512_storeu_ps(ep.add(i), y0);
                _mm512_storeu_ps(ep.add(i + 16), y1);
                a0 = _mm512_add_ps(a0, y0);
                a1 = _mm512_add_ps(a1, y1);
            }
            i += 32;
        }
        // Tail (< 32 elements) with masked loads and stores, into the same lanes.
        for (acc, start) in [(&mut a0, i), (&mut a1, i + 16)] {
            if start < n {
                let k: __mmask16 = if n - start >= 16 {
                    0xFFFF
                } else {
                    (1u16 << (n - start)) - 1
                };
                // SAFETY: the mask enables exactly the lanes start..min(start + 16, n),
                // all in bounds; masked-off lanes are neither read nor written.
                unsafe {
                    let y = exp16(_mm512_maskz_loadu_ps(k, xp.add(start)), vm);
                    _mm512_mask_storeu_ps(ep.add(start), k, y);
                    *acc = _mm512_mask_add_ps(*acc, k, *acc, y);
                }
            }
        }
        let mut lanes = [0.0f32; 32];
        // SAFETY: `lanes` holds 32 f32: two unaligned 16-lane stores fit.
        unsafe {
            _mm512_storeu_ps(lanes.as_mut_ptr(), a0);
            _mm512_storeu_ps(lanes.as_mut_ptr().add(16), a1);
        }
        crate::float::halving_sum(lanes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f64) -> f64 {
        ((a as f64) - b).abs() / (b.abs() * f32::EPSILON as f64).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn matches_f64_exp_and_sum_for_every_length() {
        for n in 0..100usize {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i as f32) * 1.37).sin() * 60.0 - 20.0)
                .collect();
            let m = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let mut e = vec![-1.0f32; n + 3];
            let Some(s) = exp_shifted_sum_f32(&x, m, &mut e) else {
                return; // no AVX-512 on this CPU: nothing to test
            };
            let mut want_sum = 0.0f64;
            for i in 0..n {
                let want = ((x[i] as f64) - (m as f64)).exp();
                want_sum += e[i] as f64;
                if x[i] - m >= -87.33 {
                    assert!(ulps(e[i], want) <= 2.0, "n {n} i {i}: {} vs {want}", e[i]);
                } else {
                    assert_eq!(e[i], 0.0, "flushed below the threshold");
                }
            }
            assert_eq!(&e[n..], &[-1.0; 3], "wrote past the end");
            assert!(
                ((s as f64) - want_sum).abs() <= 1e-6 * want_sum.max(1e-30),
                "n {n}"
            );
        }
    }

    #[test]
    fn special_values() {
        let x = [
            0.0f32,
            f32::NAN,
            -f32::INFINITY,
            -200.0,
            -87.0,
            -88.0,
            f32::MIN,
        ];
        let mut e = [0.0f32; 7];
        if exp_shifted_sum_f32(&x, 0.0, &mut e).is_none() {
            return;
        }
        assert_eq!(e[0], 1.0);
        assert!(e[1].is_nan());
        assert_eq!(&e[2..4], &[0.0, 0.0]);
        assert!(ulps(e[4], (-87.0f64).exp()) <= 2.0);
        assert_eq!(e[5], 0.0); // below the flush threshold, like the portable loop
        assert_eq!(e[6], 0.0);
    }
}
