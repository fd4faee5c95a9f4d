//! Exact manhattan (L1), chebyshev (L∞) and minkowski (Lp, any `p > 0`)
//! distances and k-nearest-neighbour search.
//!
//! These metrics have no matrix-product form, so every (query, row) pair is
//! reduced directly: the differences are taken in float64 (exact for float32
//! input) and summed (or maxed) in float64 over 8 fixed lanes combined in a fixed
//! order, so the result does not depend on the instruction set or the thread
//! count. Minkowski ranks by `Σ|d|^p` and returns its `1/p`-th power, like
//! scikit-learn's `rdist`. Distances are float64 for both input types.
//!
//! The queries are cut into tasks of [`QUERY_BLOCK`] rows (each database row
//! is read once per block) handed out by [`crate::sched`]; each query's answer
//! is computed by one thread from the whole database, so results are
//! bit-identical for any thread count. NaN in a query or row gives a NaN distance,
//! which sorts after every number; ties go to the lower index.

use super::topk::{select_sorted, TopK};
use crate::float::{halving_sum, Float};
use crate::sched;
use crate::{multiversion, Error, Result};

/// Queries that share one pass over the database.
const QUERY_BLOCK: usize = 8;
/// Lanes of the per-pair reduction.
const LANES: usize = 8;
/// Element operations below which a call stays on the calling thread.
const MIN_PARALLEL_OPS: usize = 1 << 20;

/// An elementwise distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LpMetric {
    /// `Σ |q_i − x_i|`.
    Manhattan,
    /// `max |q_i − x_i|`.
    Chebyshev,
    /// `(Σ |q_i − x_i|^p)^(1/p)` for a finite `p > 0` (not a metric for `p < 1`).
    Minkowski(f64),
}

impl LpMetric {
    /// The metric with C number `kind` (0 manhattan, 1 chebyshev, 2 minkowski
    /// with exponent `p`; `p` is ignored by the other two).
    pub fn from_parts(kind: i32, p: f64) -> Result<LpMetric> {
        match kind {
            0 => Ok(LpMetric::Manhattan),
            1 => Ok(LpMetric::Chebyshev),
            2 if p > 0.0 && p.is_finite() => Ok(LpMetric::Minkowski(p)),
            2 => Err(Error::InvalidArgument(format!(
                "p is {p}, expected a finite number > 0 (p = inf is chebyshev)"
            ))),
            _ => Err(Error::InvalidArgument(format!(
                "metric is {kind}, expected 0 (manhattan), 1 (chebyshev) or 2 (minkowski)"
            ))),
        }
    }

    /// The distance from the reduced value (`Σ|d|^p` → its `1/p`-th power).
    #[inline]
    fn finish(self, r: f64) -> f64 {
        match self {
            LpMetric::Minkowski(1.0) => r,
            LpMetric::Minkowski(2.0) => r.sqrt(),
            LpMetric::Minkowski(p) => r.powf(1.0 / p),
            _ => r,
        }
    }
}

/// `Σ |q_i − x_i|` in float64, fixed lane order.
#[inline(always)]
fn l1_body<T: Float>(q: &[T], x: &[T]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let (qc, qt) = q.split_at(q.len() / LANES * LANES);
    let (xc, xt) = x.split_at(qc.len());
    for (a, b) in qc.chunks_exact(LANES).zip(xc.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += (a[l].to_f64() - b[l].to_f64()).abs();
        }
    }
    for (l, (a, b)) in qt.iter().zip(xt).enumerate() {
        acc[l] += (a.to_f64() - b.to_f64()).abs();
    }
    halving_sum(acc)
}

/// `max |q_i − x_i|` in float64 (NaN if any difference is NaN).
#[inline(always)]
fn linf_body<T: Float>(q: &[T], x: &[T]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut nan = [false; LANES];
    let (qc, qt) = q.split_at(q.len() / LANES * LANES);
    let (xc, xt) = x.split_at(qc.len());
    for (a, b) in qc.chunks_exact(LANES).zip(xc.chunks_exact(LANES)) {
        for l in 0..LANES {
            let d = (a[l].to_f64() - b[l].to_f64()).abs();
            acc[l] = if d > acc[l] { d } else { acc[l] };
            nan[l] |= d.is_nan();
        }
    }
    for (l, (a, b)) in qt.iter().zip(xt).enumerate() {
        let d = (a.to_f64() - b.to_f64()).abs();
        acc[l] = if d > acc[l] { d } else { acc[l] };
        nan[l] |= d.is_nan();
    }
    if nan.iter().any(|&b| b) {
        return f64::NAN;
    }
    acc.iter().fold(0.0f64, |m, &v| if v > m { v } else { m })
}

/// `Σ |q_i − x_i|^p` in float64.
#[inline(always)]
fn lp_body<T: Float>(q: &[T], x: &[T], p: f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let (qc, qt) = q.split_at(q.len() / LANES * LANES);
    let (xc, xt) = x.split_at(qc.len());
    for (a, b) in qc.chunks_exact(LANES).zip(xc.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += (a[l].to_f64() - b[l].to_f64()).abs().powf(p);
        }
    }
    for (l, (a, b)) in qt.iter().zip(xt).enumerate() {
        acc[l] += (a.to_f64() - b.to_f64()).abs().powf(p);
    }
    halving_sum(acc)
}

multiversion! { fn l1_f32(q: &[f32], x: &[f32]) -> f64 = l1_body::<f32>; }
multiversion! { fn l1_f64(q: &[f64], x: &[f64]) -> f64 = l1_body::<f64>; }
multiversion! { fn linf_f32(q: &[f32], x: &[f32]) -> f64 = linf_body::<f32>; }
multiversion! { fn linf_f64(q: &[f64], x: &[f64]) -> f64 = linf_body::<f64>; }

/// The per-type reductions (dispatched per instruction set): f32 and f64.
pub trait LpReduce: Float {
    /// `Σ |q_i − x_i|`.
    fn l1(q: &[Self], x: &[Self]) -> f64;
    /// `max |q_i − x_i|`.
    fn linf(q: &[Self], x: &[Self]) -> f64;
}

impl LpReduce for f32 {
    fn l1(q: &[f32], x: &[f32]) -> f64 {
        l1_f32(q, x)
    }
    fn linf(q: &[f32], x: &[f32]) -> f64 {
        linf_f32(q, x)
    }
}

impl LpReduce for f64 {
    fn l1(q: &[f64], x: &[f64]) -> f64 {
        l1_f64(q, x)
    }
    fn linf(q: &[f64], x: &[f64]) -> f64 {
        linf_f64(q, x)
    }
}

/// The value ranked by (`Σ|d|`, `max|d|` or `Σ|d|^p`).
#[inline]
fn reduce<T: LpReduce>(q: &[T], x: &[T], m: LpMetric) -> f64 {
    match m {
        LpMetric::Manhattan => T::l1(q, x),
        LpMetric::Chebyshev => T::linf(q, x),
        LpMetric::Minkowski(1.0) => T::l1(q, x),
        LpMetric::Minkowski(p) => lp_body(q, x, p),
    }
}

fn rows(len: usize, dim: usize, what: &str) -> Result<usize> {
    if dim == 0 {
        return Err(Error::InvalidArgument(
            "dim is 0, expected at least 1".to_string(),
        ));
    }
    if !len.is_multiple_of(dim) {
        return Err(Error::LengthMismatch(format!(
            "{what} has {len} elements, not a multiple of dim = {dim}"
        )));
    }
    Ok(len / dim)
}

/// The `nx × ny` matrix of distances between the rows of `x` and of `y`
/// (`dim` columns each), row-major into `out` (float64).
pub fn lp_pairwise_distances<T: LpReduce>(
    x: &[T],
    y: &[T],
    dim: usize,
    metric: LpMetric,
    out: &mut [f64],
) -> Result<()> {
    let nx = rows(x.len(), dim, "x")?;
    let ny = rows(y.len(), dim, "y")?;
    if out.len() != nx * ny {
        return Err(Error::LengthMismatch(format!(
            "out has {} elements, expected nx * ny = {}",
            out.len(),
            nx * ny
        )));
    }
    if ny == 0 {
        return Ok(());
    }
    let block = |xs: &[T], o: &mut [f64]| {
        for (q, orow) in xs.chunks_exact(dim).zip(o.chunks_exact_mut(ny)) {
            for (v, r) in orow.iter_mut().zip(y.chunks_exact(dim)) {
                *v = metric.finish(reduce(q, r, metric));
            }
        }
    };
    let rows_per_task = QUERY_BLOCK * dim;
    sched::team(x.len().saturating_mul(ny), MIN_PARALLEL_OPS).for_each_chunk_mut(
        out,
        QUERY_BLOCK * ny,
        |i, o| {
            let start = i * rows_per_task;
            block(&x[start..(start + rows_per_task).min(x.len())], o)
        },
    );
    Ok(())
}

/// For each of the rows of `queries`, the `k` nearest rows of `database`
/// (`dim` columns each): distances (float64) and indices, best first, into
/// `out_distances` / `out_indices` (`n_queries * k` each). Ties go to the lower
/// index, NaN distances last.
pub fn lp_knn_search<T: LpReduce>(
    queries: &[T],
    database: &[T],
    dim: usize,
    k: usize,
    metric: LpMetric,
    out_distances: &mut [f64],
    out_indices: &mut [i64],
) -> Result<()> {
    let nq = rows(queries.len(), dim, "queries")?;
    let nd = rows(database.len(), dim, "database")?;
    if nd == 0 {
        return Err(Error::InvalidArgument(
            "the database is empty (0 rows)".to_string(),
        ));
    }
    if k == 0 || k > nd {
        return Err(Error::InvalidArgument(format!(
            "k is {k}, expected 1 <= k <= n_database = {nd}"
        )));
    }
    let n_out = nq.checked_mul(k).ok_or_else(|| {
        Error::Overflow(format!("n_queries * k ({nq} * {k}) does not fit size_t"))
    })?;
    if out_distances.len() != n_out || out_indices.len() != n_out {
        return Err(Error::LengthMismatch(format!(
            "out_distances / out_indices have {} / {} elements, expected n_queries * k = {n_out}",
            out_distances.len(),
            out_indices.len()
        )));
    }
    if nq == 0 {
        return Ok(());
    }
    let block = |qs: &[T], od: &mut [f64], oi: &mut [i64]| {
        let m = qs.len() / dim;
        let mut tops: Vec<TopK<f64>> = (0..m).map(|_| TopK::new(k)).collect();
        for (j, r) in database.chunks_exact(dim).enumerate() {
            for (top, q) in tops.iter_mut().zip(qs.chunks_exact(dim)) {
                top.offer(reduce(q, r, metric), j);
            }
        }
        for (i, top) in tops.iter().enumerate() {
            let mut c = top.candidates().to_vec();
            select_sorted(&mut c, k);
            for (s, (v, j)) in c.into_iter().enumerate() {
                od[i * k + s] = metric.finish(v);
                oi[i * k + s] = j as i64;
            }
        }
    };
    let per_task = QUERY_BLOCK * dim;
    sched::team(queries.len().saturating_mul(nd), MIN_PARALLEL_OPS).for_each_chunk_mut2(
        out_distances,
        QUERY_BLOCK * k,
        out_indices,
        QUERY_BLOCK * k,
        |i, od, oi| {
            let start = i * per_task;
            block(
                &queries[start..(start + per_task).min(queries.len())],
                od,
                oi,
            )
        },
    );
    Ok(())
}

#[cfg(test)]
#[path = "lp_tests.rs"]
mod tests;
