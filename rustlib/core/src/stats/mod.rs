//! Column statistics: one fused, NaN-aware pass per row block, mergeable.
//!
//! [`ColStats`] holds, per column, the mergeable partial statistics
//! (weighted count of non-NaN values, NaN count, sum, M2 = sum of squared
//! deviations from the mean, min, max, sum of |x|, sum of x²). A leaf computes
//! them over a fixed-size block of rows with two passes over the block while it
//! is in cache (count/sum/min/max/…, then the corrected two-pass M2 around the
//! block mean); leaves are combined with Chan et al.'s pairwise update in a
//! fixed binary tree. Block sizes depend only on the shape, never on the thread
//! count, so results are bit-identical for any number of threads.
//!
//! Shift: inside one call, the leaves' sums are of `x - k` where `k` is the
//! column's first finite value (see [`shifts`]), and `count * k` is added back
//! at the end. Without it, the block means of data on a large offset (`1e12 +
//! U(0, 100)`) carry the offset's rounding (an ulp of 1e12 is 1.2e-4) into
//! every Chan merge, and the variance was off by ~1e-8 relative; with it the
//! merges see values of the spread's size and the variance is as exact as one
//! corrected two-pass over all rows. The leaf's passes do not change: its
//! shifted sum is `count * (mean - k) + sum(x - mean)` from the second pass's
//! residual, so the shift costs nothing per element. A leaf whose values are
//! all equal has M2 exactly 0, so a constant column's variance is exactly 0.
//!
//! C-order data is processed row by row with one accumulator per column (the
//! inner loop runs across columns and vectorizes); F-order data column by
//! column, each column viewed as rows of [`LANES`] values so the loop vectorizes
//! across lanes. float32 input is accumulated in float64.

// Loops index several same-length slices on purpose: that is the form LLVM
// vectorizes across columns.
#![allow(clippy::needless_range_loop)]

pub mod argext;
pub mod minmax;
pub mod transform;

use crate::float::Float;
use crate::matrix::{Layout, MatRef};
use crate::multiversion;
#[cfg(test)]
use crate::pool;
use crate::{Error, Result};

/// Number of fields of [`ColStats`] in its packed form (`to_packed`).
pub const FIELDS: usize = 8;

/// Elements per leaf block (rows x panel width): 128 KiB of f64, in L2 for the
/// second pass, large enough to amortize the per-leaf merge (measured).
const LEAF_ELEMS: usize = 16384;
/// Columns processed together in C order (bounds the accumulators per leaf).
const PANEL: usize = 256;
/// Lanes of the 1-D (and F-order column) view.
pub const LANES: usize = 16;
/// Leaves below which a subtree is not split across threads.
const MIN_LEAVES_PER_TASK: usize = 8;

/// Mergeable per-column partial statistics (all float64).
#[derive(Debug, Clone, PartialEq)]
pub struct ColStats {
    /// Sum of the weights of the non-NaN values (their number when unweighted).
    pub count: Vec<f64>,
    /// Number of NaN values (unweighted).
    pub nan_count: Vec<f64>,
    /// Weighted sum of the non-NaN values.
    pub sum: Vec<f64>,
    /// Weighted sum of squared deviations from the column mean.
    pub m2: Vec<f64>,
    /// Minimum of the non-NaN values (+inf when there are none).
    pub min: Vec<f64>,
    /// Maximum of the non-NaN values (-inf when there are none).
    pub max: Vec<f64>,
    /// Weighted sum of |x| over the non-NaN values.
    pub sum_abs: Vec<f64>,
    /// Weighted sum of x² over the non-NaN values.
    pub sum_sq: Vec<f64>,
}

#[inline(always)]
fn nmin(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}
#[inline(always)]
fn nmax(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

impl ColStats {
    /// Statistics of zero rows for `cols` columns.
    pub fn empty(cols: usize) -> Self {
        ColStats {
            count: vec![0.0; cols],
            nan_count: vec![0.0; cols],
            sum: vec![0.0; cols],
            m2: vec![0.0; cols],
            min: vec![f64::INFINITY; cols],
            max: vec![f64::NEG_INFINITY; cols],
            sum_abs: vec![0.0; cols],
            sum_sq: vec![0.0; cols],
        }
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.count.len()
    }

    /// Merges `b` (statistics of other rows of the same columns) into `self`
    /// (Chan, Golub & LeVeque's pairwise update for the mean and M2).
    pub fn merge(&mut self, b: &ColStats) {
        debug_assert_eq!(self.cols(), b.cols());
        for j in 0..self.cols() {
            let (na, nb) = (self.count[j], b.count[j]);
            if nb != 0.0 {
                if na == 0.0 {
                    self.m2[j] = b.m2[j];
                } else {
                    let n = na + nb;
                    let delta = b.sum[j] / nb - self.sum[j] / na;
                    self.m2[j] = self.m2[j] + b.m2[j] + delta * delta * (na / n * nb);
                }
                self.count[j] = na + nb;
                self.sum[j] += b.sum[j];
                self.sum_abs[j] += b.sum_abs[j];
                self.sum_sq[j] += b.sum_sq[j];
            }
            self.nan_count[j] += b.nan_count[j];
            self.min[j] = nmin(self.min[j], b.min[j]);
            self.max[j] = nmax(self.max[j], b.max[j]);
        }
    }

    /// `FIELDS * cols` values: count, nan_count, sum, m2, min, max, sum_abs,
    /// sum_sq, each a row of `cols` values.
    pub fn to_packed(&self, out: &mut [f64]) -> Result<()> {
        let c = self.cols();
        if out.len() != FIELDS * c {
            return Err(Error::LengthMismatch(format!(
                "colstats: output has {} elements, expected {FIELDS} * {c}",
                out.len()
            )));
        }
        for (k, f) in self.fields().iter().enumerate() {
            out[k * c..(k + 1) * c].copy_from_slice(f);
        }
        Ok(())
    }

    /// Reads the packed form written by [`ColStats::to_packed`].
    pub fn from_packed(p: &[f64], cols: usize) -> Result<Self> {
        if Some(p.len()) != cols.checked_mul(FIELDS) {
            return Err(Error::LengthMismatch(format!(
                "colstats: packed statistics have {} elements, expected {FIELDS} * {cols}",
                p.len()
            )));
        }
        let f = |k: usize| p[k * cols..(k + 1) * cols].to_vec();
        Ok(ColStats {
            count: f(0),
            nan_count: f(1),
            sum: f(2),
            m2: f(3),
            min: f(4),
            max: f(5),
            sum_abs: f(6),
            sum_sq: f(7),
        })
    }

    fn fields(&self) -> [&Vec<f64>; FIELDS] {
        [
            &self.count,
            &self.nan_count,
            &self.sum,
            &self.m2,
            &self.min,
            &self.max,
            &self.sum_abs,
            &self.sum_sq,
        ]
    }

    fn fields_mut(&mut self) -> [&mut Vec<f64>; FIELDS] {
        [
            &mut self.count,
            &mut self.nan_count,
            &mut self.sum,
            &mut self.m2,
            &mut self.min,
            &mut self.max,
            &mut self.sum_abs,
            &mut self.sum_sq,
        ]
    }

    /// Copies the columns of `src` into columns `c0..c0 + src.cols()`.
    fn place(&mut self, c0: usize, src: &ColStats) {
        let w = src.cols();
        for (d, s) in self.fields_mut().into_iter().zip(src.fields()) {
            d[c0..c0 + w].copy_from_slice(s);
        }
    }

    /// Per-column mean of the non-NaN values (NaN where there are none).
    pub fn mean(&self) -> Vec<f64> {
        self.sum
            .iter()
            .zip(&self.count)
            .map(|(&s, &n)| if n > 0.0 { s / n } else { f64::NAN })
            .collect()
    }

    /// Per-column variance `m2 / (count - ddof)` (NaN where `count <= ddof`).
    pub fn var(&self, ddof: f64) -> Vec<f64> {
        self.m2
            .iter()
            .zip(&self.count)
            .map(|(&m, &n)| {
                if n - ddof > 0.0 {
                    m / (n - ddof)
                } else {
                    f64::NAN
                }
            })
            .collect()
    }
}

/// Where the weight of a value comes from.
#[derive(Clone, Copy)]
pub enum Weights<'a, T> {
    /// Every value has weight 1.
    None,
    /// One weight per row.
    PerRow(&'a [T]),
    /// One weight per value, laid out exactly like the data.
    PerElem(&'a [T]),
}

/// Statistics of rows `r0..r1`, columns `col..col + N`, of a row-major buffer
/// with row stride `stride`, written to columns `at..at + N` of `s`.
/// The sum is of `x - shift[at + j]` (the leaf's shifts; mean and M2 do not
/// depend on it).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn panel<T: Float, const N: usize>(
    x: &[T],
    stride: usize,
    col: usize,
    r0: usize,
    r1: usize,
    w: Weights<'_, T>,
    shift: &[f64],
    s: &mut ColStats,
    at: usize,
) {
    let mut k = [0.0f64; N];
    k.copy_from_slice(&shift[at..at + N]);
    let mut cnt = [0.0f64; N];
    let mut nan = [0.0f64; N];
    let mut sum = [0.0f64; N];
    let mut sa = [0.0f64; N];
    let mut sq = [0.0f64; N];
    let mut mn = [f64::INFINITY; N];
    let mut mx = [f64::NEG_INFINITY; N];
    #[inline(always)]
    fn weights<T: Float, const N: usize>(w: Weights<'_, T>, r: usize, at: usize) -> [f64; N] {
        match w {
            Weights::None => [1.0; N],
            Weights::PerRow(ws) => [ws[r].to_f64(); N],
            Weights::PerElem(ws) => {
                let mut o = [0.0; N];
                for (o, v) in o.iter_mut().zip(&ws[at..at + N]) {
                    *o = v.to_f64();
                }
                o
            }
        }
    }
    // Weight 1 makes every product below exact, so the unweighted results are
    // the same bits as a dedicated unweighted loop.
    for r in r0..r1 {
        let base = r * stride + col;
        let row = &x[base..base + N];
        let wv = weights::<T, N>(w, r, base);
        for j in 0..N {
            let v = row[j].to_f64();
            // Branch-free: a 0/1 factor instead of a select on the accumulators
            // (which LLVM turns into masked read-modify-writes of memory).
            let okf = if v.is_nan() { 0.0 } else { 1.0 };
            let vz = if v.is_nan() { 0.0 } else { v };
            cnt[j] += wv[j] * okf;
            nan[j] += 1.0 - okf;
            sum[j] += wv[j] * vz;
            sa[j] += wv[j] * vz.abs();
            sq[j] += wv[j] * (vz * vz);
            mn[j] = if v < mn[j] { v } else { mn[j] };
            mx[j] = if v > mx[j] { v } else { mx[j] };
        }
    }
    // Second pass over the (cached) block: corrected two-pass M2 around the block mean.
    let mut mean = [0.0f64; N];
    for j in 0..N {
        mean[j] = if cnt[j] != 0.0 { sum[j] / cnt[j] } else { 0.0 };
    }
    let mut m2 = [0.0f64; N];
    let mut corr = [0.0f64; N];
    for r in r0..r1 {
        let base = r * stride + col;
        let row = &x[base..base + N];
        let wv = weights::<T, N>(w, r, base);
        for j in 0..N {
            let v = row[j].to_f64();
            let d = if v.is_nan() { 0.0 } else { v - mean[j] };
            corr[j] += wv[j] * d;
            m2[j] += wv[j] * (d * d);
        }
    }
    for j in 0..N {
        let c = at + j;
        s.count[c] = cnt[j];
        s.nan_count[c] = nan[j];
        s.sum_abs[c] = sa[j];
        s.sum_sq[c] = sq[j];
        s.min[c] = mn[j];
        s.max[c] = mx[j];
        if mn[j] == mx[j] && mn[j].is_finite() {
            // All values equal: M2 exactly 0 and the sum exactly `count * (v -
            // k)` (0 when v is the shift), so the merges of a constant column's
            // blocks keep 0 (`v - mean` is not 0 when sum(w v) / sum(w) rounds
            // away from v).
            s.sum[c] = cnt[j] * (mn[j] - k[j]);
            s.m2[c] = 0.0;
        } else {
            s.sum[c] = shifted_sum(sum[j], cnt[j], mean[j], corr[j], k[j]);
            s.m2[c] = if cnt[j] != 0.0 {
                let v = m2[j] - corr[j] * corr[j] / cnt[j];
                if v > 0.0 || v.is_nan() {
                    v
                } else {
                    0.0
                }
            } else {
                0.0
            };
        }
    }
}

/// The block sum of `x - k` as `count * (mean - k) + sum(x - mean)`: the
/// residual of the second pass corrects the rounding of the first-pass sum
/// (error about one ulp of the shifted sum, however large the offset `k` and
/// the block). `sum - count * k` when the residual is not finite (inf in the
/// data).
#[inline(always)]
fn shifted_sum(sum: f64, cnt: f64, mean: f64, corr: f64, k: f64) -> f64 {
    if cnt != 0.0 && corr.is_finite() {
        cnt * (mean - k) + corr
    } else {
        sum - cnt * k
    }
}

/// A leaf: rows `r0..r1` of the panel `c0..c0 + width` of a row-major buffer
/// with row stride `stride`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn leaf<T: Float>(
    x: &[T],
    stride: usize,
    c0: usize,
    width: usize,
    r0: usize,
    r1: usize,
    w: Weights<'_, T>,
    shift: &[f64],
) -> ColStats {
    debug_assert_eq!(shift.len(), width);
    let mut s = ColStats::empty(width);
    // Register panels of 16 (then 8) columns: all accumulators of a panel stay
    // in vector registers while the leaf's rows (in L1/L2) stream past.
    let mut c = 0;
    while width - c >= 16 {
        panel::<T, 16>(x, stride, c0 + c, r0, r1, w, shift, &mut s, c);
        c += 16;
    }
    if width - c >= 8 {
        panel::<T, 8>(x, stride, c0 + c, r0, r1, w, shift, &mut s, c);
        c += 8;
    }
    if c == width {
        return s;
    }
    if width >= 8 {
        // Fewer than 8 columns left: an 8-wide panel ending at the last
        // column (overlapping the previous one), keeping its new columns.
        let mut t = ColStats::empty(8);
        let sh = &shift[width - 8..];
        panel::<T, 8>(x, stride, c0 + width - 8, r0, r1, w, sh, &mut t, 0);
        let skip = 8 - (width - c);
        for (d, f) in s.fields_mut().into_iter().zip(t.fields()) {
            d[c..].copy_from_slice(&f[skip..]);
        }
        return s;
    }
    match width {
        1 => panel::<T, 1>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        2 => panel::<T, 2>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        3 => panel::<T, 3>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        4 => panel::<T, 4>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        5 => panel::<T, 5>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        6 => panel::<T, 6>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
        _ => panel::<T, 7>(x, stride, c0, r0, r1, w, shift, &mut s, 0),
    }
    s
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn leaf_f64(x: &[f64], stride: usize, c0: usize, width: usize, r0: usize, r1: usize, w: Weights<'_, f64>, shift: &[f64]) -> ColStats = leaf::<f64>;
}
multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn leaf_f32(x: &[f32], stride: usize, c0: usize, width: usize, r0: usize, r1: usize, w: Weights<'_, f32>, shift: &[f64]) -> ColStats = leaf::<f32>;
}

/// Element types the statistics and transform kernels support (f32, f64).
pub trait StatsElement: Float {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn leaf(
        x: &[Self],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
        w: Weights<'_, Self>,
        shift: &[f64],
    ) -> ColStats;
    #[doc(hidden)]
    fn from_f64(v: f64) -> Self;
}

impl StatsElement for f64 {
    fn leaf(
        x: &[f64],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
        w: Weights<'_, f64>,
        shift: &[f64],
    ) -> ColStats {
        leaf_f64(x, stride, c0, width, r0, r1, w, shift)
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
}

impl StatsElement for f32 {
    fn leaf(
        x: &[f32],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
        w: Weights<'_, f32>,
        shift: &[f64],
    ) -> ColStats {
        leaf_f32(x, stride, c0, width, r0, r1, w, shift)
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
}

/// Reduces leaves `0..n_leaves` in a fixed binary tree (subtrees of up to
/// `MIN_LEAVES_PER_TASK` leaves handed out dynamically to the calling thread and
/// the library pool when `elems` is large enough). `n_leaves` must be >= 1.
pub(crate) fn fixed_tree<T, L, C>(n_leaves: usize, elems: usize, leaf: &L, combine: &C) -> T
where
    T: Send,
    L: Fn(usize) -> T + Sync,
    C: Fn(T, T) -> T + Sync,
{
    debug_assert!(n_leaves >= 1);
    let team = crate::sched::team(elems, crate::blocks::MIN_PARALLEL_ELEMENTS);
    crate::sched::fixed_tree(&team, n_leaves, MIN_LEAVES_PER_TASK, leaf, combine)
}

fn merged(mut a: ColStats, b: ColStats) -> ColStats {
    a.merge(&b);
    a
}

/// The shift of each column `c0..c0 + width` of a row-major buffer (`rows x
/// stride`): its first finite value, 0 when it has none. Reads one row when
/// the first row is finite; later rows only for the columns still missing.
fn shifts<T: Float>(x: &[T], rows: usize, stride: usize, c0: usize, width: usize) -> Vec<f64> {
    let mut k = vec![0.0; width];
    let mut missing: Vec<usize> = (0..width).collect();
    for r in 0..rows {
        if missing.is_empty() {
            break;
        }
        let row = &x[r * stride + c0..r * stride + c0 + width];
        missing.retain(|&j| {
            let v = row[j].to_f64();
            if v.is_finite() {
                k[j] = v;
            }
            !v.is_finite()
        });
    }
    k
}

/// Columns whose finite values span more than the float64 range: `x - k`
/// could overflow there, so they are computed without a shift.
fn overflowing(s: &ColStats) -> Vec<usize> {
    (0..s.cols())
        .filter(|&j| {
            let (lo, hi) = (s.min[j], s.max[j]);
            lo.is_finite() && hi.is_finite() && !(hi - lo).is_finite()
        })
        .collect()
}

/// Adds the shifts back: the sums become sums of `x` (mean and M2 do not
/// depend on the shift).
fn unshift(s: &mut ColStats, k: &[f64]) {
    for j in 0..s.cols() {
        if s.count[j] != 0.0 {
            s.sum[j] += s.count[j] * k[j];
        }
    }
}

/// Statistics of `x - k` (per column) over rows of a row-major buffer
/// (`rows x stride`), columns `c0..c0 + width`, in fixed blocks of rows.
#[allow(clippy::too_many_arguments)]
fn rows_stats_shifted<T: StatsElement>(
    x: &[T],
    rows: usize,
    stride: usize,
    c0: usize,
    width: usize,
    w: Weights<'_, T>,
    k: &[f64],
) -> ColStats {
    if rows == 0 || width == 0 {
        return ColStats::empty(width);
    }
    let rpb = (LEAF_ELEMS / width).max(1);
    let n_leaves = rows.div_ceil(rpb);
    fixed_tree(
        n_leaves,
        rows * width,
        &|b| {
            T::leaf(
                x,
                stride,
                c0,
                width,
                b * rpb,
                ((b + 1) * rpb).min(rows),
                w,
                k,
            )
        },
        &merged,
    )
}

/// Statistics of rows of a row-major buffer (`rows x stride`), columns
/// `c0..c0 + width`, in fixed blocks of rows, each column shifted by its
/// first finite value while accumulating (see the module doc).
fn rows_stats<T: StatsElement>(
    x: &[T],
    rows: usize,
    stride: usize,
    c0: usize,
    width: usize,
    w: Weights<'_, T>,
) -> ColStats {
    let mut k = shifts(x, rows, stride, c0, width);
    let mut s = rows_stats_shifted(x, rows, stride, c0, width, w, &k);
    let bad = overflowing(&s);
    if !bad.is_empty() {
        for &j in &bad {
            k[j] = 0.0;
        }
        let t = rows_stats_shifted(x, rows, stride, c0, width, w, &k);
        for &j in &bad {
            for (d, f) in s.fields_mut().into_iter().zip(t.fields()) {
                d[j] = f[j];
            }
        }
    }
    unshift(&mut s, &k);
    s
}

/// Merges the columns of `s` into one column, pairwise in a fixed order.
fn collapse(s: &ColStats) -> ColStats {
    fn one(s: &ColStats, j: usize) -> ColStats {
        ColStats {
            count: vec![s.count[j]],
            nan_count: vec![s.nan_count[j]],
            sum: vec![s.sum[j]],
            m2: vec![s.m2[j]],
            min: vec![s.min[j]],
            max: vec![s.max[j]],
            sum_abs: vec![s.sum_abs[j]],
            sum_sq: vec![s.sum_sq[j]],
        }
    }
    fn rec(s: &ColStats, lo: usize, hi: usize) -> ColStats {
        if hi - lo == 1 {
            return one(s, lo);
        }
        let mid = lo + (hi - lo) / 2;
        merged(rec(s, lo, mid), rec(s, mid, hi))
    }
    if s.cols() == 0 {
        return ColStats::empty(1);
    }
    rec(s, 0, s.cols())
}

/// Statistics of a 1-D slice (one column), with optional per-element weights.
pub fn vec_stats<T: StatsElement>(x: &[T], w: Option<&[T]>) -> Result<ColStats> {
    if let Some(w) = w {
        if w.len() != x.len() {
            return Err(Error::LengthMismatch(format!(
                "colstats: {} weights for {} values",
                w.len(),
                x.len()
            )));
        }
    }
    let mut k = shifts(x, x.len(), 1, 0, 1)[0];
    let mut s = vec_stats_shifted(x, w, k);
    if !overflowing(&s).is_empty() {
        k = 0.0;
        s = vec_stats_shifted(x, w, k);
    }
    unshift(&mut s, &[k]);
    Ok(s)
}

/// Statistics of `x - k` of a 1-D slice (weights already checked).
fn vec_stats_shifted<T: StatsElement>(x: &[T], w: Option<&[T]>, k: f64) -> ColStats {
    let full = x.len() / LANES * LANES;
    let wsel = |r: std::ops::Range<usize>| match w {
        Some(w) => Weights::PerElem(&w[r]),
        None => Weights::None,
    };
    let mut s = if full > 0 {
        collapse(&rows_stats_shifted(
            &x[..full],
            full / LANES,
            LANES,
            0,
            LANES,
            wsel(0..full),
            &[k; LANES],
        ))
    } else {
        ColStats::empty(1)
    };
    if full < x.len() {
        let tail = &x[full..];
        let t = T::leaf(tail, 1, 0, 1, 0, tail.len(), wsel(full..x.len()), &[k]);
        s.merge(&t);
    }
    s
}

/// Per-column statistics of a matrix (C or F order), with optional per-row
/// weights (`rows` of them).
///
/// ```
/// use ferrokit_core::matrix::{Layout, MatRef};
/// use ferrokit_core::stats::col_stats;
/// let x = [1.0, 10.0, 3.0, f64::NAN];
/// let s = col_stats(MatRef::new(&x, 2, 2, Layout::RowMajor).unwrap(), None).unwrap();
/// assert_eq!(s.mean()[0], 2.0);
/// assert_eq!(s.count, vec![2.0, 1.0]);
/// assert_eq!(s.var(0.0)[0], 1.0);
/// ```
pub fn col_stats<T: StatsElement>(x: MatRef<'_, T>, w: Option<&[T]>) -> Result<ColStats> {
    if let Some(w) = w {
        if w.len() != x.rows {
            return Err(Error::LengthMismatch(format!(
                "colstats: {} sample weights for {} rows",
                w.len(),
                x.rows
            )));
        }
    }
    let mut out = ColStats::empty(x.cols);
    match x.layout {
        Layout::RowMajor => {
            let mut c0 = 0;
            while c0 < x.cols {
                let width = PANEL.min(x.cols - c0);
                let ws = match w {
                    Some(w) => Weights::PerRow(w),
                    None => Weights::None,
                };
                let s = rows_stats(x.data, x.rows, x.cols, c0, width, ws);
                out.place(c0, &s);
                c0 += width;
            }
        }
        Layout::ColMajor => {
            for j in 0..x.cols {
                let s = vec_stats(x.col(j), w)?;
                out.place(j, &s);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{set_max_level, Level};

    fn data(n: usize, seed: u64) -> Vec<f64> {
        crate::test_data::states(n, seed)
            .map(|s| ((s >> 11) as f64 / (1u64 << 53) as f64) * 20.0 - 7.0)
            .collect()
    }

    fn naive(col: &[f64], w: Option<&[f64]>) -> (f64, f64, f64, f64, f64, f64) {
        let mut n = 0.0;
        let mut nan = 0.0;
        let mut s = 0.0;
        let mut mn = f64::INFINITY;
        let mut mx = f64::NEG_INFINITY;
        for (i, &v) in col.iter().enumerate() {
            let wi = w.map_or(1.0, |w| w[i]);
            if v.is_nan() {
                nan += 1.0;
                continue;
            }
            n += wi;
            s += wi * v;
            mn = mn.min(v);
            mx = mx.max(v);
        }
        let mean = s / n;
        let m2: f64 = col
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .map(|(i, &v)| w.map_or(1.0, |w| w[i]) * (v - mean) * (v - mean))
            .sum();
        (n, nan, s, m2, mn, mx)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn c_and_f_match_naive_with_nans_and_weights() {
        for &(rows, cols) in &[(0, 3), (1, 1), (7, 3), (300, 33), (2000, 5), (5, 300)] {
            let mut x = data(rows * cols, 7);
            for i in (0..x.len()).step_by(11) {
                x[i] = f64::NAN;
            }
            let w: Vec<f64> = data(rows, 3).iter().map(|v| v.abs() + 0.1).collect();
            let mut f = vec![0.0; rows * cols];
            for i in 0..rows {
                for j in 0..cols {
                    f[j * rows + i] = x[i * cols + j];
                }
            }
            for wt in [None, Some(&w[..])] {
                let sc =
                    col_stats(MatRef::new(&x, rows, cols, Layout::RowMajor).unwrap(), wt).unwrap();
                let sf =
                    col_stats(MatRef::new(&f, rows, cols, Layout::ColMajor).unwrap(), wt).unwrap();
                for s in [&sc, &sf] {
                    for j in 0..cols {
                        let col = &f[j * rows..(j + 1) * rows];
                        let (n, nan, sm, m2, mn, mx) = naive(col, wt);
                        assert!(close(s.count[j], n, 1e-12), "{rows}x{cols}");
                        assert_eq!(s.nan_count[j], nan);
                        assert!(close(s.sum[j], sm, 1e-12));
                        assert!(close(s.m2[j], m2, 1e-10), "{} {}", s.m2[j], m2);
                        assert_eq!(s.min[j], mn);
                        assert_eq!(s.max[j], mx);
                    }
                }
            }
        }
    }

    #[test]
    fn merge_of_chunks_equals_whole() {
        let (rows, cols) = (5003, 4);
        let x = data(rows * cols, 9);
        let whole =
            col_stats(MatRef::new(&x, rows, cols, Layout::RowMajor).unwrap(), None).unwrap();
        let mut acc = ColStats::empty(cols);
        let mut r0 = 0;
        for step in [1usize, 17, 1000, 2, 3983] {
            let part = &x[r0 * cols..(r0 + step) * cols];
            let s = col_stats(
                MatRef::new(part, step, cols, Layout::RowMajor).unwrap(),
                None,
            )
            .unwrap();
            acc.merge(&s);
            r0 += step;
        }
        assert_eq!(r0, rows);
        for j in 0..cols {
            assert_eq!(acc.count[j], whole.count[j]);
            assert!(close(acc.sum[j], whole.sum[j], 1e-13));
            assert!(close(acc.m2[j], whole.m2[j], 1e-12));
            assert_eq!(acc.min[j], whole.min[j]);
        }
        let mut p = vec![0.0; FIELDS * cols];
        acc.to_packed(&mut p).unwrap();
        assert_eq!(ColStats::from_packed(&p, cols).unwrap(), acc);
    }

    #[test]
    fn bit_identical_across_threads_and_levels() {
        let _level = crate::simd::test_level_lock();
        let (rows, cols) = (70_001, 32);
        let x = data(rows * cols, 5);
        let run = || {
            let a =
                col_stats(MatRef::new(&x, rows, cols, Layout::RowMajor).unwrap(), None).unwrap();
            let b = vec_stats(&x, None).unwrap();
            (a, b)
        };
        pool::set_num_threads(1);
        let one = run();
        pool::set_num_threads(3);
        let three = run();
        pool::set_num_threads(0);
        assert_eq!(one, three);
        for cap in [Level::Baseline, Level::Avx2] {
            set_max_level(Some(cap));
            assert_eq!(run(), one, "{cap:?}");
        }
        set_max_level(None);
    }

    #[test]
    fn constant_column_has_zero_variance() {
        for n in [1usize, 2, 17, 33, 333, 1000, 5003, 10_000, 70_001] {
            for v in [0.1f64, 0.3, -11.512925464970229, 1e12 + 0.3, 1.7e18] {
                let mut x = vec![v; n];
                x[n / 2] = f64::NAN;
                let s = vec_stats(&x, None).unwrap();
                assert_eq!(s.m2[0], 0.0, "{n} {v}");
                let m = MatRef::new(&x, n, 1, Layout::RowMajor).unwrap();
                assert_eq!(col_stats(m, None).unwrap().m2[0], 0.0);
                let wide: Vec<f64> = x.iter().flat_map(|&a| [a, 2.0 * a, a]).collect();
                let m = MatRef::new(&wide, n, 3, Layout::RowMajor).unwrap();
                assert_eq!(col_stats(m, None).unwrap().m2, vec![0.0; 3]);
                let xf: Vec<f32> = x.iter().map(|&a| a as f32).collect();
                assert_eq!(vec_stats(&xf, None).unwrap().m2[0], 0.0);
                // Weighted: the block mean sum(w v) / sum(w) rounds away from v
                // (M2 was ~1e-40 before the all-equal rule).
                let w: Vec<f64> = (0..n).map(|i| 0.1 + (i % 7) as f64 * 0.37).collect();
                assert_eq!(vec_stats(&x, Some(&w)).unwrap().m2[0], 0.0, "{n} {v}");
                let s = col_stats(
                    MatRef::new(&wide, n, 3, Layout::RowMajor).unwrap(),
                    Some(&w),
                );
                assert_eq!(s.unwrap().m2, vec![0.0; 3], "{n} {v}");
            }
        }
    }

    /// Exact variance of values that are all multiples of `2^-e` (as integers
    /// relative to the first value, so every sum fits an i128).
    fn exact_var(col: &[f64], e: i32) -> f64 {
        let scale = 2f64.powi(e);
        let ints: Vec<i128> = col
            .iter()
            .map(|&v| {
                let d = (v - col[0]) * scale;
                assert_eq!(d, d.round(), "not on the grid");
                d as i128
            })
            .collect();
        let n = ints.len() as i128;
        let s: i128 = ints.iter().sum();
        let q: i128 = ints.iter().map(|&v| v * v).sum();
        // var = (n q - s^2) / n^2 / scale^2
        ((n * q - s * s) as f64) / (n as f64 * n as f64) / (scale * scale)
    }

    #[test]
    fn variance_on_a_large_offset_is_exact() {
        // 1e12 + U(0, 100): every value is a multiple of 2^-13 (its ulp is 2^-13).
        let _g = crate::simd::test_level_lock();
        for &(rows, cols) in &[(5usize, 1usize), (20_000, 3), (100_003, 1), (40_000, 17)] {
            let x: Vec<f64> = data(rows * cols, 3)
                .iter()
                .map(|v| 1e12 + (v + 7.0) * 5.0)
                .collect();
            let c =
                col_stats(MatRef::new(&x, rows, cols, Layout::RowMajor).unwrap(), None).unwrap();
            let mut f = vec![0.0; rows * cols];
            for i in 0..rows {
                for j in 0..cols {
                    f[j * rows + i] = x[i * cols + j];
                }
            }
            let fs =
                col_stats(MatRef::new(&f, rows, cols, Layout::ColMajor).unwrap(), None).unwrap();
            for j in 0..cols {
                let want = exact_var(&f[j * rows..(j + 1) * rows], 13);
                for (name, got) in [("C", c.var(0.0)[j]), ("F", fs.var(0.0)[j])] {
                    let rel = (got - want).abs() / want;
                    assert!(rel < 1e-14, "{name} {rows}x{cols} col {j}: rel {rel:e}");
                }
                let col = &f[j * rows..(j + 1) * rows];
                let offs: f64 = col.iter().map(|&v| v - col[0]).sum();
                let want_mean = col[0] + offs / rows as f64;
                let mean = c.mean()[j];
                assert!(
                    (mean - want_mean).abs() <= 2e-16 * want_mean,
                    "{mean} {want_mean}"
                );
            }
        }
        // int64 epoch nanoseconds over one second (float64 grid of 256 ns).
        let x: Vec<f64> = data(50_001, 4)
            .iter()
            .map(|v| 1.7e18 + ((v + 7.0) * 5e7).round() * 256.0)
            .collect();
        let s = vec_stats(&x, None).unwrap();
        let want = exact_var(&x, -8);
        assert!((s.var(0.0)[0] - want).abs() / want < 1e-14);
    }

    #[test]
    fn values_spanning_the_float_range_are_not_shifted() {
        // x - first value would overflow: computed unshifted (a finite sum, an
        // infinite M2, as numpy gives).
        let x: [f64; 5] = [1e308, -1e308, 0.5, -1e308, 1e308];
        let s = vec_stats(&x, None).unwrap();
        assert!(s.sum[0].abs() <= 0.5, "{}", s.sum[0]);
        assert_eq!(s.m2[0], f64::INFINITY);
        let wide: Vec<f64> = x.iter().flat_map(|&a| [a, 1e12 + a.signum()]).collect();
        let s = col_stats(MatRef::new(&wide, 5, 2, Layout::RowMajor).unwrap(), None).unwrap();
        assert!(s.sum[0].abs() <= 0.5, "{}", s.sum[0]);
        assert_eq!(s.m2[0], f64::INFINITY);
        assert_eq!(s.sum[1], 5e12 + 1.0);
        assert!((s.var(0.0)[1] - 0.96).abs() < 1e-15);
        // A column that starts with NaN and inf is shifted by its first finite value.
        let y = [f64::NAN, f64::INFINITY, 3.0, 5.0];
        let s = vec_stats(&y, None).unwrap();
        assert_eq!(s.sum[0], f64::INFINITY);
        assert!(s.m2[0].is_nan());
        let y = [f64::NAN, f64::NAN, 3.0, 5.0];
        let s = vec_stats(&y, None).unwrap();
        assert_eq!((s.sum[0], s.m2[0], s.count[0]), (8.0, 2.0, 2.0));
    }
}
