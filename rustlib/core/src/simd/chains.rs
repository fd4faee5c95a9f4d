//! Several [`chain_dot`](super::gemm::chain_dot)s at once: the exact scoring
//! of the few rows a neighbour pre-scan cannot rule out, which must give the
//! bits of the float scan's `gemm` entries (one fused multiply-add per
//! element, in order).
//!
//! One chain waits for each step's result (4–5 cycles) before the next, so
//! several independent chains are interleaved. The AVX2 kernel for float32
//! holds 8 chains in the lanes of one register, the elements of the 8 pairs
//! transposed 8 at a time; the portable loop keeps 8 scalar chains.

use super::gemm::GemmElement;

/// Dot products [`chain_dots`] computes together.
pub const CHAIN_ROWS: usize = 8;

/// `out[r] = chain_dot(a[r], b[r])` for up to [`CHAIN_ROWS`] pairs of rows
/// of one length: the same chains, so the same bits, in about the time of one
/// [`chain_dot`](super::gemm::chain_dot).
pub fn chain_dots<T: GemmElement>(a: &[&[T]], b: &[&[T]], out: &mut [T]) {
    let n = out.len();
    assert!(n <= CHAIN_ROWS && a.len() == n && b.len() == n);
    let d = a.first().map_or(0, |r| r.len());
    assert!(a.iter().chain(b).all(|r| r.len() == d));
    if n > 0 {
        T::chains(a, b, out)
    }
}

/// A full set of [`CHAIN_ROWS`] pairs from `n ≥ 1` (the missing ones repeat
/// the first), each cut to length `d`.
#[inline(always)]
fn full<'a, T>(v: &[&'a [T]], d: usize) -> [&'a [T]; CHAIN_ROWS] {
    std::array::from_fn(|r| &v.get(r).unwrap_or(&v[0])[..d])
}

/// The portable definition of [`chain_dots`] (at least one pair).
#[inline(always)]
fn chains_body<T: GemmElement>(a: &[&[T]], b: &[&[T]], out: &mut [T]) {
    let d = a[0].len();
    let (ra, rb) = (full(a, d), full(b, d));
    let mut acc = [T::default(); CHAIN_ROWS];
    for e in 0..d {
        for ((c, x), y) in acc.iter_mut().zip(&ra).zip(&rb) {
            *c = T::fused(x[e], y[e], *c);
        }
    }
    let n = out.len();
    out.copy_from_slice(&acc[..n]);
}

crate::multiversion! {
    fn chains_portable_f32(a: &[&[f32]], b: &[&[f32]], out: &mut [f32]) -> () = chains_body::<f32>;
}
crate::multiversion! {
    pub(super) fn chains_f64(a: &[&[f64]], b: &[&[f64]], out: &mut [f64]) -> () = chains_body::<f64>;
}

/// [`chain_dots`] for float32 (at least one pair).
pub(super) fn chains_f32(a: &[&[f32]], b: &[&[f32]], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if super::level() >= super::Level::Avx2 {
        let d = a[0].len();
        let mut acc = [0.0f32; CHAIN_ROWS];
        // SAFETY: level() is Avx2 or higher only if the CPU reports avx2 and
        // fma; every row of the full sets has d elements (asserted by
        // chain_dots, cut by `full`).
        unsafe { x86::chains8_f32(&full(a, d), &full(b, d), d, &mut acc) };
        let n = out.len();
        out.copy_from_slice(&acc[..n]);
        return;
    }
    chains_portable_f32(a, b, out)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAIN_ROWS;
    use std::arch::x86_64::*;

    /// Elements 4h .. 4h + 4 past `at` of the 8 rows `p` as 4 registers, one
    /// per element, lane r holding row r's (rows 0–3 in the low half: each
    /// register is built from two 128-bit loads, rows r and r + 4, then 4×4
    /// transposed within the halves).
    ///
    /// # Safety
    /// avx2; every row holds at least `at + 4h + 4` elements.
    #[inline(always)]
    unsafe fn columns(p: &[&[f32]; CHAIN_ROWS], at: usize, h: usize) -> [__m256; 4] {
        // SAFETY: the loads read 4 floats at at + 4h of each row, within it
        // (caller); the rest are register operations.
        unsafe {
            let ld = |r: usize| {
                let lo = _mm_loadu_ps(p[r].as_ptr().add(at + 4 * h));
                let hi = _mm_loadu_ps(p[r + 4].as_ptr().add(at + 4 * h));
                _mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi)
            };
            let (r0, r1, r2, r3) = (ld(0), ld(1), ld(2), ld(3));
            let t0 = _mm256_unpacklo_ps(r0, r1);
            let t1 = _mm256_unpackhi_ps(r0, r1);
            let t2 = _mm256_unpacklo_ps(r2, r3);
            let t3 = _mm256_unpackhi_ps(r2, r3);
            [
                _mm256_shuffle_ps::<0x44>(t0, t2),
                _mm256_shuffle_ps::<0xee>(t0, t2),
                _mm256_shuffle_ps::<0x44>(t1, t3),
                _mm256_shuffle_ps::<0xee>(t1, t3),
            ]
        }
    }

    /// `acc[r] = chain_dot(a[r][..d], b[r][..d])`: lane r of one register
    /// is chain r, one fused multiply-add per element in order.
    ///
    /// # Safety
    /// The CPU must support avx2 and fma; every row holds `d` elements.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chains8_f32(
        a: &[&[f32]; CHAIN_ROWS],
        b: &[&[f32]; CHAIN_ROWS],
        d: usize,
        acc: &mut [f32; CHAIN_ROWS],
    ) {
        // SAFETY: `columns` reads elements e .. e + 8 < d of each row
        // (e + 8 ≤ d); the tail reads element e < d; the store writes the 8
        // floats of `acc`.
        unsafe {
            let mut s = _mm256_setzero_ps();
            let mut e = 0;
            while e + 8 <= d {
                for h in 0..2 {
                    let (x, y) = (columns(a, e, h), columns(b, e, h));
                    for (xi, yi) in x.iter().zip(&y) {
                        s = _mm256_fmadd_ps(*xi, *yi, s);
                    }
                }
                e += 8;
            }
            while e < d {
                let x = _mm256_setr_ps(
                    a[0][e], a[1][e], a[2][e], a[3][e], a[4][e], a[5][e], a[6][e], a[7][e],
                );
                let y = _mm256_setr_ps(
                    b[0][e], b[1][e], b[2][e], b[3][e], b[4][e], b[5][e], b[6][e], b[7][e],
                );
                s = _mm256_fmadd_ps(x, y, s);
                e += 1;
            }
            _mm256_storeu_ps(acc.as_mut_ptr(), s);
        }
    }
}
