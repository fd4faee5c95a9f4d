"""lp_pairwise_distances / lp_knn_search (manhattan, chebyshev, minkowski) against
scipy's cdist and a stable-sort brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import ferrokit as fk
from ferrokit.neighbors import lp_knn_search, lp_pairwise_distances

# (metric, p, scipy's name and keyword arguments)
CASES = [
    ("manhattan", 2.0, "cityblock", {}),
    ("chebyshev", 2.0, "chebyshev", {}),
    ("minkowski", 1.0, "minkowski", {"p": 1.0}),
    ("minkowski", 1.5, "minkowski", {"p": 1.5}),
    ("minkowski", 2.0, "minkowski", {"p": 2.0}),
    ("minkowski", 3.0, "minkowski", {"p": 3.0}),
    ("minkowski", 0.5, "minkowski", {"p": 0.5}),
]
DTYPES = [np.float64, np.float32]


def _data(shape: tuple[int, int], dtype: type, seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    # Quarter steps: exact in float32, many exact ties between rows.
    return (r.integers(-8, 9, size=shape) / 4).astype(dtype)


def _brute(q: np.ndarray, x: np.ndarray, k: int, name: str, kw: dict) -> tuple[np.ndarray, np.ndarray]:
    d = cdist(q.astype(np.float64), x.astype(np.float64), name, **kw)
    ind = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, ind, axis=1), ind


@pytest.mark.parametrize("metric,p,name,kw", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 3, 1), (1, 1, 1), (7, 13, 5), (33, 1001, 17)])
def test_pairwise_and_search_match_scipy(metric, p, name, kw, dtype, shape) -> None:
    nq, nd, dim = shape
    q, x = _data((nq, dim), dtype, nd), _data((nd, dim), dtype, nd + 1)
    D = lp_pairwise_distances(q, x, metric=metric, p=p)
    assert D.dtype == np.float64 and D.shape == (nq, nd)
    np.testing.assert_allclose(D, cdist(q.astype(np.float64), x.astype(np.float64), name, **kw), rtol=1e-13)
    k = min(4, nd)
    d, i = lp_knn_search(q, x, k, metric=metric, p=p)
    assert d.dtype == np.float64 and i.dtype == np.int64 and d.shape == i.shape == (nq, k)
    want_d, want_i = _brute(q, x, k, name, kw)
    if p in (1.0, 2.0, 3.0) or metric != "minkowski":
        # Quarter-step data: the sums are exact, ties are exact ties.
        np.testing.assert_array_equal(i, want_i)
    np.testing.assert_allclose(d, want_d, rtol=1e-13)


def test_pairwise_y_none_and_float32_exactness() -> None:
    x = np.array([[1.0 + 2.0**-23, 0.0], [1.0, 0.0]], dtype=np.float32)
    D = lp_pairwise_distances(x)
    assert D[0, 1] == D[1, 0] == 2.0**-23  # not rounded away in float32
    assert np.all(np.diag(D) == 0.0)


def test_nan_and_inf() -> None:
    x = np.array([[0.0, 0.0], [np.nan, 0.0], [np.inf, 0.0], [1.0, 1.0]])
    for metric in ("manhattan", "chebyshev", "minkowski"):
        D = lp_pairwise_distances(x[:1], x, metric=metric, p=3)
        assert D[0, 0] == 0.0 and np.isnan(D[0, 1]) and D[0, 2] == np.inf
        _, i = lp_knn_search(x[:1], x, 4, metric=metric, p=3)
        assert i.tolist() == [[0, 3, 2, 1]]  # NaN last


def test_bit_identical_for_any_thread_count() -> None:
    q, x = _data((40, 9), np.float32, 1) * 1.1, _data((3000, 9), np.float32, 2) * 0.7
    results = []
    for t in (1, 2, 3):
        with fk.threads(t):
            results.append(
                [lp_knn_search(q, x, 7, metric=m, p=1.5) for m in ("manhattan", "chebyshev", "minkowski")]
                + [lp_pairwise_distances(q, x, metric="minkowski", p=1.5)]
            )
    for r in results[1:]:
        for a, b in zip(r, results[0], strict=True):
            for u, v in zip(
                a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True
            ):
                assert u.tobytes() == v.tobytes()


def test_mixed_dtypes_and_array_likes() -> None:
    q = [[0.0, 1.0]]
    x = np.array([[0.0, 0.0], [2.0, 2.0]], dtype=np.float32)
    d, i = lp_knn_search(q, x, 1)
    assert d.tolist() == [[1.0]] and i.tolist() == [[0]]


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 0), ValueError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 4), ValueError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((0, 2)), 1), ValueError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 3)), 1), ValueError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1.5), TypeError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1, metric="euclidean"), ValueError),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1, metric="minkowski", p=0), ValueError),
        (
            lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1, metric="minkowski", p=np.inf),
            ValueError,
        ),
        (
            lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1, metric="minkowski", p=np.nan),
            ValueError,
        ),
        (lambda: lp_knn_search(np.ones((1, 2)), np.ones((3, 2)), 1, p="2"), TypeError),
        (lambda: lp_pairwise_distances([["a", "b"]]), TypeError),
        (lambda: lp_pairwise_distances(np.ones((2, 0))), ValueError),
        (lambda: lp_pairwise_distances(np.ones(3)), ValueError),
        (lambda: lp_pairwise_distances(np.ones((2, 2)), metric=None), ValueError),
    ],
)
def test_bad_input(call, exc) -> None:
    with pytest.raises(exc):
        call()


def test_c_status_errors_through_cffi() -> None:
    from ferrokit._errors import last_error_message
    from ferrokit._native import ffi, lib

    d = np.full(2, -1.0)
    i = np.full(2, -1, np.int64)
    q = np.zeros(2, np.float32)
    fq = ffi.from_buffer("float[]", q)
    out = (ffi.from_buffer("double[]", d), 2, ffi.from_buffer("int64_t[]", i), 2)
    man, mink = lib.FK_LP_MANHATTAN, lib.FK_LP_MINKOWSKI
    assert lib.fk_lp_knn_search_f32(fq, 1, ffi.NULL, 0, 2, 1, man, 2.0, *out) == lib.FK_ERR_INVALID_ARGUMENT
    assert lib.fk_lp_knn_search_f32(fq, 1, ffi.NULL, 3, 2, 2, man, 2.0, *out) == lib.FK_ERR_NULL_POINTER
    assert lib.fk_lp_knn_search_f32(fq, 1, fq, 1, 2, 1, 7, 2.0, *out) == lib.FK_ERR_INVALID_ARGUMENT
    assert "fk_lp_knn_search_f32" in last_error_message()
    assert lib.fk_lp_knn_search_f32(fq, 1, fq, 1, 2, 1, mink, -1.0, *out) == lib.FK_ERR_INVALID_ARGUMENT
    assert "p is -1" in last_error_message()
    db = ffi.from_buffer("float[]", np.arange(6, dtype=np.float32))
    for n_d, n_i in ((1, 2), (2, 1), (2, 3), (0, 0)):
        a = (out[0], n_d, out[2], n_i)
        assert lib.fk_lp_knn_search_f32(fq, 1, db, 3, 2, 2, man, 2.0, *a) == lib.FK_ERR_LENGTH_MISMATCH
    assert (d == -1).all() and (i == -1).all()  # nothing written on error
    assert lib.fk_lp_knn_search_f32(fq, 1, db, 3, 2, 2, man, 2.0, *out) == lib.FK_OK
    assert i.tolist() == [0, 1] and d.tolist() == [1.0, 5.0]
    pw = np.full(3, -1.0)
    fpw = ffi.from_buffer("double[]", pw)
    assert lib.fk_lp_pairwise_distances_f32(fq, 1, db, 3, 2, man, 2.0, fpw, 2) == lib.FK_ERR_LENGTH_MISMATCH
    assert (pw == -1).all()
    assert lib.fk_lp_pairwise_distances_f32(fq, 1, db, 3, 2, man, 2.0, fpw, 3) == lib.FK_OK
    assert pw.tolist() == [1.0, 5.0, 9.0]
