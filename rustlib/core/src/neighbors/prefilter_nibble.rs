//! The first pass of a one-query index search: 4-bit codes, half the bytes of
//! the int8 codes of `prefilter`, with the same kind of proven bounds, and the
//! rows they cannot rule out scored exactly right away.
//!
//! Why: a one-query search is bound by memory bandwidth, and the int8 pass
//! reads 152 bytes per row at dim 128 (codes and bound fields); this one reads
//! 84. Its bounds are about 17 times looser, so on their own they would leave
//! far too many candidates: here every row whose lower bound does not exceed
//! the running threshold is scored exactly at once (the float scan's kernels,
//! the same top-k), so the threshold is the k-th best exact score of the rows
//! seen, not the k-th best upper bound. On 100 000 uniform rows of dim 128 a
//! query scores about 200–500 rows exactly (L2; fewer for inner products).
//!
//! Proof sketch: a row skipped here has `score ≥ lower > t`, where `t` is the
//! k-th best exact score of the rows this participant scored; at least k rows
//! score `≤ t`, so the skipped row is not among the k best. The bounds are
//! those of `prefilter::bounds` with the 4-bit error in place of the int8
//! error (see `quant::nibble_err`): the integer dot `16 Σ h g − 120 Σ g` is
//! that of the query code with the row's code `16 h − 120`, which the error
//! bound is measured against.

use super::prefilter::{bounds, may_reach, score_row, QueryBounds, RowsBounds, GROUP, PIECE_ROWS};
use super::quant::{up_f32, Codes};
use super::topk::TopK;
use super::{KnnFloat, Search, Segment};
use crate::sched::Team;
use crate::simd::int8_dots::BLOCK_ROWS;
use crate::simd::mem::prefetch_slice;
use crate::simd::nibble_dots;
use std::sync::atomic::{AtomicBool, Ordering};

/// `true` when `codes` have 4-bit codes and their kernel is fast here.
pub(super) fn available(codes: &Codes) -> bool {
    codes.nibbles && codes.err4.len() == codes.len() && nibble_dots::fast()
}

/// What one participant keeps: the exact top-k of the rows it scored, how
/// many it scored, and the buffers of a piece.
struct PartState<T> {
    top: TopK<T>,
    scored: usize,
    dots: Vec<i32>,
    lo: Vec<f32>,
    hi: Vec<f32>,
    /// The rows of a piece still to score: `(lower bound, row)`.
    cands: Vec<(f32, usize)>,
}

/// Candidates scored per round, best lower bound first (the rest are then
/// checked against the threshold those scores set).
const HEAD: usize = 64;
/// Float rows prefetched ahead of the one being scored.
const AHEAD: usize = 4;

/// The running threshold as a float32 that is not smaller (a lower bound above
/// it is above the exact threshold too); `+inf` while every row must be scored
/// (fewer than k kept, or a NaN k-th best).
#[inline]
fn threshold_up<T: KnnFloat>(top: &mut TopK<T>) -> f32 {
    match top.tight_threshold() {
        Some(t) if !t.to_f64().is_nan() => up_f32(t.to_f64()),
        _ => f32::INFINITY,
    }
}

/// One query of a search: its row `qi`, its code `g` (`8 · d8` bytes) and the
/// bounds of that code for the 4-bit pass.
pub(super) struct Query<'a> {
    pub qi: usize,
    pub g: &'a [i8],
    pub bounds: QueryBounds,
}

/// The exact top-k of each participant of query `q`'s search (merged by the
/// caller like `shared_scan`'s) and the number of rows scored exactly;
/// `None` when more than `max_scored` rows had to be scored (the 4-bit bounds
/// do not separate this data: the caller tries the int8 pass).
pub(super) fn search<T: KnnFloat>(
    s: &Search<'_, T>,
    qaux: &[T],
    codes: &Codes,
    q: &Query<'_>,
    backward: bool,
    team: &Team,
    max_scored: usize,
) -> Option<(Vec<TopK<T>>, usize)> {
    let &Search {
        database,
        xaux,
        dim,
        nd,
        k,
        metric,
        ..
    } = s;
    let qaux = &qaux[q.qi..q.qi + 1];
    let (d8, nbb) = (codes.d8(), codes.nibble_block_bytes());
    let pieces = nd.div_ceil(PIECE_ROWS);
    let parts = crate::pool::num_threads().clamp(1, pieces);
    let segments = Segment::split(pieces, parts);
    let failed = AtomicBool::new(false);
    let run = |p: usize| -> Option<(TopK<T>, usize)> {
        let mut st = PartState {
            top: TopK::new(k),
            scored: 0,
            dots: vec![0; PIECE_ROWS],
            lo: vec![0.0; PIECE_ROWS],
            hi: vec![0.0; PIECE_ROWS],
            cands: Vec::new(),
        };
        let done = Segment::walk(&segments, p, backward, |c| {
            let x0 = c * PIECE_ROWS;
            let n = PIECE_ROWS.min(nd - x0);
            let (b0, nb) = (x0 / BLOCK_ROWS, n.div_ceil(BLOCK_ROWS));
            nibble_dots::nibble_dots(
                q.g,
                &codes.nibble_bytes[b0 * nbb..(b0 + nb) * nbb],
                d8,
                &mut st.dots[..nb * BLOCK_ROWS],
            );
            let rows = RowsBounds::nibble_piece(codes, &st.dots, x0, n);
            bounds(metric, &q.bounds, &rows, &mut st.lo[..n], &mut st.hi[..n]);
            // The rows that can still be among the k best, scored in order
            // of their lower bounds (best first, so the threshold falls fast
            // and the rest of a long list is skipped).
            let t = threshold_up(&mut st.top);
            st.cands.clear();
            for (o, l) in st.lo[..n].chunks(GROUP).enumerate() {
                // Most groups: every lower bound above t (one vectorized pass).
                if l.iter().fold(false, |a, &v| a | may_reach(v, t)) {
                    let j0 = x0 + o * GROUP;
                    st.cands.extend(
                        l.iter()
                            .enumerate()
                            .filter(|&(_, &v)| may_reach(v, t))
                            .map(|(i, &v)| (v, j0 + i)),
                    );
                }
            }
            // Scored exactly as the full scan scores it.
            let score = |j: usize, top: &mut TopK<T>| score_row(s, q.qi, qaux, j, top);
            // A NaN bound proves nothing: those rows are scored whatever t is.
            st.cands.retain(|&(v, j)| {
                if v.is_nan() {
                    score(j, &mut st.top);
                    st.scored += 1;
                }
                !v.is_nan()
            });
            while !st.cands.is_empty() {
                let head = HEAD.min(st.cands.len());
                if head < st.cands.len() {
                    st.cands
                        .select_nth_unstable_by(head, |a, b| a.0.total_cmp(&b.0));
                }
                st.cands[..head].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                // The float rows are read at random: fetch a few ahead.
                let fetch = |j: usize| {
                    prefetch_slice(&database[j * dim..(j + 1) * dim]);
                    prefetch_slice(&xaux[j..j + 1]);
                };
                st.cands[..head.min(AHEAD)].iter().for_each(|c| fetch(c.1));
                for (i, &(v, j)) in st.cands[..head].iter().enumerate() {
                    if !may_reach(v, threshold_up(&mut st.top)) {
                        break;
                    }
                    if let Some(c) = st.cands[..head].get(i + AHEAD) {
                        fetch(c.1);
                    }
                    score(j, &mut st.top);
                    st.scored += 1;
                }
                let t = threshold_up(&mut st.top);
                st.cands.drain(..head);
                st.cands.retain(|&(v, _)| may_reach(v, t));
            }
            if failed.load(Ordering::Relaxed) || st.scored > max_scored {
                failed.store(true, Ordering::Relaxed);
                return false;
            }
            true
        });
        done.then_some((st.top, st.scored))
    };
    let results: Vec<(TopK<T>, usize)> = team.map(parts, run).into_iter().collect::<Option<_>>()?;
    let scored = results.iter().map(|r| r.1).sum();
    Some((results.into_iter().map(|r| r.0).collect(), scored))
}
