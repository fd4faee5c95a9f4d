"""Pipeline model files: ``fk.export`` -> ``fk.load_model`` / ``fk_model_*``.

- every supported step and final estimator predicts what scikit-learn (or
  ferrokit's estimator) predicts, float64 and float32, 1 / odd / many rows;
- bad input is refused like scikit-learn refuses it (shape, dtype, NaN,
  infinity, 0 rows, DataFrame feature names);
- every unsupported step, parameter or fitted state raises, naming the step;
- truncated and bit-flipped files are rejected; old MLP files load;
- pickling, closing, threads, files and file objects;
- ``examples/c/model_predict.c`` compiled with strict warnings predicts the same.
"""

from __future__ import annotations

import io
import pathlib
import pickle
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler
from sklearn.svm import LinearSVC, LinearSVR

import ferrokit as fk
from ferrokit import neighbors as fkn
from ferrokit import preprocessing as fkp

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "c" / "model_predict.c"

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 6)) * [1, 2, 0.5, 3, 1, 10] + [0, 1, -2, 5, 0, 100]
Y_BIN = (X[:, 0] + 0.2 * X[:, 1] > 0.5).astype(int)
Y_MULTI = np.digitize(X[:, 0] + 0.1 * X[:, 2], [-0.8, 0.0, 0.8])
Y_REG = X @ RNG.normal(size=6) + 0.1 * RNG.normal(size=len(X))
Y_REG2 = np.stack([Y_REG, X[:, 0] - X[:, 1]], axis=1)
Q = np.random.default_rng(1).normal(size=(25, 6)) * [1, 2, 0.5, 3, 1, 10] + [0, 1, -2, 5, 0, 100]


def _fit(est, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _mlp_c(**kw):
    return MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=80, random_state=0, **kw)


# (id, factory, y): the final estimators, each behind a StandardScaler.
CLASSIFIERS = [
    ("logreg-binary", lambda: LogisticRegression(), Y_BIN),
    ("logreg-multinomial", lambda: LogisticRegression(), Y_MULTI),
    ("logreg-ovr", lambda: OneVsRestClassifier(LogisticRegression()), Y_MULTI),
    ("logreg-ovr-binary", lambda: OneVsRestClassifier(LogisticRegression()), Y_BIN),
    ("ridge-clf", lambda: RidgeClassifier(), Y_MULTI),
    ("ridge-clf-binary", lambda: RidgeClassifier(), Y_BIN),
    ("sgd-log", lambda: SGDClassifier(loss="log_loss", random_state=0), Y_MULTI),
    ("sgd-log-binary", lambda: SGDClassifier(loss="log_loss", random_state=0), Y_BIN),
    ("sgd-huber", lambda: SGDClassifier(loss="modified_huber", random_state=0), Y_MULTI),
    ("sgd-huber-binary", lambda: SGDClassifier(loss="modified_huber", random_state=0), Y_BIN),
    ("sgd-hinge", lambda: SGDClassifier(random_state=0), Y_MULTI),
    ("linear-svc", lambda: LinearSVC(), Y_MULTI),
    ("linear-svc-binary", lambda: LinearSVC(), Y_BIN),
    ("mlp-binary", lambda: _mlp_c(), Y_BIN),
    ("mlp-multi", lambda: _mlp_c(activation="tanh"), Y_MULTI),
    ("mlp-multilabel", lambda: _mlp_c(), np.stack([Y_BIN, Y_MULTI > 1], axis=1).astype(int)),
    ("knn-clf", lambda: fkn.KNeighborsClassifier(n_neighbors=5), Y_MULTI),
    ("knn-clf-distance", lambda: fkn.KNeighborsClassifier(n_neighbors=4, weights="distance"), Y_MULTI),
]
REGRESSORS = [
    ("linreg", lambda: LinearRegression(), Y_REG),
    ("linreg-2d", lambda: LinearRegression(), Y_REG2),
    ("linreg-2d-one-column", lambda: LinearRegression(), Y_REG[:, None]),
    ("ridge", lambda: Ridge(alpha=0.5), Y_REG),
    ("ridge-2d", lambda: Ridge(), Y_REG2),
    ("sgd-reg", lambda: SGDRegressor(random_state=0), Y_REG),
    ("linear-svr", lambda: LinearSVR(random_state=0), Y_REG),
    ("mlp-reg", lambda: MLPRegressor(hidden_layer_sizes=(12,), max_iter=80, random_state=0), Y_REG),
    ("mlp-reg-2d", lambda: MLPRegressor(hidden_layer_sizes=(12,), max_iter=80, random_state=0), Y_REG2),
    ("knn-reg", lambda: fkn.KNeighborsRegressor(n_neighbors=3), Y_REG),
    ("knn-reg-2d", lambda: fkn.KNeighborsRegressor(n_neighbors=3, weights="distance"), Y_REG2),
]
STEPS = [
    ("standard", lambda: StandardScaler()),
    ("standard-no-mean", lambda: StandardScaler(with_mean=False)),
    ("standard-no-std", lambda: StandardScaler(with_std=False)),
    ("minmax", lambda: MinMaxScaler(feature_range=(-1, 2))),
    ("minmax-clip", lambda: MinMaxScaler(clip=True)),
    ("maxabs", lambda: MaxAbsScaler()),
    ("normalizer-l2", lambda: Normalizer()),
    ("normalizer-l1", lambda: Normalizer(norm="l1")),
    ("normalizer-max", lambda: Normalizer(norm="max")),
    ("imputer-mean", lambda: SimpleImputer()),
    ("imputer-median", lambda: SimpleImputer(strategy="median")),
    ("imputer-most-frequent", lambda: SimpleImputer(strategy="most_frequent")),
    ("imputer-constant", lambda: SimpleImputer(strategy="constant", fill_value=-3.5)),
    ("fk-standard", lambda: fkp.StandardScaler()),
    ("fk-minmax", lambda: fkp.MinMaxScaler(clip=True)),
    ("fk-maxabs", lambda: fkp.MaxAbsScaler()),
    ("fk-normalizer", lambda: fkp.Normalizer(norm="l1")),
]


def _tol(dtype) -> dict[str, float]:
    return {"rtol": 1e-12, "atol": 1e-13} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-7}


def _close(got, want, dtype, scale: float = 1.0) -> None:
    t = _tol(dtype)
    np.testing.assert_allclose(
        np.asarray(got, dtype=np.float64), want, rtol=t["rtol"], atol=t["atol"] * scale
    )


def _compare(pipe, m: fk.Model, x: np.ndarray) -> None:
    """Every output the pipeline has, on x, equal to the pipeline's."""
    dt = x.dtype
    if hasattr(pipe, "predict"):
        want = pipe.predict(x)
        got = m.predict(x)
        assert got.shape == want.shape
        if m.task in ("classifier", "multilabel"):
            assert got.dtype == np.asarray(want).dtype
            np.testing.assert_array_equal(got, want)
        else:
            _close(got, want, dt, scale=np.abs(want).max())
    for fn in ("predict_proba", "decision_function", "transform"):
        has = hasattr(pipe, fn)
        assert (fn in m.outputs) == has, fn
        if has:
            want = getattr(pipe, fn)(x)
            got = getattr(m, fn)(x)
            assert got.shape == np.shape(want), fn
            assert got.dtype == dt
            _close(got, want, dt, scale=max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "factory", "y"), CLASSIFIERS + REGRESSORS, ids=[c[0] for c in CLASSIFIERS + REGRESSORS]
)
def test_final_estimators_match_scikit_learn(name, factory, y, dtype) -> None:
    pipe = _fit(make_pipeline(StandardScaler(), factory()), y)
    m = fk.load_model(fk.export(pipe))
    for rows in (1, 7, len(Q)):
        _compare(pipe, m, Q[:rows].astype(dtype))
    _compare(pipe, m, X.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "factory"), STEPS, ids=[s[0] for s in STEPS])
def test_steps_match_scikit_learn(name, factory, dtype) -> None:
    Xn = X.copy()
    Xn[::7, 2] = np.nan
    Xn[::5, 4] = np.nan
    nan_ok = "imputer" in name
    fit_x = Xn if nan_ok else X
    # The step alone (a transformer pipeline), then the step before a classifier.
    tr = make_pipeline(factory()).fit(fit_x)
    m = fk.load_model(fk.export(tr))
    assert m.task == "transformer"
    q = Xn[:31] if nan_ok else Q
    for rows in (1, 5, len(q)):
        _compare(tr, m, q[:rows].astype(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = make_pipeline(factory(), LogisticRegression()).fit(fit_x, Y_MULTI)
    mc = fk.load_model(fk.export(clf))
    _compare(clf, mc, q.astype(dtype))


def test_imputer_drops_empty_columns_and_keeps_them_when_asked() -> None:
    Xe = X.copy()
    Xe[:, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for imp in (
            SimpleImputer(),
            SimpleImputer(keep_empty_features=True),
            SimpleImputer(missing_values=-1.0),
        ):
            data = Xe if np.isnan(imp.missing_values) else np.where(np.isnan(Xe), -1.0, Xe)
            pipe = make_pipeline(imp, Ridge()).fit(data, Y_REG)
            m = fk.load_model(fk.export(pipe))
            _compare(pipe, m, data[:9])


def test_bare_estimator_and_nested_pipeline_export() -> None:
    reg = LinearRegression().fit(X, Y_REG)
    _compare(reg, fk.load_model(fk.export(reg)), Q)
    inner = make_pipeline(StandardScaler(), "passthrough", MaxAbsScaler())
    pipe = _fit(make_pipeline(inner, LogisticRegression()), Y_BIN)
    _compare(pipe, fk.load_model(fk.export(pipe)), Q)


def test_nearest_neighbors_kneighbors() -> None:
    for dtype in (np.float64, np.float32):
        nn = fkn.NearestNeighbors(n_neighbors=4, metric="cosine").fit(X.astype(dtype))
        m = fk.load_model(fk.export(nn))
        assert m.task == "neighbors" and m.outputs == ("kneighbors",)
        for q in (Q[:1], Q):
            d, i = m.kneighbors(q.astype(dtype))
            wd, wi = nn.kneighbors(q.astype(dtype))
            np.testing.assert_array_equal(i, wi)
            _close(d, wd, dtype)
        i2 = m.kneighbors(Q, n_neighbors=2, return_distance=False)
        np.testing.assert_array_equal(i2, nn.kneighbors(Q, n_neighbors=2, return_distance=False))
        with pytest.raises(ValueError):
            m.kneighbors(Q, n_neighbors=0)
        with pytest.raises(ValueError):
            m.kneighbors(Q, n_neighbors=len(X) + 1)
        with pytest.raises(AttributeError):
            m.predict(Q)


@pytest.mark.parametrize(
    "y",
    [
        Y_BIN.astype(np.int32),
        Y_BIN.astype(bool),
        Y_MULTI.astype(np.float32) * 2 - 1,
        np.array(["cat", "dog", "émû", "z" * 100])[Y_MULTI],
        np.array(["no", "yes"], dtype=object)[Y_BIN],
        Y_MULTI.astype(np.uint8) + 200,
        Y_MULTI - 7,
    ],
    ids=["int32", "bool", "float", "str", "object", "uint8", "negative"],
)
def test_class_labels_keep_their_dtype(y) -> None:
    pipe = _fit(make_pipeline(StandardScaler(), LogisticRegression()), y)
    m = fk.load_model(fk.export(pipe))
    assert m.classes_.dtype == pipe.classes_.dtype
    np.testing.assert_array_equal(m.classes_, pipe.classes_)
    got, want = m.predict(Q), pipe.predict(Q)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ bad input


@pytest.fixture(scope="module")
def scaled_logreg():
    pipe = _fit(make_pipeline(StandardScaler(), LogisticRegression()), Y_MULTI)
    return pipe, fk.load_model(fk.export(pipe))


def test_nan_and_inf_are_refused_like_scikit_learn(scaled_logreg) -> None:
    pipe, m = scaled_logreg
    bad = Q[:3].copy()
    bad[1, 2] = np.nan
    for fn in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError):
            getattr(pipe, fn)(bad)
        with pytest.raises(ValueError, match="NaN"):
            getattr(m, fn)(bad)
        with pytest.raises(ValueError, match="NaN"):
            getattr(m, fn)(bad.astype(np.float32))
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        m.predict_proba(bad)
    # A scaler alone passes NaN through, as scikit-learn's does.
    tr = make_pipeline(StandardScaler()).fit(X)
    bad[1, 2] = np.nan
    got = fk.load_model(fk.export(tr)).transform(bad)
    np.testing.assert_allclose(got, tr.transform(bad), rtol=1e-12)
    assert np.isnan(got[1, 2])


def test_shapes_dtypes_and_sizes(scaled_logreg) -> None:
    pipe, m = scaled_logreg
    with pytest.raises(ValueError, match="0 sample"):
        m.predict(Q[:0])
    with pytest.raises(ValueError, match="0 sample"):
        m.predict_proba(Q[:0])
    with pytest.raises(ValueError, match="2D"):
        m.predict(Q[0])
    with pytest.raises(ValueError, match="features"):
        m.predict_proba(Q[:, :5])
    with pytest.raises(ValueError, match="features"):
        m.predict(np.zeros((2, 7)))
    with pytest.raises(ValueError):
        m.predict([["a"] * 6])
    with pytest.raises(TypeError):
        m.predict(object())
    # Lists, ints, Fortran order, strided views, big-endian all convert once.
    for x in (Q.tolist(), np.asfortranarray(Q), Q[::2], Q.astype(">f8"), np.rint(Q).astype(np.int64)):
        np.testing.assert_allclose(
            m.predict_proba(x), pipe.predict_proba(np.asarray(x, dtype=float)), rtol=1e-12
        )
    with pytest.raises(AttributeError, match="transform"):
        m.transform(Q)


def test_feature_names_are_checked_like_scikit_learn() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(df, Y_BIN)
    m = fk.load_model(fk.export(pipe))
    np.testing.assert_array_equal(m.feature_names_in_, pipe.feature_names_in_)
    q = pd.DataFrame(Q, columns=df.columns)
    np.testing.assert_array_equal(m.predict(q), pipe.predict(q))
    np.testing.assert_allclose(m.predict_proba(q), pipe.predict_proba(q), rtol=1e-12)
    for bad in (q[df.columns[::-1]], q.drop(columns=["f2"]), q.rename(columns={"f1": "g1"})):
        with pytest.raises(ValueError):
            pipe.predict(bad)
        with pytest.raises(ValueError, match="feature names"):
            m.predict(bad)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        m.predict_proba(Q)
    plain = fk.load_model(fk.export(_fit(make_pipeline(StandardScaler(), LogisticRegression()), Y_BIN)))
    with pytest.warns(UserWarning, match="fitted without feature names"):
        plain.predict(q)


# ------------------------------------------------------------- unsupported


class _Odd:
    n_features_in_ = 6


@pytest.mark.parametrize(
    ("build", "exc", "match"),
    [
        (lambda: make_pipeline(StandardScaler(), _fitted_forest()), TypeError, "RandomForestClassifier"),
        (lambda: _fit(make_pipeline(_poly(), LogisticRegression()), Y_BIN), TypeError, "PolynomialFeatures"),
        (
            lambda: make_pipeline(SimpleImputer(add_indicator=True), Ridge()).fit(_with_nan(), Y_REG),
            ValueError,
            "add_indicator",
        ),
        (lambda: _fit(_sk_knn(), Y_BIN), TypeError, "KNeighborsClassifier"),
        (lambda: make_pipeline(StandardScaler(), LogisticRegression()), NotFittedError, "not fitted"),
        (lambda: RidgeClassifier().fit(X, np.stack([Y_BIN, 1 - Y_BIN], axis=1)), ValueError, "multilabel"),
        (lambda: _Odd(), TypeError, "Supported steps"),
    ],
    ids=[
        "forest",
        "poly-step",
        "add-indicator",
        "sklearn-knn",
        "unfitted",
        "multilabel-ridge",
        "unknown-object",
    ],
)
def test_unsupported_raises_naming_the_step(build, exc, match) -> None:
    est = build()
    with pytest.raises(exc, match=match):
        fk.export(est)


def _fitted_forest():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y_BIN)


def _poly():
    from sklearn.preprocessing import PolynomialFeatures

    return PolynomialFeatures()


def _sk_knn():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier()


def _with_nan():
    x = X.copy()
    x[::3, 1] = np.nan
    return x


def test_error_lists_what_is_supported() -> None:
    with pytest.raises(TypeError) as e:
        fk.export(make_pipeline(StandardScaler(), _fitted_forest()))
    for name in ("StandardScaler", "SimpleImputer", "LogisticRegression", "MLPClassifier", "LinearSVC"):
        assert name in str(e.value)


# --------------------------------------------------------------- the file


@pytest.fixture(scope="module")
def small_file() -> bytes:
    pipe = _fit(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(3,), max_iter=5)), Y_BIN)
    return fk.export(pipe)


def test_every_truncation_is_rejected(small_file: bytes) -> None:
    for n in range(len(small_file)):
        with pytest.raises(fk.InvalidFormatError):
            fk.load_model(small_file[:n])
    with pytest.raises(fk.InvalidFormatError, match="trailing"):
        fk.load_model(small_file + b"\0")


def test_bit_flips_are_rejected(small_file: bytes) -> None:
    rng = np.random.default_rng(5)
    positions = list(range(40)) + list(rng.integers(0, len(small_file), size=300))
    for pos in positions:
        b = bytearray(small_file)
        b[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises((fk.InvalidFormatError, fk.UnsupportedVersionError)):
            fk.load_model(bytes(b))


def test_newer_version_names_both_versions(small_file: bytes) -> None:
    import struct
    import zlib

    b = bytearray(small_file[:-4])
    b[8:12] = struct.pack("<I", 9)
    b += struct.pack("<I", zlib.crc32(bytes(b)))
    with pytest.raises(fk.UnsupportedVersionError, match=r"version 9.*1 to 2"):
        fk.load_model(bytes(b))


def test_old_mlp_files_load(tmp_path: pathlib.Path) -> None:
    for y in (Y_BIN, Y_MULTI, Y_REG):
        cls = MLPRegressor if y is Y_REG else MLPClassifier
        sk = _fit(cls(hidden_layer_sizes=(7,), max_iter=40, random_state=0), y)
        for dtype in (np.float64, np.float32):
            old = fk.nn.MLP.from_sklearn(sk, dtype=dtype)
            path = tmp_path / "old.fkmlp"
            old.save(path)
            m = fk.load_model(path)
            assert m.steps and m.n_features_in_ == 6
            if cls is MLPClassifier:
                np.testing.assert_array_equal(m.predict(Q), sk.predict(Q))
                tol = 1e-12 if dtype == np.float64 else 1e-5
                np.testing.assert_allclose(m.predict_proba(Q), sk.predict_proba(Q), rtol=tol, atol=tol)
            else:
                tol = 1e-12 if dtype == np.float64 else 1e-5
                np.testing.assert_allclose(m.predict(Q), sk.predict(Q), rtol=tol)
            fk.nn.MLP.load(path).close()  # the old reader still reads it


def test_files_file_objects_and_errors(tmp_path: pathlib.Path, scaled_logreg) -> None:
    pipe, m = scaled_logreg
    path = tmp_path / "m.fk"
    assert fk.export(pipe, path) is None
    buf = io.BytesIO()
    fk.export(pipe, buf)
    assert buf.getvalue() == path.read_bytes() == m.to_bytes()
    for src in (path, str(path), buf.getvalue(), bytearray(buf.getvalue()), io.BytesIO(buf.getvalue())):
        np.testing.assert_array_equal(fk.load_model(src).predict(Q), pipe.predict(Q))
    m.save(tmp_path / "again.fk")
    assert (tmp_path / "again.fk").read_bytes() == path.read_bytes()
    with pytest.raises(fk.FerrokitIOError):
        fk.load_model(tmp_path / "missing.fk")
    with pytest.raises(TypeError):
        fk.load_model(12)
    with pytest.raises(TypeError):
        fk.load_model(io.StringIO("text"))
    with pytest.raises(TypeError):
        fk.Model(b"")
    with pytest.raises(TypeError):
        fk.export(pipe, 3.5)


def test_pickle_close_and_repr(scaled_logreg) -> None:
    _, m = scaled_logreg
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict_proba(Q), m.predict_proba(Q))
    assert "classifier" in repr(m2)
    with m2:
        pass
    assert m2.closed and "closed" in repr(m2)
    with pytest.raises(fk.ClosedError):
        m2.predict_proba(Q)
    with pytest.raises(fk.ClosedError):
        m2.predict(Q)
    m2.close()
    assert m.metadata["producer"].startswith("ferrokit")


def test_concurrent_predictions_on_one_model(scaled_logreg, in_threads) -> None:
    pipe, m = scaled_logreg
    want = pipe.predict_proba(Q)

    def work() -> None:
        for i in range(200):
            row = slice(i % 5, i % 5 + 1)
            np.testing.assert_allclose(m.predict_proba(Q[row]), want[row], rtol=1e-12)
            np.testing.assert_allclose(m.predict_proba(Q), want, rtol=1e-12)

    in_threads(work)


# ---------------------------------------------------------------- C example


@pytest.fixture(scope="module")
def c_example(build_c) -> pathlib.Path:
    return build_c(EXAMPLE)


def _run_c(exe: pathlib.Path, model: pathlib.Path, csv: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), str(model), str(csv)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("est", "y"),
    [
        (LogisticRegression(), np.array(["low", "mid", "high", "top"])[Y_MULTI]),
        (MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), Y_BIN),
        (Ridge(), Y_REG2),
        (None, None),
    ],
    ids=["logreg-str", "mlp", "ridge-2d", "transformer"],
)
def test_c_example_matches_scikit_learn(c_example, tmp_path: pathlib.Path, est, y) -> None:
    pipe = (
        make_pipeline(StandardScaler(), MinMaxScaler())
        if est is None
        else make_pipeline(StandardScaler(), est)
    )
    pipe = _fit(pipe, y) if est is not None else pipe.fit(X)
    model = tmp_path / "m.fk"
    fk.export(pipe, model)
    csv = tmp_path / "x.csv"
    csv.write_text("a,b,c,d,e,f\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in Q) + "\n")
    r = _run_c(c_example, model, csv)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("model: ") and "features=6" in lines[0]
    rows = lines[1:]
    assert len(rows) == len(Q)
    if est is None:
        got = np.array([[float(v) for v in line.split()] for line in rows])
        np.testing.assert_allclose(got, pipe.transform(Q), rtol=1e-12, atol=1e-14)
    elif hasattr(pipe, "predict_proba"):
        labels = [line.split("\t")[0] for line in rows]
        assert labels == [str(v) for v in pipe.predict(Q)]
        proba = np.array([[float(v) for v in line.split("\t")[1].split()] for line in rows])
        np.testing.assert_allclose(proba, pipe.predict_proba(Q), rtol=1e-12, atol=1e-15)
    else:
        got = np.array([[float(v) for v in line.split()] for line in rows])
        np.testing.assert_allclose(got, pipe.predict(Q), rtol=1e-12)


def test_c_example_reports_a_corrupted_file(c_example, tmp_path: pathlib.Path, small_file: bytes) -> None:
    model = tmp_path / "bad.fk"
    model.write_bytes(small_file[:-9])
    csv = tmp_path / "x.csv"
    csv.write_text("1,2,3,4,5,6\n")
    r = _run_c(c_example, model, csv)
    assert r.returncode == 1
    assert "FK_ERR_INVALID_FORMAT" in r.stderr


def test_docstring_examples_run() -> None:
    import doctest
    import importlib

    for name in ("ferrokit.model", "ferrokit.export"):
        mod = importlib.import_module(name)
        result = doctest.testmod(mod)
        assert result.attempted > 0 and result.failed == 0, name
