"""Property tests (hypothesis) for the nn kernels and neighbour search against
numpy references; the seed functions and stats have theirs in their own files."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrokit as fk

floats = st.floats(-50, 50, allow_nan=False, width=32)
dtypes = st.sampled_from([np.float32, np.float64])


def _matrix(dtype: type, min_side: int = 1, max_side: int = 12) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=2, max_dims=2, min_side=min_side, max_side=max_side),
                      elements=floats)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(dtypes.flatmap(_matrix))
def test_softmax_and_log_softmax_match_numpy(x: np.ndarray) -> None:
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(-1, keepdims=True))
    want = e / e.sum(-1, keepdims=True)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    got = fk.nn.softmax(x)
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 1e-3)
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=tol * 10)
    np.testing.assert_allclose(np.exp(fk.nn.log_softmax(x).astype(np.float64)), want, rtol=tol * 10, atol=tol)


@settings(max_examples=60, deadline=None)
@given(dtypes.flatmap(_matrix))
def test_elementwise_activations_match_numpy(x: np.ndarray) -> None:
    x64 = x.astype(np.float64)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    np.testing.assert_array_equal(fk.nn.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(fk.nn.sigmoid(x), 1 / (1 + np.exp(-x64)), rtol=tol, atol=tol * 1e-3)
    np.testing.assert_allclose(fk.nn.tanh(x), np.tanh(x64), rtol=tol, atol=tol * 1e-3)
    np.testing.assert_allclose(fk.nn.silu(x), x64 / (1 + np.exp(-x64)), rtol=tol, atol=tol * 1e-3)


@settings(max_examples=40, deadline=None)
@given(dtypes.flatmap(lambda dt: _matrix(dt, min_side=2, max_side=16)), st.integers(1, 4))
def test_layer_norm_rows_have_zero_mean_unit_variance(x: np.ndarray, _: int) -> None:
    y = fk.nn.layer_norm(x, eps=1e-5).astype(np.float64)
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 8)), elements=floats),
    st.integers(1, 6),
    st.sampled_from(["sqeuclidean", "inner_product"]),
)
def test_knn_search_distances_equal_brute_force(db: np.ndarray, k: int, metric: str) -> None:
    k = min(k, db.shape[0])
    q = db[: max(1, db.shape[0] // 3)]
    dist, idx = fk.neighbors.knn_search(q, db, k, metric=metric)
    if metric == "sqeuclidean":
        full = ((q[:, None, :] - db[None, :, :]) ** 2).sum(-1)
        want = np.sort(full, axis=1)[:, :k]
    else:
        full = q @ db.T
        want = -np.sort(-full, axis=1)[:, :k]
    scale = 1 + np.abs(full).max()
    np.testing.assert_allclose(dist, want, rtol=1e-9, atol=1e-9 * scale)
    # The returned indices really have the returned distances.
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), dist, rtol=1e-9, atol=1e-9 * scale)
