//! Exact index search of a batch of queries on CPUs without AVX-512 VNNI: the
//! 4-bit pass of `prefilter_nibble`, run for many queries at once.
//!
//! Why: a batch is bound by arithmetic. Without VNNI, the int8 product of
//! `prefilter_batch` does no more multiply-adds per cycle than the float32
//! GEMM it would replace (a pair of int8 products overflows `vpmaddubsw`'s
//! 16 bits). 4-bit row codes (at most 15) cannot overflow it, and sum in 16
//! bits for several steps: about twice the float GEMM's multiply-adds per
//! cycle, with each unit of codes unpacked once for 4 queries
//! (`nibble_multi_dots`). On 100 000 rows of dim 128, the pass costs about
//! half the float scan per (query, row) pair.
//!
//! How: a task takes a run of queries and a run of rows. Per piece of rows and
//! per query, the 4-bit bounds of `prefilter_nibble` (`prefilter::bounds`
//! with the 4-bit error), and every row whose lower bound does not exceed the
//! k-th best exact score of the rows this task scored for the query is scored
//! right away, best bound first (`Exact::score_piece`). Rows are scored
//! exactly as the float scan of the batch scores them
//! (`prefilter_batch::batch_dots`), and each task's top-k of exact
//! scores goes to the same merge, so the result is bit-identical to the float
//! scan (the proof is `prefilter_nibble`'s: a skipped row has a score above
//! the scores of k rows). Where a query has no usable code, or the bounds do
//! not separate the rows, the caller runs the float scan.

use super::prefilter::{query_code, QueryBounds, RowsBounds};
use super::prefilter_batch::{applies, batch_dots, offer_dot};
use super::prefilter_nibble::{self, Exact};
use super::quant::Codes;
use super::topk::TopK;
use super::{KnnFloat, Search};
use crate::sched::Team;
use crate::simd::gemm::CHAIN_ROWS;
use crate::simd::int8_dots::BLOCK_ROWS;
use crate::simd::mem::prefetch_slice;
use crate::simd::nibble_dots::{self, nibble_multi_dots};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Queries per task.
const QUERIES: usize = 64;
/// Queries per call of the kernel: the dots of a group stay in the first-level
/// cache until their bounds are computed.
const GROUP_QUERIES: usize = 4;
/// Rows per piece: the 4-bit codes of a piece (32 KiB at dim 128) stay in the
/// cache while every query of the task passes over them.
const PIECE_ROWS: usize = 512;
/// Rows each query may score per round (see `candidates`).
const ROUND_ROWS: usize = 4;
/// Pieces per run of rows of a task at least: each run scores a few hundred
/// rows before its thresholds settle, a small part of 8192 rows.
const MIN_CHUNK_PIECES: usize = 16;
/// The work is cut into about this many tasks.
const TARGET_TASKS: usize = 16;

/// `true` when this pre-scan can pay for a batch search of `k` of `nd` rows:
/// as the one-query pre-scan ([`super::prefilter::worthwhile`]), its kernel
/// is fast here (AVX2), and the int8 batch pre-scan is not (no VNNI).
pub(crate) fn worthwhile(nd: usize, k: usize) -> bool {
    super::prefilter::worthwhile(nd, k)
        && nibble_dots::fast()
        && !crate::simd::int8_dots::fast_multi()
}

/// The top-k of every query of `s` (at least `SMALL_QUERIES` of them) under
/// the float scan's scores, as one [`TopK`] per query and run of rows (their
/// candidates together hold the query's k best), and the number of (query,
/// row) pairs scored in float; `None` when the pre-scan cannot narrow the
/// search (see the module text). `team` runs the tasks.
pub(crate) fn candidates<T: KnnFloat>(
    s: &Search<'_, T>,
    qaux: &[T],
    codes: &Codes,
    team: &Team,
) -> Option<(Vec<Vec<TopK<T>>>, usize)> {
    let (queries, dim, metric) = (s.queries, s.dim, s.metric);
    let (nq, nd, k) = (s.nq, s.nd, s.k);
    if !applies(s, codes) || !prefilter_nibble::available(codes) {
        return None;
    }
    let (d8, nbb) = (codes.d8(), codes.nibble_block_bytes());
    let qlen = 8 * d8;
    let mut gs = vec![0i8; nq * qlen];
    let mut qb: Vec<QueryBounds> = Vec::with_capacity(nq);
    for (i, g) in gs.chunks_exact_mut(qlen).enumerate() {
        let (code, b) = query_code(codes, &queries[i * dim..(i + 1) * dim], qaux[i], metric)?;
        g[..code.len()].copy_from_slice(&code);
        qb.push(b.nibble());
    }
    let qtasks = nq.div_ceil(QUERIES);
    let pieces = nd.div_ceil(PIECE_ROWS);
    let chunks = TARGET_TASKS
        .div_ceil(qtasks)
        .clamp(1, (pieces / MIN_CHUNK_PIECES).max(1));
    // Chunk c: pieces [pieces·c/chunks, pieces·(c+1)/chunks) — whole blocks.
    let chunk_rows = |c: usize| ((pieces * c / chunks) * PIECE_ROWS).min(nd);
    // Rows a query may have scored exactly in a chunk before the pre-scan
    // gives up (each costs a random read of a float row).
    let max_scored = (nd / chunks / 16).max(4 * k + 64);
    let failed = AtomicBool::new(false);
    // Per query, the best threshold any of its tasks has (the runs of rows of
    // one query share it: a run that starts late need not find its own).
    let known: Vec<AtomicU32> = (0..nq)
        .map(|_| AtomicU32::new(key(f32::INFINITY)))
        .collect();
    let task = |t: usize| -> Option<Vec<Exact<T>>> {
        let (qt, c) = (t / chunks, t % chunks);
        let q0 = qt * QUERIES;
        let m = QUERIES.min(nq - q0);
        let (r0, r1) = (chunk_rows(c), chunk_rows(c + 1));
        let mut exact: Vec<Exact<T>> = (0..m).map(|_| Exact::new(k)).collect();
        let mut dots = vec![0i32; GROUP_QUERIES * PIECE_ROWS];
        let mut x0 = r0;
        while x0 < r1 {
            let n = PIECE_ROWS.min(r1 - x0);
            let (b0, nb) = (x0 / BLOCK_ROWS, n.div_ceil(BLOCK_ROWS));
            let padded = nb * BLOCK_ROWS;
            // Every query's rows that can still be among its k best...
            for g0 in (0..m).step_by(GROUP_QUERIES) {
                let gm = GROUP_QUERIES.min(m - g0);
                let (qa, qz) = (q0 + g0, q0 + g0 + gm);
                nibble_multi_dots(
                    &gs[qa * qlen..qz * qlen],
                    gm,
                    &codes.nibble_bytes[b0 * nbb..(b0 + nb) * nbb],
                    d8,
                    &mut dots[..gm * padded],
                );
                for (i, qd) in dots.chunks_exact(padded).take(gm).enumerate() {
                    let rows = RowsBounds::nibble_piece(codes, qd, x0, n);
                    let ex = &mut exact[g0 + i];
                    ex.known = unkey(known[qa + i].load(Ordering::Relaxed));
                    ex.collect(metric, &qb[qa + i], &rows, x0);
                }
            }
            // ...scored in rounds of a few rows per query, so that each
            // query's threshold falls between rounds and the chains of
            // `batch_dots` are full.
            let mut round: Vec<usize> = Vec::new();
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            loop {
                pairs.clear();
                for (i, ex) in exact.iter_mut().enumerate() {
                    round.clear();
                    ex.take(ROUND_ROWS, &mut round);
                    pairs.extend(round.iter().map(|&j| (q0 + i, j)));
                }
                if pairs.is_empty() {
                    break;
                }
                // The float rows are read at random: fetch the next chunk's
                // while one is scored.
                let fetch = |ps: &[(usize, usize)]| {
                    for &(_, j) in ps {
                        prefetch_slice(&s.database[j * dim..(j + 1) * dim]);
                        prefetch_slice(&s.xaux[j..j + 1]);
                    }
                };
                let mut d = [T::ZERO; CHAIN_ROWS];
                fetch(&pairs[..CHAIN_ROWS.min(pairs.len())]);
                for (c, ps) in pairs.chunks(CHAIN_ROWS).enumerate() {
                    let next = ((c + 1) * CHAIN_ROWS).min(pairs.len());
                    fetch(&pairs[next..(next + CHAIN_ROWS).min(pairs.len())]);
                    let d = &mut d[..ps.len()];
                    batch_dots(s, ps, d);
                    for (&v, &(qi, j)) in d.iter().zip(ps) {
                        offer_dot(s, qaux, qi, j, v, &mut exact[qi - q0].top);
                    }
                }
            }
            for (ex, kn) in exact.iter_mut().zip(&known[q0..]) {
                kn.fetch_min(key(ex.threshold()), Ordering::Relaxed);
                if ex.scored > max_scored {
                    failed.store(true, Ordering::Relaxed);
                }
            }
            if failed.load(Ordering::Relaxed) {
                return None;
            }
            x0 += n;
        }
        Some(exact)
    };
    let parts: Vec<Option<Vec<Exact<T>>>> = team.map(qtasks * chunks, task);
    let mut parts: Vec<std::vec::IntoIter<Exact<T>>> = parts
        .into_iter()
        .map(|p| p.map(Vec::into_iter))
        .collect::<Option<_>>()?;
    let scored = parts
        .iter()
        .flat_map(|p| p.as_slice())
        .map(|e| e.scored)
        .sum();
    // Query q's top-k of each chunk, from its query task's chunks.
    let mut all = Vec::with_capacity(nq);
    for q in 0..nq {
        let qt = q / QUERIES;
        let tops = parts[qt * chunks..(qt + 1) * chunks]
            .iter_mut()
            .map(|p| p.next().expect("one result per query of the task").top)
            .collect();
        all.push(tops);
    }
    Some((all, scored))
}

/// A u32 in the order of the float32 `v` (not NaN): `key(a) < key(b)` iff
/// `a < b` (−0 before +0, which changes no threshold test).
fn key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 1 << 31
    }
}

/// The float32 of a [`key`].
fn unkey(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
}

#[cfg(test)]
mod tests {
    use super::{key, unkey};

    #[test]
    fn keys_follow_the_float_order() {
        let v = [
            f32::NEG_INFINITY,
            -3.3e38,
            -1.0,
            -1e-45,
            -0.0,
            0.0,
            1e-45,
            2.0,
            f32::MAX,
            f32::INFINITY,
        ];
        for w in v.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{w:?}");
        }
        for x in v {
            assert_eq!(unkey(key(x)).to_bits(), x.to_bits());
        }
    }
}
