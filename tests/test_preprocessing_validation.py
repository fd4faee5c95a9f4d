"""The transforms' validation shortcut (preprocessing._validated) behaves exactly
like scikit-learn's validate_data: same object for plain float ndarrays, same
conversions, warnings and exceptions for everything else."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import preprocessing as skp
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

from ferrokit import preprocessing as fkp
from ferrokit.preprocessing import _validated

NAMES = ["StandardScaler", "MinMaxScaler", "MaxAbsScaler", "Normalizer"]
RNG = np.random.default_rng(7)
X = RNG.normal(size=(23, 5)) * 3 + 1


def _inputs() -> list[tuple[str, object]]:
    ro = X.copy()
    ro.flags.writeable = False
    return [
        ("f64 C", X.copy()),
        ("f32 C", X.astype(np.float32)),
        ("f64 F", np.asfortranarray(X)),
        ("f64 strided", np.repeat(X, 2, axis=1)[:, ::2]),
        ("read-only", ro),
        ("one row", X[:1].copy()),
        ("list", X.tolist()),
        ("int", np.arange(23 * 5).reshape(23, 5)),
        ("float16", X.astype(np.float16)),
        ("big-endian", X.astype(">f8")),
        ("matrix", np.asmatrix(X)),
    ]


def _run(est: object, x: object) -> tuple[object, list[str], str | None]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            out = est.transform(x)
            err = None
        except Exception as exc:
            out, err = None, f"{type(exc).__name__}: {exc}"
    return out, sorted(str(m.message) for m in w), err


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_returns_the_array_itself(name: str) -> None:
    est = getattr(fkp, name)().fit(X)
    for x in (X, X.astype(np.float32), np.asfortranarray(X)):
        assert _validated(est, x) is x
        kw = {"reset": False, "copy": False, "dtype": FLOAT_DTYPES, "ensure_all_finite": False}
        assert validate_data(est, x, **kw) is x


@pytest.mark.parametrize("name", NAMES)
def test_transform_matches_scikit_learn_on_every_kind_of_input(name: str) -> None:
    ours = getattr(fkp, name)().fit(X)
    ref = getattr(skp, name)().fit(X)
    for label, x in _inputs():
        got, got_w, got_err = _run(ours, x)
        want, want_w, want_err = _run(ref, x)
        assert (got_err is None) == (want_err is None), (label, got_err, want_err)
        if want_err is None:
            assert got.dtype == np.asarray(want).dtype, label
            if got.dtype == np.float64:
                np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=label)
            else:  # parameters fitted in float64, applied in float32/float16
                tol = 1e-6 if got.dtype == np.float32 else 2e-3
                np.testing.assert_allclose(got, want, rtol=1e-3, atol=tol, err_msg=label)
            assert got_w == want_w, label
        else:
            assert got_err.split(":")[0] == want_err.split(":")[0], (label, got_err, want_err)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_features_empty_and_feature_names_as_before(name: str) -> None:
    pd = pytest.importorskip("pandas")
    ours = getattr(fkp, name)().fit(X)
    ref = getattr(skp, name)().fit(X)
    for x in (X[:, :4].copy(), X[:0].copy(), X.reshape(-1)):
        _, _, got_err = _run(ours, x)
        _, _, want_err = _run(ref, x)
        assert got_err is not None and want_err is not None
        assert got_err.split(":")[0] == want_err.split(":")[0]
    # Fitted with names, transformed without (and the reverse): the same warnings.
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    for fit_x, tr_x in ((df, X), (X, df)):
        o = getattr(fkp, name)().fit(fit_x)
        r = getattr(skp, name)().fit(fit_x)
        got, got_w, got_err = _run(o, tr_x)
        want, want_w, want_err = _run(r, tr_x)
        assert got_err is None and want_err is None
        assert got_w == want_w
        np.testing.assert_allclose(got, want, rtol=1e-12)
