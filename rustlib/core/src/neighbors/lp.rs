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
//! is read once per block) handed out by [`crate::sched`]; a single block (up
//! to 8 queries) is searched by database chunks of [`DB_CHUNK`] rows instead,
//! whose candidates are merged under the total order (score, then index). The
//! tasks never depend on the thread count and every distance is computed the
//! same way, so results are bit-identical for any thread count. NaN in a query or row gives a NaN distance,
//! which sorts after every number; ties go to the lower index.

use super::topk::{select_sorted, TopK};
use crate::float::{halving_sum, Float};
use crate::sched;
use crate::{multiversion, Error, Result};

/// Queries that share one pass over the database.
const QUERY_BLOCK: usize = 8;
/// Database rows per task when one block of queries is searched by several threads.
const DB_CHUNK: usize = 4096;
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

/// `Σ |q_i − x_i|^n` for an integer `n >= 2` (repeated products in a fixed
/// order: several times faster than `powf`, and deterministic).
#[inline(always)]
fn lp_int_body<T: Float>(q: &[T], x: &[T], n: u32) -> f64 {
    let pow = |d: f64| {
        let mut r = d;
        for _ in 1..n {
            r *= d;
        }
        r
    };
    let mut acc = [0.0f64; LANES];
    let (qc, qt) = q.split_at(q.len() / LANES * LANES);
    let (xc, xt) = x.split_at(qc.len());
    for (a, b) in qc.chunks_exact(LANES).zip(xc.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += pow((a[l].to_f64() - b[l].to_f64()).abs());
        }
    }
    for (l, (a, b)) in qt.iter().zip(xt).enumerate() {
        acc[l] += pow((a.to_f64() - b.to_f64()).abs());
    }
    halving_sum(acc)
}

/// Which reduction a metric uses.
#[derive(Clone, Copy)]
enum Kernel {
    L1,
    Linf,
    PowInt(u32),
    Pow(f64),
}

impl LpMetric {
    fn kernel(self) -> Kernel {
        match self {
            LpMetric::Manhattan | LpMetric::Minkowski(1.0) => Kernel::L1,
            LpMetric::Chebyshev => Kernel::Linf,
            LpMetric::Minkowski(p) if p.fract() == 0.0 && p <= 16.0 => Kernel::PowInt(p as u32),
            LpMetric::Minkowski(p) => Kernel::Pow(p),
        }
    }
}

/// Runs `$body` with `$f` bound to the metric's reduction `(q, x) -> f64`.
macro_rules! with_reduction {
    ($m:expr, $t:ty, |$f:ident| $body:block) => {
        match $m.kernel() {
            Kernel::L1 => {
                let $f = |q: &[$t], x: &[$t]| l1_body(q, x);
                $body
            }
            Kernel::Linf => {
                let $f = |q: &[$t], x: &[$t]| linf_body(q, x);
                $body
            }
            Kernel::PowInt(n) => {
                let $f = |q: &[$t], x: &[$t]| lp_int_body(q, x, n);
                $body
            }
            Kernel::Pow(p) => {
                let $f = |q: &[$t], x: &[$t]| lp_body(q, x, p);
                $body
            }
        }
    };
}

/// Offers every database row to the top-k of each query of a block (the
/// reduced values, smaller is better).
#[inline(always)]
fn search_block_body<T: Float>(
    qs: &[T],
    db: &[T],
    dim: usize,
    metric: LpMetric,
    tops: &mut [TopK<f64>],
) {
    with_reduction!(metric, T, |f| {
        for (j, r) in db.chunks_exact(dim).enumerate() {
            for (top, q) in tops.iter_mut().zip(qs.chunks_exact(dim)) {
                top.offer(f(q, r), j);
            }
        }
    })
}

/// Distances of each row of `xs` to every row of `y`, row-major into `out`.
#[inline(always)]
fn pairwise_block_body<T: Float>(xs: &[T], y: &[T], dim: usize, metric: LpMetric, out: &mut [f64]) {
    let ny = y.len() / dim;
    with_reduction!(metric, T, |f| {
        for (q, orow) in xs.chunks_exact(dim).zip(out.chunks_exact_mut(ny)) {
            for (v, r) in orow.iter_mut().zip(y.chunks_exact(dim)) {
                *v = metric.finish(f(q, r));
            }
        }
    })
}

// Whole blocks are compiled per instruction set (one dispatch per block, the
// reductions inlined into the loops).
multiversion! { fn search_block_f32(qs: &[f32], db: &[f32], dim: usize, metric: LpMetric, tops: &mut [TopK<f64>]) -> () = search_block_body::<f32>; }
multiversion! { fn search_block_f64(qs: &[f64], db: &[f64], dim: usize, metric: LpMetric, tops: &mut [TopK<f64>]) -> () = search_block_body::<f64>; }
multiversion! { fn pairwise_block_f32(xs: &[f32], y: &[f32], dim: usize, metric: LpMetric, out: &mut [f64]) -> () = pairwise_block_body::<f32>; }
multiversion! { fn pairwise_block_f64(xs: &[f64], y: &[f64], dim: usize, metric: LpMetric, out: &mut [f64]) -> () = pairwise_block_body::<f64>; }

/// The float types the Lp kernels run on (f32 and f64).
pub trait LpReduce: Float + imp::Blocks {}

impl LpReduce for f32 {}
impl LpReduce for f64 {}

mod imp {
    use super::{LpMetric, TopK};

    /// The per-type block kernels (a sealed trait: not nameable outside).
    pub trait Blocks: Sized {
        fn search_block(qs: &[Self], db: &[Self], dim: usize, m: LpMetric, tops: &mut [TopK<f64>]);
        fn pairwise_block(xs: &[Self], y: &[Self], dim: usize, m: LpMetric, out: &mut [f64]);
    }

    macro_rules! blocks_for {
        ($t:ty, $search:ident, $pairwise:ident) => {
            impl Blocks for $t {
                fn search_block(
                    qs: &[$t],
                    db: &[$t],
                    dim: usize,
                    m: LpMetric,
                    tops: &mut [TopK<f64>],
                ) {
                    super::$search(qs, db, dim, m, tops)
                }
                fn pairwise_block(xs: &[$t], y: &[$t], dim: usize, m: LpMetric, out: &mut [f64]) {
                    super::$pairwise(xs, y, dim, m, out)
                }
            }
        };
    }
    blocks_for!(f32, search_block_f32, pairwise_block_f32);
    blocks_for!(f64, search_block_f64, pairwise_block_f64);
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
    let block = |xs: &[T], o: &mut [f64]| T::pairwise_block(xs, y, dim, metric, o);
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
    let write = |i: usize, mut c: Vec<(f64, usize)>, od: &mut [f64], oi: &mut [i64]| {
        select_sorted(&mut c, k);
        for (s, (v, j)) in c.into_iter().enumerate() {
            od[i * k + s] = metric.finish(v);
            oi[i * k + s] = j as i64;
        }
    };
    let team = sched::team(queries.len().saturating_mul(nd), MIN_PARALLEL_OPS);
    // (Unit tests take this path on one thread too, so the naive comparisons
    // cover it whatever the machine's load lets the team be.)
    if nq <= QUERY_BLOCK && nd >= 2 * DB_CHUNK && (team.is_parallel() || cfg!(test)) {
        // Few queries: the database is cut into chunks (tasks); each keeps the
        // candidates of its rows, merged per query under the total order, so
        // the k best are the same set (and bits) as one scan's.
        let parts = team.map(nd.div_ceil(DB_CHUNK), |c| {
            let (lo, hi) = (c * DB_CHUNK, ((c + 1) * DB_CHUNK).min(nd));
            let mut tops: Vec<TopK<f64>> = (0..nq).map(|_| TopK::new(k.min(hi - lo))).collect();
            T::search_block(
                queries,
                &database[lo * dim..hi * dim],
                dim,
                metric,
                &mut tops,
            );
            let cands: Vec<Vec<(f64, usize)>> = tops
                .iter()
                .map(|t| t.candidates().iter().map(|&(v, j)| (v, j + lo)).collect())
                .collect();
            cands
        });
        for i in 0..nq {
            let all = parts.iter().flat_map(|p| p[i].iter().copied()).collect();
            write(i, all, out_distances, out_indices);
        }
        return Ok(());
    }
    let block = |qs: &[T], od: &mut [f64], oi: &mut [i64]| {
        let m = qs.len() / dim;
        let mut tops: Vec<TopK<f64>> = (0..m).map(|_| TopK::new(k)).collect();
        T::search_block(qs, database, dim, metric, &mut tops);
        for (i, top) in tops.iter().enumerate() {
            write(i, top.candidates().to_vec(), od, oi);
        }
    };
    let per_task = QUERY_BLOCK * dim;
    team.for_each_chunk_mut2(
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
