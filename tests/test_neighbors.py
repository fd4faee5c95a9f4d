"""ferrokit.neighbors: pairwise distances, fused k-NN search, the index handle,
the scikit-learn estimators and the C example, against scikit-learn / numpy."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest

import ferrokit as fk
from ferrokit import neighbors as nb

sklearn = pytest.importorskip("sklearn")
from sklearn.metrics import pairwise_distances as sk_pairwise  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier as SkKNC  # noqa: E402
from sklearn.neighbors import NearestNeighbors as SkNN  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "c" / "knn_search.c"
METRICS = ["sqeuclidean", "euclidean", "cosine", "inner_product"]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-10}


def _data(shape: tuple[int, int], dtype, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _exact(q: np.ndarray, x: np.ndarray, metric: str) -> np.ndarray:
    """Reference matrix in float64 from the definitions (no dot-product trick)."""
    q, x = q.astype(np.float64), x.astype(np.float64)
    if metric == "inner_product":
        return q @ x.T
    if metric == "cosine":
        nq = np.linalg.norm(q, axis=1)[:, None]
        nx = np.linalg.norm(x, axis=1)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            s = (q @ x.T) / (nq * nx)
        s[(nq == 0) | (nx == 0)] = 0.0
        return np.clip(1.0 - s, 0.0, 2.0)
    from scipy.spatial.distance import cdist

    return cdist(q, x, metric)  # from the differences, in float64


def _check_knn(q, x, k, metric, dist, ind, rtol) -> None:
    """Distances must match the exact k best; indices must match wherever the
    reference distances are separated by more than the rounding tolerance
    (ties within rounding may legitimately come out in either order)."""
    ref = _exact(q, x, metric)
    score = -ref if metric == "inner_product" else ref
    order = np.argsort(score, axis=1, kind="stable")
    ref_sorted = np.take_along_axis(ref, order, axis=1)
    atol = rtol * max(1.0, float(np.nanmax(np.abs(ref)))) * 4
    np.testing.assert_allclose(dist, ref_sorted[:, :k], rtol=rtol * 4, atol=atol)
    # Our distances for our indices are the true distances of those rows.
    np.testing.assert_allclose(dist, np.take_along_axis(ref, ind, axis=1), rtol=rtol * 4, atol=atol)
    padded = np.concatenate([ref_sorted, np.full((len(q), 1), np.inf)], axis=1)
    for j in range(k):
        sep_prev = np.abs(padded[:, j] - padded[:, j - 1]) > atol if j > 0 else True
        sep_next = np.abs(padded[:, j + 1] - padded[:, j]) > atol
        sel = sep_prev & sep_next
        np.testing.assert_array_equal(ind[sel, j], order[sel, j])


# --------------------------------------------------------------------------- pairwise


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cosine"])
@pytest.mark.parametrize(("nx", "ny", "d"), [(1, 1, 1), (7, 5, 3), (300, 1100, 17)])
def test_pairwise_matches_sklearn(dtype, metric, nx, ny, d) -> None:
    X, Y = _data((nx, d), dtype, 1), _data((ny, d), dtype, 2)
    got = nb.pairwise_distances(X, Y, metric=metric)
    assert got.dtype == dtype and got.shape == (nx, ny)
    # Reference: scikit-learn on the same values in float64 (its float32 cosine
    # is itself only float32-accurate).
    want = sk_pairwise(X.astype(np.float64), Y.astype(np.float64), metric=metric)
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=1e-12)
    if dtype == np.float64:
        np.testing.assert_allclose(got, sk_pairwise(X, Y, metric=metric), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cosine"])
def test_pairwise_self_has_zero_diagonal_like_sklearn(dtype, metric) -> None:
    X = _data((40, 6), dtype, 3)
    got = nb.pairwise_distances(X, metric=metric)
    assert np.all(np.diag(got) == 0)
    np.testing.assert_allclose(
        got, sk_pairwise(X.astype(np.float64), metric=metric), rtol=RTOL[dtype], atol=1e-12
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_inner_product_and_mixed_dtypes(dtype) -> None:
    X, Y = _data((9, 4), dtype, 4), _data((5, 4), np.float64, 5)
    got = nb.pairwise_distances(X, Y, metric="inner_product")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, X.astype(np.float64) @ Y.T, rtol=1e-12)
    assert nb.pairwise_distances(np.empty((0, 3)), np.ones((2, 3))).shape == (0, 2)


# --------------------------------------------------------------------------- knn_search


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    ("nq", "nd", "d", "k"),
    [(1, 1, 1, 1), (1, 300, 7, 1), (5, 40, 3, 40), (37, 2500, 33, 10), (300, 3000, 128, 5)],
)
def test_knn_search_matches_exact(dtype, metric, nq, nd, d, k) -> None:
    q, x = _data((nq, d), dtype, nq), _data((nd, d), dtype, nd + 1)
    dist, ind = nb.knn_search(q, x, k, metric=metric)
    assert dist.shape == ind.shape == (nq, k)
    assert dist.dtype == dtype and ind.dtype == np.int64
    _check_knn(q, x, k, metric, dist, ind, RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_knn_search_matches_sklearn_brute(dtype, metric) -> None:
    q, x = _data((50, 19), dtype, 7), _data((700, 19), dtype, 8)
    dist, ind = nb.knn_search(q, x, 6, metric=metric)
    sd, si = SkNN(n_neighbors=6, algorithm="brute", metric=metric).fit(x).kneighbors(q)
    np.testing.assert_allclose(dist, sd, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-6)
    gaps = np.diff(np.sort(_exact(q, x, metric), axis=1)[:, :7], axis=1).min(axis=1)
    separated = gaps > 1e-4
    np.testing.assert_array_equal(ind[separated], si[separated])


def test_ties_go_to_the_lower_index_and_zero_queries() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    dist, ind = nb.knn_search(np.array([[0.0, 0.0]]), x, 4)
    np.testing.assert_array_equal(ind, [[0, 1, 2, 3]])
    np.testing.assert_array_equal(dist, [[1.0, 1.0, 1.0, 1.0]])
    d0, i0 = nb.knn_search(np.empty((0, 2)), x, 2)
    assert d0.shape == i0.shape == (0, 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_distances_sort_last(dtype) -> None:
    x = np.array([[0.0, 0.0], [np.nan, 1.0], [2.0, 0.0], [1.0, 0.0]], dtype=dtype)
    dist, ind = nb.knn_search(np.array([[0.0, 0.0]], dtype=dtype), x, 4)
    np.testing.assert_array_equal(ind, [[0, 3, 2, 1]])
    assert np.isnan(dist[0, 3]) and not np.isnan(dist[0, :3]).any()
    dist, ind = nb.knn_search(np.array([[np.nan, 0.0]], dtype=dtype), x, 3)
    np.testing.assert_array_equal(ind, [[0, 1, 2]])
    assert np.isnan(dist).all()


def test_inner_product_is_largest_first() -> None:
    x = np.array([[1.0, 0.0], [3.0, 0.0], [-2.0, 0.0]], dtype=np.float32)
    dist, ind = nb.knn_search(np.array([[1.0, 5.0]], dtype=np.float32), x, 3, metric="inner_product")
    np.testing.assert_array_equal(ind, [[1, 0, 2]])
    np.testing.assert_array_equal(dist, [[3.0, 1.0, -2.0]])


def test_same_bits_for_any_thread_count() -> None:
    q, x = _data((300, 40), np.float32, 1), _data((20000, 40), np.float32, 2)
    with fk.threads(1):
        d1, i1 = nb.knn_search(q, x, 7)
    with fk.threads(2):
        d2, i2 = nb.knn_search(q, x, 7)
    with fk.threads(3):
        d3, i3 = nb.knn_search(q, x, 7)
    assert d1.tobytes() == d2.tobytes() == d3.tobytes()
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(i1, i3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_query_scan_direction_and_threads_never_change_results(dtype) -> None:
    # 1-3 queries: one pass over the database whose direction alternates between
    # consecutive searches of an index. The second half of the database repeats
    # the first, so every score is tied with another row's: the lower index must
    # win whichever end the scan starts from, on any number of threads.
    half = _data((20000, 128), dtype, 5)
    x = np.concatenate([half, half])
    q = np.concatenate([x[7:8], _data((2, 128), dtype, 6)])
    for metric in ("sqeuclidean", "inner_product", "cosine"):
        for nq in (1, 2, 3):
            runs = []
            for threads in (1, 2, 3):
                with fk.threads(threads):
                    index = nb.KnnIndex(128, metric=metric, dtype=dtype)
                    index.add(x)
                    for _ in range(3):  # forwards, backwards, forwards
                        runs.append(index.search(q[:nq], 9))
                    runs.append(nb.knn_search(q[:nq], x, 9, metric=metric))
            d0, i0 = runs[0]
            for d, i in runs[1:]:
                assert d.tobytes() == d0.tobytes()
                np.testing.assert_array_equal(i, i0)
            for row in i0:
                for a, j in enumerate(row):
                    if j >= len(half):  # its twin (same score, lower index) came first
                        assert j - len(half) in row[:a], (metric, row)
            if metric == "sqeuclidean":
                assert i0[0, :2].tolist() == [7, 7 + len(half)]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_no_threads_besides_the_library_pool() -> None:
    def names() -> dict[str, str]:
        out = {}
        for t in os.listdir("/proc/self/task"):
            try:
                out[t] = pathlib.Path(f"/proc/self/task/{t}/comm").read_text().strip()
            except OSError:
                pass
        return out

    before = names()
    q, x = _data((600, 64), np.float32, 3), _data((30000, 64), np.float32, 4)
    with fk.threads(2):
        nb.knn_search(q, x, 5)
        nb.knn_search(q[:1], x, 5)
        nb.pairwise_distances(q[:300], x[:2000])
    new = {t: n for t, n in names().items() if t not in before}
    assert all(n.startswith("ferrokit-") for n in new.values()), new
    assert len(new) <= 2


# --------------------------------------------------------------------------- bad input


GOOD_Q = np.ones((2, 3))
GOOD_X = np.ones((4, 3))


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.ones((2, 4)), GOOD_X, 1), ValueError, "features"),
        ((GOOD_Q, GOOD_X, 0), ValueError, "k must be >= 1"),
        ((GOOD_Q, GOOD_X, -3), ValueError, "k must be >= 1"),
        ((GOOD_Q, GOOD_X, 5), ValueError, "larger than the database"),
        ((GOOD_Q, np.empty((0, 3)), 1), ValueError, "empty"),
        ((GOOD_Q, GOOD_X, 1.5), TypeError, "k must be an integer"),
        ((GOOD_Q, GOOD_X, True), TypeError, "k must be an integer"),
        ((None, GOOD_X, 1), TypeError, "queries is None"),
        ((GOOD_Q, None, 1), TypeError, "database is None"),
        ((GOOD_Q.astype(complex), GOOD_X, 1), TypeError, "dtype"),
        ((np.array([["a", "b", "c"]]), GOOD_X, 1), TypeError, "dtype"),
        ((np.ones(3), GOOD_X, 1), ValueError, "2-D"),
        ((np.ones((2, 0)), np.ones((4, 0)), 1), ValueError, "0 features"),
    ],
)
def test_knn_search_bad_input(args, exc, match) -> None:
    with pytest.raises(exc, match=match):
        nb.knn_search(*args)


def test_unknown_metric_everywhere() -> None:
    with pytest.raises(ValueError, match="metric is 'manhattan'"):
        nb.knn_search(GOOD_Q, GOOD_X, 1, metric="manhattan")
    with pytest.raises(ValueError, match="metric"):
        nb.pairwise_distances(GOOD_Q, metric=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metric"):
        nb.KnnIndex(3, metric="hamming")


def test_non_contiguous_read_only_and_fortran_inputs_work() -> None:
    base = _data((50, 20), np.float64, 9)
    x = base[:, ::2]  # strided
    q = np.asfortranarray(base[:5, :10])
    ro = np.array(x)
    ro.flags.writeable = False
    want = nb.knn_search(np.ascontiguousarray(q), np.ascontiguousarray(x), 3)
    for qq, xx in [(q, x), (q, ro), (q.tolist(), ro)]:
        got = nb.knn_search(qq, xx, 3)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(nb.pairwise_distances(ro), nb.pairwise_distances(np.ascontiguousarray(x)))


def test_c_status_errors_through_cffi() -> None:
    from ferrokit._native import ffi, lib

    d = np.full(2, -1.0, np.float32)
    i = np.full(2, -1, np.int64)
    q = np.zeros(2, np.float32)
    fq = ffi.from_buffer("float[]", q)
    args = (ffi.from_buffer("float[]", d), 2, ffi.from_buffer("int64_t[]", i), 2)
    assert lib.fk_knn_search_f32(fq, 1, ffi.NULL, 0, 2, 1, 0, *args) == lib.FK_ERR_INVALID_ARGUMENT
    assert lib.fk_knn_search_f32(fq, 1, ffi.NULL, 3, 2, 2, 0, *args) == lib.FK_ERR_NULL_POINTER
    assert lib.fk_knn_search_f32(fq, 1, fq, 1, 2, 1, 7, *args) == lib.FK_ERR_INVALID_ARGUMENT
    # Output lengths (element counts) must both be n_queries * k, else nothing is written.
    db = ffi.from_buffer("float[]", np.arange(6, dtype=np.float32))
    for n_d, n_i in ((1, 2), (2, 1), (2, 3), (0, 0)):
        a = (args[0], n_d, args[2], n_i)
        assert lib.fk_knn_search_f32(fq, 1, db, 3, 2, 2, 0, *a) == lib.FK_ERR_LENGTH_MISMATCH
    assert (d == -1).all() and (i == -1).all()
    assert lib.fk_knn_search_f32(fq, 1, db, 3, 2, 2, 0, *args) == lib.FK_OK
    assert i.tolist() == [0, 1]
    out = ffi.new("fk_knn_index_f32 **")
    assert lib.fk_knn_index_new_f32(2, -1, out) == lib.FK_ERR_INVALID_ARGUMENT
    assert out[0] == ffi.NULL
    assert lib.fk_knn_index_new_f32(2, 0, out) == lib.FK_OK
    h = ffi.gc(out[0], lib.fk_knn_index_free_f32)
    assert lib.fk_knn_index_add_f32(h, db, 3, 2) == lib.FK_OK
    assert lib.fk_knn_index_search_f32(h, fq, 1, 2, 2, args[0], 2, args[2], 1) == lib.FK_ERR_LENGTH_MISMATCH
    assert lib.fk_knn_index_search_f32(h, fq, 1, 2, 2, *args) == lib.FK_OK
    lib.fk_knn_index_free_f32(ffi.NULL)


# --------------------------------------------------------------------------- index handle


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
def test_index_equals_one_shot(dtype, metric) -> None:
    q, x = _data((20, 9), dtype, 1), _data((900, 9), dtype, 2)
    with nb.KnnIndex(9, metric=metric, dtype=dtype) as index:
        assert len(index) == 0
        index.add(x[:400])
        index.add(x[400:].astype(np.float64))  # converted to the index dtype
        assert len(index) == 900 and index.dim == 9 and index.dtype == dtype
        d1, i1 = index.search(q, 4)
    assert index.closed
    d2, i2 = nb.knn_search(q, x, 4, metric=metric)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d2)


def test_index_errors_and_close() -> None:
    index = nb.KnnIndex(3)
    with pytest.raises(ValueError, match="empty"):
        index.search(GOOD_Q, 1)
    with pytest.raises(ValueError, match="features"):
        index.add(np.ones((2, 4)))
    index.add(GOOD_X)
    with pytest.raises(ValueError, match="features"):
        index.search(np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match="larger than the database"):
        index.search(GOOD_Q, 5)
    assert "4 rows" in repr(index)
    index.close()
    index.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        index.search(GOOD_Q, 1)
    with pytest.raises(ValueError, match="closed"):
        len(index)
    with pytest.raises(ValueError, match="dim must be >= 1"):
        nb.KnnIndex(0)
    with pytest.raises(TypeError, match="dtype"):
        nb.KnnIndex(3, dtype=np.int32)
    # Dropped without close(): the ffi.gc finalizer frees it.
    nb.KnnIndex(3).add(GOOD_X)


def test_concurrent_searches_share_one_index() -> None:
    q, x = _data((64, 16), np.float32, 5), _data((5000, 16), np.float32, 6)
    index = nb.KnnIndex(16)
    index.add(x)
    want = index.search(q, 5)
    results: list = [None] * 6

    def work(t: int) -> None:
        for _ in range(3):
            results[t] = index.search(q, 5)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r[1], want[1])
        np.testing.assert_array_equal(r[0], want[0])


# --------------------------------------------------------------------------- estimators


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_classifier_predicts_like_sklearn(metric, weights, dtype) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8)).astype(dtype)
    y = (X[:, 0] + 0.5 * rng.standard_normal(400) > 0).astype(int) + (X[:, 1] > 1)
    Xt = rng.standard_normal((150, 8)).astype(dtype)
    ours = nb.KNeighborsClassifier(n_neighbors=7, weights=weights, metric=metric).fit(X, y)
    ref = SkKNC(n_neighbors=7, weights=weights, metric=metric, algorithm="brute").fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    # Distance weights: scikit-learn's float32 distances carry float32 rounding
    # (ours are recomputed in float64), so the weights agree to about 1e-6.
    tol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=tol, atol=tol)
    assert ours.score(Xt, ref.predict(Xt)) == 1.0


def test_nearest_neighbors_api_like_sklearn() -> None:
    X = _data((120, 5), np.float64, 11)
    Q = _data((10, 5), np.float64, 12)
    ours = nb.NearestNeighbors(n_neighbors=4, radius=2.0).fit(X)
    ref = SkNN(n_neighbors=4, radius=2.0, algorithm="brute").fit(X)
    for q in (Q, None):
        d1, i1 = ours.kneighbors(q)
        d2, i2 = ref.kneighbors(q)
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_allclose(d1, d2, rtol=1e-9, atol=1e-12)
        for mode in ("connectivity", "distance"):
            g1, g2 = ours.kneighbors_graph(q, mode=mode), ref.kneighbors_graph(q, mode=mode)
            np.testing.assert_allclose(g1.toarray(), g2.toarray(), rtol=1e-9, atol=1e-12)
        r1d, r1i = ours.radius_neighbors(q, sort_results=True)
        r2d, r2i = ref.radius_neighbors(q, sort_results=True)
        for a, b, c, e in zip(r1d, r1i, r2d, r2i, strict=True):
            np.testing.assert_array_equal(b, e)
            np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit"):
        ours.kneighbors(Q, n_neighbors=121)
    with pytest.raises(ValueError, match="n_neighbors > 0"):
        ours.kneighbors(Q, n_neighbors=0)
    with pytest.raises(ValueError, match="metric"):
        nb.NearestNeighbors(metric="inner_product").fit(X)
    with pytest.raises(ValueError):
        nb.NearestNeighbors().fit(np.array([[np.nan, 1.0]]))


def test_estimators_pass_check_estimator() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    for est in (
        nb.KNeighborsClassifier(),
        nb.KNeighborsClassifier(weights="distance"),
        nb.NearestNeighbors(),
    ):
        results = check_estimator(est, on_fail=None)
        failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
        assert not failed, failed


def test_import_without_sklearn() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import numpy as np, ferrokit as fk\n"
        "print(fk.neighbors.knn_search(np.ones((1, 2)), np.ones((3, 2)), 2)[1].tolist())\n"
        "try:\n    fk.neighbors.NearestNeighbors\n"
        "except ImportError as e:\n    print('ImportError', 'scikit-learn' in str(e))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["[[0, 1]]", "ImportError True"]


# --------------------------------------------------------------------------- C example


def test_c_example_builds_and_runs(build_c) -> None:
    exe = build_c(EXAMPLE)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "ok"
    assert "oneshot euclidean: q0 1:0.2236 3:0.8062 0:0.922 q1 6:0.2236 4:0.922 5:1.204" in lines
    assert "index len: 8" in lines
    assert "index sqeuclidean: q0 1:0.05 3:0.65 0:0.85 q1 6:0.05 4:0.85 5:1.45" in lines
    assert "oneshot inner_product: q0 5:4.2 6:3.5 4:3.3 q1 6:25.2 5:24.5 4:21.3" in lines
    statuses = {ln.split(": ")[0]: ln.split(": ", 1)[1].split()[0] for ln in lines if "FK_ERR" in ln}
    assert statuses == {
        "k too large": "FK_ERR_INVALID_ARGUMENT",
        "wrong dim": "FK_ERR_LENGTH_MISMATCH",
        "output too short": "FK_ERR_LENGTH_MISMATCH",
        "unknown metric": "FK_ERR_INVALID_ARGUMENT",
        "empty database": "FK_ERR_INVALID_ARGUMENT",
    }


def test_bench_module_imports_and_its_numpy_reference_agrees() -> None:
    from ferrokit.benchmarks import neighbors as bench_neighbors

    q, x = _data((7, 16), np.float32, 1), _data((300, 16), np.float32, 2)
    d_np, i_np = bench_neighbors.numpy_topk_ip(q, x, 5)
    d_fk, i_fk = nb.knn_search(q, x, 5, metric="inner_product")
    np.testing.assert_array_equal(i_fk, i_np)
    np.testing.assert_allclose(d_fk, d_np, rtol=1e-5)


def _prescan_data(kind: str, dtype) -> np.ndarray:
    rng = np.random.default_rng(11)
    if kind == "uniform":  # not centred: every coordinate in [0, 1)
        return rng.random((20000, 64)).astype(dtype)
    if kind == "ties":  # few distinct values: many exactly equal distances
        return rng.integers(-2, 3, (20000, 64)).astype(dtype)
    x = rng.standard_normal((20000, 64)).astype(dtype)
    x[[5, 900, 19999]] = np.nan  # NaN rows sort last
    x[77, 3] = np.inf
    x[1000:1010] = 0.0
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["uniform", "ties", "gaussian with nan, inf and zero rows"])
def test_index_one_query_prescan_equals_full_scan(dtype, kind) -> None:
    # Searches of an index by 1-3 queries pre-scan int8 codes of the rows (on
    # CPUs with AVX-512 VNNI) and score only the rows that can make the top k;
    # the one-shot knn_search scans every row. Same bits either way.
    x = _prescan_data(kind, dtype)
    q = np.concatenate([x[[3, 1005]], np.random.default_rng(12).random((4, 64)).astype(dtype)])
    for metric in METRICS:
        with nb.KnnIndex(64, metric=metric, dtype=dtype) as index:
            index.add(x[:12345])
            index.add(x[12345:])
            for k in (1, 10, 100):
                for rows in ([0], [1], [2], [3, 4, 5]):
                    d1, i1 = index.search(q[rows], k)
                    d2, i2 = nb.knn_search(q[rows], x, k, metric=metric)
                    np.testing.assert_array_equal(i1, i2, err_msg=f"{metric} k={k} rows={rows}")
                    assert d1.tobytes() == d2.tobytes()
