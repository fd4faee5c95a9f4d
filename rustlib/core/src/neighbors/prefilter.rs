//! Exact one-query index search that reads a quarter of the bytes: a pre-scan
//! of int8 codes with proven error bounds picks the few rows that can be among
//! the k best, and only those are scored the normal way.
//!
//! Why: one query against a database is bound by memory bandwidth (it reads
//! every row once), so reading 1 byte per element instead of 4 is the only way
//! to be much faster than a float32 scan; the codes of a 51 MB database (13 MB)
//! also fit the last-level cache, so consecutive searches run from it.
//!
//! How, per query: every row gets an interval `[lower, upper]` that provably
//! holds the score the normal scan computes for it (`quant` bounds what the
//! codes lost; a generous multiple of the float rounding of both computations
//! is added). `t` = the k-th smallest `upper`: at least k rows score ≤ `t`, so a
//! row whose `lower` exceeds `t` cannot be among the k best and is skipped. The
//! others — typically k plus a few — are scored by the same kernels as the full
//! scan and offered to the same top-k, so the result is bit-identical to a full
//! scan (tested). Where the bounds do not separate the rows (many equal
//! distances, NaN or huge values) too many candidates remain and the search
//! falls back to the full scan.

use super::prefilter_nibble;
use super::quant::Codes;
use super::topk::{cmp_entry, TopK};
use super::{KnnFloat, Metric, Search, Segment};
use crate::pool;
use crate::sched;
use crate::simd::int8_dots::{self, BLOCK_ROWS};
use crate::simd::lower_bounds::{self, stay_bits, stays, Linear, WORD_ROWS};
use crate::{multiversion, multiversion_fma};
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows per piece of the pre-scan (512 KiB of codes at dim 128; a multiple of
/// the 16-row blocks).
pub(super) const PIECE_ROWS: usize = 4096;
/// Rows per test against the running threshold (the bits of a u32 mask).
pub(super) const GROUP: usize = 32;
/// Candidate lists are pruned against the running threshold at this length.
pub(super) const PRUNE_AT: usize = 4096;
/// Searches of fewer database rows than this skip the pre-scan (the full scan
/// is short; the codes do not pay).
const MIN_ROWS: usize = 4096;

/// `true` when an index should keep codes: the pre-scan's kernel is fast on
/// this CPU (with the portable kernel it is slower than the full scan).
pub(crate) fn available() -> bool {
    int8_dots::fast()
}

/// `true` when the pre-scan can pay for a search of `k` of `nd` rows: enough
/// rows, and k small enough that most of them can be skipped.
pub(crate) fn worthwhile(nd: usize, k: usize) -> bool {
    nd >= MIN_ROWS && k.saturating_mul(64) <= nd && available()
}

/// What the bounds need of one query (see `quant`; `μ` is the codes' centre).
#[derive(Clone, Copy)]
pub(super) struct QueryBounds {
    /// Query code step.
    scale: f32,
    /// `‖q − μ − scale·g‖` bound.
    err: f32,
    /// `‖q − μ‖ + err` bound.
    norm: f32,
    /// `‖q‖ + ‖μ‖` bound.
    mag: f32,
    /// `‖q − μ‖²` (L2) or `q·μ` (inner product, cosine).
    shift: f32,
    /// `‖q‖²` (L2) or `1/‖q‖` (cosine), the float scan's query term.
    aux: f32,
    /// `128 Σ g`: what the stored `code + 128` adds to every integer dot.
    offset: i32,
    /// Relative rounding allowance of the float scan and of the bounds.
    rho: f32,
    /// Absolute allowance for results below the float32 normal range (each
    /// operation that underflows may lose up to 2⁻¹⁴⁹, and the integer dot
    /// product multiplies the error of its scale factor by up to `dim · 127²`).
    eta: f32,
}

/// The code fields of a piece of rows.
pub(super) struct RowsBounds<'a> {
    pub(super) dots: &'a [i32],
    pub(super) scale: &'a [f32],
    pub(super) err: &'a [f32],
    pub(super) norm: &'a [f32],
    pub(super) mag: &'a [f32],
    pub(super) shift: &'a [f32],
    pub(super) aux: &'a [f32],
}

impl<'a> RowsBounds<'a> {
    /// Rows `x0 .. x0 + n` of `codes`, with their integer dots `dots`.
    pub(super) fn piece(codes: &'a Codes, dots: &'a [i32], x0: usize, n: usize) -> Self {
        let r = x0..x0 + n;
        RowsBounds {
            dots,
            scale: &codes.scale[r.clone()],
            err: &codes.err[r.clone()],
            norm: &codes.norm[r.clone()],
            mag: &codes.mag[r.clone()],
            shift: &codes.shift[r.clone()],
            aux: &codes.aux[r],
        }
    }

    /// [`RowsBounds::piece`] for the 4-bit codes (`dots` from
    /// `nibble_dots`): the 4-bit error in place of the int8 one. `norm`
    /// stays `‖x − μ‖ + err ≥ ‖x − μ‖`, all the bound's `err_q · norm_x` term
    /// needs; the rounding allowance that `norm` also scales covers the float
    /// product of the 4-bit dot, whose code norm is at most `‖x − μ‖ + err4
    /// ≤ 10 norm` below `quant::MAX_NIBBLE_DIM`, many times over.
    pub(super) fn nibble_piece(codes: &'a Codes, dots: &'a [i32], x0: usize, n: usize) -> Self {
        RowsBounds {
            err: &codes.err4[x0..x0 + n],
            ..RowsBounds::piece(codes, dots, x0, n)
        }
    }

    /// Rows `a .. b` of these, every field cut to them (the loops over them
    /// then need no bounds checks).
    #[inline(always)]
    fn range(&self, a: usize, b: usize) -> RowsBounds<'a> {
        RowsBounds {
            dots: &self.dots[a..b],
            scale: &self.scale[a..b],
            err: &self.err[a..b],
            norm: &self.norm[a..b],
            mag: &self.mag[a..b],
            shift: &self.shift[a..b],
            aux: &self.aux[a..b],
        }
    }
}

impl QueryBounds {
    /// These bounds for the 4-bit pass: the row code `16 h − 120` adds
    /// `120 Σ g` to the integer dot `16 Σ h g` instead of the int8 codes'
    /// `128 Σ g`.
    pub(super) fn nibble(&self) -> QueryBounds {
        QueryBounds {
            offset: self.offset / 128 * 120,
            ..*self
        }
    }
}

/// The factor that covers the rounding of the bounds' margins (see
/// [`bounds`]).
const WIDEN: f32 = 1.0 + 1.0 / 256.0;

/// `lo[j] ≤ score_j ≤ hi[j]` for the rows of a piece, where `score_j` is what
/// the float scan computes for row `j` (scores are smaller-is-better: squared
/// L2 clamped at 0, `−q·x`, `−q·x/(‖q‖‖x‖)`).
///
/// With `q' = q − μ`, `x' = x − μ` and `p ≈ q'·x'` from the codes:
/// `‖q − x‖² = ‖q'‖² + ‖x'‖² − 2 q'·x'` and `q·x = q'·x' + q·μ + (μ·x − ‖μ‖²)`,
/// where `|q'·x' − p| ≤ ‖q'‖ err_x + err_q norm_x` (the "gap"). The margin adds
/// `rho` times the magnitudes for the rounding of the float scan's score (its
/// dot product of uncentred rows, `‖q‖²` and `‖x‖²` rounded to the input type)
/// and of this computation, and `eta` for underflow; the factor 1 + 2⁻⁸ covers
/// the margin's own arithmetic.
#[inline(always)]
fn bounds_body(
    metric: Metric,
    q: &QueryBounds,
    r: &RowsBounds<'_>,
    lo: &mut [f32],
    hi: &mut [f32],
) {
    let n = lo.len();
    let g = r.range(0, n);
    let (dots, scale, err, norm) = (g.dots, g.scale, g.err, g.norm);
    let (mag, shift, aux) = (g.mag, g.shift, g.aux);
    let hi = &mut hi[..n];
    let p = |j: usize| (dots[j] - q.offset) as f32 * (q.scale * scale[j]);
    let gap = |j: usize| q.norm * err[j] + q.err * norm[j];
    match metric {
        Metric::SqEuclidean | Metric::Euclidean => {
            for j in 0..n {
                let a = q.shift + shift[j] - 2.0 * p(j);
                // 2‖q‖‖x‖ ≤ ‖q‖² + ‖x‖², so the scan's rounding is within
                // rho (‖q‖² + ‖x‖²) twice over.
                let m = WIDEN
                    * (2.0 * gap(j)
                        + q.rho
                            * (2.0 * (q.aux + aux[j])
                                + q.shift
                                + shift[j]
                                + 2.0 * q.norm * norm[j])
                        + 4.0 * q.eta);
                lo[j] = a - m;
                // The scan clamps these scores at 0, so 0 bounds them too
                // (not `max`, which would turn a NaN bound into 0).
                let u = a + m;
                hi[j] = if u < 0.0 { 0.0 } else { u };
            }
        }
        Metric::InnerProduct | Metric::Cosine => {
            // Bounds of q·x; cosine scales both by w = 1/(‖q‖‖x‖) ≥ 0.
            let dot = |j: usize| p(j) + q.shift + shift[j];
            let margin = |j: usize| {
                WIDEN
                    * (gap(j)
                        + q.rho * (4.0 * q.mag * mag[j] + 2.0 * q.norm * norm[j])
                        + 2.0 * q.eta)
            };
            for j in 0..n {
                let w = if metric == Metric::Cosine {
                    q.aux * aux[j]
                } else {
                    1.0
                };
                let (a, m) = (-dot(j) * w, margin(j) * w);
                lo[j] = a - m;
                hi[j] = a + m;
            }
        }
    }
}

multiversion! {
    pub(super) fn bounds(metric: Metric, q: &QueryBounds, r: &RowsBounds<'_>, lo: &mut [f32], hi: &mut [f32]) -> () = bounds_body;
}

/// Appends `(lower bound, row)` for every row `x0 + i` of `r` whose lower
/// bound does not exceed `t` to `cands`, and every row whose bound is not a
/// number below `+inf` to `nan` (such a bound proves nothing: the row is
/// scored): the lower bound of [`bounds`], written as one sum of per-row terms
/// with per-query coefficients, fused with the test, a group of rows at a time
/// (in most groups no row passes).
///
/// Why the sum is sound: it is `bounds`' lower bound `a − m` with the products
/// multiplied out — the same real number, about half the operations (this is
/// the hot loop of the 4-bit passes). Its float32 rounding is a few units of
/// 2⁻²⁴ of the terms' magnitudes (`‖q − μ‖²`, `‖x − μ‖²`, `‖q‖²`, `‖x‖²`,
/// `‖q − μ‖ ‖x − μ‖`), within the margin's allowance `rho` for the rounding
/// of "this computation" (`rho` is 8 times the float scan's worst case, at
/// least 68 · 2⁻²³ of those magnitudes). A term that overflows makes the sum
/// infinite or NaN, and such a row is scored: only a finite bound above `t`
/// skips a row. With `FMA` (the AVX2 / AVX-512 copies) the sum is a chain
/// of fused multiply-adds: one rounding per term instead of two, so the
/// same allowance covers it, in fewer instructions; there the L2 and inner
/// product bounds go through [`reaching_kernel`].
#[inline(always)]
fn reaching_body<const FMA: bool>(
    metric: Metric,
    q: &QueryBounds,
    r: &RowsBounds<'_>,
    t: f32,
    x0: usize,
    cands: &mut Vec<(f32, usize)>,
    nan: &mut Vec<usize>,
) {
    let n = r.scale.len();
    let lin = linear(metric, q);
    if metric != Metric::Cosine && lower_bounds::fast() {
        let fields = linear_fields(metric, r);
        return reaching_kernel::<FMA>(&lin, fields, r, t, x0, cands, nan);
    }
    let mut lo = [0.0f32; GROUP];
    for o in (0..n).step_by(GROUP) {
        let m = GROUP.min(n - o);
        // The group's fields, all of length m (no bounds checks below).
        let g = r.range(o, o + m);
        let [f0, f1, f2, f3] = linear_fields(metric, &g);
        let (lo, dots, scale, aux) = (&mut lo[..m], g.dots, g.scale, g.aux);
        for i in 0..m {
            let v = lin.chain::<FMA>([f0[i], f1[i], f2[i], f3[i]], scale[i], dots[i]);
            // Cosine scales the bounds by w = 1/(‖q‖‖x‖) ≥ 0.
            lo[i] = if metric == Metric::Cosine {
                v * (q.aux * aux[i])
            } else {
                v
            };
        }
        // A row stays unless its bound is a number in (t, +inf). In most
        // groups none stays: one vectorized test finds out.
        if !lo.iter().fold(false, |a, &v| a | stays(v, t)) {
            continue;
        }
        // The bits of those that stay.
        let mut keep = 0u32;
        for (i, &v) in lo.iter().enumerate() {
            keep |= u32::from(stays(v, t)) << i;
        }
        while keep != 0 {
            let i = keep.trailing_zeros() as usize;
            push_stay(lo[i], t, x0 + o + i, cands, nan);
            keep &= keep - 1;
        }
    }
}

/// Files a row that stays: a candidate with its bound, or (a bound that is
/// not a number below +inf) a row to score.
#[inline(always)]
fn push_stay(v: f32, t: f32, row: usize, cands: &mut Vec<(f32, usize)>, nan: &mut Vec<usize>) {
    if v <= t {
        cands.push((v, row));
    } else {
        nan.push(row);
    }
}

/// The lower bound of `bounds`, `a − m`, multiplied out into one chain of
/// multiply-adds over four row fields ([`linear_fields`]) and the scaled
/// integer dot. L2: `c + ks·shift − ka·aux − ke·err − kn·norm − kp·p`; inner
/// product and cosine (before the cosine's factor `w`): `c − shift − ke·err −
/// kn·norm − km·mag − scale·p` (`−1 · shift + c` is `c − shift` exactly).
fn linear(metric: Metric, q: &QueryBounds) -> Linear {
    let (w, rho) = (WIDEN, q.rho);
    let (c, a) = match metric {
        Metric::SqEuclidean | Metric::Euclidean => (
            q.shift - w * (rho * (2.0 * q.aux + q.shift) + 4.0 * q.eta),
            [
                1.0 - w * rho,
                -(2.0 * w * rho),
                -(2.0 * w * q.norm),
                -(2.0 * w * (q.err + rho * q.norm)),
                -(2.0 * q.scale),
            ],
        ),
        Metric::InnerProduct | Metric::Cosine => (
            -q.shift - 2.0 * w * q.eta,
            [
                -1.0,
                -(w * q.norm),
                -(w * (q.err + 2.0 * rho * q.norm)),
                -(4.0 * w * rho * q.mag),
                -q.scale,
            ],
        ),
    };
    Linear {
        c,
        a,
        off: q.offset,
    }
}

/// The four row fields of [`linear`]'s chain, in its order.
#[inline(always)]
fn linear_fields<'a>(metric: Metric, r: &RowsBounds<'a>) -> [&'a [f32]; 4] {
    match metric {
        Metric::SqEuclidean | Metric::Euclidean => [r.shift, r.aux, r.err, r.norm],
        Metric::InnerProduct | Metric::Cosine => [r.shift, r.err, r.norm, r.mag],
    }
}

multiversion_fma! {
    pub(super) fn reaching(metric: Metric, q: &QueryBounds, r: &RowsBounds<'_>, t: f32, x0: usize, cands: &mut Vec<(f32, usize)>, nan: &mut Vec<usize>) -> () = reaching_body::<>;
}

/// Rows [`reaching_kernel`] tests per call of the kernel.
const KERNEL_ROWS: usize = 512;

/// [`reaching_body`] where the CPU has AVX2 and FMA, for the L2 and inner
/// product bounds: [`lower_bounds::stay_bits`] tests them (bounds in
/// registers, only the bits of the rows that stay stored), and the rows that
/// stay get their bounds again from the same chain ([`Linear::chain`]) as the
/// loop of `reaching_body`: the same rows with the same bounds.
#[inline(always)]
fn reaching_kernel<const FMA: bool>(
    lin: &Linear,
    fields: [&[f32]; 4],
    r: &RowsBounds<'_>,
    t: f32,
    x0: usize,
    cands: &mut Vec<(f32, usize)>,
    nan: &mut Vec<usize>,
) {
    let n = r.scale.len();
    let mut keep = [0u64; KERNEL_ROWS / WORD_ROWS];
    for o in (0..n).step_by(KERNEL_ROWS) {
        let m = KERNEL_ROWS.min(n - o);
        let f = fields.map(|f| &f[o..o + m]);
        let (scale, dots) = (&r.scale[o..o + m], &r.dots[o..o + m]);
        stay_bits(lin, f, scale, dots, t, &mut keep);
        for (w, &word) in keep[..m.div_ceil(WORD_ROWS)].iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * WORD_ROWS + bits.trailing_zeros() as usize;
                let v = lin.chain::<FMA>(f.map(|f| f[i]), scale[i], dots[i]);
                push_stay(v, t, x0 + o + i, cands, nan);
                bits &= bits - 1;
            }
        }
    }
}

/// One part's result: the k smallest upper bounds it saw and the rows whose
/// lower bound did not exceed its running threshold; `None` if too many rows
/// stayed candidates (the bounds do not separate this data).
type Part = Option<PartFound>;
pub(super) type PartFound = (TopK<f32>, Vec<(f32, usize)>);

/// `true` unless `lower` exceeds `t` (a NaN bound proves nothing: the row stays).
#[inline(always)]
pub(super) fn may_reach(lower: f32, t: f32) -> bool {
    lower <= t || lower.is_nan()
}

/// Offers the rows `x0 ..` of a piece, whose bounds are `lo` / `hi`, to the
/// running top-k of upper bounds and keeps those that can still be among the
/// k best as candidates `(lower bound, row)`.
#[inline(always)]
pub(super) fn offer_piece(
    lo: &[f32],
    hi: &[f32],
    x0: usize,
    upper: &mut TopK<f32>,
    cands: &mut Vec<(f32, usize)>,
) {
    for (o, (l, h)) in lo.chunks(GROUP).zip(hi.chunks(GROUP)).enumerate() {
        let j0 = x0 + o * GROUP;
        match upper.threshold() {
            // Most groups: every lower bound above t (then every upper
            // bound is too), found with one vectorized pass.
            Some(t) if !l.iter().fold(false, |a, &v| a | may_reach(v, t)) => {}
            Some(t) => {
                // Bits of the rows that can enter the top-k of upper bounds
                // and of the rows that stay candidates.
                let (mut enter, mut keep) = (0u32, 0u32);
                for i in 0..l.len() {
                    enter |= u32::from(h[i] <= t) << i;
                    keep |= u32::from(may_reach(l[i], t)) << i;
                }
                while enter != 0 {
                    let i = enter.trailing_zeros() as usize;
                    upper.offer(h[i], j0 + i);
                    enter &= enter - 1;
                }
                while keep != 0 {
                    let i = keep.trailing_zeros() as usize;
                    cands.push((l[i], j0 + i));
                    keep &= keep - 1;
                }
            }
            None => {
                for i in 0..l.len() {
                    upper.offer(h[i], j0 + i);
                    cands.push((l[i], j0 + i));
                }
            }
        }
    }
}

/// Prunes a long candidate list against the running threshold; `false` when
/// more than `max_cands` remain (the bounds do not separate this data).
#[inline]
pub(super) fn prune(upper: &TopK<f32>, cands: &mut Vec<(f32, usize)>, max_cands: usize) -> bool {
    if cands.len() >= PRUNE_AT {
        if let Some(t) = upper.threshold() {
            cands.retain(|&(l, _)| may_reach(l, t));
        }
        if cands.len() > max_cands {
            return false;
        }
    }
    true
}

/// What one participant of a pre-scan keeps: the k smallest upper bounds it
/// saw, its candidates, and the buffers of a piece.
struct PartState {
    upper: TopK<f32>,
    cands: Vec<(f32, usize)>,
    dots: Vec<i32>,
    lo: Vec<f32>,
    hi: Vec<f32>,
}

impl PartState {
    fn new(k: usize) -> PartState {
        PartState {
            upper: TopK::new(k),
            cands: Vec::new(),
            dots: vec![0; PIECE_ROWS],
            lo: vec![0.0; PIECE_ROWS],
            hi: vec![0.0; PIECE_ROWS],
        }
    }
}

/// The pre-scan of piece `c` (rows `c · PIECE_ROWS ..`, at most `PIECE_ROWS`
/// of them) into `st`.
#[inline(always)]
fn scan_piece_body(
    g: &[i8],
    q: &QueryBounds,
    metric: Metric,
    codes: &Codes,
    c: usize,
    st: &mut PartState,
) {
    let d4 = codes.d4();
    let bb = codes.block_bytes();
    let x0 = c * PIECE_ROWS;
    let n = PIECE_ROWS.min(codes.len() - x0);
    let nb = n.div_ceil(BLOCK_ROWS);
    let b0 = x0 / BLOCK_ROWS;
    int8_dots::block_dots(
        g,
        &codes.bytes[b0 * bb..(b0 + nb) * bb],
        d4,
        &mut st.dots[..nb * BLOCK_ROWS],
    );
    let rows = RowsBounds::piece(codes, &st.dots, x0, n);
    bounds(metric, q, &rows, &mut st.lo[..n], &mut st.hi[..n]);
    offer_piece(&st.lo[..n], &st.hi[..n], x0, &mut st.upper, &mut st.cands);
}

multiversion! {
    fn scan_piece(g: &[i8], q: &QueryBounds, metric: Metric, codes: &Codes, c: usize, st: &mut PartState) -> () = scan_piece_body;
}

/// The rows that can be among the k best, from the parts of one query's
/// pre-scan: those whose lower bound does not exceed `t`, the k-th smallest
/// upper bound over all parts. `None` when `t` proves nothing (fewer than k
/// finite upper bounds: values whose terms overflow float32) or more than
/// `max_cands` rows remain.
pub(super) fn survivors(parts: &[&PartFound], k: usize, max_cands: usize) -> Option<Vec<usize>> {
    let mut uppers: Vec<(f32, usize)> = parts
        .iter()
        .flat_map(|(u, _)| u.candidates().iter().copied())
        .collect();
    if uppers.len() < k {
        return None;
    }
    uppers.select_nth_unstable_by(k - 1, cmp_entry);
    let t = uppers[k - 1].0;
    if t.is_nan() || t == f32::INFINITY {
        return None;
    }
    let rows: Vec<usize> = parts
        .iter()
        .flat_map(|(_, c)| c.iter().filter(|&&(l, _)| may_reach(l, t)).map(|&(_, j)| j))
        .collect();
    (rows.len() <= max_cands).then_some(rows)
}

/// A query's code (`4 · d4` bytes, zero-padded) and what the bounds need of
/// it; `None` when it has no usable code (NaN, infinite or huge values).
pub(super) fn query_code<T: KnnFloat>(
    codes: &Codes,
    qrow: &[T],
    qaux: T,
    metric: Metric,
) -> Option<(Vec<i8>, QueryBounds)> {
    let dim = qrow.len();
    let mut g = vec![0i8; 4 * codes.d4()];
    let code = codes.code(qrow, &mut g[..dim]);
    if code.err.is_infinite() {
        return None;
    }
    let q = QueryBounds {
        scale: code.scale,
        err: code.err,
        norm: code.norm,
        mag: code.mag,
        // q·μ = μ·q (the inner-product shift of a query has no −‖μ‖²).
        shift: match metric {
            Metric::SqEuclidean | Metric::Euclidean => code.centred_sq as f32,
            Metric::InnerProduct | Metric::Cosine => code.mu_dot as f32,
        },
        aux: qaux.to_f64() as f32,
        offset: 128 * g.iter().map(|&v| i32::from(v)).sum::<i32>(),
        // 8× the worst-case float32 rounding of a dim-long dot product
        // (2⁻²⁴ per term) plus the few operations around it.
        rho: (dim as f32 + 16.0) * f32::EPSILON * 4.0,
        eta: (dim as f32 * (127.0 * 127.0 + 4.0) + 64.0) * f32::from_bits(1),
    };
    Some((g, q))
}

/// Scores row `j` for query `qi` (its score term `qaux`) exactly as the full
/// scan does, and offers it to `top`.
#[inline]
pub(super) fn score_row<T: KnnFloat>(
    s: &Search<'_, T>,
    qi: usize,
    qaux: &[T],
    j: usize,
    top: &mut TopK<T>,
) {
    let dim = s.dim;
    let mut dot = [T::ZERO; 1];
    T::small_dots(
        &s.queries[qi * dim..(qi + 1) * dim],
        1,
        &s.database[j * dim..(j + 1) * dim],
        1,
        dim,
        &mut dot,
    );
    top.offer(
        super::kernels::score(s.metric, qaux[0], dot[0], s.xaux[j]),
        j,
    );
}

/// Which pre-scans [`candidates`] tries for each query.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Passes {
    /// The 4-bit pass where the codes have it, then the int8 pass (searches).
    Both,
    /// Only the int8 pass.
    Int8,
    /// Only the 4-bit pass (`None` where it declines or is not available).
    Nibble,
}

/// The top-k candidates of each query of `s` (fewer than `SMALL_QUERIES`),
/// shaped as `shared_scan`'s result, and how many rows were scored in float;
/// `None` when the pre-scan cannot narrow the search (a query with no usable
/// code, or bounds that do not separate the rows): the caller then scans
/// everything. `passes` says which passes each query tries.
pub(crate) fn candidates<T: KnnFloat>(
    s: &Search<'_, T>,
    qaux: &[T],
    codes: &Codes,
    passes: Passes,
) -> Option<(Vec<Vec<TopK<T>>>, usize)> {
    let &Search {
        queries,
        dim,
        nq,
        nd,
        k,
        metric,
        ..
    } = s;
    if codes.len() != nd
        || codes.dim != dim
        || codes.metric != metric
        || dim > super::quant::MAX_DIM
    {
        return None;
    }
    let max_cands = (nd / 16).max(4 * k + 64);
    let pieces = nd.div_ceil(PIECE_ROWS);
    let parts = pool::num_threads().clamp(1, pieces);
    let team = sched::team(nd.saturating_mul(dim), super::MIN_PARALLEL_FLOPS);
    let nibbles = passes != Passes::Int8 && prefilter_nibble::available(codes);
    // Rows the 4-bit pass may score exactly before it gives up (each costs
    // a random read of a float row).
    let max_scored = (nd / 16).max(4 * k + 64);
    // Per query, the top-k of each participant.
    let mut tops: Vec<Vec<TopK<T>>> = Vec::with_capacity(nq);
    let mut scored = 0;
    for i in 0..nq {
        let qrow = &queries[i * dim..(i + 1) * dim];
        let (g, q) = query_code(codes, qrow, qaux[i], metric)?;
        // Each query of the call continues where the last one ended.
        let backward = s.backward ^ (i % 2 == 1);
        if nibbles {
            let mut g8 = g.clone();
            g8.resize(8 * codes.d8(), 0);
            let query = prefilter_nibble::Query {
                qi: i,
                g: &g8,
                bounds: q.nibble(),
            };
            if let Some((parts, n)) =
                prefilter_nibble::search(s, qaux, codes, &query, backward, &team, max_scored)
            {
                scored += n;
                tops.push(parts);
                continue;
            }
        }
        if passes == Passes::Nibble {
            return None;
        }
        // As in `shared_scan`: one segment of pieces per participant, scanned
        // from the end the previous search finished at, then the far ends of
        // the others' (a descheduled worker never holds the search up). Each
        // piece is read forwards; which participant scans which piece changes
        // nothing but the time (see `survivors`).
        let segments = Segment::split(pieces, parts);
        let failed = AtomicBool::new(false);
        let run = |p: usize| -> Part {
            let mut st = PartState::new(k);
            let done = Segment::walk(&segments, p, backward, |c| {
                scan_piece(&g, &q, metric, codes, c, &mut st);
                if failed.load(Ordering::Relaxed) || !prune(&st.upper, &mut st.cands, max_cands) {
                    failed.store(true, Ordering::Relaxed);
                    return false;
                }
                true
            });
            done.then_some((st.upper, st.cands))
        };
        let results: Vec<Part> = team.map(parts, run);
        let results: Vec<PartFound> = results.into_iter().collect::<Option<_>>()?;
        let refs: Vec<&PartFound> = results.iter().collect();
        let mut rows = survivors(&refs, k, max_cands)?;
        rows.sort_unstable();
        scored += rows.len();
        // Score the survivors exactly as the full scan does.
        let mut top = TopK::new(k);
        for j in rows {
            score_row(s, i, &qaux[i..i + 1], j, &mut top);
        }
        tops.push(vec![top]);
    }
    // Participant-major, as `shared_scan`: slot p holds every query's p-th
    // top-k (an empty one where a query had fewer).
    let slots = tops.iter().map(Vec::len).max().unwrap_or(0);
    let mut out: Vec<Vec<TopK<T>>> = (0..slots).map(|_| Vec::with_capacity(nq)).collect();
    for parts in tops {
        let mut parts = parts.into_iter();
        for slot in &mut out {
            slot.push(parts.next().unwrap_or_else(|| TopK::new(k)));
        }
    }
    Some((out, scored))
}
