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

/// The codes of `nq` queries (`gs`: `nq` rows of `8 · d8` signed bytes)
/// against the same blocks: `out[i · rows + 16b + r] =
/// 16 Σ_e h(b, r, e) · g_i[e]` for query `i`, where `rows = out.len() / nq`
/// is 16 times the number of blocks — the query-batch form of
/// [`nibble_dots`] (the batch pre-scan, `neighbors::prefilter_batch_nibble`).
/// The vector kernel unpacks each unit's nibbles once for 4 queries. Exact
/// integer arithmetic: every variant gives the same result.
pub fn nibble_multi_dots(gs: &[i8], nq: usize, blocks: &[u8], d8: usize, out: &mut [i32]) {
    assert_eq!(gs.len(), nq * 8 * d8);
    if nq == 0 {
        assert!(out.is_empty());
        return;
    }
    assert_eq!(out.len() % (nq * BLOCK_ROWS), 0);
    let rows = out.len() / nq;
    assert_eq!(blocks.len(), rows / BLOCK_ROWS * d8 * UNIT_BYTES);
    #[cfg(target_arch = "x86_64")]
    if fast() {
        // SAFETY: fast() is true only if the CPU reports avx2; the lengths
        // were asserted (any byte value is exact, see the kernel).
        return unsafe { x86::nibble_multi_dots_avx2(gs, nq, blocks, d8, out) };
    }
    for (g, o) in gs.chunks_exact(8 * d8).zip(out.chunks_exact_mut(rows)) {
        nibble_dots_portable(g, blocks, d8, o);
    }
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
    /// Queries per pass of [`nibble_multi_dots_avx2`]: each unit's nibbles
    /// are unpacked once for this many queries (4 keep the 16-bit sums of
    /// both halves of a block, 8 registers, in registers with the unpacked
    /// bytes; 8 queries spill).
    const GROUP_QUERIES: usize = 4;

    /// `nibble_multi_dots` with AVX2: groups of [`GROUP_QUERIES`] queries,
    /// then the last 1–3 together.
    ///
    /// # Safety
    /// The CPU must support avx2; lengths as `nibble_multi_dots`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn nibble_multi_dots_avx2(
        gs: &[i8],
        nq: usize,
        blocks: &[u8],
        d8: usize,
        out: &mut [i32],
    ) {
        let (qlen, rows) = (8 * d8, out.len() / nq);
        let mut q0 = 0;
        // SAFETY (all calls): avx2 as this function; each call gets q whole
        // query codes and q whole output rows of `rows` entries.
        unsafe {
            while q0 + GROUP_QUERIES <= nq {
                let (g, o) = (&gs[q0 * qlen..], &mut out[q0 * rows..]);
                group::<GROUP_QUERIES>(g, blocks, d8, o, rows);
                q0 += GROUP_QUERIES;
            }
            let (g, o) = (&gs[q0 * qlen..], &mut out[q0 * rows..]);
            match nq - q0 {
                1 => group::<1>(g, blocks, d8, o, rows),
                2 => group::<2>(g, blocks, d8, o, rows),
                3 => group::<3>(g, blocks, d8, o, rows),
                _ => {}
            }
        }
    }

    /// `Q` queries (`gs` holds at least `Q` codes of `8 · d8` bytes, `out`
    /// at least `Q` rows of `rows`) against the `rows / 16` blocks: as
    /// [`nibble_dots_avx2`], with each unit's two halves unpacked once and
    /// multiplied by every query's bytes.
    ///
    /// # Safety
    /// The CPU must support avx2; `blocks.len() == rows / 16 · 64 · d8`.
    #[target_feature(enable = "avx2")]
    unsafe fn group<const Q: usize>(
        gs: &[i8],
        blocks: &[u8],
        d8: usize,
        out: &mut [i32],
        rows: usize,
    ) {
        assert!(gs.len() >= Q * 8 * d8 && out.len() >= Q * rows);
        let bb = d8 * UNIT_BYTES;
        let qlen = 8 * d8;
        // SAFETY (whole body): register-only intrinsics except the loads and
        // stores, whose bounds are given where they occur.
        unsafe {
            let mask = _mm256_set1_epi8(0x0f);
            let ones = _mm256_set1_epi16(1);
            for b in 0..rows / BLOCK_ROWS {
                let bp = blocks.as_ptr().add(b * bb);
                let mut acc = [[_mm256_setzero_si256(); 2]; Q];
                let mut u = 0;
                while u < d8 {
                    let end = (u + UNITS_PER_WIDEN).min(d8);
                    let mut s = [[_mm256_setzero_si256(); 2]; Q];
                    while u < end {
                        // SAFETY: block b is within `blocks` (b < rows / 16,
                        // length asserted by the caller); unit u's 64 bytes
                        // start at u·64 < bb. Query q's bytes 8u..8u+8 are
                        // within its code (8u + 8 ≤ qlen), which is within
                        // gs (asserted above). A prefetch never faults.
                        let ub = bp.add(u * UNIT_BYTES);
                        _mm_prefetch::<_MM_HINT_T0>(ub.wrapping_add(PREFETCH_BYTES) as *const i8);
                        let v0 = _mm256_loadu_si256(ub as *const __m256i);
                        let v1 = _mm256_loadu_si256(ub.add(32) as *const __m256i);
                        let lo0 = _mm256_and_si256(v0, mask);
                        let hi0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), mask);
                        let lo1 = _mm256_and_si256(v1, mask);
                        let hi1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), mask);
                        for (q, sq) in s.iter_mut().enumerate() {
                            let gp = gs.as_ptr().add(q * qlen + 8 * u) as *const i32;
                            let qa = _mm256_set1_epi32(gp.read_unaligned());
                            let qb = _mm256_set1_epi32(gp.add(1).read_unaligned());
                            // Each 16-bit lane gains at most 2 · 2 · 15 · 128
                            // = 7680 in magnitude per unit, four 30 720 <
                            // 2¹⁵: exact for any query byte, −128 too.
                            let p0 = _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo0, qa),
                                _mm256_maddubs_epi16(hi0, qb),
                            );
                            let p1 = _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo1, qa),
                                _mm256_maddubs_epi16(hi1, qb),
                            );
                            sq[0] = _mm256_add_epi16(sq[0], p0);
                            sq[1] = _mm256_add_epi16(sq[1], p1);
                        }
                        u += 1;
                    }
                    // A row's two 16-bit lanes summed into its 32-bit lane.
                    for (aq, sq) in acc.iter_mut().zip(&s) {
                        for (a, h) in aq.iter_mut().zip(sq) {
                            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(*h, ones));
                        }
                    }
                }
                for (q, aq) in acc.iter().enumerate() {
                    // SAFETY: query q's output row holds `rows` i32 (q < Q,
                    // out.len() ≥ Q · rows); block b's 16 lie within it.
                    let op = out.as_mut_ptr().add(q * rows + b * BLOCK_ROWS) as *mut __m256i;
                    _mm256_storeu_si256(op, _mm256_slli_epi32(aq[0], 4));
                    _mm256_storeu_si256(op.add(1), _mm256_slli_epi32(aq[1], 4));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{at_levels, Level};

    /// `len` code bytes: every byte value, and 255 (both nibbles 15) at every
    /// `every`-th.
    fn test_bytes(len: usize, every: usize, mul: usize) -> Vec<u8> {
        (0..len)
            .map(|i| {
                if i % every == 0 {
                    255
                } else {
                    (i * mul % 256) as u8
                }
            })
            .collect()
    }

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
            let blocks = test_bytes(nb * d8 * UNIT_BYTES, 7, 91);
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
    fn multi_query_dots_equal_one_query_dots() {
        // Every query count around the kernel's group of 4, odd unit counts
        // (a last widening group of fewer units), extreme bytes.
        let _level = crate::simd::test_level_lock();
        for d8 in [1usize, 3, 4, 5, 16, 17] {
            let nb = 3;
            let blocks = test_bytes(nb * d8 * UNIT_BYTES, 5, 73);
            for nq in [0usize, 1, 2, 3, 4, 5, 7, 8, 9] {
                let gs: Vec<i8> = (0..nq * 8 * d8)
                    .map(|i| match i % 6 {
                        0 => 127,
                        1 => -127,
                        _ => (i as i32 * 53 % 255 - 127) as i8,
                    })
                    .collect();
                let rows = nb * BLOCK_ROWS;
                let mut want = vec![0i32; nq * rows];
                for (g, w) in gs.chunks_exact(8 * d8).zip(want.chunks_exact_mut(rows)) {
                    nibble_dots_portable(g, &blocks, d8, w);
                }
                at_levels(&[Level::Baseline, Level::Avx2], |cap| {
                    let mut out = vec![0i32; nq * rows];
                    nibble_multi_dots(&gs, nq, &blocks, d8, &mut out);
                    assert_eq!(out, want, "d8={d8} nq={nq} {cap:?}");
                });
            }
        }
        // No saturation with every nibble 15 and every query byte ±127 (−128
        // too for the multi-query kernel), one query and five.
        for d8 in [4usize, 8, 9] {
            let blocks = vec![255u8; d8 * UNIT_BYTES];
            for (v, nq) in [(127i8, 1), (-127, 1), (127, 5), (-127, 5), (-128, 5)] {
                let gs = vec![v; nq * 8 * d8];
                let want = vec![16 * 15 * i32::from(v) * (8 * d8) as i32; nq * BLOCK_ROWS];
                at_levels(&[Level::Baseline, Level::Avx2], |cap| {
                    let mut out = vec![0i32; nq * BLOCK_ROWS];
                    if nq == 1 {
                        nibble_dots(&gs, &blocks, d8, &mut out);
                    } else {
                        nibble_multi_dots(&gs, nq, &blocks, d8, &mut out);
                    }
                    assert_eq!(out, want, "d8={d8} v={v} nq={nq} {cap:?}");
                });
            }
        }
    }
}
