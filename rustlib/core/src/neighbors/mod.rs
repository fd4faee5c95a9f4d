//! Exact nearest-neighbour search and pairwise distances.
//!
//! Distances come from one matrix product: `‖q − x‖² = ‖q‖² + ‖x‖² − 2 q·x`
//! (squared / plain euclidean), `q·x` (inner product) and `q·x / (‖q‖‖x‖)`
//! (cosine). The product runs through a BLAS-class GEMM ([`crate::simd::gemm`])
//! on fixed tiles of `QUERY_BLOCK` queries × `DB_BLOCK` database rows; each tile
//! is scored and fed to a bounded per-query top-k right away, so the full
//! distance matrix never exists: memory is O(queries · k + tile).
//!
//! Determinism: tile shapes depend only on the problem size, never on the
//! thread count; threads only decide which tile runs where. The top-k uses a
//! total order (score, then lower index; NaN last), so the selected set is
//! unique and merging per-chunk winners gives the same result on 1 or 64
//! threads.
//!
//! Index searches (and, where the CPU has AVX-512 VNNI, one-shot searches of
//! 64 queries or more) first pre-scan 4-bit or int8 codes of the rows with
//! proven error bounds (`prefilter_nibble`, then `prefilter`, for a few
//! queries where the CPU has AVX2 or AVX-512 VNNI; for batches,
//! `prefilter_batch` where it has AVX-512 VNNI and `prefilter_batch_nibble`
//! where it has only AVX2), and score in float only the rows that can be
//! among the k best — with the same scores the tile scan would compute, so
//! the result is the same bit for bit.
//!
//! Accuracy: the selection uses scores computed in the input precision (f32
//! for f32). The k distances returned are then recomputed exactly (differences
//! or dot products summed in float64) and the k results re-sorted by them, so
//! returned distances carry no cancellation error; only which of two points
//! whose distances differ by less than the rounding of the dot-product formula
//! (about `eps · (‖q‖² + ‖x‖²)`) makes the cut can differ from an exact search.

mod kernels;
mod lp;
mod prefilter;
mod prefilter_batch;
mod prefilter_batch_nibble;
mod prefilter_nibble;
mod quant;
mod topk;

use crate::float::Float;
use crate::pool;
use crate::sched;
use crate::simd::gemm::{gemm_abt, gemm_abt_chained, GemmElement};
use crate::{Error, Result};
use quant::Codes;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Mutex;
use topk::{cmp_entry, select_sorted, TopK};

pub use lp::{lp_knn_search, lp_pairwise_distances, LpMetric, LpReduce};

/// Queries per tile.
pub const QUERY_BLOCK: usize = 256;
/// Database rows per tile.
pub const DB_BLOCK: usize = 1024;
/// Query blocks with fewer rows than this skip GEMM (packing would not pay).
const SMALL_QUERIES: usize = 4;
/// The work is cut into about this many tasks (more than any thread count we
/// expect to matter, fewer than would cost merge overhead).
const TARGET_TASKS: usize = 16;
/// Smallest database chunk worth a task of its own.
const MIN_CHUNK_ROWS: usize = 4096;
/// Above this k the database is not chunked (per-chunk candidate lists would
/// cost O(chunks · queries · k) memory).
const MAX_K_FOR_CHUNKS: usize = 512;
/// Multiply-adds below which a call stays on the calling thread (about 0.3 ms
/// of work: waking the pool costs tens of µs idle, far more on a loaded machine).
const MIN_PARALLEL_FLOPS: usize = 1 << 22;

/// The distance or similarity to search by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Metric {
    /// `Σ (q_i − x_i)²`, smallest first.
    SqEuclidean = 0,
    /// `sqrt(Σ (q_i − x_i)²)`, smallest first.
    Euclidean = 1,
    /// Cosine distance `1 − q·x / (‖q‖‖x‖)` in [0, 2], smallest first (largest
    /// similarity first); a zero vector has similarity 0 with everything.
    Cosine = 2,
    /// Inner product `q·x`, LARGEST first (a similarity, like faiss `IndexFlatIP`).
    InnerProduct = 3,
}

impl Metric {
    /// The metric with the given number; anything else is `InvalidArgument`.
    pub fn from_i32(v: i32) -> Result<Metric> {
        match v {
            0 => Ok(Metric::SqEuclidean),
            1 => Ok(Metric::Euclidean),
            2 => Ok(Metric::Cosine),
            3 => Ok(Metric::InnerProduct),
            _ => Err(Error::InvalidArgument(format!(
                "metric is {v}, expected 0 (sqeuclidean), 1 (euclidean), 2 (cosine) or 3 (inner_product)"
            ))),
        }
    }

    /// The metric's name as the Python API spells it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SqEuclidean => "sqeuclidean",
            Metric::Euclidean => "euclidean",
            Metric::Cosine => "cosine",
            Metric::InnerProduct => "inner_product",
        }
    }
}

/// The float types neighbour search runs on (f32 and f64).
pub trait KnnFloat: Float + GemmElement + imp::Kernels + quant::Codable {
    /// Rounds a float64 to this type.
    fn from_f64(v: f64) -> Self;
}

impl KnnFloat for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl KnnFloat for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
}

mod imp {
    use super::kernels;
    use super::topk::TopK;
    use super::Metric;

    /// The per-type kernels (a sealed trait: not nameable outside this module).
    pub trait Kernels: Sized {
        #[allow(clippy::too_many_arguments)]
        fn scan_tile(
            tile: &mut [Self],
            m: usize,
            n: usize,
            metric: Metric,
            qaux: &[Self],
            xaux: &[Self],
            base: usize,
            tops: &mut [TopK<Self>],
        );
        fn small_dots(q: &[Self], m: usize, x: &[Self], n: usize, d: usize, out: &mut [Self]);
        fn sq_norms(x: &[Self], d: usize, out: &mut [f64]);
    }

    macro_rules! kernels_for {
        ($t:ty, $scan:ident, $small:ident, $norms:ident) => {
            impl Kernels for $t {
                fn scan_tile(
                    tile: &mut [$t],
                    m: usize,
                    n: usize,
                    metric: Metric,
                    qaux: &[$t],
                    xaux: &[$t],
                    base: usize,
                    tops: &mut [TopK<$t>],
                ) {
                    kernels::$scan(tile, m, n, metric, qaux, xaux, base, tops)
                }
                fn small_dots(q: &[$t], m: usize, x: &[$t], n: usize, d: usize, out: &mut [$t]) {
                    kernels::$small(q, m, x, n, d, out)
                }
                fn sq_norms(x: &[$t], d: usize, out: &mut [f64]) {
                    kernels::$norms(x, d, out)
                }
            }
        };
    }
    kernels_for!(f32, scan_tile_f32, small_dots_f32, sq_norms_f32);
    kernels_for!(f64, scan_tile_f64, small_dots_f64, sq_norms_f64);
}

/// Rows of `len / dim` after checking `dim ≥ 1` and that `len` is a multiple.
fn rows_of(len: usize, dim: usize, what: &str) -> Result<usize> {
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

/// Squared norms (float64) of the rows of `x`, in parallel for large inputs.
fn sq_norms<T: KnnFloat>(x: &[T], dim: usize) -> Vec<f64> {
    let n = x.len() / dim;
    let mut out = vec![0.0f64; n];
    const ROWS: usize = 2048;
    let team = sched::team(x.len(), crate::blocks::MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        team.for_each_chunk_mut(&mut out, ROWS, |b, o| {
            T::sq_norms(&x[b * ROWS * dim..(b * ROWS + o.len()) * dim], dim, o)
        });
    } else {
        T::sq_norms(x, dim, &mut out);
    }
    out
}

/// Per-row value the scores need: `‖x‖²` for L2, `1/‖x‖` (0 for a zero row)
/// for cosine, 0 (unused) for the inner product.
fn row_aux<T: KnnFloat>(x: &[T], dim: usize, metric: Metric) -> Vec<T> {
    match metric {
        Metric::InnerProduct => vec![T::ZERO; x.len() / dim],
        Metric::SqEuclidean | Metric::Euclidean => {
            sq_norms(x, dim).into_iter().map(T::from_f64).collect()
        }
        Metric::Cosine => sq_norms(x, dim)
            .into_iter()
            .map(|s| T::from_f64(inv_norm(s)))
            .collect(),
    }
}

#[inline]
fn inv_norm(sq: f64) -> f64 {
    if sq > 0.0 {
        1.0 / sq.sqrt()
    } else {
        0.0
    }
}

#[inline]
fn dot_f64<T: KnnFloat>(a: &[T], b: &[T]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ac = a.chunks_exact(4);
    let bc = b.chunks_exact(4);
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            acc[l] += x[l].to_f64() * y[l].to_f64();
        }
    }
    for (x, y) in ar.iter().zip(br) {
        acc[0] += x.to_f64() * y.to_f64();
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3])
}

#[inline]
fn sqdist_f64<T: KnnFloat>(a: &[T], b: &[T]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ac = a.chunks_exact(4);
    let bc = b.chunks_exact(4);
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            let t = x[l].to_f64() - y[l].to_f64();
            acc[l] += t * t;
        }
    }
    for (x, y) in ar.iter().zip(br) {
        let t = x.to_f64() - y.to_f64();
        acc[0] += t * t;
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3])
}

#[inline]
fn clamp_cos(d: f64) -> f64 {
    // NaN stays NaN.
    d.clamp(0.0, 2.0)
}

/// Exact value of one pair in float64: `(score, output)` where the score is
/// smaller-is-better and the output is what the user sees.
#[inline]
fn exact_pair<T: KnnFloat>(q: &[T], q_inv: f64, x: &[T], metric: Metric) -> (f64, f64) {
    match metric {
        Metric::SqEuclidean => {
            let s = sqdist_f64(q, x);
            (s, s)
        }
        Metric::Euclidean => {
            let s = sqdist_f64(q, x);
            (s, s.sqrt())
        }
        Metric::InnerProduct => {
            let d = dot_f64(q, x);
            (-d, d)
        }
        Metric::Cosine => {
            let x_inv = inv_norm(dot_f64(x, x));
            let c = clamp_cos(1.0 - dot_f64(q, x) * q_inv * x_inv);
            (c, c)
        }
    }
}

/// Validated shape of one search.
#[derive(Clone, Copy)]
struct Search<'a, T> {
    queries: &'a [T],
    database: &'a [T],
    xaux: &'a [T],
    dim: usize,
    nq: usize,
    nd: usize,
    k: usize,
    metric: Metric,
    /// Scan the database from its end (see [`ScanOrder`]).
    backward: bool,
}

/// k nearest database rows of every query (rows of `dim` elements, row-major).
///
/// `out_distances` / `out_indices` receive `n_queries × k` values, row by row,
/// best first: ascending distance for the euclidean metrics and cosine,
/// descending inner product for `InnerProduct`. Ties go to the lower index;
/// NaN distances (a NaN in the query or the row) sort after every number.
/// Errors (nothing written): `dim == 0`, a length that is not a multiple of
/// `dim`, an empty database, `k == 0`, `k >` database rows, output lengths
/// other than `n_queries × k`.
///
/// ```
/// use ferrokit_core::neighbors::{knn_search, Metric};
/// let db = [0.0f32, 0.0, 1.0, 0.0, 5.0, 5.0];
/// let q = [0.9f32, 0.1];
/// let (mut d, mut i) = ([0.0f32; 2], [0i64; 2]);
/// knn_search(&q, &db, 2, 2, Metric::SqEuclidean, &mut d, &mut i).unwrap();
/// assert_eq!(i, [1, 0]);
/// assert!((d[0] - 0.02).abs() < 1e-6);
/// ```
pub fn knn_search<T: KnnFloat>(
    queries: &[T],
    database: &[T],
    dim: usize,
    k: usize,
    metric: Metric,
    out_distances: &mut [T],
    out_indices: &mut [i64],
) -> Result<()> {
    let nd = rows_of(database.len(), dim, "database")?;
    check_search(queries, nd, dim, k, out_distances, out_indices)?;
    let xaux = row_aux(database, dim, metric);
    let nq = queries.len() / dim;
    // A large batch codes the database for the int8 pre-scan (what an index
    // keeps): the result is the same, bit for bit.
    // Not for the 4-bit batch pre-scan (AVX2 without VNNI): coding 100 000
    // rows of dim 128 costs about 170 ms of CPU, and that pass saves 0.1–0.2
    // ms per query against the float scan (1000 queries were 15% slower).
    let codes = (nq >= prefilter_batch::CODE_ON_THE_FLY_QUERIES
        && prefilter_batch::worthwhile(nd, k)
        && dim <= quant::MAX_DIM)
        .then(|| {
            let mut c = Codes::without_nibbles(dim, metric);
            c.append(database, &xaux);
            c
        });
    search_impl(
        Search {
            queries,
            database,
            xaux: &xaux,
            dim,
            nq,
            nd,
            k,
            metric,
            // L2 and cosine just read the database forwards for its norms: the
            // end of it is what the cache still holds.
            backward: metric != Metric::InnerProduct || ONE_SHOT_ORDER.next_backward(),
        },
        codes.as_ref(),
        out_distances,
        out_indices,
    );
    Ok(())
}

/// Direction of the next scan of a database (for one query or a few, which are
/// bound by memory bandwidth): alternates on every search, so each scan starts
/// with the rows the previous one read last — the part of a database larger
/// than the last-level cache that an LRU-like cache still holds. Results never
/// depend on the direction (the top-k order is total), only the time can.
/// Measured on the AMD EPYC (Zen 4, 32 MiB L3) of the reference machine: no
/// difference to always scanning forwards (its L3 keeps part of a 51 MB
/// database across forward passes too: 1.15 ms warm vs 1.62 ms cold, 1 thread).
#[derive(Debug, Default)]
pub struct ScanOrder(AtomicBool);

impl ScanOrder {
    /// A fresh order (the first scan runs forwards).
    pub const fn new() -> Self {
        ScanOrder(AtomicBool::new(false))
    }

    /// `true` if this scan should run backwards; flips for the next one.
    pub fn next_backward(&self) -> bool {
        self.0.fetch_xor(true, AtomicOrdering::Relaxed)
    }
}

/// Alternation for one-shot searches (one for the process: consecutive
/// searches of the same database benefit, others are not harmed).
static ONE_SHOT_ORDER: ScanOrder = ScanOrder::new();

fn check_search<T>(
    queries: &[T],
    nd: usize,
    dim: usize,
    k: usize,
    out_distances: &[T],
    out_indices: &[i64],
) -> Result<()> {
    let nq = rows_of(queries.len(), dim, "queries")?;
    if nd == 0 {
        return Err(Error::InvalidArgument(
            "the database is empty (0 rows): nothing to search".to_string(),
        ));
    }
    if k == 0 {
        return Err(Error::InvalidArgument(
            "k is 0, expected at least 1".to_string(),
        ));
    }
    if k > nd {
        return Err(Error::InvalidArgument(format!(
            "k is {k}, larger than the database ({nd} rows)"
        )));
    }
    let want = nq.checked_mul(k).ok_or_else(|| {
        Error::Overflow(format!("n_queries ({nq}) times k ({k}) overflows size_t"))
    })?;
    for (arg, got) in [
        ("out_distances", out_distances.len()),
        ("out_indices", out_indices.len()),
    ] {
        if got != want {
            return Err(Error::LengthMismatch(format!(
                "{arg} has {got} elements, expected n_queries * k = {nq} * {k} = {want}"
            )));
        }
    }
    Ok(())
}

/// How the database is cut into chunks (each chunk × query block is one task).
fn chunking(nq: usize, nd: usize, k: usize) -> (usize, usize) {
    let qblocks = nq.div_ceil(QUERY_BLOCK).max(1);
    let max_chunks = nd.div_ceil(MIN_CHUNK_ROWS).max(1);
    let want = if k > MAX_K_FOR_CHUNKS {
        1
    } else {
        TARGET_TASKS.div_ceil(qblocks).clamp(1, max_chunks)
    };
    let rows = nd.div_ceil(want).next_multiple_of(DB_BLOCK);
    (rows, nd.div_ceil(rows))
}

/// Runs a validated search. `codes`: the database's int8 codes, if it has
/// them (an index does), for the pre-scan of one-query searches.
fn search_impl<T: KnnFloat>(
    s: Search<'_, T>,
    codes: Option<&Codes>,
    out_d: &mut [T],
    out_i: &mut [i64],
) {
    let Search {
        queries,
        database,
        xaux,
        dim,
        nq,
        nd,
        k,
        metric,
        backward,
    } = s;
    if nq == 0 {
        return;
    }
    let qaux = row_aux(queries, dim, metric);
    if nq < SMALL_QUERIES {
        // Memory-bound: a pre-scan of the int8 codes when the index has them
        // and k is small enough for it to narrow the search, else one shared,
        // direction-alternating pass over the database.
        let tops = codes
            .filter(|_| prefilter::worthwhile(nd, k))
            .and_then(|c| prefilter::candidates(&s, &qaux, c, prefilter::Passes::Both))
            .map(|(tops, _scored)| tops)
            .unwrap_or_else(|| shared_scan(&s, &qaux, backward));
        let cands = |i: usize, c: &mut Vec<(T, usize)>| {
            for t in &tops {
                c.extend_from_slice(t[i].candidates());
            }
        };
        finish(&s, 0, cands, out_d, out_i);
        return;
    }
    let flops = nq.saturating_mul(nd).saturating_mul(dim);
    let team = sched::team(flops, MIN_PARALLEL_FLOPS);
    // Many queries: an int8 matrix product of the codes (when the index has
    // them and the CPU has VNNI), or a 4-bit pass (AVX2), leaves a few
    // candidates per query to score in float.
    let pre = codes.and_then(|c| {
        if prefilter_batch::worthwhile(nd, k) {
            let tops = prefilter_batch::candidates(&s, &qaux, c, &team)?;
            Some(tops.into_iter().map(|t| vec![t]).collect())
        } else if prefilter_batch_nibble::worthwhile(nd, k) {
            prefilter_batch_nibble::candidates(&s, &qaux, c, &team).map(|(tops, _scored)| tops)
        } else {
            None
        }
    });
    if let Some(tops) = pre {
        let block = |qb: usize, od: &mut [T], oi: &mut [i64]| {
            let q0 = qb * QUERY_BLOCK;
            let cands = |i: usize, c: &mut Vec<(T, usize)>| {
                for t in &tops[q0 + i] {
                    c.extend_from_slice(t.candidates());
                }
            };
            finish(&s, q0, cands, od, oi);
        };
        let rows = QUERY_BLOCK * k;
        team.for_each_chunk_mut2(out_d, rows, out_i, rows, block);
        return;
    }
    let qblocks = nq.div_ceil(QUERY_BLOCK);
    let (chunk_rows, nchunks) = chunking(nq, nd, k);
    let ntasks = qblocks * nchunks;

    let task = |t: usize| -> Vec<TopK<T>> {
        let (qb, c) = (t / nchunks, t % nchunks);
        let q0 = qb * QUERY_BLOCK;
        let m = QUERY_BLOCK.min(nq - q0);
        let (x0, x1) = (c * chunk_rows, ((c + 1) * chunk_rows).min(nd));
        let qs = &queries[q0 * dim..(q0 + m) * dim];
        let qa = &qaux[q0..q0 + m];
        let mut tops: Vec<TopK<T>> = (0..m).map(|_| TopK::new(k)).collect();
        let mut tile = vec![T::ZERO; m * DB_BLOCK.min(x1 - x0)];
        let mut xs = x0;
        while xs < x1 {
            let n = DB_BLOCK.min(x1 - xs);
            let t = &mut tile[..m * n];
            let xb = &database[xs * dim..(xs + n) * dim];
            if m < SMALL_QUERIES {
                // The last query block of a batch may hold only a few queries.
                T::small_dots(qs, m, xb, n, dim, t);
            } else {
                // Every entry a `chain_dot` (as the batch pre-scan scores).
                gemm_abt_chained(m, n, dim, qs, dim, xb, dim, t, n);
            }
            T::scan_tile(t, m, n, metric, qa, &xaux[xs..xs + n], xs, &mut tops);
            xs += n;
        }
        tops
    };

    {
        let results: Vec<Vec<TopK<T>>> = team.map(ntasks, task);
        // Merge the chunk winners of each query, recompute their distances
        // exactly, sort, write. Parallel over query blocks (disjoint outputs).
        let block = |qb: usize, od: &mut [T], oi: &mut [i64]| {
            let cands = |i: usize, c: &mut Vec<(T, usize)>| {
                for ch in 0..nchunks {
                    c.extend_from_slice(results[qb * nchunks + ch][i].candidates());
                }
            };
            finish(&s, qb * QUERY_BLOCK, cands, od, oi);
        };
        let rows = QUERY_BLOCK * k;
        team.for_each_chunk_mut2(out_d, rows, out_i, rows, block);
    }
}

/// Bytes of rows per piece of the shared scan. Each piece is read as one
/// ascending stream; pieces are claimed in either order, and every jump to a
/// new piece costs the hardware prefetcher a ramp-up: with 128 KiB pieces a
/// backward pass (pieces in descending order) was 17% slower than a forward
/// one, with 1 MiB pieces both directions run at the same speed, and 50 MB are
/// still about 50 pieces, enough for the threads to finish close together.
const PIECE_BYTES: usize = 1 << 20;

/// Rows per piece of the shared scan (see [`PIECE_BYTES`]).
fn scan_piece_rows<T>(dim: usize) -> usize {
    (PIECE_BYTES / (dim * std::mem::size_of::<T>()).max(1)).clamp(16, 8192)
}

/// A contiguous run of pieces `[lo, hi)` not scanned yet, taken from either end.
struct Segment(Mutex<(usize, usize)>);

impl Segment {
    /// `pieces` cut into `parts` segments of consecutive pieces.
    fn split(pieces: usize, parts: usize) -> Vec<Segment> {
        (0..parts)
            .map(|p| Segment(Mutex::new((pieces * p / parts, pieces * (p + 1) / parts))))
            .collect()
    }

    /// Runs `scan` on the pieces participant `p` takes: its own segment from
    /// the end the previous scan finished at (`backward`: from its end), then
    /// the far ends of the others' (a descheduled worker never holds the
    /// search up). Stops when `scan` returns `false`, and then returns `false`.
    fn walk(
        segments: &[Segment],
        p: usize,
        backward: bool,
        mut scan: impl FnMut(usize) -> bool,
    ) -> bool {
        while let Some(c) = segments[p].take(backward) {
            if !scan(c) {
                return false;
            }
        }
        for off in 1..segments.len() {
            while let Some(c) = segments[(p + off) % segments.len()].take(!backward) {
                if !scan(c) {
                    return false;
                }
            }
        }
        true
    }

    fn take(&self, from_end: bool) -> Option<usize> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (lo, hi) = *g;
        if lo >= hi {
            None
        } else if from_end {
            g.1 = hi - 1;
            Some(hi - 1)
        } else {
            g.0 = lo + 1;
            Some(lo)
        }
    }
}

/// The top-k candidates of a few queries (fewer than `SMALL_QUERIES`) over the
/// whole database, one `Vec` of per-query `TopK`s per participant.
///
/// One query costs one pass over the database, so its speed is that of
/// memory. The database is cut into one segment per pool thread; each part
/// scans its own segment piece by piece, forwards or — when `backward` — from
/// the end, and then helps with the pieces left at the far end of the others.
/// Alternating the direction between searches ([`ScanOrder`]) makes each scan
/// start with the rows the previous one read last. Which part scores which
/// row, and in what
/// order, never changes a result: every row's score is computed the same way,
/// and the top-k keeps the k best under a total order.
fn shared_scan<T: KnnFloat>(s: &Search<'_, T>, qaux: &[T], backward: bool) -> Vec<Vec<TopK<T>>> {
    let &Search {
        queries,
        database,
        xaux,
        dim,
        nq,
        nd,
        k,
        metric,
        ..
    } = s;
    let rows = scan_piece_rows::<T>(dim);
    let pieces = nd.div_ceil(rows);
    let flops = nq.saturating_mul(nd).saturating_mul(dim);
    let parts = if flops < MIN_PARALLEL_FLOPS {
        1
    } else {
        pool::num_threads().clamp(1, pieces)
    };
    let segments = Segment::split(pieces, parts);
    let work = |p: usize| -> Vec<TopK<T>> {
        let mut tops: Vec<TopK<T>> = (0..nq).map(|_| TopK::new(k)).collect();
        let mut tile = vec![T::ZERO; nq * rows];
        let mut scan = |c: usize| {
            let (x0, x1) = (c * rows, ((c + 1) * rows).min(nd));
            let n = x1 - x0;
            let t = &mut tile[..nq * n];
            T::small_dots(queries, nq, &database[x0 * dim..x1 * dim], n, dim, t);
            T::scan_tile(t, nq, n, metric, qaux, &xaux[x0..x1], x0, &mut tops);
        };
        Segment::walk(&segments, p, backward, |c| {
            scan(c);
            true
        });
        tops
    };
    // Parts are claimed dynamically: a part no helper picked up is run by the
    // participant that finished first (and then finds little or nothing left
    // to do), so a busy machine never makes a search wait for a descheduled
    // worker.
    sched::team(flops, MIN_PARALLEL_FLOPS).map(parts, work)
}

/// Merges the candidates of queries `q0 ..` (`cands(i, buf)` appends those of
/// query `q0 + i`), recomputes the k winners' distances exactly, sorts them by
/// the total order and writes `od` / `oi` (`k` per query).
fn finish<T: KnnFloat>(
    s: &Search<'_, T>,
    q0: usize,
    cands: impl Fn(usize, &mut Vec<(T, usize)>),
    od: &mut [T],
    oi: &mut [i64],
) {
    let &Search {
        queries,
        database,
        dim,
        nd,
        k,
        metric,
        ..
    } = s;
    let m = od.len() / k;
    let mut cand: Vec<(T, usize)> = Vec::new();
    let mut exact: Vec<(f64, usize)> = Vec::with_capacity(k);
    let mut outv: Vec<f64> = vec![0.0; nd.min(2 * k + 64)];
    for i in 0..m {
        cand.clear();
        cands(i, &mut cand);
        debug_assert!(cand.len() >= k, "fewer than k candidates");
        select_sorted(&mut cand, k);
        let q = &queries[(q0 + i) * dim..(q0 + i + 1) * dim];
        let q_inv = if metric == Metric::Cosine {
            inv_norm(dot_f64(q, q))
        } else {
            0.0
        };
        exact.clear();
        for (slot, &(_, j)) in cand.iter().enumerate() {
            let (score, value) = exact_pair(q, q_inv, &database[j * dim..(j + 1) * dim], metric);
            exact.push((score, slot));
            outv[slot] = value;
        }
        exact.sort_unstable_by(|a, b| cmp_entry(&(a.0, cand[a.1].1), &(b.0, cand[b.1].1)));
        for (r, &(_, slot)) in exact.iter().enumerate() {
            od[i * k + r] = T::from_f64(outv[slot]);
            oi[i * k + r] = cand[slot].1 as i64;
        }
    }
}

/// A searchable database owned by the library (the state behind the C index
/// handle): rows are copied in by [`KnnIndex::add`], their norms computed once.
/// Searches of one or a few queries pre-scan int8 codes of the rows (kept where
/// that is fast, see `prefilter`) and fall back to scanning the rows in
/// alternating directions ([`ScanOrder`]); batches pre-scan them with an int8
/// matrix product (`prefilter_batch`, AVX-512 VNNI) or a 4-bit pass
/// (`prefilter_batch_nibble`, AVX2). All give the float scan's result bit
/// for bit.
#[derive(Debug)]
pub struct KnnIndex<T> {
    dim: usize,
    metric: Metric,
    data: Vec<T>,
    aux: Vec<T>,
    /// 4-bit and int8 codes of the rows for the pre-scans (`prefilter_nibble`,
    /// `prefilter`, `prefilter_batch`, `prefilter_batch_nibble`): 3/8 of the float32 rows'
    /// memory plus 28 bytes per row. Kept only where the pre-scan is fast
    /// (AVX2 or AVX-512 VNNI).
    codes: Option<Codes>,
    order: ScanOrder,
}

impl<T: Clone> Clone for KnnIndex<T> {
    fn clone(&self) -> Self {
        KnnIndex {
            dim: self.dim,
            metric: self.metric,
            data: self.data.clone(),
            aux: self.aux.clone(),
            codes: self.codes.clone(),
            order: ScanOrder::new(),
        }
    }
}

impl<T: KnnFloat> KnnIndex<T> {
    /// An empty index of `dim`-dimensional rows (`dim ≥ 1`).
    pub fn new(dim: usize, metric: Metric) -> Result<Self> {
        if dim == 0 {
            return Err(Error::InvalidArgument(
                "dim is 0, expected at least 1".to_string(),
            ));
        }
        Ok(KnnIndex {
            dim,
            metric,
            data: Vec::new(),
            aux: Vec::new(),
            codes: (prefilter::available() && dim <= quant::MAX_DIM)
                .then(|| Codes::new(dim, metric)),
            order: ScanOrder::new(),
        })
    }

    /// Appends rows (`rows.len()` a multiple of `dim`); they get the next indices.
    /// On error nothing is added.
    pub fn add(&mut self, rows: &[T]) -> Result<()> {
        rows_of(rows.len(), self.dim, "rows")?;
        // Compute first, then extend: a failure leaves the index unchanged.
        let aux = row_aux(rows, self.dim, self.metric);
        // Huge pages for the rows (streamed once per query: fewer TLB misses).
        crate::simd::mem::reserve_huge(&mut self.data, rows.len());
        self.data.extend_from_slice(rows);
        self.aux.extend_from_slice(&aux);
        if let Some(c) = &mut self.codes {
            c.append(rows, &aux);
        }
        Ok(())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// `true` when no rows were added.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The rows added so far, row-major (`len() * dim()` values), exactly as added.
    pub fn rows(&self) -> &[T] {
        &self.data
    }

    /// The metric searched by.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// As [`knn_search`] over the rows added so far. An empty index gives
    /// `InvalidState`.
    pub fn search(
        &self,
        queries: &[T],
        k: usize,
        out_distances: &mut [T],
        out_indices: &mut [i64],
    ) -> Result<()> {
        if self.is_empty() {
            return Err(Error::InvalidState(
                "the index is empty: add rows before searching".to_string(),
            ));
        }
        let nd = self.len();
        check_search(queries, nd, self.dim, k, out_distances, out_indices)?;
        search_impl(
            Search {
                queries,
                database: &self.data,
                xaux: &self.aux,
                dim: self.dim,
                nq: queries.len() / self.dim,
                nd,
                k,
                metric: self.metric,
                backward: self.order.next_backward(),
            },
            self.codes.as_ref(),
            out_distances,
            out_indices,
        );
        Ok(())
    }
}

/// The full `nx × ny` matrix of distances between the rows of `x` and of `y`,
/// row-major into `out`, matching `sklearn.metrics.pairwise_distances`:
/// squared / plain euclidean, cosine distance (`1 − cos`, clipped to [0, 2]; a
/// zero row has similarity 0) and, for `InnerProduct`, the inner products
/// themselves. Computed in float64 for both input types (float32 blocks are
/// widened, as scikit-learn does), through GEMM on fixed tiles; euclidean
/// entries whose dot-product formula would lose more than two digits to
/// cancellation are recomputed from the differences.
///
/// ```
/// use ferrokit_core::neighbors::{pairwise_distances, Metric};
/// let x = [0.0f64, 0.0, 3.0, 4.0];
/// let mut out = [0.0; 4];
/// pairwise_distances(&x, &x, 2, Metric::Euclidean, &mut out).unwrap();
/// assert_eq!(out, [0.0, 5.0, 5.0, 0.0]);
/// ```
pub fn pairwise_distances<T: KnnFloat>(
    x: &[T],
    y: &[T],
    dim: usize,
    metric: Metric,
    out: &mut [T],
) -> Result<()> {
    let nx = rows_of(x.len(), dim, "x")?;
    let ny = rows_of(y.len(), dim, "y")?;
    match nx.checked_mul(ny) {
        Some(n) if n == out.len() => {}
        _ => {
            return Err(Error::LengthMismatch(format!(
                "out has {} elements, expected {nx} * {ny}",
                out.len()
            )))
        }
    }
    if nx == 0 || ny == 0 {
        return Ok(());
    }
    let (xa, ya) = match metric {
        Metric::InnerProduct => (Vec::new(), Vec::new()),
        Metric::SqEuclidean | Metric::Euclidean => (sq_norms(x, dim), sq_norms(y, dim)),
        Metric::Cosine => (
            sq_norms(x, dim).into_iter().map(inv_norm).collect(),
            sq_norms(y, dim).into_iter().map(inv_norm).collect(),
        ),
    };
    let widen = |src: &[T], dst: &mut Vec<f64>| {
        dst.clear();
        dst.extend(src.iter().map(|v| v.to_f64()));
    };
    let block = |b: usize, o: &mut [T]| {
        let r0 = b * QUERY_BLOCK;
        let m = o.len() / ny;
        let mut xb = Vec::new();
        widen(&x[r0 * dim..(r0 + m) * dim], &mut xb);
        let mut yb = Vec::new();
        let mut tile = vec![0.0f64; m * DB_BLOCK.min(ny)];
        let mut c0 = 0;
        while c0 < ny {
            let n = DB_BLOCK.min(ny - c0);
            widen(&y[c0 * dim..(c0 + n) * dim], &mut yb);
            let t = &mut tile[..m * n];
            gemm_abt(m, n, dim, &xb, dim, &yb, dim, t, n);
            for i in 0..m {
                let orow = &mut o[i * ny + c0..i * ny + c0 + n];
                let trow = &t[i * n..(i + 1) * n];
                let gi = r0 + i;
                match metric {
                    Metric::InnerProduct => {
                        for (o, &v) in orow.iter_mut().zip(trow) {
                            *o = T::from_f64(v);
                        }
                    }
                    Metric::Cosine => {
                        for (j, (o, &v)) in orow.iter_mut().zip(trow).enumerate() {
                            *o = T::from_f64(clamp_cos(1.0 - v * xa[gi] * ya[c0 + j]));
                        }
                    }
                    Metric::SqEuclidean | Metric::Euclidean => {
                        for (j, (o, &v)) in orow.iter_mut().zip(trow).enumerate() {
                            let norms = xa[gi] + ya[c0 + j];
                            let mut sq = norms - 2.0 * v;
                            if sq < 1e-2 * norms {
                                // Cancellation: recompute from the differences.
                                sq = sqdist_f64(
                                    &xb[i * dim..(i + 1) * dim],
                                    &yb[j * dim..(j + 1) * dim],
                                );
                            }
                            if sq < 0.0 {
                                sq = 0.0;
                            }
                            *o = T::from_f64(if metric == Metric::Euclidean {
                                sq.sqrt()
                            } else {
                                sq
                            });
                        }
                    }
                }
            }
            c0 += n;
        }
    };
    let flops = nx.saturating_mul(ny).saturating_mul(dim);
    sched::team(flops, MIN_PARALLEL_FLOPS).for_each_chunk_mut(out, QUERY_BLOCK * ny, block);
    Ok(())
}

#[cfg(test)]
mod prefilter_batch_tests;
#[cfg(test)]
mod prefilter_tests;
#[cfg(test)]
mod tests;
