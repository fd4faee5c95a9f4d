"""Copies, pickles, joblib files and Dask transfers of handle-owning objects
(nn.MLP, neighbors.KnnIndex): independent objects with their own native handle;
MLP.load / save with bytes, file objects and os.PathLike; feature names."""

from __future__ import annotations

import copy
import io
import logging
import pathlib
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import ferrokit as fk
from ferrokit import nn
from ferrokit._native import ffi, lib


def _joblib_roundtrip(obj: object) -> object:
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    buf.seek(0)
    return joblib.load(buf)


COPIERS = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": lambda o: pickle.loads(pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)),
    "joblib": _joblib_roundtrip,
}


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _data(n: int = 120, f: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, f))


def _sk(kind: str, seed: int = 0):
    X = _data()
    if kind == "binary":
        y = (X[:, 0] > 0).astype(int)
        return _fit(MLPClassifier(hidden_layer_sizes=(7,), max_iter=40, random_state=seed), X, y), X
    if kind == "text":
        y = np.array(["ant", "bee", "cat"])[np.digitize(X[:, 0], [-0.5, 0.5])]
        return _fit(MLPClassifier(hidden_layer_sizes=(7,), max_iter=40, random_state=seed), X, y), X
    return _fit(MLPRegressor(hidden_layer_sizes=(7,), max_iter=40, random_state=seed), X, X[:, :2]), X


def _same_predictions(m: nn.MLP, sk, X: np.ndarray) -> None:
    tol = 1e-5 if m.dtype == np.float32 else 1e-12
    if hasattr(sk, "predict_proba"):
        np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), atol=tol, rtol=0)
    else:
        np.testing.assert_allclose(m.predict(X), sk.predict(X), atol=tol, rtol=1e-6)


# ---------------------------------------------------------------------- MLP


def test_issue_reproduction_closing_a_copy_keeps_the_original() -> None:
    skA, X = _sk("binary", 0)
    skB, _ = _sk("binary", 1)
    A = nn.MLP.from_sklearn(skA)
    copy.copy(A).close()
    B = nn.MLP.from_sklearn(skB)  # would reuse the freed memory before
    np.testing.assert_allclose(A.predict_proba(X), skA.predict_proba(X), atol=1e-12, rtol=0)
    assert not np.allclose(B.predict_proba(X), skA.predict_proba(X))


@pytest.mark.parametrize("how", sorted(COPIERS))
@pytest.mark.parametrize("kind", ["binary", "text", "regressor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_copies_are_independent(how: str, kind: str, dtype: type) -> None:
    sk, X = _sk(kind)
    m = nn.MLP.from_sklearn(sk, dtype=dtype)
    c = COPIERS[how](m)
    assert isinstance(c, nn.MLP) and c is not m and c._own is not m._own
    assert c.dtype == m.dtype and c.task == m.task and c.n_features_in_ == m.n_features_in_
    if m.classes_ is not None:
        np.testing.assert_array_equal(c.classes_, m.classes_)
        assert c.classes_.dtype == m.classes_.dtype
    _same_predictions(c, sk, X)
    c.close()
    _same_predictions(m, sk, X)  # closing the copy leaves the original alone
    d = COPIERS[how](m)
    m.close()
    _same_predictions(d, sk, X)  # and the other way round
    with pytest.raises(fk.ClosedError):
        COPIERS[how](m)  # a closed model cannot be copied


def test_mlp_bytes_roundtrip_and_edge_sizes(tmp_path: pathlib.Path) -> None:
    X = _data(30, 1)
    sk = _fit(MLPRegressor(hidden_layer_sizes=(1,), max_iter=5, random_state=0), X, X[:, 0])  # 1 -> 1 -> 1
    m = nn.MLP.from_sklearn(sk)
    data = m.to_bytes()
    assert isinstance(data, bytes) and data[:5] == b"FKMLP"
    m.save(tmp_path / "m.fkmlp")
    assert (tmp_path / "m.fkmlp").read_bytes() == data
    for src in (data, bytearray(data), memoryview(data)):
        _same_predictions(nn.MLP.from_bytes(src), sk, X)
    np.testing.assert_array_equal(nn.MLP.from_bytes(data).predict(X[:0]), np.empty(0))
    with pytest.raises(TypeError, match="bytes-like"):
        nn.MLP.from_bytes("FKMLP")  # type: ignore[arg-type]
    with pytest.raises(fk.InvalidFormatError):
        nn.MLP.from_bytes(b"")
    with pytest.raises(fk.InvalidFormatError, match="checksum"):
        nn.MLP.from_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def test_save_bytes_c_contract() -> None:
    sk, _ = _sk("binary")
    m = nn.MLP.from_sklearn(sk)
    size = ffi.new("size_t *")
    with m._own.borrow("test") as h:
        assert lib.fk_mlp_save_bytes(h, ffi.NULL, 0, size) == lib.FK_OK
        n = size[0]
        buf = bytearray(b"\xaa" * (n + 3))
        size[0] = 7
        st = lib.fk_mlp_save_bytes(h, ffi.from_buffer("uint8_t[]", buf), n - 1, size)
        assert st == lib.FK_ERR_LENGTH_MISMATCH and size[0] == 7 and buf == b"\xaa" * (n + 3)
        assert lib.fk_mlp_save_bytes(h, ffi.from_buffer("uint8_t[]", buf), n + 3, size) == lib.FK_OK
        assert size[0] == n and bytes(buf[:n]) == m.to_bytes() and buf[n:] == b"\xaa" * 3
        assert lib.fk_mlp_save_bytes(h, ffi.NULL, 0, ffi.NULL) == lib.FK_ERR_NULL_POINTER
    assert lib.fk_mlp_save_bytes(ffi.NULL, ffi.NULL, 0, size) == lib.FK_ERR_NULL_POINTER


def test_load_accepts_paths_bytes_and_file_objects(tmp_path: pathlib.Path) -> None:
    sk, X = _sk("text")
    m = nn.MLP.from_sklearn(sk)
    p = tmp_path / "model.fkmlp"
    m.save(p)  # pathlib.Path
    m.save(str(tmp_path / "model2.fkmlp"))
    buf = io.BytesIO()
    m.save(buf)
    assert buf.getvalue() == p.read_bytes()
    with open(p, "rb") as f:
        loaded_from_file = nn.MLP.load(f)
    sources = [p, str(p), p.read_bytes(), io.BytesIO(p.read_bytes()), tmp_path / "model2.fkmlp"]
    for src in [*sources, loaded_from_file]:
        got = src if isinstance(src, nn.MLP) else nn.MLP.load(src)
        np.testing.assert_array_equal(got.predict(X), sk.predict(X))
    with open(p, encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        nn.MLP.load(f)


@pytest.mark.parametrize("name", ["a\0b.fkmlp", "\0"])
def test_paths_with_nul_bytes_are_refused(tmp_path: pathlib.Path, name: str) -> None:
    sk, _ = _sk("binary")
    m = nn.MLP.from_sklearn(sk)
    for bad in (str(tmp_path / name), pathlib.Path(str(tmp_path / name))):
        with pytest.raises(ValueError, match="null byte"):
            m.save(bad)
        with pytest.raises(ValueError, match="null byte"):
            nn.MLP.load(bad)
    with pytest.raises(ValueError, match="null byte"):
        m.save(str(tmp_path / name).encode())  # a bytes file name (load takes bytes as content)
    assert list(tmp_path.iterdir()) == []  # nothing written under a truncated name


def test_bad_path_types() -> None:
    sk, _ = _sk("binary")
    m = nn.MLP.from_sklearn(sk)
    for bad in (3, None, 2.5):
        with pytest.raises(TypeError, match=r"os\.PathLike"):
            m.save(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"os\.PathLike"):
            nn.MLP.load(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        m.save("")
    with pytest.raises(fk.FerrokitIOError):
        nn.MLP.load("/nonexistent/dir/model.fkmlp")


# ------------------------------------------------------------ feature names


def _frame_model(dtype=np.float64):
    X = pd.DataFrame(_data(), columns=["a", "b", "c", "d", "e"])
    y = (X["a"] + X["b"] > 0).astype(int)
    sk = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=40, random_state=0), X, y)
    return sk, nn.MLP.from_sklearn(sk, dtype=dtype), X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_feature_names_are_kept_and_checked_like_sklearn(dtype: type) -> None:
    sk, m, X = _frame_model(dtype)
    np.testing.assert_array_equal(m.feature_names_in_, sk.feature_names_in_)
    assert m.n_features_in_ == sk.n_features_in_ == 5
    np.testing.assert_array_equal(m.predict(X), sk.predict(X))
    bad_frames = {
        "reordered": X[["b", "a", "c", "d", "e"]],
        "missing": X[["a", "b", "c", "d"]],
        "renamed": X.rename(columns={"e": "z"}),
        "extra": X.assign(f=1.0),
    }
    for what, bad in bad_frames.items():
        with pytest.raises(ValueError) as sk_err:
            sk.predict(bad)
        for call in (m.predict, m.predict_proba):
            with pytest.raises(ValueError) as fk_err:
                call(bad)
            assert str(fk_err.value) == str(sk_err.value), what
    with pytest.warns(UserWarning, match="X does not have valid feature names, but MLP was fitted"):
        got = m.predict_proba(X.to_numpy(dtype=dtype))
    np.testing.assert_allclose(got, sk.predict_proba(X), atol=1e-5, rtol=0)
    c = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(c.feature_names_in_, sk.feature_names_in_)
    with pytest.raises(ValueError, match="same order"):
        c.predict(bad_frames["reordered"])


def test_feature_names_survive_the_model_file(tmp_path: pathlib.Path) -> None:
    sk, m, X = _frame_model()
    data = m.to_bytes()
    assert data[8:12] == (2).to_bytes(4, "little")  # version 2: the file holds the names
    m.save(tmp_path / "named.fkmlp")
    for loaded in (nn.MLP.load(tmp_path / "named.fkmlp"), nn.MLP.from_bytes(data)):
        assert loaded.feature_names_in_.dtype == object
        np.testing.assert_array_equal(loaded.feature_names_in_, sk.feature_names_in_)
        np.testing.assert_array_equal(loaded.predict(X), sk.predict(X))
        with pytest.raises(ValueError, match="same order"):
            loaded.predict(X[["e", "d", "c", "b", "a"]])
    # Models without names keep writing version 1 files (older readers load them).
    plain_sk, _ = _sk("binary")
    assert nn.MLP.from_sklearn(plain_sk).to_bytes()[8:12] == (1).to_bytes(4, "little")


def test_unicode_and_long_feature_names() -> None:
    cols = ["é" * 300, "naïve", "x y", "", "日本"]
    X = pd.DataFrame(_data(), columns=cols)
    sk = _fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X, X.iloc[:, 1])
    m = pickle.loads(pickle.dumps(nn.MLP.from_sklearn(sk, dtype=np.float32)))
    assert list(m.feature_names_in_) == cols
    np.testing.assert_allclose(m.predict(X), sk.predict(X), rtol=1e-4, atol=1e-5)


def test_model_without_names() -> None:
    sk, X = _sk("binary")
    m = nn.MLP.from_sklearn(sk)
    assert not hasattr(m, "feature_names_in_")
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    with pytest.warns(UserWarning, match="X has feature names, but MLP was fitted without"):
        np.testing.assert_array_equal(m.predict(frame), sk.predict(X))
    mixed = pd.DataFrame(X, columns=["a", 1, "c", "d", "e"])
    with pytest.raises(TypeError, match="string names"):
        m.predict(mixed)


# ----------------------------------------------------------------- KnnIndex


@pytest.mark.parametrize("how", sorted(COPIERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "inner_product", "l2"])
def test_knn_index_copies_are_independent(how: str, dtype: type, metric: str) -> None:
    rows = _data(257, 9, seed=3).astype(dtype)
    rows[5] = 0.0  # a zero row (cosine)
    rows[7, 2] = np.nan
    q = _data(4, 9, seed=4).astype(dtype)
    index = fk.neighbors.KnnIndex(9, metric=metric, dtype=dtype)
    index.add(rows)
    want = index.search(q, 5)
    c = COPIERS[how](index)
    assert isinstance(c, fk.neighbors.KnnIndex) and c._own is not index._own
    assert (c.dim, c.metric, c.dtype, len(c)) == (index.dim, index.metric, index.dtype, 257)
    np.testing.assert_array_equal(c.rows(), rows)
    for got, exp in zip(c.search(q, 5), want, strict=True):
        np.testing.assert_array_equal(got, exp)
    c.add(q)  # the copy grows alone
    assert len(c) == 261 and len(index) == 257
    c.close()
    assert len(index) == 257 and not index.closed
    index.close()
    with pytest.raises(fk.ClosedError):
        COPIERS[how](index)


@pytest.mark.parametrize("n", [0, 1, 2, 1000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_knn_index_rows_and_pickle_edge_sizes(n: int, dtype: type) -> None:
    index = fk.neighbors.KnnIndex(3, dtype=dtype)
    rows = _data(n, 3).astype(dtype)
    if n:
        index.add(rows)
    got = index.rows()
    assert got.shape == (n, 3) and got.dtype == dtype
    np.testing.assert_array_equal(got, rows)
    c = pickle.loads(pickle.dumps(index))
    assert len(c) == n and c.rows().dtype == dtype
    np.testing.assert_array_equal(c.rows(), rows)


def test_knn_rows_c_contract() -> None:
    index = fk.neighbors.KnnIndex(2, dtype=np.float32)
    index.add(np.arange(6, dtype=np.float32).reshape(3, 2))
    out = np.full(4, -1.0, dtype=np.float32)
    with index._own.borrow("test") as h:
        p = ffi.from_buffer("float[]", out, require_writable=True)
        assert lib.fk_knn_index_rows_f32(h, 1, 2, p, 4) == lib.FK_OK
        np.testing.assert_array_equal(out, [2, 3, 4, 5])
        assert lib.fk_knn_index_rows_f32(h, 2, 2, p, 4) == lib.FK_ERR_INVALID_ARGUMENT
        assert lib.fk_knn_index_rows_f32(h, 0, 1, p, 4) == lib.FK_ERR_LENGTH_MISMATCH
    assert lib.fk_knn_index_rows_f32(ffi.NULL, 0, 0, p, 0) == lib.FK_ERR_NULL_POINTER


# --------------------------------------------------------------------- Dask


def _mlp_proba(m: nn.MLP, X: np.ndarray) -> np.ndarray:
    return m.predict_proba(X)


def _index_search(index: fk.neighbors.KnnIndex, q: np.ndarray) -> np.ndarray:
    return index.search(q, 3)[1]


def test_shipping_to_a_dask_worker_process() -> None:
    distributed = pytest.importorskip("distributed")
    sk, X = _sk("binary")
    m = nn.MLP.from_sklearn(sk)
    index = fk.neighbors.KnnIndex(5, dtype=np.float64)
    index.add(X)
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        fm, fi = client.scatter(m), client.scatter(index)
        proba = client.submit(_mlp_proba, fm, X).result(timeout=60)
        found = client.submit(_index_search, fi, X[:4]).result(timeout=60)
    np.testing.assert_allclose(proba, sk.predict_proba(X), atol=1e-12, rtol=0)
    np.testing.assert_array_equal(found, index.search(X[:4], 3)[1])


def test_feature_name_c_contract() -> None:
    _, m, _ = _frame_model()
    n = ffi.new("size_t *")
    buf = ffi.new("char[]", 3)
    with m._own.borrow("test") as h:
        assert lib.fk_mlp_n_feature_names(h, n) == lib.FK_OK and n[0] == 5
        assert lib.fk_mlp_feature_name(h, 4, ffi.NULL, 0, n) == lib.FK_OK and n[0] == 1
        assert lib.fk_mlp_feature_name(h, 4, buf, 3, n) == lib.FK_OK and ffi.string(buf) == b"e"
        assert lib.fk_mlp_feature_name(h, 4, buf, 1, n) == lib.FK_OK and ffi.string(buf) == b""
        n[0] = 99
        assert lib.fk_mlp_feature_name(h, 5, buf, 3, n) == lib.FK_ERR_INVALID_ARGUMENT and n[0] == 99
        assert lib.fk_mlp_n_feature_names(h, ffi.NULL) == lib.FK_ERR_NULL_POINTER
    sk, _ = _sk("binary")
    with nn.MLP.from_sklearn(sk)._own.borrow("test") as h:
        assert lib.fk_mlp_n_feature_names(h, n) == lib.FK_OK and n[0] == 0
        assert lib.fk_mlp_feature_name(h, 0, buf, 3, n) == lib.FK_ERR_INVALID_ARGUMENT
