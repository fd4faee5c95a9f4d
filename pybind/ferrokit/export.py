"""scikit-learn objects -> ferrokit model files (``docs/model_format.md``).

The only module that knows scikit-learn's fitted attributes. :func:`export`
turns a fitted ``Pipeline`` (or a single estimator) into the bytes of a model
file that :func:`ferrokit.load_model`, the C API (``fk_model_load``) and the
inference server load -- without pickle, so loading never runs code.

Supported (anything else raises ``TypeError`` naming the step and listing
these; a parameter or fitted state the file cannot reproduce raises
``ValueError`` -- never a file that predicts differently):

- steps: StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer (scikit-learn's
  and ferrokit's), SimpleImputer (numeric input; mean / median /
  most_frequent / constant; ``add_indicator=False``);
- final estimator: MLPClassifier, MLPRegressor, LogisticRegression,
  OneVsRestClassifier over a linear classifier, LinearRegression, Ridge,
  RidgeClassifier, SGDClassifier, SGDRegressor, LinearSVC, LinearSVR,
  ferrokit's KNeighborsClassifier / KNeighborsRegressor / NearestNeighbors
  (the training rows are stored), or one of the steps above (a transformer
  pipeline: ``transform`` only).

Text pipelines (the model then takes documents): a HashingVectorizer,
CountVectorizer or TfidfVectorizer (scikit-learn's or ferrokit's; built-in
analyzers, the default ``token_pattern``, ``input='content'``) first,
optionally followed by TfidfTransformer (after a Count/HashingVectorizer),
Normalizer, MaxAbsScaler and StandardScaler(with_mean=False), then one of the
linear final estimators or an MLP (with at least one hidden layer), or nothing
(``transform`` gives the sparse features). The file stores the vocabulary in
column order, ``idf_``, the stop words and this Python's character tables
(word characters, whitespace, lowercase, accent stripping), so C and the
server tokenize exactly like this Python. A callable analyzer, tokenizer,
preprocessor or strip_accents raises ``TypeError``; another token_pattern,
input or dtype ``ValueError``.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from typing import IO, Any

import numpy as np

from ferrokit import _export_text as _text

__all__ = ["SUPPORTED_ESTIMATORS", "SUPPORTED_STEPS", "export"]

_MAGIC = b"FKMODEL\x1a"
_VERSION = 1

# Block kinds (docs/model_format.md).
_META, _STANDARD, _MINMAX, _MAXABS, _NORMALIZER, _IMPUTER = 0, 1, 2, 3, 4, 5
_LIN_REG, _LIN_CLF, _MLP, _KNN_CLF, _KNN_REG, _NN = 16, 17, 18, 19, 20, 21

#: Preprocessing steps export understands (scikit-learn's and ferrokit's).
SUPPORTED_STEPS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "Normalizer", "SimpleImputer")
#: Final estimators export understands.
SUPPORTED_ESTIMATORS = (
    "MLPClassifier",
    "MLPRegressor",
    "LogisticRegression",
    "OneVsRestClassifier(linear classifier)",
    "LinearRegression",
    "Ridge",
    "RidgeClassifier",
    "SGDClassifier",
    "SGDRegressor",
    "LinearSVC",
    "LinearSVR",
    "ferrokit KNeighborsClassifier",
    "ferrokit KNeighborsRegressor",
    "ferrokit NearestNeighbors",
)

_HIDDEN = {"identity": 0, "relu": 1, "logistic": 2, "tanh": 3}
_OUTPUT = {"identity": 0, "logistic": 2, "softmax": 7}
_METRICS = {"sqeuclidean": 0, "euclidean": 1, "l2": 1, "cosine": 2}
_NORMS = {"l1": 1, "l2": 2, "max": 3}


# ------------------------------------------------------------------ writing


def _field(name: str, value: Any) -> bytes:
    """One field: name, type code, count, little-endian payload."""
    head = struct.pack("<B", len(name)) + name.encode("ascii")
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return head + struct.pack("<BHQ", 4, 0, len(raw)) + raw
    if isinstance(value, list):  # list of strings
        parts = [head, struct.pack("<BHQ", 5, 0, len(value))]
        for s in value:
            raw = s.encode("utf-8")
            parts.append(struct.pack("<I", len(raw)) + raw)
        return b"".join(parts)
    a = np.asarray(value)
    if a.dtype == np.float32:
        code, le = 2, "<f4"
    elif a.dtype.kind == "f":
        code, le = 1, "<f8"
    else:
        code, le = 3, "<i8"
    data = np.ascontiguousarray(a, dtype=le).tobytes()
    return head + struct.pack("<BHQ", code, 0, a.size) + data


def _block(kind: int, fields: dict[str, Any]) -> bytes:
    body = [struct.pack("<II", kind, len(fields))]
    body += [_field(k, v) for k, v in fields.items()]
    return b"".join(body)


def _file(blocks: list[bytes], version: int = _VERSION) -> bytes:
    """A file image; version 1 unless it holds a text model (version 2)."""
    body = b"".join(blocks)
    total = 32 + len(body) + 4
    image = _MAGIC + struct.pack("<IIQII", version, 0, total, len(blocks), 0) + body
    return image + struct.pack("<I", zlib.crc32(image))


# ---------------------------------------------------------------- helpers


def _qualname(est: Any) -> str:
    t = type(est)
    return f"{t.__module__}.{t.__qualname__}"


def _who(name: str, est: Any) -> str:
    return f"step {name!r} ({type(est).__name__})"


def _unsupported(name: str, est: Any, final: bool) -> TypeError:
    what = "final estimator" if final else "step"
    return TypeError(
        f"ferrokit.export: {_who(name, est)} is not supported as a {what}. "
        f"Supported steps: {', '.join(SUPPORTED_STEPS)}; supported final estimators: "
        f"{', '.join(SUPPORTED_ESTIMATORS)} (or a pipeline of steps only)."
    )


def _is(est: Any, names: tuple[str, ...], modules: tuple[str, ...]) -> bool:
    t = type(est)
    return t.__name__ in names and any(t.__module__.startswith(m) for m in modules)


_SK_PRE = ("sklearn.preprocessing",)
_FK_PRE = ("ferrokit.preprocessing",)
_PRE = _SK_PRE + _FK_PRE


def _fitted(name: str, est: Any, attrs: tuple[str, ...]) -> None:
    from sklearn.exceptions import NotFittedError

    missing = [a for a in attrs if not hasattr(est, a)]
    if missing:
        raise NotFittedError(
            f"ferrokit.export: {_who(name, est)} is not fitted (missing {', '.join(missing)}); "
            "call fit before exporting"
        )


def _floats(name: str, est: Any, attr: str, n: int) -> np.ndarray:
    a = np.asarray(getattr(est, attr))
    if a.dtype.kind not in "fiub" or a.shape != (n,):
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: {attr} has dtype {a.dtype} and shape {a.shape}, "
            f"expected {n} numbers"
        )
    return a.astype(np.float64)


def _n_in(name: str, est: Any) -> int:
    n = getattr(est, "n_features_in_", None)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"ferrokit.export: {_who(name, est)} has no valid n_features_in_")
    return int(n)


def _labels(name: str, est: Any, classes: Any) -> tuple[dict[str, Any], str]:
    """The ``classes_kind`` / ``classes`` fields and the numpy dtype string."""
    c = np.asarray(classes)
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"ferrokit.export: {_who(name, est)}: classes_ must be 1-D with >= 2 labels")
    k = c.dtype.kind
    if k == "b":
        return {"classes_kind": 4, "classes": c.astype(np.int64)}, c.dtype.str
    if k in "iu":
        if k == "u" and c.size and int(c.max()) > 2**63 - 1:
            raise ValueError(f"ferrokit.export: {_who(name, est)}: class labels do not fit int64")
        return {"classes_kind": 1, "classes": c.astype(np.int64)}, c.dtype.str
    if k == "f":
        return {"classes_kind": 2, "classes": c.astype(np.float64)}, c.dtype.str
    if k in "UO":
        vals = c.tolist()
        if not all(isinstance(v, str) for v in vals):
            kinds = sorted({type(v).__name__ for v in vals})
            raise ValueError(
                f"ferrokit.export: {_who(name, est)}: class labels must be all numbers, all "
                f"booleans or all strings, got {', '.join(kinds)}"
            )
        return {"classes_kind": 3, "classes": vals}, ("object" if k == "O" else c.dtype.str)
    raise ValueError(f"ferrokit.export: {_who(name, est)}: class labels of dtype {c.dtype} are not supported")


# ------------------------------------------------------------------ steps


def _step(name: str, est: Any, width: int) -> tuple[bytes, int] | None:
    """The block of a preprocessing step and its output width, or None if
    ``est`` is not a supported step."""
    base = {"name": name, "estimator": _qualname(est)}
    if _is(est, ("StandardScaler",), _PRE):
        _fitted(name, est, ("n_features_in_",))
        n = _n_in(name, est)
        f: dict[str, Any] = {**base, "n_features": n}
        if est.with_mean:
            _fitted(name, est, ("mean_",))
            f["mean"] = _floats(name, est, "mean_", n)
        if est.with_std and getattr(est, "scale_", None) is not None:
            f["scale"] = _floats(name, est, "scale_", n)
        return _block(_STANDARD, f), n
    if _is(est, ("MinMaxScaler",), _PRE):
        _fitted(name, est, ("scale_", "min_"))
        n = _n_in(name, est)
        f = {**base, "n_features": n, "scale": _floats(name, est, "scale_", n)}
        f["min"] = _floats(name, est, "min_", n)
        if est.clip:
            lo, hi = (float(v) for v in est.feature_range)
            f["clip"] = np.array([lo, hi])
        if _is(est, ("MinMaxScaler",), _FK_PRE):
            f["cast_params"] = 1
        return _block(_MINMAX, f), n
    if _is(est, ("MaxAbsScaler",), _PRE):
        _fitted(name, est, ("scale_",))
        n = _n_in(name, est)
        f = {**base, "n_features": n, "scale": _floats(name, est, "scale_", n)}
        if getattr(est, "clip", False):
            f["clip"] = 1
        if _is(est, ("MaxAbsScaler",), _FK_PRE):
            f["cast_params"] = 1
        return _block(_MAXABS, f), n
    if _is(est, ("Normalizer",), _PRE):
        n = getattr(est, "n_features_in_", width)
        if est.norm not in _NORMS:
            raise ValueError(f"ferrokit.export: {_who(name, est)}: norm {est.norm!r} is not l1, l2 or max")
        return _block(_NORMALIZER, {**base, "n_features": int(n), "norm": _NORMS[est.norm]}), int(n)
    if _is(est, ("SimpleImputer",), ("sklearn.impute",)):
        return _imputer(name, est, base)
    return None


def _imputer(name: str, est: Any, base: dict[str, Any]) -> tuple[bytes, int]:
    _fitted(name, est, ("statistics_",))
    if est.add_indicator:
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: add_indicator=True is not supported "
            "(use add_indicator=False)"
        )
    if est.strategy not in ("mean", "median", "most_frequent", "constant"):
        raise ValueError(f"ferrokit.export: {_who(name, est)}: strategy {est.strategy!r} is not supported")
    mv = est.missing_values
    if isinstance(mv, (bool, np.bool_)) or not isinstance(mv, (int, float, np.integer, np.floating)):
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: missing_values={mv!r} is not supported "
            "(numeric input only: np.nan or a number)"
        )
    n = _n_in(name, est)
    stats = np.asarray(est.statistics_)
    if stats.dtype == object and all(
        isinstance(v, (int, float, np.integer, np.floating)) for v in stats.tolist()
    ):
        stats = stats.astype(np.float64)  # strategy="constant" keeps its fill value as an object
    if stats.dtype.kind not in "fiub" or stats.shape != (n,):
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: statistics_ of dtype {stats.dtype} are not numeric "
            "(only numeric input is supported)"
        )
    stats = stats.astype(np.float64)
    f: dict[str, Any] = {
        **base,
        "n_features": n,
        "statistics": stats,
        "missing_values": np.array([float(mv)]),
    }
    width = n
    if est.strategy != "constant" and not est.keep_empty_features:
        keep = np.flatnonzero(~np.isnan(stats))
        if keep.size == 0:
            raise ValueError(f"ferrokit.export: {_who(name, est)}: every feature is empty")
        if keep.size != n:
            f["keep"] = keep.astype(np.int64)
            width = int(keep.size)
    return _block(_IMPUTER, f), width


# --------------------------------------------------------------- estimators


_LINEAR_CLF = ("LogisticRegression", "RidgeClassifier", "SGDClassifier", "LinearSVC")
_LINEAR_REG = ("LinearRegression", "Ridge", "SGDRegressor", "LinearSVR")
_SK_LINEAR = ("sklearn.linear_model", "sklearn.svm")


def _coef(name: str, est: Any, width: int, sparse_f32: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
    """(coef as (n_outputs, width) float64, intercept (n_outputs,), 1-D coef?);
    float32 weights stay float32 for a text model of dtype float32
    (``sparse_f32``), whose sparse decision scikit-learn computes in float32."""
    _fitted(name, est, ("coef_", "intercept_"))
    coef = np.asarray(est.coef_)
    ravel = coef.ndim == 1
    coef2 = np.atleast_2d(coef)
    if coef2.ndim != 2 or coef2.shape[1] != width or coef.dtype.kind != "f":
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: coef_ of shape {coef.shape} does not take "
            f"{width} features (a sparse or unusual fitted state is not supported)"
        )
    keep32 = sparse_f32 and coef.dtype == np.float32
    b = np.broadcast_to(
        np.asarray(est.intercept_, dtype=np.float32 if keep32 else np.float64), (coef2.shape[0],)
    )
    return coef2.astype(np.float32 if keep32 else np.float64), np.ascontiguousarray(b), ravel


def _proba_rule(est: Any) -> int:
    t = type(est).__name__
    if t == "LogisticRegression":
        return 1 if len(est.classes_) <= 2 else 2
    if t == "SGDClassifier":
        return {"log_loss": 1, "modified_huber": 3}.get(est.loss, 0)
    return 0


def _linear_classifier(
    name: str, est: Any, width: int, sparse_f32: bool = False
) -> tuple[dict[str, Any], str]:
    coef, b, _ = _coef(name, est, width, sparse_f32)
    _fitted(name, est, ("classes_",))
    lab, dt = _labels(name, est, est.classes_)
    if getattr(getattr(est, "_label_binarizer", None), "y_type_", "").startswith("multilabel"):
        raise ValueError(f"ferrokit.export: {_who(name, est)}: multilabel targets are not supported")
    f = {"n_features": width, "n_outputs": coef.shape[0], "coef": coef, "intercept": b}
    return {**f, "proba": _proba_rule(est), **lab}, dt


def _ovr(name: str, est: Any, width: int, sparse_f32: bool = False) -> tuple[dict[str, Any], str]:
    _fitted(name, est, ("estimators_", "classes_"))
    if est.label_binarizer_.y_type_ not in ("binary", "multiclass"):
        raise ValueError(f"ferrokit.export: {_who(name, est)}: multilabel targets are not supported")
    subs = est.estimators_
    if not all(_is(e, _LINEAR_CLF, _SK_LINEAR) for e in subs):
        kinds = sorted({type(e).__name__ for e in subs})
        raise TypeError(
            f"ferrokit.export: {_who(name, est)} wraps {', '.join(kinds)}; only OneVsRestClassifier "
            f"over {', '.join(_LINEAR_CLF)} is supported"
        )
    parts = [_coef(name, e, width, sparse_f32) for e in subs]
    if any(c.shape[0] != 1 for c, _, _ in parts):
        raise ValueError(f"ferrokit.export: {_who(name, est)}: inner estimators must be binary")
    coef = np.vstack([c for c, _, _ in parts])
    b = np.concatenate([i for _, i, _ in parts])
    rules = {_proba_rule(e) for e in subs}
    proba = 0
    if rules == {1}:
        proba = 1 if len(subs) == 1 else 4
    lab, dt = _labels(name, est, est.classes_)
    f = {"n_features": width, "n_outputs": coef.shape[0], "coef": coef, "intercept": b, "proba": proba}
    return {**f, **lab, "last_argmax": 1}, dt


def _mlp(name: str, est: Any, width: int) -> tuple[dict[str, Any], str]:
    _fitted(name, est, ("coefs_", "intercepts_", "out_activation_"))
    if est.activation not in _HIDDEN:
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: activation {est.activation!r} is not supported"
        )
    if est.out_activation_ not in _OUTPUT:
        raise ValueError(f"ferrokit.export: {_who(name, est)}: output activation {est.out_activation_!r}")
    coefs = [np.asarray(c) for c in est.coefs_]
    sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
    if sizes[0] != width:
        raise ValueError(f"ferrokit.export: {_who(name, est)} takes {sizes[0]} features, receives {width}")
    f: dict[str, Any] = {
        "sizes": np.array(sizes, dtype=np.int64),
        "hidden": _HIDDEN[est.activation],
        "output": _OUTPUT[est.out_activation_],
    }
    dt = ""
    if type(est).__name__ == "MLPClassifier":
        y_type = getattr(getattr(est, "_label_binarizer", None), "y_type_", None)
        f["task"] = 2 if y_type == "multilabel-indicator" else 1
        lab, dt = _labels(name, est, est.classes_)
        f.update(lab)
    else:
        f["task"] = 0
        if sizes[-1] == 1:
            f["ravel"] = 1
    wdt = np.float32 if coefs[0].dtype == np.float32 else np.float64
    for i, (c, b) in enumerate(zip(coefs, est.intercepts_, strict=True)):
        f[f"coef{i}"] = np.asarray(c, dtype=wdt)
        f[f"intercept{i}"] = np.asarray(b, dtype=wdt)
    return f, dt


def _knn(name: str, est: Any, width: int) -> tuple[int, dict[str, Any], str]:
    _fitted(name, est, ("_fit_X", "n_samples_fit_"))
    backend = getattr(est, "_backend", None)
    metric = getattr(backend, "metric", None)
    if getattr(est, "_fallback", None) is not None or getattr(backend, "kind", None) != "gemm":
        metric = getattr(est, "effective_metric_", est.metric)
    if metric not in _METRICS:
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: metric {metric!r} is not supported "
            f"(supported: {', '.join(sorted(_METRICS))})"
        )
    fit_x = np.asarray(est._fit_X)
    if fit_x.dtype not in (np.float32, np.float64) or fit_x.ndim != 2 or fit_x.shape[1] != width:
        raise ValueError(f"ferrokit.export: {_who(name, est)}: unexpected fitted rows {fit_x.shape}")
    f: dict[str, Any] = {
        "n_features": width,
        "n_samples": fit_x.shape[0],
        "fit_x": fit_x,
        "n_neighbors": int(est.n_neighbors),
        "metric": _METRICS[metric],
    }
    t = type(est).__name__
    if t == "NearestNeighbors":
        return _NN, f, ""
    weights = "uniform" if est.weights is None else est.weights
    if not isinstance(weights, str) or weights not in ("uniform", "distance"):
        raise ValueError(
            f"ferrokit.export: {_who(name, est)}: weights {est.weights!r} is not supported "
            "(uniform or distance)"
        )
    f["weights"] = 0 if weights == "uniform" else 1
    y = np.asarray(est._y)
    if t == "KNeighborsClassifier":
        if getattr(est, "outputs_2d_", False):
            raise ValueError(f"ferrokit.export: {_who(name, est)}: multi-output targets are not supported")
        lab, dt = _labels(name, est, est.classes_)
        return _KNN_CLF, {**f, **lab, "y": y.astype(np.int64)}, dt
    f["n_targets"] = 1 if y.ndim == 1 else y.shape[1]
    f["y"] = y.astype(np.float64)
    if y.ndim == 1:
        f["ravel"] = 1
    return _KNN_REG, f, ""


def _final(name: str, est: Any, width: int, sparse_f32: bool = False) -> tuple[bytes, str]:
    base = {"name": name, "estimator": _qualname(est)}
    if _is(est, ("MLPClassifier", "MLPRegressor"), ("sklearn.neural_network",)):
        f, dt = _mlp(name, est, width)
        return _block(_MLP, {**base, **f}), dt
    if _is(est, _LINEAR_CLF, _SK_LINEAR):
        f, dt = _linear_classifier(name, est, width, sparse_f32)
        return _block(_LIN_CLF, {**base, **f}), dt
    if _is(est, ("OneVsRestClassifier",), ("sklearn.multiclass",)):
        f, dt = _ovr(name, est, width, sparse_f32)
        return _block(_LIN_CLF, {**base, **f}), dt
    if _is(est, _LINEAR_REG, _SK_LINEAR):
        coef, b, ravel = _coef(name, est, width, sparse_f32)
        f = {"n_features": width, "n_outputs": coef.shape[0], "coef": coef, "intercept": b}
        if ravel:
            f["ravel"] = 1
        return _block(_LIN_REG, {**base, **f}), ""
    if _is(
        est,
        ("KNeighborsClassifier", "KNeighborsRegressor", "NearestNeighbors"),
        ("ferrokit._neighbors_sklearn", "ferrokit.neighbors"),
    ):
        kind, f, dt = _knn(name, est, width)
        return _block(kind, {**base, **f}), dt
    raise _unsupported(name, est, final=True)


# ------------------------------------------------------------------ export


def _flat_steps(obj: Any) -> list[tuple[str, Any]]:
    """(name, estimator) of a Pipeline (nested pipelines flattened;
    ``"passthrough"`` / None skipped) or of a single estimator."""
    steps = getattr(obj, "steps", None)
    if steps is None or not _is(obj, ("Pipeline",), ("sklearn.pipeline",)):
        return [(type(obj).__name__.lower(), obj)]
    out: list[tuple[str, Any]] = []
    for name, est in steps:
        if est is None or (isinstance(est, str) and est == "passthrough"):
            continue
        if _is(est, ("Pipeline",), ("sklearn.pipeline",)):
            out += [(f"{name}__{n}", e) for n, e in _flat_steps(est)]
        else:
            out.append((name, est))
    if not out:
        raise ValueError("ferrokit.export: the pipeline has no steps")
    return out


def _known(est: Any) -> bool:
    """True if ``est`` is of a type export supports (fitted or not)."""
    return (
        _is(est, ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "Normalizer"), _PRE)
        or _is(est, ("SimpleImputer",), ("sklearn.impute",))
        or _is(est, ("MLPClassifier", "MLPRegressor"), ("sklearn.neural_network",))
        or _is(est, _LINEAR_CLF + _LINEAR_REG, _SK_LINEAR)
        or _is(est, ("OneVsRestClassifier",), ("sklearn.multiclass",))
        or _is(
            est,
            ("KNeighborsClassifier", "KNeighborsRegressor", "NearestNeighbors"),
            ("ferrokit._neighbors_sklearn", "ferrokit.neighbors"),
        )
    )


def _to_bytes(obj: Any) -> bytes:
    try:
        import sklearn
    except ImportError as exc:  # pragma: no cover - sklearn is an optional extra
        raise ImportError("ferrokit.export needs scikit-learn installed") from exc
    steps = _flat_steps(obj)
    if _text.is_vectorizer(steps[0][1]):
        return _text_to_bytes(obj, steps, sklearn.__version__)
    for i, (name, est) in enumerate(steps):
        if not _known(est):
            raise _unsupported(name, est, final=i == len(steps) - 1)
    first_name, first = steps[0]
    n_features = getattr(first, "n_features_in_", None)
    if n_features is None:
        if not _known(first):
            raise _unsupported(first_name, first, final=len(steps) == 1)
        _fitted(first_name, first, ("n_features_in_",))
    width = int(n_features)
    blocks: list[bytes] = []
    for name, est in steps[:-1]:
        got = _step(name, est, width)
        if got is None:
            raise _unsupported(name, est, final=False)
        blk, width = got
        blocks.append(blk)
    name, est = steps[-1]
    classes_dtype = ""
    got = _step(name, est, width)
    if got is not None:
        blocks.append(got[0])
    else:
        blk, classes_dtype = _final(name, est, width)
        blocks.append(blk)
    from ferrokit import __version__

    meta: dict[str, Any] = {"input": 0, "n_features": int(n_features)}
    names = getattr(obj, "feature_names_in_", None)
    if names is None:
        names = getattr(first, "feature_names_in_", None)
    if names is not None:
        meta["feature_names"] = [str(s) for s in names]
    info = {"producer": f"ferrokit {__version__}", "sklearn": sklearn.__version__}
    if classes_dtype:
        info["classes_dtype"] = classes_dtype
    meta["metadata"] = json.dumps(info, sort_keys=True)
    return _file([_block(_META, meta), *blocks])


def _text_to_bytes(obj: Any, steps: list[tuple[str, Any]], sk_version: str) -> bytes:
    """A text pipeline: vectorizer blocks, sparse steps, final estimator."""
    name, vec = steps[0]
    blocks, width, text_info = _text.vectorizer_blocks(name, vec, _block)
    classes_dtype = ""
    rest = steps[1:]
    for i, (name, est) in enumerate(rest):
        last = i == len(rest) - 1
        if _text.is_tfidf_transformer(est):
            if i != 0 or type(vec).__name__ == "TfidfVectorizer":
                raise ValueError(
                    f"ferrokit.export: {_who(name, est)} must directly follow a CountVectorizer "
                    "or HashingVectorizer"
                )
            blocks += _text.transformer_blocks(name, est, _block, width)
        elif _is(est, ("Normalizer", "MaxAbsScaler", "StandardScaler"), _SK_PRE):
            if getattr(est, "with_mean", False) or getattr(est, "clip", False):
                raise ValueError(
                    f"ferrokit.export: {_who(name, est)}: centering or clipping sparse text features "
                    "is not supported (StandardScaler needs with_mean=False, MaxAbsScaler clip=False)"
                )
            got = _step(name, est, width)
            assert got is not None
            if got[1] != width:
                raise ValueError(
                    f"ferrokit.export: {_who(name, est)} takes {got[1]} columns, receives {width}"
                )
            blocks.append(got[0])
        elif last and _known(est) and not _is(est, SUPPORTED_STEPS, (*_PRE, "sklearn.impute")):
            if _is(est, ("KNeighborsClassifier", "KNeighborsRegressor", "NearestNeighbors"), ("ferrokit",)):
                raise TypeError(f"ferrokit.export: {_who(name, est)}: k-NN models on text are not supported")
            if (
                _is(est, ("MLPClassifier", "MLPRegressor"), ("sklearn.neural_network",))
                and len(est.coefs_) < 2
            ):
                raise ValueError(f"ferrokit.export: {_who(name, est)}: an MLP on text needs a hidden layer")
            blk, classes_dtype = _final(name, est, width, text_info["dtype"] == "<f4")
            blocks.append(blk)
        else:
            raise TypeError(
                f"ferrokit.export: {_who(name, est)} is not supported in a text pipeline. "
                f"Supported: {_text.SUPPORTED_TEXT}; then one of {', '.join(SUPPORTED_ESTIMATORS[:-3])} "
                "or nothing."
            )
    from ferrokit import __version__

    if rest and text_info["dtype"] == "<f4":
        # scikit-learn's outputs are float32 when the final estimator's weights are.
        est = rest[-1][1]
        w = getattr(est, "coef_", None)
        if w is None and getattr(est, "coefs_", None):
            w = est.coefs_[0]
        if w is not None and np.asarray(w).dtype == np.float32:
            text_info = {**text_info, "output_dtype": "<f4"}
    info: dict[str, Any] = {"producer": f"ferrokit {__version__}", "sklearn": sk_version, "text": text_info}
    if classes_dtype:
        info["classes_dtype"] = classes_dtype
    meta = {"input": 1, "n_features": 1, "metadata": json.dumps(info, sort_keys=True)}
    return _file([_block(_META, meta), *blocks], version=2)


def export(estimator: Any, file: str | os.PathLike[str] | IO[bytes] | None = None) -> bytes | None:
    """Saves a fitted scikit-learn ``Pipeline`` (or a single estimator) as a
    ferrokit model file.

    ``file``: a path (written atomically: a temporary file renamed over it),
    a binary file object, or None to return the bytes. Load it with
    :func:`ferrokit.load_model`, ``fk_model_load`` in C, or the inference
    server. See the module docstring for what is supported; an unsupported
    step raises ``TypeError`` naming it and listing the supported ones, an
    unsupported parameter or fitted state ``ValueError``, an unfitted step
    scikit-learn's ``NotFittedError``.

    >>> import numpy as np, ferrokit as fk
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(50, 3)); y = X[:, 0] > 0
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> m = fk.load_model(fk.export(pipe))
    >>> bool((m.predict(X) == pipe.predict(X)).all())
    True
    """
    data = _to_bytes(estimator)
    if file is None:
        return data
    if isinstance(file, (str, os.PathLike)):
        tmp = os.fspath(file) + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, file)
        return None
    if not hasattr(file, "write"):
        raise TypeError(
            f"ferrokit.export: file must be a path, a binary file object or None, got {type(file).__name__}"
        )
    file.write(data)
    return None
