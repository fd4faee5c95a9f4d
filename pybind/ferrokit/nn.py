"""Inference kernels and scikit-learn MLP inference.

Kernels work along the **last axis** of C-contiguous arrays of any number of
dimensions, in float32 or float64 (float32 stays float32; integer input and
lists become float64). ``out=`` may be given (same shape and dtype; it may be
``x`` itself for an in-place call where noted). NaN propagates like numpy: a
NaN makes its own element NaN (element-wise kernels) or its whole row NaN
(softmax, log_softmax, layer_norm, rms_norm); infinities follow the formulas.

>>> import numpy as np, ferrokit as fk
>>> fk.nn.softmax(np.array([[1.0, 1.0], [0.0, 1e4]]))
array([[0.5, 0.5],
       [0. , 1. ]])

``MLP.from_sklearn(model)`` runs a fitted ``MLPClassifier`` / ``MLPRegressor``
in Rust with scikit-learn's predictions; ``save`` / ``MLP.load`` use a
versioned binary file that C programs load with ``fk_mlp_load``
(docs/mlp_format.md).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import (
    F32,
    F64,
    as_float_array,
    c_contiguous,
    cbuf,
    cbuf_f64_out,
    cbuf_i64_out,
    cbuf_out,
    cbytes,
    check_out,
    cpath,
    data_address,
    flat_view,
)
from ferrokit._errors import InvalidStateError, ShapeMismatchError, raise_for_status
from ferrokit._feature_names import check_feature_names
from ferrokit._handle import HandleOwner, NativeHandle
from ferrokit._native import ffi, lib

__all__ = [
    "MLP",
    "gelu",
    "layer_norm",
    "linear",
    "log_softmax",
    "relu",
    "rms_norm",
    "sigmoid",
    "silu",
    "softmax",
    "tanh",
    "topk",
]

_ACT = {
    None: lib.FK_ACT_IDENTITY,
    "identity": lib.FK_ACT_IDENTITY,
    "relu": lib.FK_ACT_RELU,
    "sigmoid": lib.FK_ACT_SIGMOID,
    "logistic": lib.FK_ACT_SIGMOID,
    "tanh": lib.FK_ACT_TANH,
    "gelu": lib.FK_ACT_GELU,
    "gelu_tanh": lib.FK_ACT_GELU_TANH,
    "silu": lib.FK_ACT_SILU,
    "softmax": lib.FK_ACT_SOFTMAX,
}


def _check(st: int) -> None:
    if st:
        raise_for_status(st)


# ------------------------------------------------------------------ helpers


def _input(x: Any, fn: str) -> np.ndarray:
    arr, _ = as_float_array(x, fn, "x")
    return arr


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    return data_address(a) == data_address(b) and a.strides == b.strides and a.shape == b.shape


def _prepare_out(
    x: np.ndarray, out: np.ndarray | None, fn: str, *, layout_free: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns ``(src, dst, result)``: C-contiguous flat views to pass to C
    and the array to return. ``layout_free`` kernels (element-wise) accept
    Fortran order as the transposed buffer."""
    if out is None:
        if layout_free:
            xv = flat_view(x)
            if xv is not None:
                res = np.empty_like(x)
                return xv, flat_view(res), res
        src = c_contiguous(x)
        res = np.empty(x.shape, dtype=x.dtype)
        return src, res, res
    check_out(out, x, fn, "x")
    if not (out.flags.c_contiguous and out.flags.aligned):
        raise ValueError(f"{fn}: out must be C-contiguous and aligned")
    if np.may_share_memory(x, out):
        if _same_buffer(x, out):
            return out, out, out  # in place
        x = x.copy()  # partial overlap: read from a copy
    src = c_contiguous(x)
    return src, out, out


def _rows_cols(x: np.ndarray, fn: str) -> tuple[int, int]:
    if x.ndim == 0:
        raise ShapeMismatchError(f"{fn}: x must have at least 1 dimension, got a 0-d array")
    cols = x.shape[-1]
    return (x.size // cols if cols else int(np.prod(x.shape[:-1]))), cols


def _vector_param(v: Any, fn: str, arg: str, like: np.ndarray, cols: int) -> np.ndarray | None:
    if v is None:
        return None
    arr, _ = as_float_array(v, fn, arg)
    if arr.shape != (cols,):
        raise ShapeMismatchError(
            f"{fn}: {arg} must have shape ({cols},) like the last axis of x, got {arr.shape}"
        )
    return c_contiguous(arr, dtype=like.dtype)


# -------------------------------------------------------------- element-wise


def _activation(x: ArrayLike, code: int, fn: str, out: np.ndarray | None) -> np.ndarray:
    arr = _input(x, fn)
    src, dst, res = _prepare_out(arr, out, fn, layout_free=True)
    f = lib.fk_activation_f64 if src.dtype is F64 or src.dtype == F64 else lib.fk_activation_f32
    _check(f(code, cbuf(src), src.size, cbuf_out(dst), dst.size))
    return res


def relu(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """``max(x, 0)`` element-wise (NaN stays NaN, like ``np.maximum(x, 0)``).

    >>> import ferrokit as fk
    >>> fk.nn.relu([-1.0, 2.0])
    array([0., 2.])
    """
    return _activation(x, lib.FK_ACT_RELU, "relu", out)


def sigmoid(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``).

    >>> import ferrokit as fk
    >>> fk.nn.sigmoid([0.0])
    array([0.5])
    """
    return _activation(x, lib.FK_ACT_SIGMOID, "sigmoid", out)


def tanh(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """``tanh(x)`` element-wise.

    >>> import ferrokit as fk
    >>> fk.nn.tanh([0.0])
    array([0.])
    """
    return _activation(x, lib.FK_ACT_TANH, "tanh", out)


def gelu(x: ArrayLike, *, approximate: str = "none", out: np.ndarray | None = None) -> np.ndarray:
    """GELU: ``x * Phi(x)``; ``approximate="none"`` is the exact erf form
    ``0.5 x (1 + erf(x / sqrt 2))``, ``"tanh"`` the tanh approximation
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. Both are evaluated
    without cancellation for negative x (via erfc / the logistic function).

    >>> import ferrokit as fk
    >>> fk.nn.gelu([0.0, 1.0]).round(6)
    array([0.      , 0.841345])
    """
    if approximate == "none":
        code = lib.FK_ACT_GELU
    elif approximate == "tanh":
        code = lib.FK_ACT_GELU_TANH
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _activation(x, code, "gelu", out)


def silu(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """SiLU / swish: ``x * sigmoid(x)``.

    >>> import ferrokit as fk
    >>> fk.nn.silu([0.0])
    array([0.])
    """
    return _activation(x, lib.FK_ACT_SILU, "silu", out)


# ------------------------------------------------------------------ row-wise

_NULL = ffi.NULL


def _row_kernel(x: ArrayLike, fn: str, out: np.ndarray | None, call: Any) -> np.ndarray:
    arr = _input(x, fn)
    rows, cols = _rows_cols(arr, fn)
    src, dst, res = _prepare_out(arr, out, fn, layout_free=False)
    _check(call(src.dtype, cbuf(src), rows, cols, cbuf_out(dst), dst.size))
    return res


def softmax(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax along the last axis: ``exp(x - max) / sum(exp(x - max))``.

    Stable for any finite input (rows sum to 1 even for values like 1e4). A
    NaN makes its row NaN (like the numpy formula). ``out`` may be ``x``.

    >>> import ferrokit as fk
    >>> fk.nn.softmax([0.0, 0.0])
    array([0.5, 0.5])
    """

    def call(dt: np.dtype, *a: Any) -> int:
        return (lib.fk_softmax_f64 if dt == F64 else lib.fk_softmax_f32)(*a)

    return _row_kernel(x, "softmax", out, call)


def log_softmax(x: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """Log-softmax along the last axis: ``x - max - log(sum(exp(x - max)))``.

    >>> import ferrokit as fk
    >>> fk.nn.log_softmax([0.0, 0.0]).round(6)
    array([-0.693147, -0.693147])
    """

    def call(dt: np.dtype, *a: Any) -> int:
        return (lib.fk_log_softmax_f64 if dt == F64 else lib.fk_log_softmax_f32)(*a)

    return _row_kernel(x, "log_softmax", out, call)


def _eps(eps: Any, fn: str) -> float:
    try:
        e = float(eps)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: eps must be a number, got {type(eps).__name__}") from None
    if not (e >= 0.0 and np.isfinite(e)):
        raise ValueError(f"{fn}: eps must be a finite number >= 0, got {eps!r}")
    return e


def layer_norm(
    x: ArrayLike,
    weight: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    eps: float = 1e-5,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Layer normalization over the last axis:
    ``(x - mean) / sqrt(var + eps) * weight + bias`` (biased variance, like
    ``torch.nn.functional.layer_norm``; statistics in float64). ``weight`` and
    ``bias`` have the length of the last axis or are None. ``out`` may be ``x``.

    >>> import ferrokit as fk
    >>> fk.nn.layer_norm([1.0, 3.0], eps=0.0)
    array([-1.,  1.])
    """
    e = _eps(eps, "layer_norm")
    arr = _input(x, "layer_norm")
    _, cols = _rows_cols(arr, "layer_norm")
    w = _vector_param(weight, "layer_norm", "weight", arr, cols)
    b = _vector_param(bias, "layer_norm", "bias", arr, cols)

    def call(dt: np.dtype, xp: Any, rows: int, cols: int, o: Any, no: int) -> int:
        f = lib.fk_layer_norm_f64 if dt == F64 else lib.fk_layer_norm_f32
        wp, nw = (cbuf(w), w.size) if w is not None else (_NULL, 0)
        bp, nb = (cbuf(b), b.size) if b is not None else (_NULL, 0)
        return f(xp, rows, cols, wp, nw, bp, nb, e, o, no)

    return _row_kernel(arr, "layer_norm", out, call)


def rms_norm(
    x: ArrayLike,
    weight: ArrayLike | None = None,
    eps: float = 1e-6,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """RMS normalization over the last axis: ``x / sqrt(mean(x**2) + eps) * weight``.

    >>> import ferrokit as fk
    >>> fk.nn.rms_norm([3.0, 4.0], eps=0.0).round(6)
    array([0.848528, 1.131371])
    """
    e = _eps(eps, "rms_norm")
    arr = _input(x, "rms_norm")
    _, cols = _rows_cols(arr, "rms_norm")
    w = _vector_param(weight, "rms_norm", "weight", arr, cols)

    def call(dt: np.dtype, xp: Any, rows: int, cols: int, o: Any, no: int) -> int:
        f = lib.fk_rms_norm_f64 if dt == F64 else lib.fk_rms_norm_f32
        wp, nw = (cbuf(w), w.size) if w is not None else (_NULL, 0)
        return f(xp, rows, cols, wp, nw, e, o, no)

    return _row_kernel(arr, "rms_norm", out, call)


# ---------------------------------------------------------------------- topk


def topk(x: ArrayLike, k: int, largest: bool = True, sorted: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest (or smallest) values along the last axis and their
    indices (int64). NaN ranks above +inf (like ``torch.topk``); ties go to the
    lower index. With ``sorted=False`` each row's k results are in index order.
    ``largest`` and ``sorted`` must be bools (``TypeError`` otherwise: a string
    such as ``"no"`` would be true).

    >>> import ferrokit as fk
    >>> fk.nn.topk([3.0, 1.0, 4.0, 1.0], 2)
    (array([4., 3.]), array([2, 0]))
    """
    arr = _input(x, "topk")
    rows, cols = _rows_cols(arr, "topk")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk: k must be an integer, got {type(k).__name__}")
    for name, flag in (("largest", largest), ("sorted", sorted)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"topk: {name} must be a bool, got {type(flag).__name__} {flag!r}")
    k = int(k)
    if not 0 <= k <= cols:
        raise ValueError(f"topk: k must be in [0, {cols}] (the length of the last axis), got {k}")
    src = c_contiguous(arr)
    values = np.empty((*arr.shape[:-1], k), dtype=arr.dtype)
    indices = np.empty((*arr.shape[:-1], k), dtype=np.int64)
    f = lib.fk_topk_f64 if src.dtype == F64 else lib.fk_topk_f32
    _check(
        f(
            cbuf(src),
            rows,
            cols,
            k,
            int(bool(largest)),
            int(bool(sorted)),
            cbuf_out(values),
            values.size,
            cbuf_i64_out(indices),
            indices.size,
        )
    )
    return values, indices


# -------------------------------------------------------------------- linear


def linear(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    activation: str | None = None,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A dense layer ``activation(x @ weight.T + bias)`` with the activation fused.

    ``x`` is ``(..., k)``, ``weight`` ``(n, k)`` (PyTorch's ``Linear`` layout),
    ``bias`` ``(n,)`` or None; the result is ``(..., n)``. ``activation`` is
    None/"identity", "relu", "sigmoid" (or "logistic"), "tanh", "gelu",
    "gelu_tanh", "silu" or "softmax" (row-wise). Mixed float32/float64 inputs
    compute in float64. The product runs on the ``gemm`` crate inside
    ferrokit's thread pool. ``out`` must not overlap the inputs.

    >>> import numpy as np, ferrokit as fk
    >>> fk.nn.linear(np.array([[1.0, 2.0]]), np.array([[1.0, 1.0], [1.0, -1.0]]), [0.5, 0.5], "relu")
    array([[3.5, 0. ]])
    """
    if activation not in _ACT:
        raise ValueError(
            f"linear: activation must be one of {sorted(k for k in _ACT if k)} or None, got {activation!r}"
        )
    xa = _input(x, "linear")
    w, _ = as_float_array(weight, "linear", "weight")
    if xa.ndim == 0:
        raise ShapeMismatchError("linear: x must have at least 1 dimension, got a 0-d array")
    if w.ndim != 2:
        raise ShapeMismatchError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}"
        )
    k = xa.shape[-1]
    if w.shape[1] != k:
        raise ShapeMismatchError(
            f"linear: x has {k} features (last axis) but weight has shape {w.shape}; expected (n, {k})"
        )
    n = w.shape[0]
    dt = np.result_type(xa.dtype, w.dtype)
    b = None
    if bias is not None:
        b, _ = as_float_array(bias, "linear", "bias")
        if b.shape != (n,):
            raise ShapeMismatchError(f"linear: bias must have shape ({n},), got {b.shape}")
        dt = np.result_type(dt, b.dtype)
        b = c_contiguous(b, dtype=dt)
    xs = c_contiguous(xa, dtype=dt)
    ws = c_contiguous(w, dtype=dt)
    m = xs.size // k if k else int(np.prod(xs.shape[:-1]))
    shape = (*xs.shape[:-1], n)
    if out is None:
        res = np.empty(shape, dtype=dt)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"linear: out must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != shape or out.dtype != dt:
            raise ShapeMismatchError(
                f"linear: out must have shape {shape} and dtype {dt}, got {out.shape} {out.dtype}"
            )
        if not (out.flags.c_contiguous and out.flags.aligned and out.flags.writeable):
            raise ValueError("linear: out must be writable, C-contiguous and aligned")
        if any(np.may_share_memory(out, a) for a in (xs, ws) + ((b,) if b is not None else ())):
            raise ValueError("linear: out must not overlap x, weight or bias")
        res = out
    f = lib.fk_linear_f64 if dt == F64 else lib.fk_linear_f32
    bp, nb = (cbuf(b), b.size) if b is not None else (_NULL, 0)
    _check(f(cbuf(xs), m, k, cbuf(ws), n, k, bp, nb, _ACT[activation], cbuf_out(res), res.size))
    return res


# ----------------------------------------------------------------------- MLP

_MAGIC = b"FKMLP\x1a\r\n"
_SK_HIDDEN = {"identity": 0, "relu": 1, "logistic": 2, "tanh": 3}
_SK_OUTPUT = {"identity": 0, "logistic": 2, "softmax": 7}
_LABELS_NONE, _LABELS_INT, _LABELS_FLOAT, _LABELS_TEXT, _LABELS_BOOL = 0, 1, 2, 3, 4


def _text(values: list[Any], what: str) -> bytes:
    """Strings as the file stores them: per string a u32 byte length, then UTF-8."""
    parts = []
    for c in values:
        if isinstance(c, bytes):
            c = c.decode("utf-8")
        if not isinstance(c, str):
            raise TypeError(
                f"MLP.from_sklearn: {what}s must be all numbers or all strings, got {type(c).__name__}"
            )
        raw = c.encode("utf-8")
        if len(raw) > 65536:
            raise ValueError(f"MLP.from_sklearn: a {what} is longer than 65536 bytes")
        parts.append(struct.pack("<I", len(raw)) + raw)
    return b"".join(parts)


def _label_section(classes: np.ndarray | None) -> bytes:
    if classes is None:
        return struct.pack("<B7xQ", _LABELS_NONE, 0)
    n = len(classes)
    kind = classes.dtype.kind
    if kind == "b":
        return struct.pack("<B7xQ", _LABELS_BOOL, n) + classes.astype("<i8").tobytes()
    if kind in "iu":
        if n and (int(classes.max()) > 2**63 - 1):
            raise TypeError("MLP.from_sklearn: integer class labels do not fit int64")
        return struct.pack("<B7xQ", _LABELS_INT, n) + classes.astype("<i8").tobytes()
    if kind == "f":
        return struct.pack("<B7xQ", _LABELS_FLOAT, n) + classes.astype("<f8").tobytes()
    if kind in "USO":
        return struct.pack("<B7xQ", _LABELS_TEXT, n) + _text(classes.tolist(), "class label")
    raise TypeError(f"MLP.from_sklearn: class labels of dtype {classes.dtype} are not supported")


def _model_bytes(
    dtype: np.dtype,
    task: int,
    hidden: int,
    output: int,
    coefs: list[np.ndarray],
    intercepts: list[np.ndarray],
    classes: np.ndarray | None,
    feature_names: np.ndarray | None = None,
) -> bytes:
    """The file image (docs/mlp_format.md): version 1, or version 2 when
    there are feature names (so files without them stay readable by older
    versions)."""
    sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
    le = np.dtype("<f4") if dtype == F32 else np.dtype("<f8")
    tag = 1 if dtype == F32 else 2
    parts = [
        _MAGIC,
        struct.pack("<IBBBBII", 1 if feature_names is None else 2, tag, task, hidden, output, len(coefs), 0),
        struct.pack(f"<{len(sizes)}Q", *sizes),
        _label_section(classes),
    ]
    if feature_names is not None:
        names = list(feature_names)
        parts.append(struct.pack("<Q", len(names)) + _text(names, "feature name"))
    for c, b in zip(coefs, intercepts, strict=True):
        parts.append(c_contiguous(c, dtype=le).tobytes())
        parts.append(c_contiguous(b, dtype=le).tobytes())
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


class MLP(HandleOwner):
    """A multi-layer perceptron run by ferrokit (thread-safe: any number of
    threads may predict with one model at once; the GIL is released).

    Build it with :meth:`from_sklearn` or :meth:`load`. It owns a native
    handle, freed by :meth:`close`, at the end of a ``with`` block, or by the
    garbage collector -- exactly once in every case.

    >>> import numpy as np, ferrokit as fk
    >>> from sklearn.neural_network import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    >>> sk = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> with fk.nn.MLP.from_sklearn(sk) as m:  # doctest: +SKIP
    ...     bool((m.predict(X) == sk.predict(X)).all())
    True
    """

    def __init__(self, _handle: Any, *, _token: object = None) -> None:
        if _token is not _PRIVATE:
            raise TypeError("MLP: use MLP.from_sklearn(model) or MLP.load(path)")
        self._own = NativeHandle(_handle, lib.fk_mlp_free, "MLP")
        info = ffi.new("fk_mlp_info *")
        with self._own.borrow("__init__") as h:
            _check(lib.fk_mlp_get_info(h, info))
            classes = self._read_classes(h, int(info.label_kind), int(info.n_classes))
            names = self._read_feature_names(h)
        self.dtype: np.dtype = F32 if info.dtype == lib.FK_DTYPE_F32 else F64
        self.task: str = {0: "regressor", 1: "classifier", 2: "multilabel"}[info.task]
        self.n_features_in_: int = int(info.n_features)
        self.n_outputs_: int = int(info.n_outputs)
        self.n_layers_: int = int(info.n_layers) + 1
        self._n_proba = int(info.n_proba_columns)
        self.classes_: np.ndarray | None = classes
        f32 = self.dtype == F32
        self._predict = lib.fk_mlp_predict_f32 if f32 else lib.fk_mlp_predict_f64
        self._proba = lib.fk_mlp_predict_proba_f32 if f32 else lib.fk_mlp_predict_proba_f64
        self._classes_fn = lib.fk_mlp_predict_class_f32 if f32 else lib.fk_mlp_predict_class_f64
        self._ctype = "float[]" if f32 else "double[]"
        # What predict_proba's fast path needs, in one attribute lookup.
        # Arrays (no names) given to a model fitted with names get
        # scikit-learn's warning on the checked path: no fast path then.
        self._feature_names: np.ndarray | None = names
        fast_cols = self._n_proba if names is None else 0
        self._fast = (self.dtype, self.n_features_in_, fast_cols, self._proba, self._ctype)

    @staticmethod
    def _read_feature_names(h: Any) -> np.ndarray | None:
        ln = ffi.new("size_t *")
        _check(lib.fk_mlp_n_feature_names(h, ln))
        n = int(ln[0])
        if n == 0:
            return None
        names = []
        for i in range(n):
            _check(lib.fk_mlp_feature_name(h, i, _NULL, 0, ln))
            buf = ffi.new("char[]", ln[0] + 1)
            _check(lib.fk_mlp_feature_name(h, i, buf, ln[0] + 1, ln))
            names.append(ffi.string(buf, ln[0]).decode("utf-8"))
        return np.array(names, dtype=object)

    @staticmethod
    def _read_classes(h: Any, kind: int, n: int) -> np.ndarray | None:
        if kind == _LABELS_NONE:
            return None
        if kind in (_LABELS_INT, _LABELS_BOOL):
            a = np.empty(n, dtype=np.int64)
            _check(lib.fk_mlp_classes_i64(h, cbuf_i64_out(a), n))
            return a.astype(bool) if kind == _LABELS_BOOL else a
        if kind == _LABELS_FLOAT:
            a = np.empty(n, dtype=np.float64)
            _check(lib.fk_mlp_classes_f64(h, cbuf_f64_out(a), n))
            return a
        labels = []
        ln = ffi.new("size_t *")
        for i in range(n):
            _check(lib.fk_mlp_class_label(h, i, _NULL, 0, ln))
            buf = ffi.new("char[]", ln[0] + 1)
            _check(lib.fk_mlp_class_label(h, i, buf, ln[0] + 1, ln))
            labels.append(ffi.string(buf, ln[0]).decode("utf-8"))
        return np.array(labels)

    # ---------------------------------------------------------------- create

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> MLP:
        """Loads a model from its file image (what :meth:`to_bytes` returns and
        :meth:`save` writes). Same errors as :meth:`load`; ``TypeError`` for
        anything but a bytes-like object.

        >>> import ferrokit as fk
        >>> try:
        ...     fk.nn.MLP.from_bytes(b"not a model")
        ... except fk.InvalidFormatError as e:
        ...     print(e)  # doctest: +ELLIPSIS
        mlp file: not a ferrokit MLP model (wrong magic bytes; ...
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"MLP.from_bytes: data must be bytes-like, got {type(data).__name__}")
        p = ffi.new("fk_mlp **")
        _check(lib.fk_mlp_load_bytes(cbytes(data), len(data), p))
        return cls(p[0], _token=_PRIVATE)

    def to_bytes(self) -> bytes:
        """The model's file image (docs/mlp_format.md): what :meth:`save`
        writes; :meth:`from_bytes` and C's ``fk_mlp_load_bytes`` read it.

        >>> import numpy as np, ferrokit as fk
        >>> from sklearn.neural_network import MLPRegressor
        >>> X = np.arange(8.0).reshape(4, 2); y = X[:, 0]
        >>> sk = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
        >>> m = fk.nn.MLP.from_sklearn(sk)
        >>> fk.nn.MLP.from_bytes(m.to_bytes()).predict(X).shape
        (4,)
        """
        return self._own.sized_bytes("to_bytes", lib.fk_mlp_save_bytes)

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies, pickles, joblib files and Dask transfers go through the model
        # bytes: every copy owns its own native handle (closing one never
        # affects another). A closed model raises ClosedError here.
        return (_restore_mlp, (self.to_bytes(), self.classes_))

    @classmethod
    def from_sklearn(cls, model: Any, *, dtype: Any = None) -> MLP:
        """Converts a fitted ``sklearn.neural_network.MLPClassifier`` or
        ``MLPRegressor`` (any hidden activation: identity, logistic, tanh,
        relu; binary, multiclass, multilabel; single or multi-output
        regression). ``dtype`` (float32/float64) defaults to the dtype of the
        model's weights; inputs are converted to it. ``feature_names_in_``
        (a model fitted on a DataFrame) is kept: DataFrames given to predict
        are checked against it like scikit-learn does.

        Raises ``TypeError`` for other model types and scikit-learn's
        ``NotFittedError`` for an unfitted model.

        >>> import numpy as np, ferrokit as fk
        >>> from sklearn.neural_network import MLPClassifier
        >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
        >>> sk = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, y)
        >>> m = fk.nn.MLP.from_sklearn(sk, dtype=np.float32)
        >>> m.dtype, m.n_features_in_
        (dtype('float32'), 3)
        """
        try:
            from sklearn.neural_network import MLPClassifier, MLPRegressor
            from sklearn.utils.validation import check_is_fitted
        except ImportError as exc:  # pragma: no cover - sklearn is an optional extra
            raise ImportError("MLP.from_sklearn needs scikit-learn installed") from exc
        if not isinstance(model, (MLPClassifier, MLPRegressor)):
            raise TypeError(
                "MLP.from_sklearn: expected a fitted sklearn.neural_network.MLPClassifier or "
                f"MLPRegressor, got {type(model).__module__}.{type(model).__name__}"
            )
        check_is_fitted(model, ["coefs_", "intercepts_"])
        coefs = list(model.coefs_)
        intercepts = list(model.intercepts_)
        dt = np.dtype(dtype) if dtype is not None else np.dtype(coefs[0].dtype)
        if dt not in (F32, F64):
            raise TypeError(f"MLP.from_sklearn: dtype must be float32 or float64, got {dt}")
        if model.activation not in _SK_HIDDEN:
            raise ValueError(f"MLP.from_sklearn: unsupported hidden activation {model.activation!r}")
        out_act = model.out_activation_
        if out_act not in _SK_OUTPUT:
            raise ValueError(f"MLP.from_sklearn: unsupported output activation {out_act!r}")
        classes = None
        if isinstance(model, MLPClassifier):
            y_type = getattr(getattr(model, "_label_binarizer", None), "y_type_", None)
            task = 2 if y_type == "multilabel-indicator" else 1
            classes = np.asarray(model.classes_)
        else:
            task = 0
        data = _model_bytes(
            dt,
            task,
            _SK_HIDDEN[model.activation],
            _SK_OUTPUT[out_act],
            coefs,
            intercepts,
            classes,
            getattr(model, "feature_names_in_", None),
        )
        return _restore_mlp(data, classes)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | bytes | BinaryIO) -> MLP:
        """Loads a model: a file name (``str`` / ``os.PathLike``), the file's
        contents (``bytes``-like: never a file name here), or a binary file
        object (read to its end) -- written by
        :meth:`save` or any program writing docs/mlp_format.md. Raises
        ``FerrokitIOError`` (an ``OSError``), ``InvalidFormatError`` or
        ``UnsupportedVersionError`` (``ValueError``s); ``ValueError`` for a
        file name holding a NUL byte; ``TypeError`` for a text-mode file.

        >>> import io, ferrokit as fk
        >>> try:
        ...     fk.nn.MLP.load(io.BytesIO(b"FKMLP\\x1a\\r\\n"))
        ... except fk.InvalidFormatError as e:
        ...     print(e)
        mlp file: truncated: no format version
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls.from_bytes(source)
        read = getattr(source, "read", None)
        if read is not None:
            data = read()
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError(
                    f"MLP.load: the file object returned {type(data).__name__}, not bytes; "
                    "open it in binary mode ('rb')"
                )
            return cls.from_bytes(data)
        p = ffi.new("fk_mlp **")
        _check(lib.fk_mlp_load(cpath(source, "MLP.load"), p))
        return cls(p[0], _token=_PRIVATE)

    def save(self, target: str | os.PathLike[str] | BinaryIO) -> None:
        """Writes the model file (docs/mlp_format.md) to a file name (``str``,
        ``bytes`` or ``os.PathLike``; written to a temporary file, then renamed) or into a
        binary file object. ``ValueError`` for a file name holding a NUL byte.

        >>> import io, numpy as np, ferrokit as fk
        >>> from sklearn.neural_network import MLPRegressor
        >>> X = np.arange(8.0).reshape(4, 2); y = X[:, 0]
        >>> m = fk.nn.MLP.from_sklearn(MLPRegressor(hidden_layer_sizes=(3,), max_iter=5).fit(X, y))
        >>> f = io.BytesIO(); m.save(f); _ = f.seek(0)
        >>> fk.nn.MLP.load(f).n_features_in_
        2
        """
        write = getattr(target, "write", None)
        if write is not None:
            write(self.to_bytes())
            return
        path = cpath(target, "MLP.save")
        with self._own.borrow("save") as h:
            _check(lib.fk_mlp_save(h, path))

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names of the DataFrame the scikit-learn model was fitted on
        (object array); ``AttributeError`` when it was fitted without names,
        as scikit-learn."""
        if self._feature_names is None:
            raise AttributeError("'MLP' object has no attribute 'feature_names_in_'")
        return self._feature_names

    # ------------------------------------------------------------- lifetime

    def __repr__(self) -> str:
        state = "closed" if self._own.closed else f"{self.n_features_in_} -> {self.n_outputs_}"
        return f"<ferrokit.nn.MLP {self.task} {self.dtype} {state}>"

    # -------------------------------------------------------------- predict

    def _x(self, X: Any, fn: str) -> np.ndarray:
        check_feature_names("MLP", self._feature_names, X)
        fl = X.flags if type(X) is np.ndarray else None
        if fl is not None and X.dtype == self.dtype and X.ndim == 2 and fl.c_contiguous and fl.aligned:
            x = X
        else:
            x, _ = as_float_array(X, f"MLP.{fn}", "X")
            if x.ndim != 2:
                raise ShapeMismatchError(
                    f"MLP.{fn}: X must be 2-D (n_samples, n_features), got an array of shape {x.shape}"
                )
            x = c_contiguous(x, dtype=self.dtype)
        if x.shape[1] != self.n_features_in_:
            raise ShapeMismatchError(
                f"MLP.{fn}: X has {x.shape[1]} features, but the model expects {self.n_features_in_}"
            )
        return x

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``, as scikit-learn's
        ``predict_proba`` (binary: ``[1 - p, p]``; multilabel: one logistic
        output per label). Raises ``ValueError`` like scikit-learn for NaN or
        infinite input, and :class:`~ferrokit.ClosedError` after :meth:`close`.

        >>> import numpy as np, ferrokit as fk
        >>> from sklearn.neural_network import MLPClassifier
        >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
        >>> sk = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, y)
        >>> fk.nn.MLP.from_sklearn(sk).predict_proba(X[:2]).shape
        (2, 2)
        """
        # Fast path (a single sample costs about as much in Python as in the
        # kernel): a C-contiguous 2-D array of the model's dtype with the right
        # number of features goes straight to C, with as few Python operations
        # as possible. Anything else -- other types (DataFrames: their column
        # names are checked), dtypes, shapes, strides (from_buffer refuses
        # non-C-contiguous arrays), a misaligned buffer (C reports it), a
        # closed model or a regressor -- takes the checked path below, which
        # converts or explains. The handle is held for the native call.
        dt, nf, n_proba, fn, ct = self._fast
        if type(X) is _ndarray and X.dtype is dt:
            shape = X.shape
            if len(shape) == 2 and shape[1] == nf and n_proba:
                try:
                    xb = _from_buffer(ct, X)
                except ValueError:
                    xb = None
                if xb is not None:
                    n = shape[0]
                    out = _empty((n, n_proba), dt)
                    own = self._own
                    h = own.acquire("predict_proba")
                    try:
                        st = fn(h, xb, n, nf, _from_buffer(ct, out, True), n * n_proba)
                    finally:
                        own.release()
                    if not st:
                        return out
                    if st != _MISALIGNED:
                        raise_for_status(st)
        with self._own.borrow("predict_proba") as h:
            if self._n_proba == 0:
                raise InvalidStateError("MLP.predict_proba: the model is a regressor; use predict")
            x = self._x(X, "predict_proba")
            n = x.shape[0]
            out = np.empty((n, self._n_proba), dtype=self.dtype)
            _check(self._proba(h, _from_buffer(ct, x), n, x.shape[1], _from_buffer(ct, out, True), out.size))
        return out

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions as scikit-learn's ``predict``: class labels (binary:
        ``p > 0.5``; multiclass: first argmax), a 0/1 indicator matrix for a
        multilabel model, or regression values (1-D for a single output).
        Raises ``ValueError`` like scikit-learn for NaN or infinite input, and
        :class:`~ferrokit.ClosedError` after :meth:`close`.

        >>> import numpy as np, ferrokit as fk
        >>> from sklearn.neural_network import MLPRegressor
        >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = X[:, 0]
        >>> sk = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, y)
        >>> fk.nn.MLP.from_sklearn(sk).predict(X[:2]).shape
        (2,)
        """
        with self._own.borrow("predict") as h:
            x = self._x(X, "predict")
            n = x.shape[0]
            ct = self._ctype
            if self.task == "regressor":
                out = np.empty((n, self.n_outputs_), dtype=self.dtype)
                _check(
                    self._predict(
                        h, ffi.from_buffer(ct, x), n, x.shape[1], ffi.from_buffer(ct, out, True), out.size
                    )
                )
                return out.ravel() if self.n_outputs_ == 1 else out
            shape = (n, self.n_outputs_) if self.task == "multilabel" else (n,)
            idx = np.empty(shape, dtype=np.int64)
            _check(self._classes_fn(h, ffi.from_buffer(ct, x), n, x.shape[1], cbuf_i64_out(idx), idx.size))
        if self.task == "multilabel":
            return idx
        assert self.classes_ is not None
        return self.classes_.take(idx)


_PRIVATE = object()


def _restore_mlp(data: bytes, classes: np.ndarray | None) -> MLP:
    """Rebuilds an MLP from its file image (which holds the feature names)
    plus the exact numpy dtype of text labels; used by ``from_sklearn`` and by
    unpickling."""
    m = MLP.from_bytes(data)
    if classes is not None and classes.dtype.kind in "USO":
        m.classes_ = classes.copy()  # keep the exact numpy dtype of the labels
    return m


# Module-level aliases: one global lookup each on the predict fast path.
_from_buffer = ffi.from_buffer
_ndarray = np.ndarray
_empty = np.empty
_MISALIGNED = lib.FK_ERR_MISALIGNED
