//! Hot loops: scoring a tile of dot products and feeding it to the per-query
//! top-k, dot products for a few queries, row norms. Written as lane loops and
//! compiled per instruction set with `multiversion!`.

use super::topk::TopK;
use super::Metric;
use crate::float::{halving_sum, Float};
use crate::multiversion;

/// Candidates are tested against the threshold this many at a time.
const CHUNK: usize = 32; // bits of the u32 mask below
const LANES: usize = 16;

/// Scores one row of dot products chunk by chunk (`score(dot, x_aux)`, smaller
/// is better) and offers a chunk to the top-k only if one of its scores beats
/// the current threshold: one pass over the tile row, scores kept in registers.
#[inline(always)]
fn scan_row<T: Float>(
    row: &[T],
    xa: &[T],
    base: usize,
    top: &mut TopK<T>,
    score: impl Fn(T, T) -> T,
) {
    let mut j0 = base;
    for (dots, xs) in row.chunks(CHUNK).zip(xa.chunks(CHUNK)) {
        let len = dots.len();
        match (
            top.threshold(),
            <&[T; CHUNK]>::try_from(dots),
            <&[T; CHUNK]>::try_from(xs),
        ) {
            (Some(thr), Ok(d), Ok(x)) => {
                // A bit per score not above the threshold (vector compares,
                // nothing stored); only those are scored again and offered (a
                // tie is kept if its index is lower: rows may come in any order).
                let mut mask: u32 = 0;
                for o in 0..CHUNK {
                    mask |= u32::from(score(d[o], x[o]) <= thr) << o;
                }
                while mask != 0 {
                    let o = mask.trailing_zeros() as usize;
                    top.offer(score(d[o], x[o]), j0 + o);
                    mask &= mask - 1;
                }
            }
            _ => {
                for (o, (&d, &x)) in dots.iter().zip(xs).enumerate() {
                    top.offer(score(d, x), j0 + o);
                }
            }
        }
        j0 += len;
    }
}

/// The scan's score of dot product `d` (smaller is better): L2
/// `max(‖q‖² + ‖x‖² − 2 q·x, 0)` (NaN stays NaN) with the squared norms `qa` /
/// `x`; inner product `−q·x`; cosine `−(q·x)/(‖q‖‖x‖)` with the inverse norms
/// `qa` / `x`. One function for the tile scan and for the single pairs the
/// pre-scans score, so both give the same bits.
#[inline(always)]
pub(super) fn score<T: Float>(metric: Metric, qa: T, d: T, x: T) -> T {
    match metric {
        Metric::SqEuclidean | Metric::Euclidean => {
            let v = qa + x - (d + d);
            if v < T::ZERO {
                T::ZERO
            } else {
                v
            }
        }
        Metric::InnerProduct => T::ZERO - d,
        Metric::Cosine => T::ZERO - d * qa * x,
    }
}

/// Scores an `m × n` tile of dot products (row-major, rows = queries) and offers
/// every score ([`score`]) to its query's top-k; `base` is the database index
/// of column 0. `qaux` / `xaux` hold the squared norms (L2) or inverse norms
/// (cosine).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn scan_tile_body<T: Float>(
    tile: &mut [T],
    m: usize,
    n: usize,
    metric: Metric,
    qaux: &[T],
    xaux: &[T],
    base: usize,
    tops: &mut [TopK<T>],
) {
    let xaux = &xaux[..n];
    for i in 0..m {
        let row = &tile[i * n..(i + 1) * n];
        let qa = qaux[i];
        let top = &mut tops[i];
        // One arm per metric, so each loop has its score inlined.
        match metric {
            Metric::SqEuclidean | Metric::Euclidean => scan_row(row, xaux, base, top, |d, x| {
                score(Metric::SqEuclidean, qa, d, x)
            }),
            Metric::InnerProduct => scan_row(row, xaux, base, top, |d, x| {
                score(Metric::InnerProduct, qa, d, x)
            }),
            Metric::Cosine => {
                scan_row(row, xaux, base, top, |d, x| score(Metric::Cosine, qa, d, x))
            }
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scan_tile_f32(tile: &mut [f32], m: usize, n: usize, metric: Metric, qaux: &[f32], xaux: &[f32], base: usize, tops: &mut [TopK<f32>]) -> () = scan_tile_body::<f32>;
}
multiversion! {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scan_tile_f64(tile: &mut [f64], m: usize, n: usize, metric: Metric, qaux: &[f64], xaux: &[f64], base: usize, tops: &mut [TopK<f64>]) -> () = scan_tile_body::<f64>;
}

#[inline(always)]
fn dot_lanes<T: Float>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    let ac = a.chunks_exact(LANES);
    let bc = b.chunks_exact(LANES);
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] = acc[l] + x[l] * y[l];
        }
    }
    for l in 0..ar.len() {
        acc[l] = acc[l] + ar[l] * br[l];
    }
    halving_sum(acc)
}

/// `out[i * n + j] = q_i · x_j` for a few queries (`m` rows of `q`) against `n`
/// rows of `x`; each database row is read once for all queries. Used instead of
/// GEMM when there are too few queries for packing to pay.
#[inline(always)]
fn small_dots_body<T: Float>(q: &[T], m: usize, x: &[T], n: usize, d: usize, out: &mut [T]) {
    for j in 0..n {
        let xr = &x[j * d..(j + 1) * d];
        for i in 0..m {
            out[i * n + j] = dot_lanes(&q[i * d..(i + 1) * d], xr);
        }
    }
}

/// float32: one query at a time through the vector kernel of `simd::dots`
/// (same lane structure and bits as `small_dots_body`; the block of rows stays
/// in cache between queries).
pub(crate) fn small_dots_f32(q: &[f32], m: usize, x: &[f32], n: usize, d: usize, out: &mut [f32]) {
    for i in 0..m {
        crate::simd::dots::dots_f32(
            &q[i * d..(i + 1) * d],
            &x[..n * d],
            d,
            &mut out[i * n..(i + 1) * n],
        );
    }
}
multiversion! {
    pub(crate) fn small_dots_f64(q: &[f64], m: usize, x: &[f64], n: usize, d: usize, out: &mut [f64]) -> () = small_dots_body::<f64>;
}

/// Squared norms of the `d`-element rows of `x`, summed in float64 (8 lanes).
#[inline(always)]
fn sq_norms_body<T: Float>(x: &[T], d: usize, out: &mut [f64]) {
    for (row, o) in x.chunks_exact(d).zip(out.iter_mut()) {
        let mut acc = [0.0f64; 8];
        let c = row.chunks_exact(8);
        let r = c.remainder();
        for v in c {
            for l in 0..8 {
                let f = v[l].to_f64();
                acc[l] += f * f;
            }
        }
        for (l, &v) in r.iter().enumerate() {
            let f = v.to_f64();
            acc[l] += f * f;
        }
        *o = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

multiversion! {
    pub(crate) fn sq_norms_f32(x: &[f32], d: usize, out: &mut [f64]) -> () = sq_norms_body::<f32>;
}
multiversion! {
    pub(crate) fn sq_norms_f64(x: &[f64], d: usize, out: &mut [f64]) -> () = sq_norms_body::<f64>;
}
