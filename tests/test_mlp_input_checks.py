"""MLP inference refuses NaN and infinity like scikit-learn (issue 13): the
same exception type and first line of the message, for every predict function,
float32 and float64 models, the single-sample fast path and batches; the C
functions write nothing on that error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import ferrokit as fk
from ferrokit import nn
from ferrokit._native import ffi, lib


def _models():
    X = np.random.default_rng(0).normal(size=(80, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0).fit(X, X[:, 0] > 0)
        reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=20, random_state=0).fit(X, X[:, 1])
    return X, clf, reg


X, CLF, REG = _models()


def _sk_first_line(est, Xb: np.ndarray) -> str:
    with pytest.raises(ValueError) as err:
        est.predict(Xb)
    return str(err.value).splitlines()[0]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 3, 200])
@pytest.mark.parametrize("where", ["first", "last"])
def test_non_finite_input_raises_like_sklearn(bad: float, dtype: type, rows: int, where: str) -> None:
    Xb = np.resize(X, (rows, 4)).astype(dtype)
    if where == "first":
        Xb[0, 0] = bad
    else:
        Xb[-1, -1] = bad
    for est in (CLF, REG):
        m = nn.MLP.from_sklearn(est, dtype=dtype)
        want = _sk_first_line(est, Xb)
        calls = [m.predict] + ([m.predict_proba] if est is CLF else [])
        for call in calls:
            with pytest.raises(fk.NonFiniteError) as err:
                call(Xb)
            assert isinstance(err.value, ValueError)
            assert str(err.value).splitlines()[0] == want
        first = "Input X contains NaN." if np.isnan(bad) else "Input X contains infinity"
        assert str(err.value).startswith(first)


def test_nan_is_reported_before_infinity_and_names_the_cell() -> None:
    m = nn.MLP.from_sklearn(CLF)
    Xb = X[:5].copy()
    Xb[1, 2] = np.inf
    Xb[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"(?s)^Input X contains NaN\..*x\[3, 1\] is NaN"):
        m.predict_proba(Xb)


def test_values_too_large_for_float32() -> None:
    m = nn.MLP.from_sklearn(CLF, dtype=np.float32)
    Xb = X[:2].copy()
    Xb[0, 0] = 1e39  # finite in float64, infinite once converted to the model's float32
    with (
        warnings.catch_warnings(),
        pytest.raises(ValueError, match=r"infinity or a value too large for dtype\('float32'\)"),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: overflow in the cast
        m.predict(Xb)


def test_finite_input_still_matches_and_empty_input() -> None:
    m = nn.MLP.from_sklearn(CLF)
    big = np.finfo(np.float64).max / 1e10 * np.ones((1, 4))  # huge but finite
    m.predict_proba(big)
    np.testing.assert_allclose(m.predict_proba(X), CLF.predict_proba(X), atol=1e-12, rtol=0)
    assert m.predict(X[:0]).shape == (0,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_writes_nothing_on_non_finite_input(dtype: type) -> None:
    m = nn.MLP.from_sklearn(CLF, dtype=dtype)
    sfx = "f32" if dtype == np.float32 else "f64"
    ct = "float[]" if dtype == np.float32 else "double[]"
    Xb = X[:3].astype(dtype)
    Xb[2, 3] = np.nan
    out = np.full((3, 2), 7.0, dtype=dtype)
    with m._own.borrow("test") as h:
        st = getattr(lib, f"fk_mlp_predict_proba_{sfx}")(
            h, ffi.from_buffer(ct, Xb), 3, 4, ffi.from_buffer(ct, out, require_writable=True), out.size
        )
    assert st == lib.FK_ERR_NON_FINITE
    assert (out == 7.0).all()
