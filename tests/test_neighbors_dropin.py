"""The neighbour estimators as drop-in replacements of scikit-learn's: signature,
metrics, weights, multi-output, radius queries, n_jobs, dtypes, fallback."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import neighbors as skn

import ferrokit as fk
from ferrokit import neighbors as fkn

NAMES = ["NearestNeighbors", "KNeighborsClassifier", "KNeighborsRegressor"]
# (metric, p) pairs ferrokit computes itself.
METRICS = [
    ("minkowski", 2),
    ("minkowski", 1),
    ("minkowski", 3),
    ("minkowski", 0.5),
    ("minkowski", np.inf),
    ("euclidean", 2),
    ("sqeuclidean", 2),
    ("cosine", 2),
    ("manhattan", 2),
    ("chebyshev", 2),
    ("infinity", 2),
]


def _data(n: int, d: int, dtype: type, seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    # Coarse values make exact ties common (ties go to the lower index in both).
    return (r.integers(0, 5, size=(n, d)) + r.random((n, d)) * 0.25).astype(dtype)


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_sklearns(name: str) -> None:
    ours = inspect.signature(getattr(fkn, name).__init__).parameters
    theirs = inspect.signature(getattr(skn, name).__init__).parameters
    assert list(ours) == list(theirs)
    for k, p in theirs.items():
        assert ours[k].default == p.default, k
        assert ours[k].kind == p.kind, k


@pytest.mark.parametrize("metric,p", METRICS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 9, 130])
def test_nearest_neighbors_matches_sklearn_brute(metric: str, p: float, dtype: type, n: int) -> None:
    X = _data(n, 5, dtype, n)
    Q = _data(13, 5, dtype, n + 1)
    k = min(3, n)
    kw = dict(n_neighbors=k, radius=2.5, metric=metric, p=p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # p < 1: not a metric (both warn)
        ours = fkn.NearestNeighbors(**kw).fit(X)
        # scikit-learn's brute force rejects "infinity" (its trees take it).
        ref = skn.NearestNeighbors(algorithm="ball_tree" if metric == "infinity" else "brute", **kw).fit(X)
    assert ours.effective_metric_ == ref.effective_metric_
    assert ours.effective_metric_params_ == ref.effective_metric_params_
    # float32: scikit-learn computes (and rounds) in float32, ferrokit sums in
    # float64: they agree to float32 rounding.
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    for q in [Q, None] if n > k else [Q]:
        d1, i1 = ours.kneighbors(q)
        d2, i2 = ref.kneighbors(q)
        assert d1.dtype == d2.dtype and i1.dtype == i2.dtype
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_allclose(d1, d2, **tol)
        g1 = ours.kneighbors_graph(q, mode="distance")
        g2 = ref.kneighbors_graph(q, mode="distance")
        assert g1.dtype == g2.dtype and g1.format == g2.format == "csr"
        np.testing.assert_allclose(g1.toarray(), g2.toarray(), **tol)
        r1d, r1i = ours.radius_neighbors(q, sort_results=True)
        r2d, r2i = ref.radius_neighbors(q, sort_results=True)
        for a, b, c, e in zip(r1d, r1i, r2d, r2i, strict=True):
            assert a.dtype == c.dtype and b.dtype == e.dtype
            if dtype == np.float32:  # float32 ties (scikit-learn) may sort either way
                b, e, a, c = np.sort(b), np.sort(e), np.sort(a), np.sort(c)
            np.testing.assert_array_equal(b, e)
            np.testing.assert_allclose(a, c, **tol)
        rg1, rg2 = ours.radius_neighbors_graph(q), ref.radius_neighbors_graph(q)
        assert (rg1 != rg2).nnz == 0


def test_large_float32_matches_sklearn() -> None:
    X = _data(5000, 16, np.float32, 5)
    Q = _data(301, 16, np.float32, 6)
    for metric in ("euclidean", "manhattan", "chebyshev"):
        d1, i1 = fkn.NearestNeighbors(n_neighbors=10, metric=metric).fit(X).kneighbors(Q)
        d2, i2 = skn.NearestNeighbors(n_neighbors=10, metric=metric, algorithm="brute").fit(X).kneighbors(Q)
        # Same neighbours wherever scikit-learn's k-th and (k+1)-th differ beyond rounding.
        np.testing.assert_allclose(d1, d2, rtol=1e-6)
        assert (i1 == i2).mean() > 0.99


def _weight_func(d: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 1.0 / (d + 0.5) ** 2


@pytest.mark.parametrize("weights", ["uniform", "distance", _weight_func])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric,p", [("minkowski", 2), ("minkowski", 1), ("chebyshev", 2), ("cosine", 2)])
def test_classifier_and_regressor_match_sklearn(weights, dtype, metric, p) -> None:
    X = _data(151, 4, dtype, 1)
    Q = _data(31, 4, dtype, 2)
    Q[:3] = X[:3]  # exact matches: zero distances
    r = np.random.default_rng(3)
    y_multi = np.stack([r.integers(0, 3, 151), r.choice(["a", "b"], 151)], axis=1)
    for y in (y_multi[:, 0].astype(int), y_multi):
        kw = dict(n_neighbors=5, weights=weights, metric=metric, p=p)
        ours = fkn.KNeighborsClassifier(**kw).fit(X, y)
        ref = skn.KNeighborsClassifier(algorithm="brute", **kw).fit(X, y)
        for q in (Q, None):
            np.testing.assert_array_equal(ours.predict(q), ref.predict(q))
            p1, p2 = ours.predict_proba(q), ref.predict_proba(q)
            if q is Q and metric == "cosine" and dtype == np.float32:
                # An exact match has cosine distance exactly 0 here (it decides
                # alone with weights="distance"); scikit-learn's float32 cosine
                # leaves ~1e-7 and lets the other neighbours vote a little.
                p1 = [a[3:] for a in p1] if y.ndim == 2 else p1[3:]
                p2 = [a[3:] for a in p2] if y.ndim == 2 else p2[3:]
            for a, b in zip(p1 if y.ndim == 2 else [p1], p2 if y.ndim == 2 else [p2], strict=True):
                assert a.dtype == b.dtype
                # float32 cosine: scikit-learn's small distances carry float32
                # relative error, which inverse-distance weights amplify.
                rtol = 2e-3 if metric == "cosine" and dtype == np.float32 else 1e-5
                np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-12)
    for yr in (r.standard_normal(151).astype(dtype), r.standard_normal((151, 3)), r.integers(0, 9, 151)):
        kw = dict(n_neighbors=4, weights=weights, metric=metric, p=p)
        ours = fkn.KNeighborsRegressor(**kw).fit(X, yr)
        ref = skn.KNeighborsRegressor(algorithm="brute", **kw).fit(X, yr)
        for q in (Q, None):
            a, b = ours.predict(q), ref.predict(q)
            assert a.dtype == b.dtype and a.shape == b.shape
            f32 = dtype == np.float32  # weights carry scikit-learn's float32 rounding
            tol = (2e-3, 2e-4) if f32 and metric == "cosine" else (1e-5, 1e-5) if f32 else (1e-10, 0)
            np.testing.assert_allclose(a, b, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("n_jobs", [None, 1, 2, 3, -1, -2])
def test_n_jobs_sets_threads_for_the_call_only(n_jobs) -> None:
    X = _data(2000, 8, np.float64, 4)
    want = fkn.NearestNeighbors(n_neighbors=4).fit(X).kneighbors(X[:50])
    before = fk.get_num_threads()
    est = fkn.NearestNeighbors(n_neighbors=4, n_jobs=n_jobs).fit(X)
    got = est.kneighbors(X[:50])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])  # bit-identical for any thread count
    assert fk.get_num_threads() == before
    est.radius_neighbors(X[:5], radius=1.0)
    assert fk.get_num_threads() == before


def test_n_jobs_zero_raises() -> None:
    est = fkn.NearestNeighbors(n_jobs=0).fit(_data(10, 2, np.float64, 0))
    with pytest.raises(ValueError, match="n_jobs"):
        est.kneighbors(np.zeros((1, 2)))


@pytest.mark.parametrize(
    "metric,kwargs", [("haversine", {}), ("seuclidean", {"metric_params": {"V": np.ones(2)}})]
)
def test_other_metrics_fall_back_to_sklearn_with_a_warning(metric, kwargs) -> None:
    X = _data(40, 2, np.float64, 7) / 10
    with pytest.warns(fkn.SklearnFallbackWarning, match=metric):
        ours = fkn.NearestNeighbors(n_neighbors=3, metric=metric, **kwargs).fit(X)
    ref = skn.NearestNeighbors(n_neighbors=3, metric=metric, **kwargs).fit(X)
    for a, b in zip(ours.kneighbors(X[:5]), ref.kneighbors(X[:5]), strict=True):
        np.testing.assert_array_equal(a, b)  # the same computation
    r1, r2 = ours.radius_neighbors(X[:5], radius=0.2), ref.radius_neighbors(X[:5], radius=0.2)
    for a, b in zip(r1[1], r2[1], strict=True):
        np.testing.assert_array_equal(np.sort(a), np.sort(b))


def test_sparse_and_precomputed_fall_back() -> None:
    from scipy.sparse import csr_matrix
    from sklearn.metrics import pairwise_distances

    X = _data(30, 3, np.float64, 8)
    y = np.arange(30) % 3
    with pytest.warns(fkn.SklearnFallbackWarning, match="sparse"):
        clf = fkn.KNeighborsClassifier(n_neighbors=3).fit(csr_matrix(X), y)
    np.testing.assert_array_equal(clf.predict(X), skn.KNeighborsClassifier(3).fit(X, y).predict(X))
    D = pairwise_distances(X)
    with pytest.warns(fkn.SklearnFallbackWarning, match="precomputed"):
        reg = fkn.KNeighborsRegressor(n_neighbors=3, metric="precomputed").fit(D, y.astype(float))
    np.testing.assert_allclose(reg.predict(D), skn.KNeighborsRegressor(3).fit(X, y.astype(float)).predict(X))


def test_fit_from_a_fitted_estimator_or_tree() -> None:
    X = _data(50, 3, np.float64, 9)
    base = fkn.NearestNeighbors(n_neighbors=2).fit(X)
    want = base.kneighbors(X[:4])
    for src in (base, skn.NearestNeighbors().fit(X), skn.KDTree(X), skn.BallTree(X)):
        got = fkn.NearestNeighbors(n_neighbors=2).fit(src).kneighbors(X[:4])
        np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "params,exc",
    [
        ({"metric": "bogus"}, ValueError),
        ({"p": 0}, ValueError),
        ({"p": -1}, ValueError),
        ({"algorithm": "fast"}, ValueError),
        ({"leaf_size": 0}, ValueError),
        ({"n_neighbors": 0}, ValueError),
        ({"n_neighbors": 1.5}, TypeError),
        ({"n_jobs": 1.5}, TypeError),
        ({"metric_params": 3}, TypeError),
        ({"algorithm": "kd_tree", "p": 0.5}, ValueError),
        ({"algorithm": "kd_tree", "metric": "cosine"}, ValueError),
    ],
)
def test_bad_parameters_raise_like_sklearn(name: str, params: dict, exc: type) -> None:
    X, y = _data(10, 2, np.float64, 0), np.arange(10) % 2
    with pytest.raises(exc):
        getattr(fkn, name)(**params).fit(X, y)
    with pytest.raises(exc):
        getattr(skn, name)(**params).fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_raises_like_sklearn(name: str) -> None:
    X, y = _data(10, 2, np.float64, 0), np.arange(10) % 2
    est = getattr(fkn, name)(n_neighbors=3).fit(X, y)
    for bad in (np.full((2, 2), np.nan), np.ones((2, 3)), np.ones((0, 2)), [["a", "b"]]):
        with pytest.raises(ValueError):
            est.kneighbors(bad)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit"):
        est.kneighbors(X, n_neighbors=11)
    with pytest.raises(ValueError, match="n_neighbors < n_samples_fit"):
        est.kneighbors(None, n_neighbors=10)
    with pytest.raises(ValueError):
        getattr(fkn, name)().fit(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="mode"):
        est.kneighbors_graph(X, mode="blah")


def test_p_none_with_minkowski_is_left_to_sklearn() -> None:
    # p=None is allowed by scikit-learn's parameter checks; no kernel takes it.
    X = _data(10, 2, np.float64, 0)
    with pytest.warns(fkn.SklearnFallbackWarning), pytest.raises((TypeError, ValueError)):
        fkn.NearestNeighbors(p=None).fit(X).kneighbors(X)
    with pytest.raises((TypeError, ValueError)):
        skn.NearestNeighbors(p=None, algorithm="brute").fit(X).kneighbors(X)


def test_weight_function_all_zero_raises() -> None:
    X, y = [[0, 1], [1, 2], [2, 3], [3, 4]], [0, 0, 1, 1]
    clf = fkn.KNeighborsClassifier(n_neighbors=3, weights=lambda d: np.where(d > 0.5, 0, 1)).fit(X, y)
    with pytest.raises(ValueError, match="zero weights"):
        clf.predict([[1.1, 1.1]])


def test_radius_neighbors_per_query_radius_and_errors() -> None:
    X = np.arange(10, dtype=np.float64)[:, None]
    nn = fkn.NearestNeighbors(metric="manhattan").fit(X)
    ind = nn.radius_neighbors([[0.0], [5.0]], radius=[1.0, 2.0], return_distance=False)
    assert ind[0].tolist() == [0, 1] and ind[1].tolist() == [3, 4, 5, 6, 7]
    with pytest.raises(ValueError, match="return_distance must be True"):
        nn.radius_neighbors([[0.0]], sort_results=True, return_distance=False)
    assert nn.radius_neighbors_graph([[100.0]]).nnz == 0
