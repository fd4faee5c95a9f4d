"""MLPs fitted on float32 (scikit-learn keeps float32 weights) compute in
float32 on float32 rows, as scikit-learn does: results within 1e-6 relative
(1e-7 absolute) of scikit-learn's, float32 out, the same classes; on float64
rows scikit-learn computes in float64 and so does the model (1e-12). The
float32 path is the network's own float32 kernel: its answers are bit for bit
those of ``fk.nn.MLP`` in float32 (the float64 path rounded would differ)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ferrokit as fk

RNG = np.random.default_rng(5)
X = (RNG.normal(size=(150, 7)) * [1, 2, 0.5, 3, 1, 10, 1] + [0, 1, -2, 5, 0, 100, 0]).astype(np.float32)
Q = (
    np.random.default_rng(6).normal(size=(301, 7)) * [1, 2, 0.5, 3, 1, 10, 1] + [0, 1, -2, 5, 0, 100, 0]
).astype(np.float32)
Y_BIN = (X[:, 0] + 0.2 * X[:, 1] > 0.5).astype(int)
Y_MULTI = np.digitize(X[:, 0] + 0.1 * X[:, 2], [-0.8, 0.0, 0.8])
Y_LABELS = np.stack([Y_BIN, (X[:, 3] > 5).astype(int)], axis=1)
Y_REG = (X @ RNG.normal(size=7)).astype(np.float32)

CASES = [
    ("binary", lambda: MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=60, random_state=0), Y_BIN),
    ("multiclass", lambda: MLPClassifier(hidden_layer_sizes=(33,), max_iter=60, random_state=0), Y_MULTI),
    ("multilabel", lambda: MLPClassifier(hidden_layer_sizes=(9,), max_iter=60, random_state=0), Y_LABELS),
    ("regressor", lambda: MLPRegressor(hidden_layer_sizes=(17, 5), max_iter=60, random_state=0), Y_REG),
]


def _fit(est, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _out(model, x, name):
    return model.predict(x) if name == "regressor" else model.predict_proba(x)


@pytest.mark.parametrize(("name", "factory", "y"), CASES, ids=[c[0] for c in CASES])
def test_float32_fitted_mlp_matches_scikit_learn(name, factory, y) -> None:
    pipe = _fit(make_pipeline(StandardScaler(), factory()), y)
    assert all(c.dtype == np.float32 for c in pipe[-1].coefs_)
    m = fk.load_model(fk.export(pipe))
    for rows in (0, 1, 4, 5, 7, 256, 257, len(Q)):  # few-rows path, gemm path, block edges
        q = Q[:rows]
        if rows == 0:
            with pytest.raises(ValueError):
                _out(m, q, name)
            continue
        want, got = _out(pipe, q, name), _out(m, q, name)
        assert got.dtype == want.dtype == np.float32, rows
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * max(1.0, float(np.abs(want).max())))
        if name != "regressor":
            np.testing.assert_array_equal(m.predict(q), pipe.predict(q))
    # float64 rows: scikit-learn computes in float64 (float32 weights), so does the model.
    q64 = Q.astype(np.float64)
    want, got = _out(pipe, q64, name), _out(m, q64, name)
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize(("name", "factory", "y"), CASES, ids=[c[0] for c in CASES])
def test_float32_rows_compute_in_float32(name, factory, y) -> None:
    sk = _fit(factory(), y)
    m = fk.load_model(fk.export(sk))
    net = fk.nn.MLP.from_sklearn(sk, dtype=np.float32)
    for rows in (3, len(Q)):
        want = _out(net, Q[:rows], name)
        assert want.dtype == np.float32
        np.testing.assert_array_equal(_out(m, Q[:rows], name), want)
    # The same weights stored in float64: computed in float64, then rounded.
    sk64 = copy.deepcopy(sk)
    for i, c in enumerate(sk.coefs_):
        sk64.coefs_[i] = c.astype(np.float64)
        sk64.intercepts_[i] = sk.intercepts_[i].astype(np.float64)
    m64 = fk.load_model(fk.export(sk64))
    exact = _out(m64, Q.astype(np.float64), name)
    np.testing.assert_array_equal(_out(m64, Q, name), exact.astype(np.float32))


def test_old_float32_mlp_files_compute_in_float32(tmp_path) -> None:
    sk = _fit(CASES[1][1](), Y_MULTI)
    net = fk.nn.MLP.from_sklearn(sk, dtype=np.float32)
    path = tmp_path / "old.fkmlp"
    net.save(path)
    m = fk.load_model(path)
    np.testing.assert_array_equal(m.predict_proba(Q), net.predict_proba(Q))
    np.testing.assert_allclose(
        m.predict_proba(Q.astype(np.float64)), sk.predict_proba(Q.astype(np.float64)), rtol=1e-12
    )
