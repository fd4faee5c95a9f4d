//! Exact nearest-neighbour search and pairwise distances.
//!
//! Metrics are passed as an `int32_t` (`FK_METRIC_*`); any other value gives
//! `FK_ERR_INVALID_ARGUMENT`. Matrices are row-major (C order): `n` rows of
//! `dim` elements. Exports are spelled out per dtype; each calls a generic body.

use crate::boundary::{guard, guard_value, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, Arg};
use crate::status::FkStatus;
use ferrokit_core::neighbors::{self, KnnFloat, KnnIndex, Metric};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Squared euclidean distance `Σ (a_i − b_i)²`; smallest first.
pub const FK_METRIC_SQEUCLIDEAN: i32 = 0;
/// Euclidean distance; smallest first.
pub const FK_METRIC_EUCLIDEAN: i32 = 1;
/// Cosine distance `1 − a·b / (‖a‖‖b‖)` in [0, 2] (a zero vector has similarity
/// 0 with everything); smallest distance (largest similarity) first.
pub const FK_METRIC_COSINE: i32 = 2;
/// Inner product `a·b` (a similarity); LARGEST first.
pub const FK_METRIC_INNER_PRODUCT: i32 = 3;

// The constants are the numbers of the core's `Metric` (checked at compile time).
const _: () = {
    assert!(FK_METRIC_SQEUCLIDEAN == Metric::SqEuclidean as i32);
    assert!(FK_METRIC_EUCLIDEAN == Metric::Euclidean as i32);
    assert!(FK_METRIC_COSINE == Metric::Cosine as i32);
    assert!(FK_METRIC_INNER_PRODUCT == Metric::InnerProduct as i32);
};

fn metric(name: &'static str, m: i32) -> Result<Metric, FfiError> {
    Metric::from_i32(m).map_err(|e| {
        FfiError::new(
            FkStatus::FK_ERR_INVALID_ARGUMENT,
            format!("{name}: {e} (FK_METRIC_*)"),
        )
    })
}

/// `rows * dim` as an element count, or `FK_ERR_TOO_LARGE`.
pub(crate) fn elems(
    name: &'static str,
    arg: &str,
    rows: usize,
    dim: usize,
) -> Result<usize, FfiError> {
    rows.checked_mul(dim).ok_or_else(|| {
        FfiError::new(
            FkStatus::FK_ERR_TOO_LARGE,
            format!("{name}: {arg} has {rows} rows of {dim} elements, more than size_t can count"),
        )
    })
}

pub(crate) fn check_dim(name: &'static str, dim: usize) -> Result<(), FfiError> {
    if dim == 0 {
        return Err(FfiError::new(
            FkStatus::FK_ERR_INVALID_ARGUMENT,
            format!("{name}: dim is 0, expected at least 1"),
        ));
    }
    Ok(())
}

pub(crate) fn prefix(name: &'static str) -> impl Fn(ferrokit_core::Error) -> FfiError {
    move |e| {
        let mut f = FfiError::from(e);
        f.message = format!("{name}: {}", f.message);
        f
    }
}

/// The slices of a pairwise-distance call (this module's and `neighbors_lp`'s)
/// after the checks they share: `dim ≥ 1`, `nx · dim` and `ny · dim`
/// countable, then the pointers (NULL only with a zero length).
///
/// # Safety
/// `x` / `y` must point to `nx * dim` / `ny * dim` readable values and `out` to
/// `n_out` writable values that overlap neither input.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn pairwise_args<'a, T, O>(
    name: &'static str,
    x: *const T,
    nx: usize,
    y: *const T,
    ny: usize,
    dim: usize,
    out: *mut O,
    n_out: usize,
) -> Result<PairwiseSlices<'a, T, O>, FfiError> {
    check_dim(name, dim)?;
    let (lx, ly) = (elems(name, "x", nx, dim)?, elems(name, "y", ny, dim)?);
    // SAFETY: the caller's contract: x / y readable for lx / ly values, out
    // writable for n_out values, no overlap.
    unsafe {
        Ok((
            in_slice(x, lx, Arg(name, "x"))?,
            in_slice(y, ly, Arg(name, "y"))?,
            out_slice(out, n_out, Arg(name, "out"))?,
        ))
    }
}

/// The slices of a search without an index (this module's and
/// `neighbors_lp`'s) after the checks they share: `dim ≥ 1`, the input
/// lengths countable, `n_queries · k` countable (the search itself then checks,
/// after its arguments, that both outputs hold exactly that many elements),
/// then the pointers. Pointers come with their lengths: `(queries,
/// n_queries)` rows, `(out, n_out)` elements.
///
/// # Safety
/// `queries` / `database` must point to `n_queries * dim` / `n_database * dim`
/// readable values and the outputs to their lengths of writable values that
/// overlap nothing else.
pub(crate) unsafe fn search_args<'a, T, O>(
    name: &'static str,
    (queries, n_queries): (*const T, usize),
    (database, n_database): (*const T, usize),
    dim: usize,
    k: usize,
    (out_distances, n_out_distances): (*mut O, usize),
    (out_indices, n_out_indices): (*mut i64, usize),
) -> Result<SearchSlices<'a, T, O>, FfiError> {
    check_dim(name, dim)?;
    let lq = elems(name, "queries", n_queries, dim)?;
    let ld = elems(name, "database", n_database, dim)?;
    elems(name, "out_distances", n_queries, k)?;
    // SAFETY: the caller's contract (see above).
    unsafe {
        Ok((
            in_slice(queries, lq, Arg(name, "queries"))?,
            in_slice(database, ld, Arg(name, "database"))?,
            out_slice(out_distances, n_out_distances, Arg(name, "out_distances"))?,
            out_slice(out_indices, n_out_indices, Arg(name, "out_indices"))?,
        ))
    }
}

/// `x`, `y` and `out` of a pairwise-distance call.
pub(crate) type PairwiseSlices<'a, T, O> = (&'a [T], &'a [T], &'a mut [O]);

/// Queries, database, distances and indices of a search.
pub(crate) type SearchSlices<'a, T, O> = (&'a [T], &'a [T], &'a mut [O], &'a mut [i64]);

// ----------------------------------------------------------------- pairwise

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn pairwise_body<T: KnnFloat>(
    name: &'static str,
    x: *const T,
    nx: usize,
    y: *const T,
    ny: usize,
    dim: usize,
    metric_id: i32,
    out: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let m = metric(name, metric_id)?;
        // SAFETY: forwarded from the export's contract (x: nx*dim, y: ny*dim
        // readable, out: n_out writable, out not overlapping the inputs).
        let (xs, ys, os) = unsafe { pairwise_args(name, x, nx, y, ny, dim, out, n_out)? };
        neighbors::pairwise_distances(xs, ys, dim, m, os).map_err(prefix(name))?;
        Ok(())
    })
}

/// The `nx × ny` distance matrix between the rows of `x` (`nx × dim`) and of `y`
/// (`ny × dim`), row-major into `out` (`n_out` must be `nx * ny`), for a metric
/// `FK_METRIC_*`. Matches scikit-learn's `pairwise_distances`; for
/// `FK_METRIC_INNER_PRODUCT` the matrix holds the inner products. Computed in
/// double precision through a blocked GEMM, multi-threaded, bit-identical for
/// any thread count. `x` and `y` may be the same buffer. NaN propagates.
/// Errors: unknown metric or `dim == 0` (`FK_ERR_INVALID_ARGUMENT`), wrong
/// `n_out` (`FK_ERR_LENGTH_MISMATCH`), NULL with a non-zero length.
///
/// # Safety
/// `x` / `y` must point to `nx * dim` / `ny * dim` readable doubles and `out` to
/// `n_out` writable doubles that overlap neither input.
#[no_mangle]
pub unsafe extern "C" fn fk_pairwise_distances_f64(
    x: *const f64,
    nx: usize,
    y: *const f64,
    ny: usize,
    dim: usize,
    metric: i32,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        pairwise_body(
            "fk_pairwise_distances_f64",
            x,
            nx,
            y,
            ny,
            dim,
            metric,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_pairwise_distances_f64`: blocks are widened to double
/// for the computation (like scikit-learn), results rounded to float.
///
/// # Safety
/// As `fk_pairwise_distances_f64`, with floats.
#[no_mangle]
pub unsafe extern "C" fn fk_pairwise_distances_f32(
    x: *const f32,
    nx: usize,
    y: *const f32,
    ny: usize,
    dim: usize,
    metric: i32,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        pairwise_body(
            "fk_pairwise_distances_f32",
            x,
            nx,
            y,
            ny,
            dim,
            metric,
            out,
            n_out,
        )
    }
}

// ----------------------------------------------------------------- one-shot search

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn search_body<T: KnnFloat>(
    name: &'static str,
    queries: *const T,
    n_queries: usize,
    database: *const T,
    n_database: usize,
    dim: usize,
    k: usize,
    metric_id: i32,
    out_distances: *mut T,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    guard(|| {
        let m = metric(name, metric_id)?;
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
        neighbors::knn_search(qs, ds, dim, k, m, od, oi).map_err(prefix(name))?;
        Ok(())
    })
}

/// Exact k-nearest-neighbour search without an index: for each of the
/// `n_queries` rows of `queries`, the `k` best of the `n_database` rows of
/// `database` (both `dim` columns). Writes `n_queries * k` distances and row
/// indices, query by query, best first (ascending distance; descending inner
/// product for `FK_METRIC_INNER_PRODUCT`); ties go to the lower index; NaN
/// distances (NaN in a query or row) sort after every number. Distances and
/// top-k selection are fused: memory is O(n_queries * k), never the full
/// distance matrix. Multi-threaded; results bit-identical for any thread count.
/// `n_out_distances` / `n_out_indices` are the lengths (element counts) of the
/// output buffers: both must equal `n_queries * k`.
/// Errors: unknown metric, `dim == 0`, `k == 0`, `k > n_database`, an empty
/// database (`FK_ERR_INVALID_ARGUMENT`); an output length other than
/// `n_queries * k` (`FK_ERR_LENGTH_MISMATCH`); nothing is written on error.
///
/// # Safety
/// `queries` / `database` must point to `n_queries * dim` / `n_database * dim`
/// readable doubles; `out_distances` / `out_indices` to `n_out_distances` /
/// `n_out_indices` writable elements, overlapping nothing else.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_search_f64(
    queries: *const f64,
    n_queries: usize,
    database: *const f64,
    n_database: usize,
    dim: usize,
    k: usize,
    metric: i32,
    out_distances: *mut f64,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        search_body(
            "fk_knn_search_f64",
            queries,
            n_queries,
            database,
            n_database,
            dim,
            k,
            metric,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}

/// Float32 version of `fk_knn_search_f64`. Candidates are selected with
/// single-precision distances; the k distances returned are recomputed in
/// double precision and rounded to float.
///
/// # Safety
/// As `fk_knn_search_f64`, with floats.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_search_f32(
    queries: *const f32,
    n_queries: usize,
    database: *const f32,
    n_database: usize,
    dim: usize,
    k: usize,
    metric: i32,
    out_distances: *mut f32,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        search_body(
            "fk_knn_search_f32",
            queries,
            n_queries,
            database,
            n_database,
            dim,
            k,
            metric,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}

// ----------------------------------------------------------------- index handles

/// An exact k-NN index of float32 rows (opaque). Create with
/// `fk_knn_index_new_f32`, release with `fk_knn_index_free_f32`.
/// Memory: the rows, their norms and, on CPUs with AVX-512 VNNI, int8 codes of
/// the rows (a quarter of the rows' memory plus 24 bytes per row) that let
/// searches of 1-3 queries skip most rows; results are those of a full scan.
/// Thread safety: any number of threads may call `fk_knn_index_search_f32` and
/// `fk_knn_index_len_f32` on one index at the same time; `fk_knn_index_add_f32`
/// takes exclusive access (an internal read-write lock makes concurrent calls
/// wait, never race). `fk_knn_index_free_f32` must not run concurrently with any
/// other call on the same index.
#[allow(non_camel_case_types)]
pub struct fk_knn_index_f32 {
    inner: RwLock<KnnIndex<f32>>,
}

/// An exact k-NN index of float64 rows (opaque); as `fk_knn_index_f32`.
#[allow(non_camel_case_types)]
pub struct fk_knn_index_f64 {
    inner: RwLock<KnnIndex<f64>>,
}

trait Handle {
    type Elem: KnnFloat;
    fn wrap(index: KnnIndex<Self::Elem>) -> Self;
    fn lock(&self) -> &RwLock<KnnIndex<Self::Elem>>;
}

impl Handle for fk_knn_index_f32 {
    type Elem = f32;
    fn wrap(index: KnnIndex<f32>) -> Self {
        fk_knn_index_f32 {
            inner: RwLock::new(index),
        }
    }
    fn lock(&self) -> &RwLock<KnnIndex<f32>> {
        &self.inner
    }
}

impl Handle for fk_knn_index_f64 {
    type Elem = f64;
    fn wrap(index: KnnIndex<f64>) -> Self {
        fk_knn_index_f64 {
            inner: RwLock::new(index),
        }
    }
    fn lock(&self) -> &RwLock<KnnIndex<f64>> {
        &self.inner
    }
}

// A panic never happens while a lock is held with the index half-updated
// (add computes everything before it mutates), so a poisoned lock is usable.
fn read<H: Handle>(h: &H) -> RwLockReadGuard<'_, KnnIndex<H::Elem>> {
    h.lock().read().unwrap_or_else(|e| e.into_inner())
}

fn write<H: Handle>(h: &H) -> RwLockWriteGuard<'_, KnnIndex<H::Elem>> {
    h.lock().write().unwrap_or_else(|e| e.into_inner())
}

/// # Safety
/// `index` must be NULL or a live handle of type `H`.
unsafe fn handle<'a, H>(name: &'static str, index: *const H) -> Result<&'a H, FfiError> {
    // SAFETY: a live handle is one readable H (contract); NULL is an error.
    let s = unsafe { in_slice(index, 1, Arg(name, "index"))? };
    Ok(&s[0])
}

/// # Safety
/// `out` must be NULL or writable.
unsafe fn new_body<H: Handle>(
    name: &'static str,
    dim: usize,
    metric_id: i32,
    out: *mut *mut H,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let out = unsafe { out_ref(out, Arg(name, "out"))? };
        let m = metric(name, metric_id)?;
        check_dim(name, dim)?;
        let index = KnnIndex::new(dim, m).map_err(prefix(name))?;
        *out = Box::into_raw(Box::new(H::wrap(index)));
        Ok(())
    })
}

/// # Safety
/// As the exports.
unsafe fn add_body<H: Handle>(
    name: &'static str,
    index: *mut H,
    data: *const H::Elem,
    n_rows: usize,
    dim: usize,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let h = unsafe { handle(name, index.cast_const())? };
        let mut idx = write(h);
        if dim != idx.dim() {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!(
                    "{name}: rows have dim {dim}, the index holds rows of dim {}",
                    idx.dim()
                ),
            ));
        }
        let n = elems(name, "data", n_rows, dim)?;
        // SAFETY: forwarded from the export's contract (n_rows * dim readable).
        let rows = unsafe { in_slice(data, n, Arg(name, "data"))? };
        idx.add(rows).map_err(prefix(name))?;
        Ok(())
    })
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn index_search_body<H: Handle>(
    name: &'static str,
    index: *const H,
    queries: *const H::Elem,
    n_queries: usize,
    dim: usize,
    k: usize,
    out_distances: *mut H::Elem,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let h = unsafe { handle(name, index)? };
        let idx = read(h);
        if dim != idx.dim() {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!(
                    "{name}: queries have dim {dim}, the index holds rows of dim {}",
                    idx.dim()
                ),
            ));
        }
        let lq = elems(name, "queries", n_queries, dim)?;
        // n_queries * k must be countable; the search itself then checks, after
        // its arguments, that both outputs hold exactly that many elements.
        elems(name, "out_distances", n_queries, k)?;
        // SAFETY: forwarded from the export's contract.
        let (qs, od, oi) = unsafe {
            (
                in_slice(queries, lq, Arg(name, "queries"))?,
                out_slice(out_distances, n_out_distances, Arg(name, "out_distances"))?,
                out_slice(out_indices, n_out_indices, Arg(name, "out_indices"))?,
            )
        };
        idx.search(qs, k, od, oi).map_err(prefix(name))?;
        Ok(())
    })
}

/// # Safety
/// As the exports.
unsafe fn len_body<H: Handle>(name: &'static str, index: *const H, out: *mut usize) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let (h, out) = unsafe { (handle(name, index)?, out_ref(out, Arg(name, "out"))?) };
        *out = read(h).len();
        Ok(())
    })
}

/// # Safety
/// As the exports.
unsafe fn rows_body<H: Handle>(
    name: &'static str,
    index: *const H,
    start: usize,
    n_rows: usize,
    out: *mut H::Elem,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let h = unsafe { handle(name, index)? };
        let idx = read(h);
        let len = idx.len();
        let end = start
            .checked_add(n_rows)
            .filter(|&e| e <= len)
            .ok_or_else(|| {
                FfiError::new(
                    FkStatus::FK_ERR_INVALID_ARGUMENT,
                    format!(
                        "{name}: rows {start}..{start}+{n_rows} are outside the index ({len} rows)"
                    ),
                )
            })?;
        let dim = idx.dim();
        let want = elems(name, "out", n_rows, dim)?;
        if n_out != want {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{name}: out holds {n_out} values, {n_rows} rows of dim {dim} need {want}"),
            ));
        }
        // SAFETY: forwarded from the export's contract.
        let o = unsafe { out_slice(out, n_out, Arg(name, "out"))? };
        o.copy_from_slice(&idx.rows()[start * dim..end * dim]);
        Ok(())
    })
}

/// # Safety
/// `index` must be NULL or a live handle not used by any other thread.
unsafe fn free_body<H>(index: *mut H) {
    guard_value((), || {
        if !index.is_null() {
            // SAFETY: a live handle was made by Box::into_raw in new_body and is
            // freed once (contract); nobody else uses it now.
            drop(unsafe { Box::from_raw(index) });
        }
    })
}

/// Creates an empty float32 index of `dim`-dimensional rows searched by
/// `metric` (`FK_METRIC_*`) into `*out`. Free it with `fk_knn_index_free_f32`.
/// Errors: `dim == 0` or an unknown metric (`FK_ERR_INVALID_ARGUMENT`), `out`
/// NULL; `*out` is written only on success.
///
/// # Safety
/// `out` must point to a writable `fk_knn_index_f32 *`.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_new_f32(
    dim: usize,
    metric: i32,
    out: *mut *mut fk_knn_index_f32,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { new_body("fk_knn_index_new_f32", dim, metric, out) }
}

/// Appends `n_rows` rows (`n_rows * dim` floats, row-major) to the index, which
/// copies them; they get the next indices (0, 1, … in order of addition).
/// `dim` must equal the index's (`FK_ERR_LENGTH_MISMATCH`). Takes exclusive
/// access: waits for running searches. On error nothing is added.
///
/// # Safety
/// `index` must be a live handle; `data` must point to `n_rows * dim` floats.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_add_f32(
    index: *mut fk_knn_index_f32,
    data: *const f32,
    n_rows: usize,
    dim: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { add_body("fk_knn_index_add_f32", index, data, n_rows, dim) }
}

/// Searches the index like `fk_knn_search_f32`: `n_queries` rows of `dim`
/// floats (must equal the index's dim, else `FK_ERR_LENGTH_MISMATCH`);
/// `n_queries * k` distances and indices written best first into
/// `out_distances` / `out_indices`, whose lengths `n_out_distances` /
/// `n_out_indices` must both equal `n_queries * k` (`FK_ERR_LENGTH_MISMATCH`).
/// An empty index gives `FK_ERR_INVALID_STATE`; `k == 0` or `k > len`
/// `FK_ERR_INVALID_ARGUMENT`. Thread-safe: concurrent searches on one index run
/// in parallel. Consecutive searches of one to three queries scan the rows in
/// alternating directions (the part still cached is read first); results never
/// depend on it.
///
/// # Safety
/// `index` must be a live handle; `queries` must point to `n_queries * dim`
/// floats; the outputs to `n_out_distances` / `n_out_indices` writable elements.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_search_f32(
    index: *const fk_knn_index_f32,
    queries: *const f32,
    n_queries: usize,
    dim: usize,
    k: usize,
    out_distances: *mut f32,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        index_search_body(
            "fk_knn_index_search_f32",
            index,
            queries,
            n_queries,
            dim,
            k,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}

/// The number of rows in the index into `*out`. Thread-safe.
///
/// # Safety
/// `index` must be a live handle; `out` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_len_f32(
    index: *const fk_knn_index_f32,
    out: *mut usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { len_body("fk_knn_index_len_f32", index, out) }
}

/// Copies rows `start .. start + n_rows` of the index (as added, row-major)
/// into `out`, whose length `n_out` must be `n_rows * dim`
/// (`FK_ERR_LENGTH_MISMATCH`); rows outside the index give
/// `FK_ERR_INVALID_ARGUMENT`. Rows are only ever appended, so a range read
/// after `fk_knn_index_len_f32` stays valid while other threads add rows.
/// Thread-safe (waits for a running add). With `n_rows == 0`, `out` may be NULL.
///
/// # Safety
/// `index` must be a live handle; `out` must point to `n_out` writable floats.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_rows_f32(
    index: *const fk_knn_index_f32,
    start: usize,
    n_rows: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { rows_body("fk_knn_index_rows_f32", index, start, n_rows, out, n_out) }
}

/// Frees an index; NULL is accepted and ignored. The handle must not be used
/// afterwards, nor by another thread during this call.
///
/// # Safety
/// `index` must be NULL or a live handle from `fk_knn_index_new_f32`, freed once.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_free_f32(index: *mut fk_knn_index_f32) {
    // SAFETY: same contract as this function.
    unsafe { free_body(index) }
}

/// Float64 version of `fk_knn_index_new_f32`.
///
/// # Safety
/// As `fk_knn_index_new_f32`.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_new_f64(
    dim: usize,
    metric: i32,
    out: *mut *mut fk_knn_index_f64,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { new_body("fk_knn_index_new_f64", dim, metric, out) }
}

/// Float64 version of `fk_knn_index_add_f32`.
///
/// # Safety
/// As `fk_knn_index_add_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_add_f64(
    index: *mut fk_knn_index_f64,
    data: *const f64,
    n_rows: usize,
    dim: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { add_body("fk_knn_index_add_f64", index, data, n_rows, dim) }
}

/// Float64 version of `fk_knn_index_search_f32`.
///
/// # Safety
/// As `fk_knn_index_search_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_search_f64(
    index: *const fk_knn_index_f64,
    queries: *const f64,
    n_queries: usize,
    dim: usize,
    k: usize,
    out_distances: *mut f64,
    n_out_distances: usize,
    out_indices: *mut i64,
    n_out_indices: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        index_search_body(
            "fk_knn_index_search_f64",
            index,
            queries,
            n_queries,
            dim,
            k,
            out_distances,
            n_out_distances,
            out_indices,
            n_out_indices,
        )
    }
}

/// Float64 version of `fk_knn_index_len_f32`.
///
/// # Safety
/// As `fk_knn_index_len_f32`.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_len_f64(
    index: *const fk_knn_index_f64,
    out: *mut usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { len_body("fk_knn_index_len_f64", index, out) }
}

/// Float64 version of `fk_knn_index_rows_f32`.
///
/// # Safety
/// As `fk_knn_index_rows_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_rows_f64(
    index: *const fk_knn_index_f64,
    start: usize,
    n_rows: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { rows_body("fk_knn_index_rows_f64", index, start, n_rows, out, n_out) }
}

/// Float64 version of `fk_knn_index_free_f32`.
///
/// # Safety
/// As `fk_knn_index_free_f32`.
#[no_mangle]
pub unsafe extern "C" fn fk_knn_index_free_f64(index: *mut fk_knn_index_f64) {
    // SAFETY: same contract as this function.
    unsafe { free_body(index) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn index_rows_copy_out_exactly_what_was_added() {
        // SAFETY: valid pointers to locals throughout; the handles are freed once.
        unsafe {
            let mut h: *mut fk_knn_index_f64 = ptr::null_mut();
            assert_eq!(
                fk_knn_index_new_f64(3, FK_METRIC_COSINE, &mut h),
                FkStatus::FK_OK
            );
            let mut out = [0.0f64; 6];
            // Empty index: zero rows (NULL allowed), anything else out of range.
            assert_eq!(
                fk_knn_index_rows_f64(h, 0, 0, ptr::null_mut(), 0),
                FkStatus::FK_OK
            );
            assert_eq!(
                fk_knn_index_rows_f64(h, 0, 1, out.as_mut_ptr(), 3),
                FkStatus::FK_ERR_INVALID_ARGUMENT
            );
            let rows = [1.0, -2.0, 3.5, 0.0, f64::NAN, 7.0, 8.0, 9.0, -0.0];
            assert_eq!(
                fk_knn_index_add_f64(h, rows.as_ptr(), 3, 3),
                FkStatus::FK_OK
            );
            assert_eq!(
                fk_knn_index_rows_f64(h, 1, 2, out.as_mut_ptr(), 6),
                FkStatus::FK_OK
            );
            let same =
                |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same(&out, &rows[3..]));
            let before = out;
            for (start, n, n_out, want) in [
                (2, 2, 6, FkStatus::FK_ERR_INVALID_ARGUMENT),
                (usize::MAX, 2, 6, FkStatus::FK_ERR_INVALID_ARGUMENT),
                (0, 2, 5, FkStatus::FK_ERR_LENGTH_MISMATCH),
                (0, 1, 6, FkStatus::FK_ERR_LENGTH_MISMATCH),
            ] {
                assert_eq!(
                    fk_knn_index_rows_f64(h, start, n, out.as_mut_ptr(), n_out),
                    want
                );
            }
            assert!(same(&out, &before), "nothing written on error");
            assert_eq!(
                fk_knn_index_rows_f64(ptr::null(), 0, 0, out.as_mut_ptr(), 0),
                FkStatus::FK_ERR_NULL_POINTER
            );
            fk_knn_index_free_f64(h);

            let mut g: *mut fk_knn_index_f32 = ptr::null_mut();
            assert_eq!(
                fk_knn_index_new_f32(1, FK_METRIC_EUCLIDEAN, &mut g),
                FkStatus::FK_OK
            );
            let r = [5.0f32, 6.0];
            assert_eq!(fk_knn_index_add_f32(g, r.as_ptr(), 2, 1), FkStatus::FK_OK);
            let mut o = [0.0f32; 2];
            assert_eq!(
                fk_knn_index_rows_f32(g, 0, 2, o.as_mut_ptr(), 2),
                FkStatus::FK_OK
            );
            assert_eq!(o, r);
            fk_knn_index_free_f32(g);
        }
    }

    #[test]
    fn index_lifecycle_and_errors() {
        // SAFETY: valid pointers to locals throughout; the handle is freed once.
        unsafe {
            let mut h: *mut fk_knn_index_f32 = ptr::null_mut();
            assert_eq!(
                fk_knn_index_new_f32(2, 9, &mut h),
                FkStatus::FK_ERR_INVALID_ARGUMENT
            );
            assert!(h.is_null());
            assert_eq!(
                fk_knn_index_new_f32(0, 0, &mut h),
                FkStatus::FK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                fk_knn_index_new_f32(2, FK_METRIC_EUCLIDEAN, &mut h),
                FkStatus::FK_OK
            );
            let (mut d, mut i) = ([0.0f32; 2], [0i64; 2]);
            let q = [0.0f32, 0.0];
            assert_eq!(
                fk_knn_index_search_f32(
                    h,
                    q.as_ptr(),
                    1,
                    2,
                    1,
                    d.as_mut_ptr(),
                    1,
                    i.as_mut_ptr(),
                    1
                ),
                FkStatus::FK_ERR_INVALID_STATE
            );
            let rows = [3.0f32, 4.0, 1.0, 0.0];
            assert_eq!(
                fk_knn_index_add_f32(h, rows.as_ptr(), 2, 3),
                FkStatus::FK_ERR_LENGTH_MISMATCH
            );
            assert_eq!(
                fk_knn_index_add_f32(h, rows.as_ptr(), 2, 2),
                FkStatus::FK_OK
            );
            let mut n = 0usize;
            assert_eq!(fk_knn_index_len_f32(h, &mut n), FkStatus::FK_OK);
            assert_eq!(n, 2);
            // Output lengths must be exactly n_queries * k; nothing written otherwise.
            for (nd, ni) in [(1, 2), (2, 1), (3, 2), (2, 3), (0, 0)] {
                assert_eq!(
                    fk_knn_index_search_f32(
                        h,
                        q.as_ptr(),
                        1,
                        2,
                        2,
                        d.as_mut_ptr(),
                        nd,
                        i.as_mut_ptr(),
                        ni
                    ),
                    FkStatus::FK_ERR_LENGTH_MISMATCH,
                    "{nd} {ni}"
                );
            }
            assert_eq!((d, i), ([0.0, 0.0], [0, 0]));
            assert_eq!(
                fk_knn_index_search_f32(
                    h,
                    q.as_ptr(),
                    1,
                    2,
                    2,
                    d.as_mut_ptr(),
                    2,
                    i.as_mut_ptr(),
                    2
                ),
                FkStatus::FK_OK
            );
            assert_eq!((d, i), ([1.0, 5.0], [1, 0]));
            assert_eq!(
                fk_knn_index_search_f32(
                    h,
                    q.as_ptr(),
                    1,
                    2,
                    3,
                    d.as_mut_ptr(),
                    3,
                    i.as_mut_ptr(),
                    3
                ),
                FkStatus::FK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                fk_knn_index_search_f32(
                    ptr::null(),
                    q.as_ptr(),
                    1,
                    2,
                    1,
                    d.as_mut_ptr(),
                    1,
                    i.as_mut_ptr(),
                    1
                ),
                FkStatus::FK_ERR_NULL_POINTER
            );
            fk_knn_index_free_f32(h);
            fk_knn_index_free_f32(ptr::null_mut());
        }
    }

    #[test]
    fn one_shot_output_lengths() {
        let db = [0.0f64, 0.0, 1.0, 0.0, 5.0, 5.0];
        let q = [0.9f64, 0.1, 4.0, 4.0];
        let (mut d, mut i) = ([-1.0f64; 4], [-1i64; 4]);
        // SAFETY: valid pointers to locals with the lengths given.
        unsafe {
            for (nd, ni) in [(3, 4), (4, 3), (5, 4), (4, 5), (0, 0)] {
                assert_eq!(
                    fk_knn_search_f64(
                        q.as_ptr(),
                        2,
                        db.as_ptr(),
                        3,
                        2,
                        2,
                        FK_METRIC_SQEUCLIDEAN,
                        d.as_mut_ptr(),
                        nd,
                        i.as_mut_ptr(),
                        ni
                    ),
                    FkStatus::FK_ERR_LENGTH_MISMATCH,
                    "{nd} {ni}"
                );
            }
            assert_eq!((d, i), ([-1.0; 4], [-1; 4]));
            // NULL with a non-zero length.
            assert_eq!(
                fk_knn_search_f64(
                    q.as_ptr(),
                    2,
                    db.as_ptr(),
                    3,
                    2,
                    2,
                    FK_METRIC_SQEUCLIDEAN,
                    ptr::null_mut(),
                    4,
                    i.as_mut_ptr(),
                    4
                ),
                FkStatus::FK_ERR_NULL_POINTER
            );
            assert_eq!(
                fk_knn_search_f64(
                    q.as_ptr(),
                    2,
                    db.as_ptr(),
                    3,
                    2,
                    2,
                    FK_METRIC_SQEUCLIDEAN,
                    d.as_mut_ptr(),
                    4,
                    i.as_mut_ptr(),
                    4
                ),
                FkStatus::FK_OK
            );
        }
        assert_eq!(i, [1, 0, 2, 1]);
    }
}
