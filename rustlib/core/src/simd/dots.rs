//! `out[j] = q · x_j` for one float32 query against many rows (the one-query
//! path of neighbour search, which is bound by memory bandwidth: the kernel must
//! keep up with streaming the rows).
//!
//! Lane structure (identical on every ISA, so results are bit-identical): 16
//! lanes, lane `l` accumulates `q[l + 16c] * x[l + 16c]` over c with a multiply
//! then an add (no FMA); the 16 lanes are summed pairwise 16 → 8 → 4 → 2 → 1.
//! Rows whose length is not a multiple of 16 use the portable loop.

const LANES: usize = 16;

/// The portable kernel (the definition the vector versions reproduce).
#[inline(always)]
pub fn dot16_portable(q: &[f32], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let qc = q.chunks_exact(LANES);
    let xc = x.chunks_exact(LANES);
    let (qr, xr) = (qc.remainder(), xc.remainder());
    for (a, b) in qc.zip(xc) {
        for l in 0..LANES {
            acc[l] += a[l] * b[l];
        }
    }
    for l in 0..qr.len() {
        acc[l] += qr[l] * xr[l];
    }
    let mut w = acc;
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            w[i] += w[i + width];
        }
    }
    w[0]
}

/// `out[j] = q · x[j*d .. (j+1)*d]` for `j < out.len()`; `q.len() == d`.
/// Panics if `x` is shorter than `out.len() * d`.
pub fn dots_f32(q: &[f32], x: &[f32], d: usize, out: &mut [f32]) {
    assert_eq!(q.len(), d);
    assert!(x.len() >= out.len() * d);
    #[cfg(target_arch = "x86_64")]
    if d.is_multiple_of(LANES) && d > 0 {
        match super::level() {
            // SAFETY: level() is Avx512 only if the CPU reports avx512f.
            super::Level::Avx512 => return unsafe { x86::dots_avx512(q, x, d, out) },
            // SAFETY: level() is Avx2 only if the CPU reports avx2.
            super::Level::Avx2 => return unsafe { x86::dots_avx2(q, x, d, out) },
            super::Level::Baseline => {}
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        *o = dot16_portable(q, &x[j * d..(j + 1) * d]);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Sums 8 lanes of a 256-bit vector as the portable kernel sums lanes 0..8
    /// of its 8-wide stage: 8 → 4 (low + high half) → 2 → 1.
    #[inline(always)]
    unsafe fn sum8(w8: __m256) -> f32 {
        // SAFETY (whole body): register-only intrinsics; avx enabled by callers.
        unsafe {
            let w4 = _mm_add_ps(_mm256_castps256_ps128(w8), _mm256_extractf128_ps(w8, 1));
            // [w4_0 + w4_2, w4_1 + w4_3, ...]
            let w2 = _mm_add_ps(w4, _mm_movehl_ps(w4, w4));
            let w1 = _mm_add_ss(w2, _mm_shuffle_ps(w2, w2, 1));
            _mm_cvtss_f32(w1)
        }
    }

    /// `dots_avx512` for rows of `16 * NV` floats with the query held in
    /// registers for the whole call (loaded once, not once per row: the loads
    /// of the rows are then the only ones, in address order).
    #[inline(always)]
    unsafe fn dots_avx512_fixed<const NV: usize>(q: &[f32], x: &[f32], out: &mut [f32]) {
        let d = 16 * NV;
        assert!(q.len() == d && x.len() >= out.len() * d);
        // SAFETY (whole body): every load is inside q (NV vectors) or inside
        // row j of x (asserted above); avx512f enabled by the caller.
        unsafe {
            let qp = q.as_ptr();
            let mut qv = [_mm512_setzero_ps(); NV];
            for (c, v) in qv.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(qp.add(16 * c));
            }
            let xp = x.as_ptr();
            for (j, o) in out.iter_mut().enumerate() {
                let row = xp.add(j * d);
                let mut acc = _mm512_setzero_ps();
                for (c, v) in qv.iter().enumerate() {
                    acc = _mm512_add_ps(acc, _mm512_mul_ps(*v, _mm512_loadu_ps(row.add(16 * c))));
                }
                let lo = _mm512_castps512_ps256(acc);
                let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
                *o = sum8(_mm256_add_ps(lo, hi));
            }
        }
    }

    /// # Safety
    /// The CPU must support avx512f; `q.len() == d`, `d % 16 == 0`,
    /// `x.len() >= out.len() * d`.
    #[target_feature(enable = "avx512f,avx2,avx")]
    pub unsafe fn dots_avx512(q: &[f32], x: &[f32], d: usize, out: &mut [f32]) {
        macro_rules! fixed {
            ($($nv:literal)*) => {
                match d / 16 {
                    // SAFETY: same contract; d == 16 * nv.
                    $($nv => return unsafe { dots_avx512_fixed::<$nv>(q, x, out) },)*
                    _ => {}
                }
            };
        }
        fixed!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        let qp = q.as_ptr();
        for (j, o) in out.iter_mut().enumerate() {
            let xp = x[j * d..(j + 1) * d].as_ptr();
            // SAFETY: c + 16 <= d for every load; both rows have d elements.
            unsafe {
                let mut acc = _mm512_setzero_ps();
                let mut c = 0;
                while c < d {
                    let p = _mm512_mul_ps(_mm512_loadu_ps(qp.add(c)), _mm512_loadu_ps(xp.add(c)));
                    acc = _mm512_add_ps(acc, p);
                    c += 16;
                }
                // 16 -> 8: lanes l and l + 8.
                let lo = _mm512_castps512_ps256(acc);
                let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
                *o = sum8(_mm256_add_ps(lo, hi));
            }
        }
    }

    /// # Safety
    /// The CPU must support avx2; as `dots_avx512`.
    #[target_feature(enable = "avx2,avx")]
    pub unsafe fn dots_avx2(q: &[f32], x: &[f32], d: usize, out: &mut [f32]) {
        let qp = q.as_ptr();
        for (j, o) in out.iter_mut().enumerate() {
            let xp = x[j * d..(j + 1) * d].as_ptr();
            // SAFETY: c + 16 <= d for every load; both rows have d elements.
            unsafe {
                // Lanes 0..8 and 8..16 of the portable kernel.
                let mut a0 = _mm256_setzero_ps();
                let mut a1 = _mm256_setzero_ps();
                let mut c = 0;
                while c < d {
                    a0 = _mm256_add_ps(
                        a0,
                        _mm256_mul_ps(_mm256_loadu_ps(qp.add(c)), _mm256_loadu_ps(xp.add(c))),
                    );
                    a1 = _mm256_add_ps(
                        a1,
                        _mm256_mul_ps(
                            _mm256_loadu_ps(qp.add(c + 8)),
                            _mm256_loadu_ps(xp.add(c + 8)),
                        ),
                    );
                    c += 16;
                }
                *o = sum8(_mm256_add_ps(a0, a1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{set_max_level, Level};

    #[test]
    fn every_level_gives_the_portable_bits() {
        let _level = crate::simd::test_level_lock();
        let mut s = 99u32;
        let mut next = || {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for d in [16usize, 48, 128, 7, 33] {
            let q: Vec<f32> = (0..d).map(|_| next()).collect();
            let x: Vec<f32> = (0..d * 37).map(|_| next()).collect();
            let want: Vec<u32> = (0..37)
                .map(|j| dot16_portable(&q, &x[j * d..(j + 1) * d]).to_bits())
                .collect();
            for cap in [Level::Baseline, Level::Avx2, Level::Avx512] {
                set_max_level(Some(cap));
                let mut out = vec![0.0f32; 37];
                dots_f32(&q, &x, d, &mut out);
                let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "d={d} {cap:?}");
            }
            set_max_level(None);
        }
    }
}
