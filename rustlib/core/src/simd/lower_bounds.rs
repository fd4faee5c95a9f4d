//! The threshold test of the 4-bit neighbour pre-scans, the hottest loop
//! after their integer kernel: for every row of a piece, a lower bound on its
//! score that is a short chain of fused multiply-adds over the row's bound
//! fields, tested against the query's threshold.
//!
//! Why a kernel: the portable loop stored every bound and read it back for the
//! test, in two passes. Here the bounds of 8 rows stay in a register from the
//! loads to the comparison, and only the bits of the rows that stay (a few
//! per thousand) leave the loop; the caller computes those rows' bounds again
//! with [`Linear::chain`] (fused where the CPU has FMA, as here: the same
//! operations, so the same bits).

use crate::nn::math::madd;

/// Rows per bit word of [`stay_bits`].
pub const WORD_ROWS: usize = 64;

/// A lower bound linear in four per-row fields `f` and the row's scaled
/// integer dot: `fma(a4, p, fma(a3, f3, fma(a2, f2, fma(a1, f1, fma(a0, f0,
/// c)))))` with `p = (dot − off) · scale`, every multiply-add fused (one
/// rounding each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub c: f32,
    pub a: [f32; 5],
    pub off: i32,
}

impl Linear {
    /// The bound of one row.
    ///
    /// ```
    /// use ferrokit_core::simd::lower_bounds::Linear;
    /// let lin = Linear { c: 1.0, a: [1.0, 0.0, 0.0, 0.0, -2.0], off: 3 };
    /// // 1 + 4 − 2 · ((5 − 3) · 0.5)
    /// assert_eq!(lin.at([4.0, 0.0, 0.0, 0.0], 0.5, 5), 3.0);
    /// ```
    #[inline]
    pub fn at(&self, f: [f32; 4], scale: f32, dot: i32) -> f32 {
        self.chain::<true>(f, scale, dot)
    }

    /// The same chain with separate multiplies and adds unless `FMA` (for
    /// the portable copies of a loop, where a fused one is a libm call).
    #[inline(always)]
    pub fn chain<const FMA: bool>(&self, f: [f32; 4], scale: f32, dot: i32) -> f32 {
        let a = self.a;
        let p = (dot - self.off) as f32 * scale;
        let v = madd::<FMA, f32>(a[0], f[0], self.c);
        let v = madd::<FMA, f32>(a[1], f[1], v);
        let v = madd::<FMA, f32>(a[2], f[2], v);
        let v = madd::<FMA, f32>(a[3], f[3], v);
        madd::<FMA, f32>(a[4], p, v)
    }
}

/// `true` when [`stay_bits`] has a vector kernel here (AVX2 with FMA).
pub fn fast() -> bool {
    super::int8_dots::avx2()
}

/// Whether a row with bound `v` stays: unless `v` is a number in `(t, +inf)`.
#[inline(always)]
pub fn stays(v: f32, t: f32) -> bool {
    !(v > t && v < f32::INFINITY)
}

/// Bit `i % 64` of `keep[i / 64]` is set when row `i` stays ([`stays`] of its
/// [`Linear::at`] bound against `t`), clear otherwise; `fields` and `dots`
/// hold one value per row (`n = scale.len()` rows) and `keep` at least
/// `n.div_ceil(64)` words (the bits past row `n` are cleared).
pub fn stay_bits(
    lin: &Linear,
    fields: [&[f32]; 4],
    scale: &[f32],
    dots: &[i32],
    t: f32,
    keep: &mut [u64],
) {
    let n = scale.len();
    assert!(fields.iter().all(|f| f.len() == n) && dots.len() == n);
    let words = n.div_ceil(WORD_ROWS);
    assert!(keep.len() >= words);
    keep[..words].fill(0);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if fast() {
        done = n / 8 * 8;
        // SAFETY: fast() is true only when the CPU has avx2 and fma; every
        // slice holds n ≥ done values and keep holds done.div_ceil(64) words
        // (asserted above).
        unsafe { x86::stay_bits_avx2(lin, fields, scale, dots, t, done, keep) };
    }
    for i in done..n {
        let v = lin.at(fields.map(|f| f[i]), scale[i], dots[i]);
        keep[i / WORD_ROWS] |= u64::from(stays(v, t)) << (i % WORD_ROWS);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Linear, WORD_ROWS};
    use std::arch::x86_64::*;

    /// The first `n` rows (a multiple of 8) of [`super::stay_bits`]: 8 rows
    /// per step, the chain of [`Linear::at`] in the lanes (the same
    /// operations: convert, multiply, fused multiply-adds), the test as two
    /// comparisons and a mask.
    ///
    /// # Safety
    /// The CPU must support avx2 and fma; the slices hold at least `n`
    /// values, `keep` at least `n.div_ceil(64)` words, and `n % 8 == 0`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn stay_bits_avx2(
        lin: &Linear,
        fields: [&[f32]; 4],
        scale: &[f32],
        dots: &[i32],
        t: f32,
        n: usize,
        keep: &mut [u64],
    ) {
        let c = _mm256_set1_ps(lin.c);
        let a: [__m256; 5] = lin.a.map(|v| _mm256_set1_ps(v));
        let off = _mm256_set1_epi32(lin.off);
        let (tv, inf) = (_mm256_set1_ps(t), _mm256_set1_ps(f32::INFINITY));
        let [f0, f1, f2, f3] = fields.map(|f| f.as_ptr());
        let (sp, dp) = (scale.as_ptr(), dots.as_ptr());
        let mut i = 0;
        while i < n {
            // SAFETY: i + 8 ≤ n, and every slice holds n values (caller);
            // unaligned loads.
            let (p, v) = unsafe {
                let d = _mm256_loadu_si256(dp.add(i) as *const __m256i);
                let d = _mm256_cvtepi32_ps(_mm256_sub_epi32(d, off));
                let p = _mm256_mul_ps(d, _mm256_loadu_ps(sp.add(i)));
                let v = _mm256_fmadd_ps(a[0], _mm256_loadu_ps(f0.add(i)), c);
                let v = _mm256_fmadd_ps(a[1], _mm256_loadu_ps(f1.add(i)), v);
                let v = _mm256_fmadd_ps(a[2], _mm256_loadu_ps(f2.add(i)), v);
                (p, _mm256_fmadd_ps(a[3], _mm256_loadu_ps(f3.add(i)), v))
            };
            let v = _mm256_fmadd_ps(a[4], p, v);
            // Goes: a number above t and below +inf (ordered compares: NaN
            // never goes).
            let goes = _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GT_OQ>(v, tv),
                _mm256_cmp_ps::<_CMP_LT_OQ>(v, inf),
            );
            let stay = !_mm256_movemask_ps(goes) as u64 & 0xff;
            keep[i / WORD_ROWS] |= stay << (i % WORD_ROWS);
            i += 8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{at_levels, Level};

    fn values(n: usize, seed: u64) -> Vec<f32> {
        crate::test_data::states(n, seed)
            .map(|s| ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0)
            .collect()
    }

    #[test]
    fn the_kernel_keeps_exactly_the_rows_whose_bound_stays() {
        let _level = crate::simd::test_level_lock();
        let lin = Linear {
            c: 0.3,
            a: [1.0 - 1e-3, -2e-3, -0.7, -1.1, -2.5],
            off: 77,
        };
        at_levels(&[Level::Baseline, Level::Avx2], |cap| {
            for n in [0usize, 1, 7, 8, 9, 63, 64, 65, 130, 512] {
                let f: Vec<Vec<f32>> = (0..4).map(|k| values(n, 3 + k)).collect();
                let mut scale = values(n, 9);
                let dots: Vec<i32> = values(n, 11).iter().map(|v| (v * 5e3) as i32).collect();
                // Bounds that are NaN or infinite stay (they prove nothing).
                if n > 5 {
                    scale[2] = f32::NAN;
                    scale[5] = f32::INFINITY;
                }
                let bound =
                    |i: usize| lin.at([f[0][i], f[1][i], f[2][i], f[3][i]], scale[i], dots[i]);
                for t in [f32::NEG_INFINITY, -3.0, 0.0, 1.5, f32::INFINITY, f32::NAN] {
                    let mut keep = vec![u64::MAX; n.div_ceil(64) + 1];
                    stay_bits(
                        &lin,
                        [&f[0], &f[1], &f[2], &f[3]],
                        &scale,
                        &dots,
                        t,
                        &mut keep,
                    );
                    for i in 0..n {
                        let bit = keep[i / 64] >> (i % 64) & 1 == 1;
                        assert_eq!(bit, stays(bound(i), t), "{cap:?} n {n} t {t} row {i}");
                    }
                    // Bits past the last row are clear.
                    if n % 64 != 0 {
                        assert_eq!(keep[n / 64] >> (n % 64), 0, "n {n}");
                    }
                    if n > 5 {
                        assert!(keep[0] >> 2 & 1 == 1 && keep[0] >> 5 & 1 == 1);
                    }
                }
            }
        });
    }
}
