//! Exact integer dot products of one int8 query code with blocks of 16 row
//! codes — the inner loop of the neighbour-search pre-scan.
//!
//! Layout of a block (16 rows, `d4` groups of 4 elements): group `k` is 64
//! bytes, row `r`'s elements `4k .. 4k+4` at bytes `4r .. 4r+4`, each stored as
//! `code + 128` (an unsigned byte). That is the operand shape of AVX-512 VNNI's
//! `vpdpbusd`: one instruction multiplies 4 unsigned bytes of each of 16 rows
//! by the same 4 signed query bytes (broadcast) and adds them to the row's
//! 32-bit lane, so a block's 16 dot products build up in one register with no
//! horizontal sums. The `+ 128` is taken back once per query:
//! `Σ (c + 128) g = Σ c g + 128 Σ g`. Integer arithmetic: every variant gives
//! the same, exact result.

/// Rows per block.
pub const BLOCK_ROWS: usize = 16;
/// Bytes per group of 4 elements of a block.
pub const GROUP_BYTES: usize = 4 * BLOCK_ROWS;

/// `true` when [`block_dots`] has a vector kernel here that beats reading
/// the float rows: AVX-512 VNNI, or AVX2 (`vpmaddubsw` + `vpmaddwd`, a
/// quarter of VNNI's multiply-adds per instruction but still far faster than
/// the memory a one-query float scan waits for). The portable loop is slower
/// than the float scan.
pub fn fast() -> bool {
    vnni() || avx2()
}

/// `true` when [`multi_block_dots`] runs on VNNI here (the batch pre-scan only
/// pays then: with AVX2 the int8 product does no more multiply-adds per cycle
/// than the float32 GEMM it would replace).
pub fn fast_multi() -> bool {
    vnni()
}

fn vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::level() == super::Level::Avx512 && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `true` when the AVX2 kernels may run (also those of `nibble_dots`).
pub(super) fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::level() >= super::Level::Avx2
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The portable definition: `out[16b + r] = Σ_e byte(b, r, e) · g[e]` over the
/// `4·d4` elements (bytes read as unsigned).
fn block_dots_portable(g: &[i8], blocks: &[u8], d4: usize, out: &mut [i32]) {
    let bb = d4 * GROUP_BYTES;
    for (blk, o) in blocks
        .chunks_exact(bb)
        .zip(out.chunks_exact_mut(BLOCK_ROWS))
    {
        let mut acc = [0i32; BLOCK_ROWS];
        for (k, grp) in blk.chunks_exact(GROUP_BYTES).enumerate() {
            let q = &g[4 * k..4 * k + 4];
            for (r, a) in acc.iter_mut().enumerate() {
                for e in 0..4 {
                    *a += i32::from(grp[4 * r + e]) * i32::from(q[e]);
                }
            }
        }
        o.copy_from_slice(&acc);
    }
}

/// `out[16b + r] = Σ_e (c + 128) · g[e]` for row `r` of every block `b` of
/// `blocks` (`g.len() == 4 · d4`, `blocks.len() == out.len() / 16 · 64 · d4`).
pub fn block_dots(g: &[i8], blocks: &[u8], d4: usize, out: &mut [i32]) {
    assert_eq!(g.len(), 4 * d4);
    assert_eq!(out.len() % BLOCK_ROWS, 0);
    assert_eq!(blocks.len(), out.len() / BLOCK_ROWS * d4 * GROUP_BYTES);
    #[cfg(target_arch = "x86_64")]
    {
        if vnni() {
            // SAFETY: vnni() is true only if the CPU reports avx512f and
            // avx512vnni; the lengths were asserted above.
            return unsafe { x86::block_dots_vnni(g, blocks, d4, out) };
        }
        if avx2() {
            // SAFETY: avx2() is true only if the CPU reports avx2 (level() is
            // Avx2 or higher only then); the lengths were asserted above.
            return unsafe { x86::block_dots_avx2(g, blocks, d4, out) };
        }
    }
    block_dots_portable(g, blocks, d4, out);
}

/// Queries per pass of [`multi_block_dots`]'s vector kernel (each block of
/// codes is loaded once per group of this many queries).
pub const QUERY_GROUP: usize = 8;

/// The portable definition of [`multi_block_dots`].
fn multi_block_dots_portable(gs: &[i8], nq: usize, blocks: &[u8], d4: usize, out: &mut [i32]) {
    let rows = out.len() / nq.max(1);
    for (g, o) in gs.chunks_exact(4 * d4).zip(out.chunks_exact_mut(rows)) {
        block_dots_portable(g, blocks, d4, o);
    }
}

/// The codes of `nq` queries (`gs`: `nq` rows of `4 · d4` signed bytes)
/// against the same blocks: `out[i · rows + 16b + r] = Σ_e (c + 128) · g_i[e]`
/// for query `i` and row `r` of block `b`, where `rows = out.len() / nq` is
/// 16 times the number of blocks — the query-batch form of [`block_dots`]
/// (an int8 matrix product). Exact integer arithmetic: every variant gives
/// the same result.
pub fn multi_block_dots(gs: &[i8], nq: usize, blocks: &[u8], d4: usize, out: &mut [i32]) {
    assert_eq!(gs.len(), nq * 4 * d4);
    if nq == 0 {
        assert!(out.is_empty());
        return;
    }
    assert_eq!(out.len() % (nq * BLOCK_ROWS), 0);
    let rows = out.len() / nq;
    assert_eq!(blocks.len(), rows / BLOCK_ROWS * d4 * GROUP_BYTES);
    #[cfg(target_arch = "x86_64")]
    if vnni() {
        // SAFETY: vnni() is true only if the CPU reports avx512f and avx512vnni;
        // the lengths were asserted above.
        return unsafe { x86::multi_block_dots_vnni(gs, nq, blocks, d4, out) };
    }
    multi_block_dots_portable(gs, nq, blocks, d4, out);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK_ROWS, GROUP_BYTES};
    use std::arch::x86_64::*;

    /// How far ahead of its loads `block_dots_avx2` prefetches (two blocks
    /// at dim 128; from 1 to 8 KiB all gave the same speed).
    const PREFETCH_BYTES: usize = 4096;

    /// # Safety
    /// The CPU must support avx512f and avx512vnni; lengths as `block_dots`.
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub unsafe fn block_dots_vnni(g: &[i8], blocks: &[u8], d4: usize, out: &mut [i32]) {
        let gp = g.as_ptr() as *const i32;
        let bb = d4 * GROUP_BYTES;
        for (b, o) in out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            // SAFETY: block b spans bytes [b·bb, (b+1)·bb) of `blocks` (length
            // asserted by the caller); group k reads 64 bytes at k·64 < bb and
            // 4 query bytes at 4k < 4·d4 = g.len(); the store writes o's 16 i32.
            unsafe {
                let bp = blocks.as_ptr().add(b * bb);
                // Four independent sums: vpdpbusd's latency is several cycles.
                let mut acc = [_mm512_setzero_si512(); 4];
                let mut k = 0;
                while k + 4 <= d4 {
                    for (a, s) in acc.iter_mut().enumerate() {
                        let q = _mm512_set1_epi32(gp.add(k + a).read_unaligned());
                        let x = _mm512_loadu_si512(bp.add((k + a) * GROUP_BYTES) as *const _);
                        *s = _mm512_dpbusd_epi32(*s, x, q);
                    }
                    k += 4;
                }
                while k < d4 {
                    let q = _mm512_set1_epi32(gp.add(k).read_unaligned());
                    let x = _mm512_loadu_si512(bp.add(k * GROUP_BYTES) as *const _);
                    acc[0] = _mm512_dpbusd_epi32(acc[0], x, q);
                    k += 1;
                }
                let s = _mm512_add_epi32(
                    _mm512_add_epi32(acc[0], acc[1]),
                    _mm512_add_epi32(acc[2], acc[3]),
                );
                _mm512_storeu_si512(o.as_mut_ptr() as *mut _, s);
            }
        }
    }

    /// `block_dots` with AVX2. A 256-bit register holds 8 rows' 4 bytes of a
    /// group (half a group). Each byte is read as the signed `s = byte − 128`
    /// (an xor), and `Σ s·g` built exactly: `vpmaddubsw(|s|, sign(g, s))`
    /// multiplies the unsigned `|s| ≤ 128` by `±g` (`|g| ≤ 127`, so a pair
    /// sums to at most 2·128·127 = 32512: no 16-bit saturation), `vpmaddwd`
    /// by ones adds the pairs into the row's 32-bit lane. The `+ 128` of the
    /// definition comes back as `128 Σ g`, added once per row.
    ///
    /// # Safety
    /// The CPU must support avx2; lengths as `block_dots` (`g.len() == 4·d4`,
    /// every value of `g` in −127..=127, `blocks`: `out.len() / 16` blocks).
    #[target_feature(enable = "avx2")]
    pub unsafe fn block_dots_avx2(g: &[i8], blocks: &[u8], d4: usize, out: &mut [i32]) {
        let gp = g.as_ptr() as *const i32;
        let bb = d4 * GROUP_BYTES;
        let offset = 128 * g.iter().map(|&v| i32::from(v)).sum::<i32>();
        // SAFETY (whole body): register-only intrinsics except the loads and
        // stores, whose bounds are given where they occur.
        unsafe {
            let flip = _mm256_set1_epi8(-128);
            let ones = _mm256_set1_epi16(1);
            let off = _mm256_set1_epi32(offset);
            // Σ over one half group: 8 rows' 4 products each.
            let step = |x: __m256i, q: __m256i| {
                let s = _mm256_xor_si256(x, flip);
                let p = _mm256_maddubs_epi16(_mm256_abs_epi8(s), _mm256_sign_epi8(q, s));
                _mm256_madd_epi16(p, ones)
            };
            for (b, o) in out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
                let bp = blocks.as_ptr().add(b * bb);
                // Rows 0..8 and 8..16, two independent sums each.
                let mut acc = [_mm256_setzero_si256(); 4];
                let mut k = 0;
                // SAFETY: block b spans bytes [b·bb, (b+1)·bb) of `blocks`
                // (asserted by the caller); group k reads 64 bytes at k·64 < bb
                // and 4 query bytes at 4k < 4·d4 = g.len().
                while k + 2 <= d4 {
                    // With the hardware prefetcher alone the loads wait: codes
                    // streamed from memory took 29 ns per row at dim 128 on
                    // the AVX2 reference machine (AMD EPYC, Zen), 20 with this.
                    // A prefetch never faults: past the end of `blocks` it is
                    // only a wasted hint.
                    let ahead = bp.wrapping_add(k * GROUP_BYTES + PREFETCH_BYTES);
                    _mm_prefetch::<_MM_HINT_T0>(ahead as *const i8);
                    _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(GROUP_BYTES) as *const i8);
                    for h in 0..2 {
                        let q = _mm256_set1_epi32(gp.add(k + h).read_unaligned());
                        let gb = bp.add((k + h) * GROUP_BYTES);
                        let lo = _mm256_loadu_si256(gb as *const __m256i);
                        let hi = _mm256_loadu_si256(gb.add(32) as *const __m256i);
                        acc[2 * h] = _mm256_add_epi32(acc[2 * h], step(lo, q));
                        acc[2 * h + 1] = _mm256_add_epi32(acc[2 * h + 1], step(hi, q));
                    }
                    k += 2;
                }
                if k < d4 {
                    let q = _mm256_set1_epi32(gp.add(k).read_unaligned());
                    let gb = bp.add(k * GROUP_BYTES);
                    let lo = _mm256_loadu_si256(gb as *const __m256i);
                    let hi = _mm256_loadu_si256(gb.add(32) as *const __m256i);
                    acc[0] = _mm256_add_epi32(acc[0], step(lo, q));
                    acc[1] = _mm256_add_epi32(acc[1], step(hi, q));
                }
                let lo = _mm256_add_epi32(_mm256_add_epi32(acc[0], acc[2]), off);
                let hi = _mm256_add_epi32(_mm256_add_epi32(acc[1], acc[3]), off);
                // SAFETY: o holds 16 i32 (chunks_exact).
                _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, lo);
                _mm256_storeu_si256(o.as_mut_ptr().add(8) as *mut __m256i, hi);
            }
        }
    }

    /// # Safety
    /// The CPU must support avx512f and avx512vnni; lengths as
    /// `multi_block_dots` (`gs`: `nq · 4 · d4` bytes, `blocks`: `rows / 16`
    /// blocks, `out`: `nq · rows` values, `nq ≥ 1`).
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub unsafe fn multi_block_dots_vnni(
        gs: &[i8],
        nq: usize,
        blocks: &[u8],
        d4: usize,
        out: &mut [i32],
    ) {
        const G: usize = super::QUERY_GROUP;
        let rows = out.len() / nq;
        let nb = rows / BLOCK_ROWS;
        let bb = d4 * GROUP_BYTES;
        let qstride = 4 * d4;
        let full = nq / G * G;
        for b in 0..nb {
            // SAFETY: block b spans bytes [b·bb, (b+1)·bb) of `blocks` (nb blocks
            // asserted by the caller); group k reads 64 bytes at b·bb + k·64.
            // Query i's bytes 4k..4k+4 lie at i·qstride + 4k < nq·4·d4 =
            // gs.len(). Stores write 16 i32 at i·rows + 16b ≤ i·rows + rows − 16,
            // inside out (nq·rows values).
            unsafe {
                let bp = blocks.as_ptr().add(b * bb);
                let mut q0 = 0;
                while q0 < full {
                    let gp = gs.as_ptr().add(q0 * qstride);
                    let mut acc = [_mm512_setzero_si512(); G];
                    for k in 0..d4 {
                        let x = _mm512_loadu_si512(bp.add(k * GROUP_BYTES) as *const _);
                        for (a, s) in acc.iter_mut().enumerate() {
                            let q = (gp.add(a * qstride + 4 * k) as *const i32).read_unaligned();
                            *s = _mm512_dpbusd_epi32(*s, x, _mm512_set1_epi32(q));
                        }
                    }
                    for (a, s) in acc.iter().enumerate() {
                        let o = out.as_mut_ptr().add((q0 + a) * rows + b * BLOCK_ROWS);
                        _mm512_storeu_si512(o as *mut _, *s);
                    }
                    q0 += G;
                }
                for q in full..nq {
                    let gp = gs.as_ptr().add(q * qstride);
                    let mut s = _mm512_setzero_si512();
                    for k in 0..d4 {
                        let x = _mm512_loadu_si512(bp.add(k * GROUP_BYTES) as *const _);
                        let g = (gp.add(4 * k) as *const i32).read_unaligned();
                        s = _mm512_dpbusd_epi32(s, x, _mm512_set1_epi32(g));
                    }
                    let o = out.as_mut_ptr().add(q * rows + b * BLOCK_ROWS);
                    _mm512_storeu_si512(o as *mut _, s);
                }
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
        for d4 in [1usize, 3, 4, 5, 32, 33] {
            let nb = 3;
            let g: Vec<i8> = (0..4 * d4)
                .map(|i| (i as i32 * 37 % 255 - 127) as i8)
                .collect();
            let blocks: Vec<u8> = (0..nb * d4 * GROUP_BYTES)
                .map(|i| (i * 91 % 256) as u8)
                .collect();
            let mut want = vec![0i32; nb * BLOCK_ROWS];
            for b in 0..nb {
                for r in 0..BLOCK_ROWS {
                    for e in 0..4 * d4 {
                        let byte =
                            blocks[b * d4 * GROUP_BYTES + (e / 4) * GROUP_BYTES + 4 * r + e % 4];
                        want[b * BLOCK_ROWS + r] += byte as i32 * g[e] as i32;
                    }
                }
            }
            at_levels(&[Level::Baseline, Level::Avx2, Level::Avx512], |cap| {
                let mut out = vec![0i32; nb * BLOCK_ROWS];
                block_dots(&g, &blocks, d4, &mut out);
                assert_eq!(out, want, "d4={d4} {cap:?}");
            });
        }
    }

    #[test]
    fn query_batches_match_single_queries_exactly() {
        let _level = crate::simd::test_level_lock();
        for (d4, nq) in [(1usize, 1usize), (3, 7), (32, 8), (33, 19), (5, 0)] {
            let nb = 3;
            let gs: Vec<i8> = (0..nq * 4 * d4)
                .map(|i| (i as i32 * 53 % 255 - 127) as i8)
                .collect();
            let blocks: Vec<u8> = (0..nb * d4 * GROUP_BYTES)
                .map(|i| (i * 97 % 256) as u8)
                .collect();
            let rows = nb * BLOCK_ROWS;
            let mut want = vec![0i32; nq * rows];
            for (g, w) in gs.chunks_exact(4 * d4).zip(want.chunks_exact_mut(rows)) {
                block_dots_portable(g, &blocks, d4, w);
            }
            at_levels(&[Level::Baseline, Level::Avx512], |cap| {
                let mut out = vec![-1i32; nq * rows];
                multi_block_dots(&gs, nq, &blocks, d4, &mut out);
                assert_eq!(out, want, "d4={d4} nq={nq} {cap:?}");
            });
        }
    }
}
