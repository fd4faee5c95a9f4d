"""ferrokit.nn.MLP against scikit-learn, the model file, and the C example.

- every hidden activation x {binary, multiclass, multilabel, regression,
  multi-output regression}: ``predict`` identical, ``predict_proba`` within
  1e-12 (float64) / 1e-6 (float32);
- save -> load, and save -> ``examples/c/mlp_predict.c`` (compiled with gcc
  like tests/test_c_api.py does) -> the same predictions;
- truncated / corrupted / wrong-version / missing files give clear errors in
  Python and in C; unfitted or unsupported models and bad X give clear errors.
"""

from __future__ import annotations

import gc
import pathlib
import struct
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor

import ferrokit as fk
from ferrokit import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "c" / "mlp_predict.c"
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _data(n: int = 160, f: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, f))


def _fit(est, X: np.ndarray, y: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _clf(kind: str, activation: str, X: np.ndarray, labels: str = "int") -> MLPClassifier:
    rng = np.random.default_rng(1)
    if kind == "binary":
        y = (X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    elif kind == "multiclass":
        y = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.0, 0.7])
    else:
        y = np.stack([X[:, 0] > 0, X[:, 1] > 0.3, X[:, 2] < 0], axis=1).astype(int)
    if kind != "multilabel":
        if labels == "str":
            y = np.array(["cat", "dog", "émû", "z" * 100])[y]
        elif labels == "float":
            y = y.astype(float) * 2.0 - 1.0
        elif labels == "bool" and kind == "binary":
            y = y.astype(bool)
        elif labels == "negative":
            y = y * 7 - 10
    est = MLPClassifier(hidden_layer_sizes=(9, 5), activation=activation, max_iter=60, random_state=0)
    return _fit(est, X, y)


def _check_clf(sk: MLPClassifier, m: nn.MLP, X: np.ndarray, tol: float) -> None:
    p_sk = sk.predict_proba(X)
    p_fk = m.predict_proba(X)
    assert p_fk.shape == p_sk.shape
    np.testing.assert_allclose(p_fk, p_sk, rtol=0, atol=tol)
    pred_sk, pred_fk = sk.predict(X), m.predict(X)
    if tol < 1e-9:
        np.testing.assert_array_equal(pred_fk, pred_sk)
    else:
        # float32: a sample whose top probabilities are closer than the float32
        # error may legitimately flip; every other prediction must agree.
        top = np.sort(p_sk, axis=1)
        if p_sk.shape[1] == 2 and not sk.n_outputs_ > 1:
            margin = np.abs(p_sk[:, 1] - 0.5)
        else:
            margin = top[:, -1] - top[:, -2]
        sure = margin > 10 * tol
        if pred_sk.ndim == 2:
            sure = (np.abs(p_sk - 0.5) > 10 * tol).all(axis=1)
        np.testing.assert_array_equal(pred_fk[sure], pred_sk[sure])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_classifier_matches_sklearn(activation: str, kind: str) -> None:
    X = _data()
    sk = _clf(kind, activation, X)
    with nn.MLP.from_sklearn(sk) as m:
        assert m.dtype == np.float64 and m.n_features_in_ == X.shape[1]
        assert m.task == ("multilabel" if kind == "multilabel" else "classifier")
        _check_clf(sk, m, X, 1e-12)
        np.testing.assert_array_equal(m.classes_, sk.classes_)
    with nn.MLP.from_sklearn(sk, dtype=np.float32) as m32:
        assert m32.predict_proba(X).dtype == np.float32
        _check_clf(sk, m32, X, 1e-6)


@pytest.mark.parametrize("labels", ["str", "float", "bool", "negative"])
def test_label_types(labels: str) -> None:
    X = _data()
    kind = "binary" if labels == "bool" else "multiclass"
    sk = _clf(kind, "tanh", X, labels)
    m = nn.MLP.from_sklearn(sk)
    np.testing.assert_array_equal(m.predict(X), sk.predict(X))
    np.testing.assert_array_equal(m.classes_, sk.classes_)
    assert m.predict(X).dtype.kind == sk.predict(X).dtype.kind


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regressor_matches_sklearn(activation: str, n_outputs: int) -> None:
    X = _data()
    Y = X[:, :n_outputs] * 2.0 + np.sin(X[:, 1:2])
    y = Y.ravel() if n_outputs == 1 else Y
    sk = _fit(MLPRegressor(hidden_layer_sizes=(7,), activation=activation, max_iter=80, random_state=0), X, y)
    m = nn.MLP.from_sklearn(sk)
    got, want = m.predict(X), sk.predict(X)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got32 = nn.MLP.from_sklearn(sk, dtype=np.float32).predict(X)
    np.testing.assert_allclose(got32, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(fk.InvalidStateError, match="regressor"):
        m.predict_proba(X)


def test_model_fitted_on_float32_runs_in_float32() -> None:
    X = _data().astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    sk = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=40, random_state=0), X, y)
    assert sk.coefs_[0].dtype == np.float32
    m = nn.MLP.from_sklearn(sk)
    assert m.dtype == np.float32
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), rtol=0, atol=1e-6)


def test_large_batch_and_single_sample_and_lists() -> None:
    X = _data(3000, 20)
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    sk = _fit(MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=15, random_state=0), X, y)
    m = nn.MLP.from_sklearn(sk)
    _check_clf(sk, m, X, 1e-12)
    np.testing.assert_allclose(m.predict_proba(X[:1]), sk.predict_proba(X[:1]), atol=1e-12, rtol=0)
    np.testing.assert_allclose(m.predict_proba(X[:3].tolist()), sk.predict_proba(X[:3]), atol=1e-12, rtol=0)
    np.testing.assert_allclose(
        m.predict_proba(np.asfortranarray(X[:50])), sk.predict_proba(X[:50]), atol=1e-12, rtol=0
    )
    assert m.predict_proba(X[:0]).shape == (0, 3)
    Xn = X[:4].copy()
    Xn[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"^Input X contains NaN\."):  # like scikit-learn
        m.predict_proba(Xn)


def test_predict_proba_fast_path_and_its_fallbacks() -> None:
    """Every input the fast path does not take (misaligned, strided,
    Fortran-ordered, read-only, other dtype, lists) still gives scikit-learn's
    probabilities, sample by sample (latency path) and in batches (gemm path)."""
    X = _data(40, 6)
    sk = _clf("multiclass", "relu", X)
    want = sk.predict_proba(X)
    with nn.MLP.from_sklearn(sk) as m:
        raw = np.zeros(X.size * 8 + 8, np.uint8)
        mis = raw[1 : 1 + X.size * 8].view(np.float64).reshape(X.shape)
        mis[:] = X
        assert not mis.flags.aligned
        ro = X.copy()
        ro.flags.writeable = False
        for variant in (X, mis, np.asfortranarray(X), np.repeat(X, 2, axis=0)[::2], ro, X.tolist()):
            np.testing.assert_allclose(m.predict_proba(variant), want, atol=1e-12, rtol=0)
            for i in range(5):
                one = variant[i : i + 1]
                np.testing.assert_allclose(m.predict_proba(one), want[i : i + 1], atol=1e-12, rtol=0)
        np.testing.assert_allclose(
            m.predict_proba(X.astype(np.float32)), sk.predict_proba(X.astype(np.float32)), atol=1e-12
        )
        with pytest.raises(fk.ShapeMismatchError, match="features"):
            m.predict_proba(X[:1, :5])


def test_threads_share_one_model(in_threads) -> None:
    X = _data(500, 6)
    sk = _clf("multiclass", "relu", X)
    m = nn.MLP.from_sklearn(sk)
    want = m.predict_proba(X)

    def work() -> None:
        for _ in range(30):
            np.testing.assert_array_equal(m.predict_proba(X), want)

    in_threads(work)


# --------------------------------------------------------------- lifetime


def test_close_context_manager_and_finalizer() -> None:
    X = _data()
    sk = _clf("binary", "tanh", X)
    m = nn.MLP.from_sklearn(sk)
    m.close()
    m.close()  # idempotent: freed exactly once
    assert m.closed
    for call in (m.predict, m.predict_proba, lambda X: m.save("never-written.fkmlp")):
        with pytest.raises(fk.ClosedError, match=r"MLP\.\w+: the MLP is closed"):
            call(X)
    with nn.MLP.from_sklearn(sk) as m2:
        m2.predict(X)
    with pytest.raises(fk.ClosedError):  # the fast path checks too
        m2.predict_proba(np.ascontiguousarray(X[:1]))
    assert "closed" in repr(m2)
    for _ in range(200):  # finalizer path: no leak, no double free
        nn.MLP.from_sklearn(sk)
    gc.collect()
    with pytest.raises(TypeError, match="from_sklearn"):
        nn.MLP(None)


# ------------------------------------------------------------- bad input


def test_unfitted_and_unsupported_models() -> None:
    with pytest.raises(NotFittedError):
        nn.MLP.from_sklearn(MLPClassifier())
    with pytest.raises(TypeError, match="LogisticRegression"):
        nn.MLP.from_sklearn(LogisticRegression())
    with pytest.raises(TypeError, match="MLPClassifier"):
        nn.MLP.from_sklearn("model")
    sk = _clf("binary", "relu", _data())
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.MLP.from_sklearn(sk, dtype=np.int32)


def test_bad_X() -> None:
    X = _data()
    m = nn.MLP.from_sklearn(_clf("multiclass", "relu", X))
    with pytest.raises(ValueError, match="expects 6"):
        m.predict(X[:, :5])
    with pytest.raises(ValueError, match="2-D"):
        m.predict_proba(X[0])
    with pytest.raises(TypeError, match="None"):
        m.predict(None)
    with pytest.raises(TypeError, match="complex"):
        m.predict(X.astype(complex))


# ------------------------------------------------------------ model files


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[MLPClassifier, pathlib.Path, np.ndarray]:
    X = _data(40, 6, seed=3)
    sk = _clf("multiclass", "tanh", _data(), labels="str")
    path = tmp_path_factory.mktemp("mlp") / "model.fkmlp"
    nn.MLP.from_sklearn(sk).save(path)
    return sk, path, X


def test_save_load_roundtrip(saved, tmp_path: pathlib.Path) -> None:
    sk, path, X = saved
    m = nn.MLP.load(path)
    np.testing.assert_array_equal(m.predict(X), sk.predict(X))
    np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=1e-12, rtol=0)
    # the Python writer and the Rust writer produce the same bytes
    again = tmp_path / "again.fkmlp"
    m.save(again)
    assert again.read_bytes() == path.read_bytes()
    assert path.read_bytes()[:8] == b"FKMLP\x1a\r\n"
    m32 = nn.MLP.from_sklearn(sk, dtype=np.float32)
    m32.save(tmp_path / "f32.fkmlp")
    assert nn.MLP.load(str(tmp_path / "f32.fkmlp")).dtype == np.float32


def _bad_files(path: pathlib.Path, tmp: pathlib.Path) -> dict[str, tuple[pathlib.Path, type, str, str]]:
    data = path.read_bytes()
    out: dict[str, tuple[pathlib.Path, type, str, str]] = {}

    def put(name: str, content: bytes, exc: type, status: str, msg: str) -> None:
        p = tmp / f"{name}.fkmlp"
        p.write_bytes(content)
        out[name] = (p, exc, status, msg)

    put("truncated_header", data[:30], fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "truncated")
    put(
        "truncated_weights",
        data[: len(data) // 2],
        fk.InvalidFormatError,
        "FK_ERR_INVALID_FORMAT",
        "truncated",
    )
    put("empty", b"", fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "magic")
    flipped = bytearray(data)
    flipped[len(data) - 100] ^= 0x01
    put("corrupted", bytes(flipped), fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "checksum")
    put("wrong_magic", b"GIF89a" + data[6:], fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "magic")
    v3 = data[:8] + struct.pack("<I", 3) + data[12:]
    put("version3", v3, fk.UnsupportedVersionError, "FK_ERR_UNSUPPORTED_VERSION", "version 3")
    v0 = data[:8] + struct.pack("<I", 0) + data[12:]
    put("version0", v0, fk.UnsupportedVersionError, "FK_ERR_UNSUPPORTED_VERSION", "version 0")
    huge = bytearray(data)
    huge[24:32] = struct.pack("<Q", 1 << 60)
    put("absurd_size", bytes(huge), fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "layer size")
    put("trailing", data + b"\0", fk.InvalidFormatError, "FK_ERR_INVALID_FORMAT", "trailing")
    out["missing"] = (tmp / "does-not-exist.fkmlp", fk.FerrokitIOError, "FK_ERR_IO", "does-not-exist")
    return out


def test_bad_files_raise_clear_errors(saved, tmp_path: pathlib.Path) -> None:
    _, path, _ = saved
    for name, (p, exc, _status, msg) in _bad_files(path, tmp_path).items():
        with pytest.raises(exc, match=msg):
            nn.MLP.load(p)
        assert name


# ---------------------------------------------------------- the C program


@pytest.fixture(scope="module")
def c_program(build_c) -> pathlib.Path:
    return build_c(EXAMPLE)


def _run_c(exe: pathlib.Path, model: pathlib.Path, X: np.ndarray) -> subprocess.CompletedProcess[str]:
    text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X)
    return subprocess.run([str(exe), str(model)], input=text, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("kind", "dtype"),
    [
        ("multiclass", np.float64),
        ("binary", np.float32),
        ("multilabel", np.float64),
        ("regressor", np.float64),
    ],
)
def test_c_program_predicts_like_python(
    c_program: pathlib.Path, tmp_path: pathlib.Path, kind: str, dtype: type
) -> None:
    X = _data(25, 6, seed=9)
    if kind == "regressor":
        sk = _fit(MLPRegressor(hidden_layer_sizes=(5,), max_iter=50, random_state=0), _data(), _data()[:, :2])
    else:
        sk = _clf(kind, "relu", _data(), labels="str" if kind == "multiclass" else "int")
    m = nn.MLP.from_sklearn(sk, dtype=dtype)
    model = tmp_path / "m.fkmlp"
    m.save(model)
    run = _run_c(c_program, model, X)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"model: {m.task} {np.dtype(dtype).name} features=6")
    rows = lines[1:]
    assert len(rows) == len(X)
    if kind == "regressor":
        got = np.array([[float(v) for v in r.split()] for r in rows])
        np.testing.assert_array_equal(got, m.predict(X).astype(np.float64))
        np.testing.assert_allclose(got, sk.predict(X), rtol=1e-12, atol=1e-12)
        return
    labels = [r.split("\t")[0] for r in rows]
    proba = np.array([[float(v) for v in r.split("\t")[1].split()] for r in rows])
    np.testing.assert_array_equal(proba, m.predict_proba(X).astype(np.float64))  # same bits
    if kind == "multilabel":
        np.testing.assert_array_equal(np.array([[int(v) for v in s.split()] for s in labels]), m.predict(X))
    else:
        assert labels == [str(v) for v in m.predict(X)]
    if dtype == np.float64:
        np.testing.assert_array_equal(m.predict(X), sk.predict(X))


def test_c_program_reports_bad_files(c_program: pathlib.Path, saved, tmp_path: pathlib.Path) -> None:
    _, path, X = saved
    for name, (p, _exc, status, msg) in _bad_files(path, tmp_path).items():
        run = _run_c(c_program, p, X)
        assert run.returncode == 1, (name, run.stdout, run.stderr)
        assert run.stderr.startswith(f"error: {status} "), (name, run.stderr)
        assert msg in run.stderr, (name, run.stderr)
    usage = subprocess.run([str(c_program)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage" in usage.stderr
