"""ferrokit.preprocessing against scikit-learn 1.9: results, API, partial_fit, bad input."""

from __future__ import annotations

import itertools
import pickle
import warnings
from typing import Any

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from scipy import sparse  # noqa: E402
from sklearn import preprocessing as skp  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import ferrokit as fk  # noqa: E402
from ferrokit import preprocessing as fkp  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

# (ferrokit class, scikit-learn class, parameter sets)
ESTIMATORS = [
    (fkp.MinMaxScaler, skp.MinMaxScaler, [{}, {"feature_range": (-3, 2)}, {"clip": True}]),
    (
        fkp.StandardScaler,
        skp.StandardScaler,
        [{}, {"with_mean": False}, {"with_std": False}, {"with_mean": False, "with_std": False}],
    ),
    (fkp.MaxAbsScaler, skp.MaxAbsScaler, [{}, {"clip": True}]),
    (fkp.Normalizer, skp.Normalizer, [{}, {"norm": "l1"}, {"norm": "max"}]),
]
CASES = [(f, s, p) for f, s, ps in ESTIMATORS for p in ps]
IDS = [f"{f.__name__}-{p}" for f, _, p in CASES]
SCALERS_WITH_NAN = [c for c in CASES if c[0] is not fkp.Normalizer]
ATTRS = [
    "n_features_in_",
    "n_samples_seen_",
    "data_min_",
    "data_max_",
    "data_range_",
    "scale_",
    "min_",
    "mean_",
    "var_",
    "max_abs_",
]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240531)


def _same(got: Any, want: Any, dtype: np.dtype, what: str, scale: float = 1.0) -> None:
    if want is None:
        assert got is None, what
        return
    if np.isscalar(want) and not isinstance(want, (float, np.floating)):
        assert got == want, what
        return
    got_a, want_a = np.asarray(got), np.asarray(want)
    assert got_a.shape == want_a.shape, what
    assert got_a.dtype == want_a.dtype, f"{what}: {got_a.dtype} != {want_a.dtype}"
    rtol = RTOL.get(np.dtype(dtype), 1e-12)
    atol = (1e-13 if rtol < 1e-6 else 1e-5) * np.asarray(scale, dtype=np.float64)
    assert np.array_equal(np.isnan(got_a), np.isnan(want_a)), f"{what}: NaN positions differ"
    with np.errstate(invalid="ignore"):
        bad = np.abs(got_a.astype(np.float64) - want_a) > rtol * np.abs(want_a) + atol
    assert not np.any(bad), f"{what}: {got_a[bad][:5]} != {want_a[bad][:5]}"


def _compare_fitted(a: Any, b: Any, dtype: np.dtype) -> None:
    for attr in ATTRS:
        if hasattr(b, attr):
            assert hasattr(a, attr), attr
            _same(getattr(a, attr), getattr(b, attr), dtype, attr)
        else:
            assert not hasattr(a, attr), attr


def _datasets(rng: np.random.Generator, nan: bool) -> list[np.ndarray]:
    x = rng.normal(size=(501, 9)) * [1, 10, 1e-3, 100, 1, 1, 5, 1e6, 2] + [0, 5, -3, 1e4, 0, 0, 0, 1, -2]
    x[:, 4] = 3.7  # constant column
    x[:, 5] = 0.0  # zero column
    one = x[:1].copy()  # a single sample
    out = [x, np.asfortranarray(x), x.astype(np.float32), one, x[:, ::2], x[:7]]
    if nan:
        y = x.copy()
        y[rng.integers(0, 501, 60), rng.integers(0, 9, 60)] = np.nan
        y[:, 6] = np.nan  # an all-NaN column
        out += [y, y.astype(np.float32)]
    return out


def _output_bound(est: Any, x: np.ndarray) -> Any:
    """Per-column magnitude of the terms of the transform of ``x`` (``|x| * |mult| +
    |offset|``): a 1-ulp difference in a fitted parameter moves the output by
    about eps times this, so outputs are compared relative to it (a column with
    |mean| >> std amplifies scikit-learn's own rounding of ``mean_``)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        xmax = np.nan_to_num(np.nanmax(np.abs(np.asarray(x, dtype=np.float64)), axis=0))
    name = type(est).__name__
    if name == "MinMaxScaler":
        return xmax * np.abs(est.scale_) + np.abs(est.min_)
    if name == "StandardScaler":
        s = est.scale_ if est.scale_ is not None else 1.0
        m = np.abs(est.mean_) if est.with_mean else 0.0
        return (xmax + m) / s
    if name == "MaxAbsScaler":
        return xmax / est.scale_
    return np.ones_like(xmax)


def _same_output(got: Any, want: Any, est: Any, x: np.ndarray, what: str) -> None:
    got_a, want_a = np.asarray(got), np.asarray(want)
    assert got_a.shape == want_a.shape and got_a.dtype == want_a.dtype, what
    rtol = RTOL[got_a.dtype]
    bound = np.nan_to_num(_output_bound(est, x), nan=1.0, posinf=1.0)
    assert np.array_equal(np.isnan(got_a), np.isnan(want_a)), f"{what}: NaN positions differ"
    with np.errstate(invalid="ignore"):
        err = np.abs(got_a.astype(np.float64) - want_a) / (np.abs(want_a) + 4 * bound)
    worst = np.nanmax(err) if err.size else 0.0
    assert not worst > rtol, f"{what}: relative difference {worst:.3g} > {rtol}"


@pytest.mark.parametrize("fk_cls,sk_cls,params", CASES, ids=IDS)
def test_matches_scikit_learn(fk_cls, sk_cls, params, rng) -> None:  # type: ignore[no-untyped-def]
    nan = fk_cls is not fkp.Normalizer
    for x in _datasets(rng, nan):
        a = fk_cls(**params)
        b = sk_cls(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ya = a.fit_transform(x)
            yb = b.fit_transform(x)
        assert ya.dtype == yb.dtype == x.dtype
        _compare_fitted(a, b, x.dtype)
        _same_output(ya, yb, b, x, "fit_transform")
        _same_output(a.transform(x[::-1]), b.transform(x[::-1]), b, x, "transform")
        if hasattr(b, "inverse_transform"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                xmax = np.nan_to_num(np.nanmax(np.abs(x), axis=0))
            _same(a.inverse_transform(yb), b.inverse_transform(yb), x.dtype, "inverse", scale=xmax)


NAN_IDS = [i for i, c in zip(IDS, CASES, strict=True) if c in SCALERS_WITH_NAN]


@pytest.mark.parametrize("fk_cls,sk_cls,params", SCALERS_WITH_NAN, ids=NAN_IDS)
def test_partial_fit_uneven_batches_equals_fit(fk_cls, sk_cls, params, rng) -> None:  # type: ignore[no-untyped-def]
    x = rng.normal(size=(1000, 5)) * 3 + 7
    x[rng.integers(0, 1000, 80), rng.integers(0, 5, 80)] = np.nan
    x[100:140, 2] = np.nan  # the second batch has an all-NaN column
    cuts = [0, 1, 100, 140, 141, 700, 1000]
    for data in (x, x.astype(np.float32)):
        inc = fk_cls(**params)
        for lo, hi in itertools.pairwise(cuts):
            inc.partial_fit(data[lo:hi])
        whole = fk_cls(**params).fit(data)
        ref = sk_cls(**params).fit(data)
        for attr in ATTRS:
            if hasattr(ref, attr):
                _same(getattr(inc, attr), getattr(whole, attr), data.dtype, f"partial {attr}")
                _same(getattr(inc, attr), getattr(ref, attr), data.dtype, f"partial vs sklearn {attr}")
        _same(inc.transform(data), ref.transform(data), data.dtype, "transform after partial_fit", 10.0)


def test_scikit_learn_partial_fit_is_poisoned_by_all_nan_batch_ours_is_not() -> None:
    x = np.array([[1.0, 2.0], [np.nan, 5.0], [3.0, -1.0]])
    sk = skp.MinMaxScaler()
    ours = fkp.MinMaxScaler()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for batch in (x[:1], x[1:2], x[2:]):
            sk.partial_fit(batch)
            ours.partial_fit(batch)
    np.testing.assert_array_equal(ours.data_min_, [1.0, -1.0])
    np.testing.assert_array_equal(ours.data_max_, [3.0, 5.0])
    assert np.isnan(sk.data_min_[0])  # documents scikit-learn 1.9.1's behaviour
    m = fkp.MaxAbsScaler()
    s = fkp.StandardScaler()
    for batch in (x[:1], x[1:2], x[2:]):
        m.partial_fit(batch)
        s.partial_fit(batch)
    np.testing.assert_array_equal(m.max_abs_, [3.0, 5.0])
    np.testing.assert_allclose(s.mean_, np.nanmean(x, axis=0))
    np.testing.assert_allclose(s.var_, np.nanvar(x, axis=0))
    np.testing.assert_array_equal(s.n_samples_seen_, [2, 3])


def test_standard_scaler_sample_weight(rng: np.random.Generator) -> None:
    x = rng.normal(size=(300, 4)) + 2
    x[5, 1] = np.nan
    w = rng.uniform(0, 2, 300)
    for data in (x, x.astype(np.float32)):
        a = fkp.StandardScaler().fit(data, sample_weight=w)
        b = skp.StandardScaler().fit(data, sample_weight=w)
        _compare_fitted(a, b, data.dtype)
        _same(a.transform(data), b.transform(data), data.dtype, "weighted transform", 10.0)
        inc = fkp.StandardScaler()
        inc.partial_fit(data[:100], sample_weight=w[:100]).partial_fit(data[100:], sample_weight=w[100:])
        _same(inc.mean_, a.mean_, data.dtype, "incremental weighted mean")
        _same(inc.var_, a.var_, data.dtype, "incremental weighted var")


@pytest.mark.parametrize("fk_cls,sk_cls,params", CASES, ids=IDS)
def test_check_estimator(fk_cls, sk_cls, params) -> None:  # type: ignore[no-untyped-def]
    # No expected failures: every check of scikit-learn 1.9.1 applies and passes.
    check_estimator(fk_cls(**params))


@pytest.mark.parametrize(
    "est",
    [fkp.MinMaxScaler(), fkp.StandardScaler(), fkp.MaxAbsScaler(), fkp.Normalizer()],
    ids=lambda e: type(e).__name__,
)
def test_pipeline_column_transformer_grid_search(est: Any, rng: np.random.Generator) -> None:
    x = rng.normal(size=(120, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    pipe = Pipeline([("scale", est), ("clf", LogisticRegression())])
    assert pipe.fit(x, y).score(x, y) > 0.8
    ct = ColumnTransformer([("a", est, [0, 1]), ("b", "passthrough", [2, 3])])
    out = ct.fit_transform(x)
    ref = ColumnTransformer(
        [("a", getattr(skp, type(est).__name__)(), [0, 1]), ("b", "passthrough", [2, 3])]
    ).fit_transform(x)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)
    grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=3).fit(x, y)
    assert grid.best_score_ > 0.7


@pytest.mark.parametrize("fk_cls,sk_cls,params", CASES, ids=IDS)
def test_float32_preserved_and_copy_false_in_place(fk_cls, sk_cls, params, rng) -> None:  # type: ignore[no-untyped-def]
    x = rng.normal(size=(200, 6)).astype(np.float32)
    est = fk_cls(**params).fit(x)
    before = x.copy()
    y = est.transform(x)
    assert y.dtype == np.float32
    assert not np.shares_memory(y, x)
    np.testing.assert_array_equal(x, before)  # copy=True leaves the input alone
    for data in (x.copy(), np.asfortranarray(x)):
        inplace = fk_cls(**params, copy=False).fit(data)
        res = inplace.transform(data)
        assert res is data or np.shares_memory(res, data)
        np.testing.assert_array_equal(res, y)


def test_copy_false_read_only_input_is_not_modified(rng: np.random.Generator) -> None:
    x = rng.normal(size=(50, 3))
    x.flags.writeable = False
    y = fkp.StandardScaler(copy=False).fit_transform(x)
    assert not np.shares_memory(x, y)
    np.testing.assert_allclose(y, skp.StandardScaler().fit_transform(x), rtol=1e-12)


@pytest.mark.parametrize("fk_cls,sk_cls,params", CASES, ids=IDS)
def test_pickle_roundtrip(fk_cls, sk_cls, params, rng) -> None:  # type: ignore[no-untyped-def]
    x = rng.normal(size=(40, 3))
    est = fk_cls(**params).fit(x)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.transform(x), est.transform(x))
    assert est2.get_params() == est.get_params()


def test_set_output_pandas_and_feature_names(rng: np.random.Generator) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    for cls in (fkp.MinMaxScaler, fkp.StandardScaler, fkp.MaxAbsScaler, fkp.Normalizer):
        est = cls().set_output(transform="pandas")
        out = est.fit_transform(df)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == ["a", "b", "c"]
        assert list(est.feature_names_in_) == ["a", "b", "c"]
        assert list(est.get_feature_names_out()) == ["a", "b", "c"]
        ref = getattr(skp, cls.__name__)().fit_transform(df)
        np.testing.assert_allclose(out.to_numpy(), ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(df.to_numpy(), df.to_numpy())
    before = df.copy()
    fkp.StandardScaler().fit_transform(df)
    pd.testing.assert_frame_equal(df, before)  # copy=True never writes into the frame


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "fk_cls,sk_cls,params",
    [
        (fkp.MaxAbsScaler, skp.MaxAbsScaler, {}),
        (fkp.MaxAbsScaler, skp.MaxAbsScaler, {"clip": True}),
        (fkp.StandardScaler, skp.StandardScaler, {"with_mean": False}),
        (fkp.StandardScaler, skp.StandardScaler, {"with_mean": False, "with_std": False}),
        (fkp.Normalizer, skp.Normalizer, {}),
        (fkp.Normalizer, skp.Normalizer, {"norm": "max"}),
    ],
)
def test_sparse_matches_scikit_learn(fmt, fk_cls, sk_cls, params, rng) -> None:  # type: ignore[no-untyped-def]
    x = sparse.random(60, 7, density=0.3, format=fmt, random_state=0) * 5
    a = fk_cls(**params)
    b = sk_cls(**params)
    ya, yb = a.fit_transform(x), b.fit_transform(x)
    assert sparse.issparse(ya) and ya.format == yb.format
    np.testing.assert_allclose(ya.toarray(), yb.toarray(), rtol=1e-12)
    _compare_fitted(a, b, np.dtype(np.float64))
    if fk_cls is not fkp.Normalizer:
        a.partial_fit(x)
        b.partial_fit(x)
        _compare_fitted(a, b, np.dtype(np.float64))
        np.testing.assert_allclose(a.inverse_transform(ya).toarray(), b.inverse_transform(yb).toarray())
    assert x.nnz == sparse.random(60, 7, density=0.3, format=fmt, random_state=0).nnz


@pytest.mark.parametrize(
    "fk_cls,sk_cls,params",
    [(fkp.MinMaxScaler, skp.MinMaxScaler, {}), (fkp.StandardScaler, skp.StandardScaler, {})],
)
def test_sparse_refused_like_scikit_learn(fk_cls, sk_cls, params) -> None:  # type: ignore[no-untyped-def]
    x = sparse.random(10, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(Exception) as want:
        sk_cls(**params).fit(x)
    with pytest.raises(type(want.value)):
        fk_cls(**params).fit(x)


def _bad_inputs() -> list[tuple[str, Any, Any]]:
    ok = np.arange(12.0).reshape(4, 3)
    inf = ok.copy()
    inf[1, 1] = np.inf
    ninf = ok.copy()
    ninf[2, 0] = -np.inf
    nan_col = ok.copy()
    nan_col[:, 1] = np.nan
    return [
        ("fit 1-D", np.arange(5.0), None),
        ("fit empty rows", np.empty((0, 3)), None),
        ("fit empty features", np.empty((3, 0)), None),
        ("fit object strings", np.array([["a", "b"], ["c", "d"]], dtype=object), None),
        ("fit strings", np.array([["a", "b"], ["c", "d"]]), None),
        ("fit complex", ok + 1j, None),
        ("fit +inf", inf, None),
        ("fit -inf", ninf, None),
        ("fit all-NaN column", nan_col, None),
        ("transform wrong n_features", ok, np.ones((2, 4))),
        ("transform 1-D", ok, np.arange(3.0)),
        ("transform +inf", ok, inf),
        ("transform -inf", ok, ninf),
        ("transform complex", ok, ok + 1j),
        ("transform strings", ok, np.array([["a", "b", "c"]])),
        ("transform empty", ok, np.empty((0, 3))),
        ("transform NaN column", ok, nan_col),
    ]


BAD = _bad_inputs()


@pytest.mark.parametrize("fk_cls,sk_cls,params", CASES, ids=IDS)
@pytest.mark.parametrize("label,fit_x,transform_x", BAD, ids=[b[0] for b in BAD])
def test_bad_input_same_exception_type_as_scikit_learn(  # type: ignore[no-untyped-def]
    fk_cls, sk_cls, params, label, fit_x, transform_x
) -> None:
    def run(cls: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            est = cls(**params)
            if transform_x is None:
                return est.fit_transform(fit_x)
            return est.fit(fit_x).transform(transform_x)

    try:
        want = run(sk_cls)
    except Exception as exc:
        with pytest.raises(type(exc)):
            run(fk_cls)
        return
    got = run(fk_cls)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_sample_weight_bad_length_and_unfitted() -> None:
    x = np.ones((5, 2))
    with pytest.raises(ValueError):
        fkp.StandardScaler().fit(x, sample_weight=np.ones(4))
    from sklearn.exceptions import NotFittedError

    for cls in (fkp.MinMaxScaler, fkp.StandardScaler, fkp.MaxAbsScaler):
        with pytest.raises(NotFittedError):
            cls().transform(x)


def test_thread_count_does_not_change_results(rng: np.random.Generator) -> None:
    x = rng.normal(size=(100_003, 8))
    res = []
    for n in (1, 2):
        with fk.threads(n):
            s = fkp.StandardScaler().fit(x)
            res.append((s.mean_, s.var_, s.transform(x)))
    for a, b in zip(res[0], res[1], strict=False):
        np.testing.assert_array_equal(a, b)
