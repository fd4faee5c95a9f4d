//! Exact index search of a batch of queries through an int8 matrix product:
//! the query-batch form of the pre-scan in `prefilter`.
//!
//! Why: a batch of queries is bound by arithmetic, not memory: the float scan
//! is a float32 matrix product (`gemm`), 16 multiply-adds per instruction with
//! AVX-512. The int8 codes of the rows (kept by the index, see `quant`) and of
//! the queries multiply with AVX-512 VNNI's `vpdpbusd`, 64 multiply-adds per
//! instruction, exactly (integer arithmetic).
//!
//! How: every (query, row) pair gets the proven interval `[lower, upper]` of
//! `prefilter` around the score the float scan computes for it; per query,
//! `t` = the k-th smallest upper bound, and only rows whose lower bound does
//! not exceed `t` — typically k plus a few — are scored in float. They are
//! scored exactly as the float scan scores them: that scan's product entries
//! are [`chain_dot`](crate::simd::gemm::chain_dot)s (one fused multiply-add per element, in order: the
//! `gemm` micro-kernel, checked on the running CPU by [`chain_matches_gemm`],
//! and [`gemm_abt_chained`] for the blocks `gemm` would compute another way),
//! or `small_dots` for a last block of fewer than `SMALL_QUERIES` queries.
//! The same scores go to the same top-k, so the result is bit-identical to
//! the float scan (tested). Where the bounds do not separate the rows, or a
//! query has no usable code (NaN, infinite or huge values), the caller runs
//! the float scan.

use super::prefilter::{
    bounds, offer_piece, prune, query_code, survivors, PartFound, QueryBounds, RowsBounds,
};
use super::quant::Codes;
use super::topk::TopK;
use super::{KnnFloat, Search, QUERY_BLOCK, SMALL_QUERIES};
use crate::sched::Team;
use crate::simd::gemm::{chain_dots, chain_matches_gemm, CHAIN_MAX_DEPTH, CHAIN_ROWS};
use crate::simd::int8_dots::{multi_block_dots, BLOCK_ROWS};

/// Queries per task (a multiple of the kernel's query group).
const QUERIES: usize = 64;
/// Rows per piece: the codes of a piece (64 KiB at dim 128) stay in the
/// first-level cache while every query of the task passes over them.
const PIECE_ROWS: usize = 512;
/// Queries per task of the exact rescoring of the survivors.
const RESCORE_QUERIES: usize = 4;
/// The work is cut into about this many tasks.
const TARGET_TASKS: usize = 16;

/// Queries from which a one-shot search codes the database for the batch
/// pre-scan: coding costs about as much as scanning the database in float for
/// a few queries, and the pre-scan saves most of every query's float scan.
pub(crate) const CODE_ON_THE_FLY_QUERIES: usize = 64;

/// `true` when the batch pre-scan can pay for a search of `k` of `nd` rows:
/// as the one-query pre-scan ([`super::prefilter::worthwhile`]), and the int8
/// product runs on VNNI (with AVX2 it does no more multiply-adds per cycle
/// than the float32 GEMM it would replace).
pub(crate) fn worthwhile(nd: usize, k: usize) -> bool {
    super::prefilter::worthwhile(nd, k) && crate::simd::int8_dots::fast_multi()
}

/// `true` when the batch pre-scan can run for this search: codes that match
/// it, a depth whose float products are [`chain_dot`](crate::simd::gemm::chain_dot)s on this CPU.
pub(crate) fn applies<T: KnnFloat>(s: &Search<'_, T>, codes: &Codes) -> bool {
    codes.len() == s.nd
        && codes.dim == s.dim
        && codes.metric == s.metric
        && s.dim <= CHAIN_MAX_DEPTH
        && s.dim <= super::quant::MAX_DIM
        && chain_matches_gemm::<T>()
}

/// The top-k of every query of `s` (at least `SMALL_QUERIES` of them) under
/// the float scan's scores, as one [`TopK`] per query; `None` when the
/// pre-scan cannot narrow the search (see the module text). `team` runs the
/// tasks.
pub(crate) fn candidates<T: KnnFloat>(
    s: &Search<'_, T>,
    qaux: &[T],
    codes: &Codes,
    team: &Team,
) -> Option<Vec<TopK<T>>> {
    let &Search {
        queries,
        dim,
        nq,
        nd,
        k,
        metric,
        ..
    } = s;
    if !applies(s, codes) {
        return None;
    }
    let d4 = codes.d4();
    let qlen = 4 * d4;
    let mut gs = vec![0i8; nq * qlen];
    let mut qb: Vec<QueryBounds> = Vec::with_capacity(nq);
    for (i, g) in gs.chunks_exact_mut(qlen).enumerate() {
        let (code, b) = query_code(codes, &queries[i * dim..(i + 1) * dim], qaux[i], metric)?;
        g.copy_from_slice(&code);
        qb.push(b);
    }
    let max_cands = (nd / 16).max(4 * k + 64);
    let qtasks = nq.div_ceil(QUERIES);
    let pieces = nd.div_ceil(PIECE_ROWS);
    let chunks = TARGET_TASKS.div_ceil(qtasks).clamp(1, pieces);
    // Chunk c: pieces [pieces·c/chunks, pieces·(c+1)/chunks) — whole blocks.
    let chunk_rows = |c: usize| ((pieces * c / chunks) * PIECE_ROWS).min(nd);
    let task = |t: usize| -> Option<Vec<PartFound>> {
        let (qt, c) = (t / chunks, t % chunks);
        let q0 = qt * QUERIES;
        let m = QUERIES.min(nq - q0);
        let (r0, r1) = (chunk_rows(c), chunk_rows(c + 1));
        let mut found: Vec<PartFound> = (0..m).map(|_| (TopK::new(k), Vec::new())).collect();
        let mut dots = vec![0i32; m * PIECE_ROWS];
        let (mut lo, mut hi) = (vec![0.0f32; PIECE_ROWS], vec![0.0f32; PIECE_ROWS]);
        let bb = codes.block_bytes();
        let mut x0 = r0;
        while x0 < r1 {
            let n = PIECE_ROWS.min(r1 - x0);
            let nb = n.div_ceil(BLOCK_ROWS);
            let padded = nb * BLOCK_ROWS;
            let b0 = x0 / BLOCK_ROWS;
            let dots = &mut dots[..m * padded];
            multi_block_dots(
                &gs[q0 * qlen..(q0 + m) * qlen],
                m,
                &codes.bytes[b0 * bb..(b0 + nb) * bb],
                d4,
                dots,
            );
            for (i, (upper, cands)) in found.iter_mut().enumerate() {
                let rows = RowsBounds::piece(codes, &dots[i * padded..(i + 1) * padded], x0, n);
                bounds(metric, &qb[q0 + i], &rows, &mut lo[..n], &mut hi[..n]);
                offer_piece(&lo[..n], &hi[..n], x0, upper, cands);
                if !prune(upper, cands, max_cands) {
                    return None;
                }
            }
            x0 += n;
        }
        Some(found)
    };
    let parts: Vec<Option<Vec<PartFound>>> = team.map(qtasks * chunks, task);
    let parts: Vec<Vec<PartFound>> = parts.into_iter().collect::<Option<_>>()?;
    // Per task of RESCORE_QUERIES queries: each query's survivors over all
    // chunks, scored in float exactly as the float scan scores them. Small
    // tasks, so a helper on a busy core holds up the end of the call by a few
    // queries' scoring at most (one task per 64 queries left a 100-query
    // search 2 tasks here: the slower core decided).
    let rescore = |t: usize| -> Option<Vec<TopK<T>>> {
        let q0 = t * RESCORE_QUERIES;
        (q0..(q0 + RESCORE_QUERIES).min(nq))
            .map(|q| {
                let (qt, i) = (q / QUERIES, q % QUERIES);
                let mine: Vec<&PartFound> =
                    (0..chunks).map(|c| &parts[qt * chunks + c][i]).collect();
                let mut rows = survivors(&mine, k, max_cands)?;
                rows.sort_unstable();
                Some(score_rows(s, qaux, q, &rows))
            })
            .collect()
    };
    let tops: Vec<Option<Vec<TopK<T>>>> = team.map(nq.div_ceil(RESCORE_QUERIES), rescore);
    let mut all = Vec::with_capacity(nq);
    for t in tops {
        all.extend(t?);
    }
    Some(all)
}

/// Scores `rows` for query `qi` as the float scan does and returns its top-k.
fn score_rows<T: KnnFloat>(s: &Search<'_, T>, qaux: &[T], qi: usize, rows: &[usize]) -> TopK<T> {
    let mut top = TopK::new(s.k);
    let mut dots = [T::ZERO; CHAIN_ROWS];
    let mut pairs = [(qi, 0); CHAIN_ROWS];
    for r in rows.chunks(CHAIN_ROWS) {
        for (p, &j) in pairs.iter_mut().zip(r) {
            p.1 = j;
        }
        let dots = &mut dots[..r.len()];
        batch_dots(s, &pairs[..r.len()], dots);
        for (&d, &j) in dots.iter().zip(r) {
            offer_dot(s, qaux, qi, j, d, &mut top);
        }
    }
    top
}

/// The float scan's dot products of the pairs `(query, row)` of `s` (at most
/// [`CHAIN_ROWS`]) into `out`: [`chain_dot`](crate::simd::gemm::chain_dot)s
/// (the entries of the `gemm` product; computed together), or `small_dots`
/// for a query in a last query block of fewer than `SMALL_QUERIES` queries.
pub(super) fn batch_dots<T: KnnFloat>(s: &Search<'_, T>, pairs: &[(usize, usize)], out: &mut [T]) {
    let dim = s.dim;
    let q = |i: usize| &s.queries[i * dim..(i + 1) * dim];
    let x = |j: usize| &s.database[j * dim..(j + 1) * dim];
    let small = |i: usize| QUERY_BLOCK.min(s.nq - i / QUERY_BLOCK * QUERY_BLOCK) < SMALL_QUERIES;
    if pairs.iter().any(|&(i, _)| small(i)) {
        for (o, &(i, j)) in out.iter_mut().zip(pairs) {
            if small(i) {
                T::small_dots(q(i), 1, x(j), 1, dim, std::slice::from_mut(o));
            } else {
                *o = crate::simd::gemm::chain_dot(q(i), x(j));
            }
        }
        return;
    }
    let n = pairs.len();
    let pair = |r: usize| pairs.get(r).unwrap_or(&pairs[0]);
    let qs: [&[T]; CHAIN_ROWS] = std::array::from_fn(|r| q(pair(r).0));
    let xs: [&[T]; CHAIN_ROWS] = std::array::from_fn(|r| x(pair(r).1));
    chain_dots(&qs[..n], &xs[..n], out);
}

/// Offers row `j`, whose float-scan dot product with query `qi` is `dot`, to
/// `top` with the float scan's score.
#[inline]
pub(super) fn offer_dot<T: KnnFloat>(
    s: &Search<'_, T>,
    qaux: &[T],
    qi: usize,
    j: usize,
    dot: T,
    top: &mut TopK<T>,
) {
    top.offer(super::kernels::score(s.metric, qaux[qi], dot, s.xaux[j]), j);
}
