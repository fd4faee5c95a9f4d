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

use super::prefilter::{reaching, score_row, QueryBounds, RowsBounds, PIECE_ROWS};
use super::quant::{up_f32, Codes};
use super::topk::TopK;
use super::{KnnFloat, Metric, Search, Segment};
use crate::sched::Team;
use crate::simd::int8_dots::BLOCK_ROWS;
use crate::simd::mem::prefetch_slice;
use crate::simd::nibble_dots;
use std::sync::atomic::{AtomicBool, Ordering};

/// `true` when `codes` have 4-bit codes and their kernel is fast here.
pub(super) fn available(codes: &Codes) -> bool {
    codes.nibbles && codes.err4.len() == codes.len() && nibble_dots::fast()
}

/// What one participant keeps: the exact top-k of the rows it scored (with
/// how many it scored) and the buffers of a piece.
struct PartState<T> {
    exact: Exact<T>,
    rows: Vec<usize>,
    dots: Vec<i32>,
}

/// One query's exact top-k of the rows scored so far, how many were scored,
/// and the rows of the current piece still to score, in order of their lower
/// bounds (best first, so the threshold falls fast and the rest of a long list
/// is skipped).
pub(super) struct Exact<T> {
    pub top: TopK<T>,
    pub scored: usize,
    /// `(lower bound, row)`: `cands[next..sorted]` are sorted and next.
    cands: Vec<(f32, usize)>,
    next: usize,
    sorted: usize,
    /// Rows with a NaN bound (which proves nothing: they are scored).
    nan: Vec<usize>,
    /// A threshold known from elsewhere (`+inf` if none): a score that k
    /// rows scored by another participant do not exceed.
    pub known: f32,
}

impl<T: KnnFloat> Exact<T> {
    pub(super) fn new(k: usize) -> Exact<T> {
        Exact {
            top: TopK::new(k),
            scored: 0,
            cands: Vec::new(),
            next: 0,
            sorted: 0,
            nan: Vec::new(),
            known: f32::INFINITY,
        }
    }

    /// The threshold: a row whose lower bound exceeds it is not among the k
    /// best (at least k rows, here or elsewhere, score no more).
    pub(super) fn threshold(&mut self) -> f32 {
        threshold_up(&mut self.top).min(self.known)
    }

    /// Makes the rows of a piece (`rows`, the first at `x0`) whose lower
    /// bound for query `q` can still reach the k best the rows to score next
    /// (see [`Exact::take`]).
    pub(super) fn collect(
        &mut self,
        metric: Metric,
        q: &QueryBounds,
        rows: &RowsBounds<'_>,
        x0: usize,
    ) {
        let t = self.threshold();
        self.cands.clear();
        self.nan.clear();
        (self.next, self.sorted) = (0, 0);
        reaching(metric, q, rows, t, x0, &mut self.cands, &mut self.nan);
    }

    /// Appends to `rows` up to `max` collected rows that can still be among
    /// the k best under the current threshold, best lower bound first, and
    /// counts them as scored: the caller scores them (exactly as the float
    /// scan does) and offers them to `top`. Appends none once none is left.
    pub(super) fn take(&mut self, max: usize, rows: &mut Vec<usize>) {
        let t = self.threshold();
        let mut taken = 0;
        while taken < max {
            if let Some(j) = self.nan.pop() {
                rows.push(j);
                taken += 1;
                continue;
            }
            if self.next == self.sorted {
                // Sort the next few by their bounds (the rest may never be
                // needed: the threshold falls with each row scored).
                self.cands.drain(..self.next);
                self.cands.retain(|&(v, _)| v <= t);
                let head = HEAD.min(self.cands.len());
                if head < self.cands.len() {
                    self.cands
                        .select_nth_unstable_by(head, |a, b| a.0.total_cmp(&b.0));
                }
                self.cands[..head].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                (self.next, self.sorted) = (0, head);
                if head == 0 {
                    break;
                }
            }
            let (v, j) = self.cands[self.next];
            if v > t {
                // Sorted: every later row is above t too.
                self.cands.clear();
                (self.next, self.sorted) = (0, 0);
                break;
            }
            rows.push(j);
            self.next += 1;
            taken += 1;
        }
        self.scored += taken;
    }

    /// Prefetches the float rows of `s` of the sorted candidates `from ..
    /// from + n` places after the next one (they are read at random).
    pub(super) fn prefetch(&self, s: &Search<'_, T>, from: usize, n: usize) {
        let end = (self.next + from + n).min(self.sorted);
        for &(_, j) in &self.cands[(self.next + from).min(end)..end] {
            prefetch_slice(&s.database[j * s.dim..(j + 1) * s.dim]);
            prefetch_slice(&s.xaux[j..j + 1]);
        }
    }
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
pub(super) fn threshold_up<T: KnnFloat>(top: &mut TopK<T>) -> f32 {
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
    let &Search { nd, k, metric, .. } = s;
    let qaux = &qaux[q.qi..q.qi + 1];
    let (d8, nbb) = (codes.d8(), codes.nibble_block_bytes());
    let pieces = nd.div_ceil(PIECE_ROWS);
    let parts = crate::pool::num_threads().clamp(1, pieces);
    let segments = Segment::split(pieces, parts);
    let failed = AtomicBool::new(false);
    let run = |p: usize| -> Option<(TopK<T>, usize)> {
        let mut st = PartState {
            exact: Exact::new(k),
            rows: Vec::new(),
            dots: vec![0; PIECE_ROWS],
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
            // Row by row (the threshold falls after each), a few rows read
            // ahead.
            st.exact.collect(metric, &q.bounds, &rows, x0);
            st.exact.prefetch(s, 0, AHEAD);
            loop {
                st.rows.clear();
                st.exact.take(1, &mut st.rows);
                let Some(&j) = st.rows.first() else { break };
                st.exact.prefetch(s, AHEAD - 1, 1);
                score_row(s, q.qi, qaux, j, &mut st.exact.top);
            }
            if failed.load(Ordering::Relaxed) || st.exact.scored > max_scored {
                failed.store(true, Ordering::Relaxed);
                return false;
            }
            true
        });
        done.then_some((st.exact.top, st.exact.scored))
    };
    let results: Vec<(TopK<T>, usize)> = team.map(parts, run).into_iter().collect::<Option<_>>()?;
    let scored = results.iter().map(|r| r.1).sum();
    Some((results.into_iter().map(|r| r.0).collect(), scored))
}
