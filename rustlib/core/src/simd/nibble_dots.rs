//! Exact integer dot products of one int8 query code with blocks of 16 rows
//! of 4-bit codes — the first pass of the one-query neighbour pre-scan, which
//! reads half the bytes of the int8 codes (`neighbors::prefilter_nibble`).
//!
//! A row's 4-bit code is the high nibble `h = (c + 128) >> 4` of its int8 code
//! byte (`neighbors::quant`). Layout of a block (16 rows, `d8` units of two
//! groups of 4 elements): unit `u` is 64 bytes; row `r`'s byte `4r + i` holds
//! element `i` of group `2u` in its low nibble and element `i` of group
//! `2u + 1` in its high nibble — the int8 block layout of
//! [`super::int8_dots`] with two groups per byte. The result is
//! `16 Σ_e h_e g_e`: the dot product with `16 h`, which is the int8 code
//! rounded to a multiple of 16 (up to the constant `120`, which the caller
//! takes back as `120 Σ g`). Integer arithmetic: every variant gives the same,
//! exact result.

use super::int8_dots::BLOCK_ROWS;

/// Bytes per unit (two groups of 4 elements of 16 rows) of a block.
pub const UNIT_BYTES: usize = 4 * BLOCK_ROWS;

/// `true` when [`nibble_dots`] has a vector kernel here (AVX2).
pub fn fast() -> bool {
    super::int8_dots::avx2()
}

/// The portable definition: `out[16b + r] = 16 Σ_e h(b, r, e) · g[e]` over
/// the `8·d8` elements.
fn nibble_dots_portable(g: &[i8], blocks: &[u8], d8: usize, out: &mut [i32]) {
    let bb = d8 * UNIT_BYTES;
    for (blk, o) in blocks
        .chunks_exact(bb)
        .zip(out.chunks_exact_mut(BLOCK_ROWS))
    {
        let mut acc = [0i32; BLOCK_ROWS];
        for (u, unit) in blk.chunks_exact(UNIT_BYTES).enumerate() {
            let (qa, qb) = (&g[8 * u..8 * u + 4], &g[8 * u + 4..8 * u + 8]);
            for (r, a) in acc.iter_mut().enumerate() {
                for e in 0..4 {
                    let byte = unit[4 * r + e];
                    *a += i32::from(byte & 15) * i32::from(qa[e])
                        + i32::from(byte >> 4) * i32::from(qb[e]);
                }
            }
        }
        for (o, a) in o.iter_mut().zip(acc) {
            *o = 16 * a;
        }
    }
}

/// `out[16b + r] = 16 Σ_e h_e · g[e]` for row `r` of every block `b` of
/// `blocks` (`g.len() == 8 · d8`, every value in −127..=127;
/// `blocks.len() == out.len() / 16 · 64 · d8`). Results fit an i32 for rows
/// of up to 65 536 elements.
pub fn nibble_dots(g: &[i8], blocks: &[u8], d8: usize, out: &mut [i32]) {
    assert_eq!(g.len(), 8 * d8);
    assert_eq!(out.len() % BLOCK_ROWS, 0);
    assert_eq!(blocks.len(), out.len() / BLOCK_ROWS * d8 * UNIT_BYTES);
    assert!(g.iter().all(|&v| v != i8::MIN));
    #[cfg(target_arch = "x86_64")]
    if fast() {
        // SAFETY: fast() is true only if the CPU reports avx2 (level() is Avx2
        // or higher only then); the lengths and the range of g were asserted.
        return unsafe { x86::nibble_dots_avx2(g, blocks, d8, out) };
    }
    nibble_dots_portable(g, blocks, d8, out);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK_ROWS, UNIT_BYTES};
    use std::arch::x86_64::*;

    /// How far ahead of its loads the kernel prefetches (as `int8_dots`).
    const PREFETCH_BYTES: usize = 4096;
    /// Units summed in 16 bits before widening: a unit adds at most
    /// 4 · 15 · 127 = 7620 to a 16-bit lane, four add 30 480 < 2¹⁵.
    const UNITS_PER_WIDEN: usize = 4;

    /// `nibble_dots` with AVX2. A 256-bit register holds 8 rows' 4 bytes of a
    /// unit; the low and high nibbles (an `and`, a shift) are unsigned bytes
    /// ≤ 15 that `vpmaddubsw` multiplies by the signed query bytes of their
    /// group (pair sums ≤ 2·15·127: no saturation); `vpmaddwd` by ones adds
    /// the 16-bit sums into the row's 32-bit lane every few units.
    ///
    /// # Safety
    /// The CPU must support avx2; lengths as `nibble_dots` (`g.len() == 8·d8`,
    /// every value of `g` in −127..=127, `blocks`: `out.len() / 16` blocks).
    #[target_feature(enable = "avx2")]
    pub unsafe fn nibble_dots_avx2(g: &[i8], blocks: &[u8], d8: usize, out: &mut [i32]) {
        let gp = g.as_ptr() as *const i32;
        let bb = d8 * UNIT_BYTES;
        // SAFETY (whole body): register-only intrinsics except the loads and
        // stores, whose bounds are given where they occur.
        unsafe {
            let mask = _mm256_set1_epi8(0x0f);
            let ones = _mm256_set1_epi16(1);
            for (b, o) in out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
                let bp = blocks.as_ptr().add(b * bb);
                // Rows 0..8 and 8..16.
                let mut acc = [_mm256_setzero_si256(); 2];
                let mut u = 0;
                while u < d8 {
                    let end = (u + UNITS_PER_WIDEN).min(d8);
                    let mut s = [_mm256_setzero_si256(); 2];
                    while u < end {
                        // SAFETY: block b spans bytes [b·bb, (b+1)·bb) of
                        // `blocks` (asserted by the caller); unit u reads 64
                        // bytes at u·64 < bb and 8 query bytes at 8u < 8·d8 =
                        // g.len(). A prefetch never faults (past the end of
                        // `blocks` it is only a wasted hint).
                        let ub = bp.add(u * UNIT_BYTES);
                        _mm_prefetch::<_MM_HINT_T0>(ub.wrapping_add(PREFETCH_BYTES) as *const i8);
                        let qa = _mm256_set1_epi32(gp.add(2 * u).read_unaligned());
                        let qb = _mm256_set1_epi32(gp.add(2 * u + 1).read_unaligned());
                        for (h, sh) in s.iter_mut().enumerate() {
                            let v = _mm256_loadu_si256(ub.add(32 * h) as *const __m256i);
                            let lo = _mm256_and_si256(v, mask);
                            let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
                            let p = _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo, qa),
                                _mm256_maddubs_epi16(hi, qb),
                            );
                            *sh = _mm256_add_epi16(*sh, p);
                        }
                        u += 1;
                    }
                    for (a, sh) in acc.iter_mut().zip(s) {
                        *a = _mm256_add_epi32(*a, _mm256_madd_epi16(sh, ones));
                    }
                }
                // SAFETY: o holds 16 i32 (chunks_exact).
                let op = o.as_mut_ptr() as *mut __m256i;
                _mm256_storeu_si256(op, _mm256_slli_epi32(acc[0], 4));
                _mm256_storeu_si256(op.add(1), _mm256_slli_epi32(acc[1], 4));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{at_levels, Level};

    #[test]
    fn every_variant_is_exact() {
        let _level = crate::simd::test_level_lock();
        for d8 in [1usize, 2, 3, 4, 5, 9, 16, 17] {
            let nb = 3;
            // Extreme query bytes too (±127), and every byte value.
            let g: Vec<i8> = (0..8 * d8)
                .map(|i| match i % 5 {
                    0 => 127,
                    1 => -127,
                    _ => (i as i32 * 37 % 255 - 127) as i8,
                })
                .collect();
            let blocks: Vec<u8> = (0..nb * d8 * UNIT_BYTES)
                .map(|i| {
                    if i % 7 == 0 {
                        255
                    } else {
                        (i * 91 % 256) as u8
                    }
                })
                .collect();
            let mut want = vec![0i32; nb * BLOCK_ROWS];
            for b in 0..nb {
                for r in 0..BLOCK_ROWS {
                    for (e, &ge) in g.iter().enumerate() {
                        let (grp, i) = (e / 4, e % 4);
                        let byte = blocks[b * d8 * UNIT_BYTES + (grp / 2) * UNIT_BYTES + 4 * r + i];
                        let h = if grp % 2 == 0 { byte & 15 } else { byte >> 4 };
                        want[b * BLOCK_ROWS + r] += 16 * h as i32 * ge as i32;
                    }
                }
            }
            at_levels(&[Level::Baseline, Level::Avx2], |cap| {
                let mut out = vec![0i32; nb * BLOCK_ROWS];
                nibble_dots(&g, &blocks, d8, &mut out);
                assert_eq!(out, want, "d8={d8} {cap:?}");
            });
        }
    }

    #[test]
    fn extreme_values_do_not_saturate() {
        let _level = crate::simd::test_level_lock();
        for d8 in [4usize, 8, 9] {
            let blocks = vec![255u8; d8 * UNIT_BYTES];
            for v in [127i8, -127] {
                let g = vec![v; 8 * d8];
                let want = 16 * 15 * i32::from(v) * (8 * d8) as i32;
                at_levels(&[Level::Baseline, Level::Avx2], |cap| {
                    let mut out = vec![0i32; BLOCK_ROWS];
                    nibble_dots(&g, &blocks, d8, &mut out);
                    assert_eq!(out, vec![want; BLOCK_ROWS], "d8={d8} v={v} {cap:?}");
                });
            }
        }
    }
}
