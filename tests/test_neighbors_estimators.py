"""KNeighborsRegressor and radius_neighbors_graph against scikit-learn's brute force."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import neighbors as skn
from sklearn.utils.estimator_checks import check_estimator

from ferrokit import neighbors as fkn

RNG = np.random.default_rng(61)


def _data(n: int, d: int, dtype: type) -> np.ndarray:
    # Integer-valued coordinates make exact ties and zero distances common.
    return RNG.integers(0, 4, size=(n, d)).astype(dtype) + RNG.random((n, d)).astype(dtype) * 0.5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("multi", [False, True])
def test_regressor_matches_sklearn_brute(dtype: type, weights: str, metric: str, multi: bool) -> None:
    X = _data(301, 5, dtype)
    y = RNG.standard_normal((301, 3) if multi else 301)
    Q = _data(57, 5, dtype)
    Q[:5] = X[:5]  # exact matches: zero distances decide alone with weights="distance"
    ours = fkn.KNeighborsRegressor(n_neighbors=7, weights=weights, metric=metric).fit(X, y)
    # The reference runs on float64 copies: ferrokit's distances are refined in
    # float64, scikit-learn's float32 ones are only float32-accurate, and
    # inverse-distance weights amplify that error.
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    ref = skn.KNeighborsRegressor(n_neighbors=7, weights=weights, metric=metric, algorithm="brute")
    ref.fit(X64, y)
    got, want = ours.predict(Q), ref.predict(Q64)
    assert got.shape == want.shape and got.dtype == np.float64
    # Same neighbours except where distances tie within rounding (float32 data):
    # compare where scikit-learn's k-th and (k+1)-th distances are separated.
    d_ref, _ = ref.kneighbors(Q64, n_neighbors=8)
    sep = d_ref[:, 7] - d_ref[:, 6] > 1e-4
    # float32: distances (hence weights) carry float32 rounding, so the error is
    # relative to the targets being averaged, not to a mean that may cancel.
    f32 = dtype == np.float32
    # float64: scikit-learn's euclidean distances come from |x|² + |y|² - 2 x·y
    # (cancellation error ~eps·|x|²/d, ferrokit's are recomputed from
    # differences); inverse-distance weights amplify it to ~1e-7 for the
    # closest neighbours.
    atol = 1e-6 * np.abs(y).max() if f32 else 1e-9
    np.testing.assert_allclose(got[sep], want[sep], rtol=1e-6, atol=atol)
    assert sep.sum() > 40
    assert ours.score(Q, want) > 0.99
    if not f32:
        # The loose float64 tolerance above is scikit-learn's error, not ours:
        # against distances computed from differences ferrokit agrees to 1e-12.
        exact = _exact_regression(X64, y, Q64, 7, weights, metric)
        np.testing.assert_allclose(got[sep], exact[sep], rtol=1e-12, atol=1e-12)


def _exact_regression(
    X: np.ndarray, y: np.ndarray, Q: np.ndarray, k: int, weights: str, metric: str
) -> np.ndarray:
    """k-NN regression from distances computed directly (no |x|^2 + |q|^2 - 2 x.q)."""
    if metric == "euclidean":
        D = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    else:
        nq, nx = np.linalg.norm(Q, axis=1), np.linalg.norm(X, axis=1)
        D = 1.0 - (Q @ X.T) / np.outer(nq, nx)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    d = np.take_along_axis(D, idx, 1)
    yy = y if y.ndim == 2 else y[:, None]
    out = np.empty((len(Q), yy.shape[1]))
    for i in range(len(Q)):
        if weights == "uniform":
            out[i] = yy[idx[i]].mean(0)
        elif (d[i] == 0).any():
            out[i] = yy[idx[i]][d[i] == 0].mean(0)
        else:
            w = 1.0 / d[i]
            out[i] = (w[:, None] * yy[idx[i]]).sum(0) / w.sum()
    return out if y.ndim == 2 else out[:, 0]


def test_regressor_checks_and_errors() -> None:
    X = _data(20, 2, np.float64)
    with pytest.raises(ValueError, match="weights"):
        fkn.KNeighborsRegressor(weights="bogus").fit(X, np.ones(20))
    with pytest.raises(ValueError):
        fkn.KNeighborsRegressor(n_neighbors=21).fit(X, np.ones(20)).predict(X)
    with pytest.raises(ValueError):
        fkn.KNeighborsRegressor().fit(X, np.ones(20)).predict(np.ones((2, 3)))  # wrong features
    with pytest.raises(ValueError):
        fkn.KNeighborsRegressor().fit(X, np.ones(20)).predict(np.full((2, 2), np.nan))
    with pytest.raises(ValueError):
        fkn.KNeighborsRegressor().fit(X, ["a"] * 20)  # non-numeric target


def test_regressor_passes_check_estimator() -> None:
    check_estimator(fkn.KNeighborsRegressor())
    check_estimator(fkn.KNeighborsRegressor(weights="distance"))


@pytest.mark.parametrize("mode", ["connectivity", "distance"])
@pytest.mark.parametrize("query_is_train", [False, True])
def test_radius_neighbors_graph_matches_sklearn(mode: str, query_is_train: bool) -> None:
    X = RNG.random((200, 3))
    Q = None if query_is_train else RNG.random((31, 3))
    ours = fkn.NearestNeighbors(radius=0.3).fit(X)
    ref = skn.NearestNeighbors(radius=0.3, algorithm="brute").fit(X)
    got = ours.radius_neighbors_graph(Q, mode=mode, sort_results=True)
    want = ref.radius_neighbors_graph(Q, mode=mode, sort_results=True)
    assert got.shape == want.shape and got.format == "csr"
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.data, want.data, rtol=1e-10, atol=1e-12)
    # A smaller radius per call, unsorted rows: same sets of neighbours.
    g2 = ours.radius_neighbors_graph(Q, radius=0.1)
    w2 = ref.radius_neighbors_graph(Q, radius=0.1)
    assert (g2 != w2).nnz == 0


def test_radius_neighbors_graph_empty_rows_and_bad_mode() -> None:
    X = np.array([[0.0], [10.0]])
    g = fkn.NearestNeighbors(radius=1.0).fit(X).radius_neighbors_graph(np.array([[5.0], [0.5]]))
    assert g.shape == (2, 2) and g.nnz == 1 and g[1, 0] == 1.0
    with pytest.raises(ValueError, match="Unsupported mode"):
        fkn.NearestNeighbors().fit(X).radius_neighbors_graph(mode="weird")
    with pytest.raises(ValueError, match="Unsupported mode"):
        fkn.NearestNeighbors(n_neighbors=1).fit(X).kneighbors_graph(mode="weird")
