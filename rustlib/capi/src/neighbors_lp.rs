//! Exact manhattan / chebyshev / minkowski distances and k-NN search.
//!
//! The metric is an `int32_t` `FK_LP_*` plus a `double p` (the minkowski
//! exponent, any finite `p > 0`; ignored by the other two). Inputs are float or
//! double; distances are always double (differences and sums are taken in
//! double precision, so float input loses nothing). Multi-threaded on the
//! library pool, bit-identical for any thread count.

use crate::boundary::guard;
use crate::neighbors::{elems, pairwise_args, prefix, search_args};
use crate::status::FkStatus;
use ferrokit_core::neighbors::{self, LpMetric, LpReduce};

/// Manhattan (L1) distance `Σ |a_i − b_i|`.
pub const FK_LP_MANHATTAN: i32 = 0;
/// Chebyshev (L∞) distance `max |a_i − b_i|`.
pub const FK_LP_CHEBYSHEV: i32 = 1;
/// Minkowski distance `(Σ |a_i − b_i|^p)^(1/p)` for a finite `p > 0`.
pub const FK_LP_MINKOWSKI: i32 = 2;

// The constants are the numbers `LpMetric::from_parts` takes.
const _: () = assert!(FK_LP_MANHATTAN == 0 && FK_LP_CHEBYSHEV == 1 && FK_LP_MINKOWSKI == 2);

fn lp_metric(name: &'static str, kind: i32, p: f64) -> Result<LpMetric, crate::boundary::FfiError> {
    LpMetric::from_parts(kind, p).map_err(prefix(name))
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn pairwise_body<T: LpReduce>(
    name: &'static str,
    x: *const T,
    nx: usize,
    y: *const T,
    ny: usize,
    dim: usize,
    metric: i32,
    p: f64,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let m = lp_metric(name, metric, p)?;
        // SAFETY: forwarded from the export's contract (x: nx*dim, y: ny*dim
        // readable, out: n_out writable, overlapping neither input).
        let (xs, ys, os) = unsafe { pairwise_args(name, x, nx, y, ny, dim, out, n_out)? };
        elems(name, "out", nx, ny)?;
        neighbors::lp_pairwise_distances(xs, ys, dim, m, os).map_err(prefix(name))?;
        Ok(())
    })
}

/// The `nx × ny` matrix of `FK_LP_*` distances between the rows of `x`
/// (`nx × dim`) and of `y` (`ny × dim`), row-major into `out` (`n_out` must be
/// `nx * ny`), as double. `p` is the minkowski exponent (ignored otherwise).
/// Exact: differences and sums in double precision in a fixed order; NaN
/// propagates; bit-identical for any thread count. `x` and `y` may be the same
/// buffer. Errors: unknown metric, `p` not finite or `<= 0` for minkowski,
/// `dim == 0` (`FK_ERR_INVALID_ARGUMENT`); wrong `n_out`
/// (`FK_ERR_LENGTH_MISMATCH`); NULL with a non-zero length.
///
/// # Safety
/// `x` / `y` must point to `nx * dim` / `ny * dim` readable doubles and `out` to
/// `n_out` writable doubles that overlap neither input.
#[no_mangle]
pub unsafe extern "C" fn fk_lp_pairwise_distances_f64(
    x: *const f64,
    nx: usize,
    y: *const f64,
    ny: usize,
    dim: usize,
    metric: i32,
    p: f64,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        pairwise_body(
            "fk_lp_pairwise_distances_f64",
            x,
            nx,
            y,
            ny,
            dim,
            metric,
            p,
            out,
            n_out,
        )
    }
}

/// Float input version of `fk_lp_pairwise_distances_f64`; the distances are
/// double (float differences are exact in double).
///
/// # Safety
/// As `fk_lp_pairwise_distances_f64`, with float inputs.
#[no_mangle]
pub unsafe extern "C" fn fk_lp_pairwise_distances_f32(
    x: *const f32,
    nx: usize,
    y: *const f32,
    ny: usize,
    dim: usize,
    metric: i32,
    p: f64,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        pairwise_body(
            "fk_lp_pairwise_distances_f32",
            x,
            nx,
            y,
            ny,
            dim,
            metric,
            p,
            out,
            n_out,
        )
    }
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn search_body<T: LpReduce>(
    name: &'static str,
    queries: *const T,
    n_queries: usize,
    database: *const T,
    n_database: usize,
    dim: usize,
    k: usize,
    metric: i32,
    p: f64,
    out_distances: *mut f64,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    guard(|| {
        let m = lp_metric(name, metric, p)?;
        // SAFETY: forwarded from the export's contract.
        let (qs, ds, od, oi) = unsafe {
            search_args(
                name,
                (queries, n_queries),
                (database, n_database),
                dim,
                k,
                (out_distances, n_out_distances),
                (out_indices, n_out_indices),
            )?
        };
        neighbors::lp_knn_search(qs, ds, dim, k, m, od, oi).map_err(prefix(name))?;
        Ok(())
    })
}

/// Exact k-nearest-neighbour search by an `FK_LP_*` distance: for each of the
/// `n_queries` rows of `queries`, the `k` nearest of the `n_database` rows of
/// `database` (both `dim` columns). Writes `n_queries * k` double distances and
/// row indices, query by query, nearest first; ties go to the lower index; NaN
/// distances sort last. `p` is the minkowski exponent (ignored otherwise).
/// Memory O(threads · k); every query is scanned against the whole database by
/// one thread (queries are split between threads), so results are
/// bit-identical for any thread count. Both output lengths must equal
/// `n_queries * k`.
/// Errors: unknown metric, bad `p`, `dim == 0`, `k == 0`, `k > n_database`, an
/// empty database (`FK_ERR_INVALID_ARGUMENT`); other output lengths
/// (`FK_ERR_LENGTH_MISMATCH`); nothing is written on error.
///
/// # Safety
/// `queries` / `database` must point to `n_queries * dim` / `n_database * dim`
/// readable doubles; `out_distances` / `out_indices` to `n_out_distances` /
/// `n_out_indices` writable elements, overlapping nothing else.
#[no_mangle]
pub unsafe extern "C" fn fk_lp_knn_search_f64(
    queries: *const f64,
    n_queries: usize,
    database: *const f64,
    n_database: usize,
    dim: usize,
    k: usize,
    metric: i32,
    p: f64,
    out_distances: *mut f64,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        search_body(
            "fk_lp_knn_search_f64",
            queries,
            n_queries,
            database,
            n_database,
            dim,
            k,
            metric,
            p,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}

/// Float input version of `fk_lp_knn_search_f64`; the distances are double.
///
/// # Safety
/// As `fk_lp_knn_search_f64`, with float inputs.
#[no_mangle]
pub unsafe extern "C" fn fk_lp_knn_search_f32(
    queries: *const f32,
    n_queries: usize,
    database: *const f32,
    n_database: usize,
    dim: usize,
    k: usize,
    metric: i32,
    p: f64,
    out_distances: *mut f64,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        search_body(
            "fk_lp_knn_search_f32",
            queries,
            n_queries,
            database,
            n_database,
            dim,
            k,
            metric,
            p,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}
