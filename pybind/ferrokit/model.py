"""Loaded pipeline models: :class:`Model` and :func:`load_model`.

A model file (written by :func:`ferrokit.export`, format in
``docs/model_format.md``; old ``fk.nn.MLP`` files too) holds a fitted
scikit-learn pipeline -- preprocessing steps and a final estimator -- as plain
numbers: loading it never runs code. Predictions equal scikit-learn's and
inputs are checked the way scikit-learn checks them (number of features,
feature names of a DataFrame, NaN / infinity where a step refuses them).
scikit-learn is not needed to load or predict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import cbytes
from ferrokit._errors import raise_for_status
from ferrokit._feature_names import check_feature_names
from ferrokit._handle import HandleOwner, NativeHandle
from ferrokit._native import ffi, lib

__all__ = ["Model", "load_model"]

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
_TASKS = {0: "regressor", 1: "classifier", 2: "multilabel", 3: "transformer", 4: "neighbors"}
_CT = {F32: "float[]", F64: "double[]"}
_NULL = ffi.NULL
_from_buffer = ffi.from_buffer
_ndarray = np.ndarray
_empty = np.empty
_MISALIGNED = lib.FK_ERR_MISALIGNED


def _check(st: int) -> None:
    if st:
        raise_for_status(st)


def _text(fn: Any, *args: Any) -> str:
    """A string from an ``fk_model_*`` text accessor (length query, then copy)."""
    ln = ffi.new("size_t *")
    _check(fn(*args, _NULL, 0, ln))
    buf = ffi.new("char[]", ln[0] + 1)
    _check(fn(*args, buf, ln[0] + 1, ln))
    return ffi.string(buf, ln[0]).decode("utf-8")


class Model(HandleOwner):
    """A fitted pipeline loaded from a model file (thread-safe: any number of
    threads may predict with one model at once; the GIL is released).

    Create it with :func:`load_model` (path, bytes or binary file) or
    :meth:`from_bytes`. It owns a native handle, freed by :meth:`close`, at the
    end of a ``with`` block, or by the garbage collector. Copies and pickles
    go through the file's bytes (:meth:`to_bytes`), which the native model
    writes back on demand (it does not keep the file: memory is the model).

    Attributes: ``task`` (``"classifier"``, ``"regressor"``, ``"multilabel"``,
    ``"transformer"`` or ``"neighbors"``), ``n_features_in_``,
    ``feature_names_in_`` (when fitted on a DataFrame), ``classes_`` (with the
    dtype scikit-learn had), ``outputs`` (the methods this model has) and
    ``steps`` (a description of every step).

    >>> import numpy as np, ferrokit as fk
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = np.where(X[:, 1] > 0, "up", "down")
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> with fk.load_model(fk.export(pipe)) as m:
    ...     m.predict(X[:3]).tolist() == pipe.predict(X[:3]).tolist(), m.classes_.dtype == pipe.classes_.dtype
    (True, True)
    """

    def __init__(self, ptr: Any, *, _token: object = None) -> None:
        if _token is not _PRIVATE:
            raise TypeError("Model: use ferrokit.load_model(path_or_bytes) or Model.from_bytes(data)")
        self._own = NativeHandle(ptr, lib.fk_model_free, "Model")
        info = ffi.new("fk_model_info *")
        with self._own.borrow("__init__") as h:
            _check(lib.fk_model_get_info(h, info))
            self._read_info(h, info)
        own = self._own
        f32 = (lib.fk_model_predict_proba_f32, "float[]")
        f64 = (lib.fk_model_predict_proba_f64, "double[]")
        # predict_proba's fast path: everything in one attribute lookup.
        self._fast_proba = (own, self.n_features_in_, self._n_proba, {F32: f32, F64: f64})
        self._fast_ok = not self._has_names and not self._is_text

    def _read_info(self, h: Any, info: Any) -> None:
        self.task: str = _TASKS[int(info.task)]
        self._is_text = int(info.input_kind) == lib.FK_MODEL_INPUT_TEXT
        #: ``"text"`` (documents in, one per row) or ``"numeric"`` (rows of numbers).
        self.input_kind: str = "text" if self._is_text else "numeric"
        self.n_features_in_: int = int(info.n_features)
        self._n_outputs = int(info.n_outputs)
        self._predict_1d = bool(info.predict_1d)
        self._n_proba = int(info.n_proba)
        self._n_decision = int(info.n_decision)
        self._n_transform = int(info.n_transform)
        self._n_neighbors = int(info.n_neighbors)
        self.steps: list[str] = [_text(lib.fk_model_step_name, h, i) for i in range(int(info.n_steps))]
        meta_text = _text(lib.fk_model_metadata, h)
        try:
            self.metadata: dict[str, Any] = json.loads(meta_text) if meta_text else {}
        except ValueError:
            self.metadata = {"text": meta_text}
        names = [_text(lib.fk_model_feature_name, h, i) for i in range(int(info.n_feature_names))]
        self._has_names = bool(names)
        if names:
            self.feature_names_in_: np.ndarray = np.asarray(names, dtype=object)
        text = self.metadata.get("text") if isinstance(self.metadata, dict) else None
        self._text_info: dict[str, str] = text if isinstance(text, dict) else {}
        self.classes_: np.ndarray | None = self._read_classes(h, int(info.label_kind), int(info.n_classes))
        outputs = []
        if self.task not in ("transformer", "neighbors"):
            outputs.append("predict")
        for name, n in (
            ("predict_proba", self._n_proba),
            ("decision_function", self._n_decision),
            ("transform", self._n_transform),
            ("kneighbors", self._n_neighbors),
        ):
            if n:
                outputs.append(name)
        self.outputs: tuple[str, ...] = tuple(outputs)

    def _read_classes(self, h: Any, kind: int, n: int) -> np.ndarray | None:
        if kind == 0:
            return None
        dtype = self.metadata.get("classes_dtype") if isinstance(self.metadata, dict) else None
        if kind in (1, 4):
            a = np.empty(n, dtype=np.int64)
            _check(lib.fk_model_classes_i64(h, ffi.from_buffer("int64_t[]", a, require_writable=True), n))
            out = a.astype(bool) if kind == 4 else a
        elif kind == 2:
            out = np.empty(n, dtype=np.float64)
            _check(lib.fk_model_classes_f64(h, ffi.from_buffer("double[]", out, require_writable=True), n))
        else:
            labels = [_text(lib.fk_model_class_label, h, i) for i in range(n)]
            out = np.array(labels, dtype=object) if dtype == "object" else np.array(labels)
        if dtype and dtype != "object":
            try:
                out = out.astype(np.dtype(dtype))
            except TypeError:  # a dtype string this numpy does not know: keep ours
                pass
        return out

    # ---------------------------------------------------------------- create

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Model:
        """Loads a model from the bytes of a model file.

        Raises ``InvalidFormatError`` (truncated, corrupted, not a model) or
        ``UnsupportedVersionError`` (both ``ValueError``).

        >>> import ferrokit as fk
        >>> try:
        ...     fk.Model.from_bytes(b"not a model")
        ... except fk.InvalidFormatError as e:
        ...     print(e)
        model file: not a ferrokit model (wrong magic bytes; expected "FKMODEL\\x1a")
        """
        data = bytes(data)
        p = ffi.new("fk_model **")
        _check(lib.fk_model_load_bytes(cbytes(data), len(data), p))
        return cls(p[0], _token=_PRIVATE)

    @classmethod
    def _load_path(cls, path: str | os.PathLike[str]) -> Model:
        """Loads a model file from ``path`` in one native pass (parsed while
        it is read; the bytes are never all held at once)."""
        raw = os.fsencode(path)
        if b"\0" in raw:
            raise ValueError(f"load_model: the path contains a NUL byte: {os.fspath(path)!r}")
        p = ffi.new("fk_model **")
        _check(lib.fk_model_load(raw, p))
        return cls(p[0], _token=_PRIVATE)

    def to_bytes(self) -> bytes:
        """The model file's bytes (what :meth:`save` writes): written back by
        the native model, byte-identical to the file it was loaded from.
        Raises ``ClosedError`` on a closed model.

        >>> import ferrokit as fk
        >>> from sklearn.linear_model import LinearRegression
        >>> data = fk.export(LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0]))
        >>> fk.load_model(data).to_bytes() == data
        True
        """
        return self._own.sized_bytes("to_bytes", lib.fk_model_save_bytes)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the model file to ``path`` (see :meth:`to_bytes`)."""
        data = self.to_bytes()
        with open(path, "wb") as f:
            f.write(data)

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # Copies, pickles and deep copies go through the bytes the native
        # model writes back; a closed model raises ClosedError here.
        return (Model.from_bytes, (self.to_bytes(),))

    # ------------------------------------------------------------- lifetime

    def __repr__(self) -> str:
        state = " closed" if self._own.closed else ""
        what = "text" if self._is_text else f"{self.n_features_in_} features"
        return f"<ferrokit.Model {self.task}, {what}, {len(self.steps)} steps{state}>"

    # ---------------------------------------------------------------- input

    def _x(self, X: Any, fn: str) -> np.ndarray:
        """X as a C-contiguous float32/float64 2-D array, checked like scikit-learn."""
        if type(X) is _ndarray and self._fast_ok and fn in self.outputs:
            shape = X.shape
            if (
                len(shape) == 2
                and shape[0]
                and shape[1] == self.n_features_in_
                and X.dtype in _CT
                and X.flags.c_contiguous
            ):
                return X  # the common case, without the checks below
        if fn not in self.outputs:
            raise AttributeError(
                f"This {self.task} model has no {fn}; it has {', '.join(self.outputs) or 'nothing'}"
            )
        check_feature_names("Model", getattr(self, "feature_names_in_", None), X)
        if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
            try:
                x = np.asarray(X)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"Model.{fn}: X cannot be read as a numeric array ({exc})") from exc
        else:
            raise TypeError(f"Model.{fn}: X must be array-like, got {type(X).__name__}")
        if x.dtype not in (F32, F64):
            if x.dtype.kind in "biuf":
                x = x.astype(F64)
            elif x.dtype.kind in "OUS":
                try:
                    x = x.astype(F64)
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"Model.{fn}: X holds values that are not numbers ({exc})") from exc
            else:
                raise ValueError(f"Model.{fn}: X has dtype {x.dtype}, expected real numbers")
        if x.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {x.ndim}D array instead (shape {x.shape}). Reshape your data "
                "either using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        if x.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={x.shape}) while a minimum of 1 is "
                f"required by Model.{fn}."
            )
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but Model is expecting {self.n_features_in_} "
                "features as input."
            )
        return np.ascontiguousarray(x)

    # ----------------------------------------------------------------- text

    @contextmanager
    def _docs(self, X: Any, fn: str) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """Documents as one UTF-8 buffer plus offsets (``str``, or ``bytes``
        decoded with the vectorizer's ``encoding`` / ``decode_error``), valid
        inside the ``with`` block (the buffer then goes back to the thread's
        :class:`~ferrokit._text_native.Packer` cache)."""
        from ferrokit._text_native import Packer

        if fn not in self.outputs:
            raise AttributeError(
                f"This {self.task} model has no {fn}; it has {', '.join(self.outputs) or 'nothing'}"
            )
        if isinstance(X, (str, bytes)):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        if isinstance(X, np.ndarray):
            if X.ndim != 1 or X.dtype.kind not in "OUS":
                raise TypeError(
                    f"Model.{fn}: this text model takes a 1-D sequence of str or bytes documents, "
                    f"got an array of dtype {X.dtype} and shape {X.shape}"
                )
            seq: Any = X.tolist()
        elif isinstance(X, (list, tuple)):
            seq = X
        elif (hasattr(X, "__iter__") and not hasattr(X, "shape")) or type(X).__name__ == "Series":
            seq = list(X)
        else:
            raise TypeError(
                f"Model.{fn}: this text model takes a sequence of str or bytes documents, "
                f"got {type(X).__name__}"
            )
        enc = self._text_info.get("encoding", "utf-8")
        err = self._text_info.get("decode_error", "strict")
        with Packer(enc, err) as packer:
            r = packer.pack(seq, 0, len(seq))
            if isinstance(r, int):
                bad = seq[r]
                if isinstance(bad, bytes):
                    bad.decode(enc, err)  # raises the UnicodeDecodeError scikit-learn raises
                if isinstance(bad, float) and bad != bad:
                    raise ValueError("np.nan is an invalid document, expected byte or unicode string.")
                raise TypeError(
                    f"Model.{fn}: document {r} is {type(bad).__name__}, expected str or bytes "
                    "(this model takes text)"
                )
            buf, off = r
            yield buf, off, len(seq)

    def _text_call(self, fn: str, c: Any, buf: np.ndarray, off: np.ndarray, out: np.ndarray) -> None:
        ot = "int64_t[]" if out.dtype == np.int64 else _CT[out.dtype]
        h = self._own.acquire(fn)
        try:
            st = c(
                h,
                _from_buffer("uint8_t[]", buf),
                len(buf),
                _from_buffer("uint64_t[]", off),
                len(off),
                _from_buffer(ot, out, True),
                out.size,
            )
        finally:
            self._own.release()
        if st:
            raise_for_status(st)

    def _no_docs(self, fn: str, n: int) -> None:
        if n == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape=(0, {self._n_transform or self._n_proba})) while a "
                f"minimum of 1 is required by Model.{fn}."
            )

    def _text_out(self, fn: str, X: Any) -> np.ndarray:
        with self._docs(X, fn) as (buf, off, n):
            self._no_docs(fn, n)
            cols = self._n_proba if fn == "predict_proba" else self._n_decision
            f32 = self._text_info.get("output_dtype") == "<f4"
            out = np.empty((n, cols), dtype=F32 if f32 else F64)
            if fn == "predict_proba":
                c = lib.fk_model_predict_proba_text_f32 if f32 else lib.fk_model_predict_proba_text_f64
            else:
                c = (
                    lib.fk_model_decision_function_text_f32
                    if f32
                    else lib.fk_model_decision_function_text_f64
                )
            self._text_call(fn, c, buf, off, out)
            return out

    def _text_predict(self, X: Any) -> np.ndarray:
        with self._docs(X, "predict") as (buf, off, n):
            self._no_docs("predict", n)
            if self.task == "regressor":
                f32 = self._text_info.get("output_dtype") == "<f4"
                out = np.empty((n, self._n_outputs), dtype=F32 if f32 else F64)
                c = lib.fk_model_predict_text_f32 if f32 else lib.fk_model_predict_text_f64
                self._text_call("predict", c, buf, off, out)
                return out.ravel() if self._predict_1d else out
            shape = (n, self._n_outputs) if self.task == "multilabel" else (n,)
            idx = np.empty(shape, dtype=np.int64)
            self._text_call("predict", lib.fk_model_predict_class_text, buf, off, idx)
            if self.task == "multilabel":
                return idx
            assert self.classes_ is not None
            return self.classes_.take(idx)

    def _text_transform(self, X: Any) -> Any:
        import scipy.sparse as sp

        from ferrokit._text_native import take_csr

        with self._docs(X, "transform") as (buf, off, n):
            dt = np.dtype(self._text_info.get("dtype", "<f8"))
            if dt.kind in "iu" and len(self.steps) > 1:
                dt = F64  # tf-idf, normalizers and scalers make float64 of integer counts
            if n == 0 and not (
                len(self.steps) == 1 and self._text_info.get("vectorizer") == "CountVectorizer"
            ):
                # As scikit-learn: only a bare CountVectorizer gives a matrix of no rows.
                self._no_docs("transform", n)
            res = ffi.new("fk_csr **")
            h = self._own.acquire("transform")
            try:
                st = lib.fk_model_transform_text_csr(
                    h,
                    _from_buffer("uint8_t[]", buf),
                    len(buf),
                    _from_buffer("uint64_t[]", off),
                    len(off),
                    res,
                )
            finally:
                self._own.release()
            if st:
                raise_for_status(st)
        data, indices, indptr, shape = take_csr(res[0], dt)
        return sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)

    def _call(self, fn: str, c32: Any, c64: Any, x: np.ndarray, out: np.ndarray) -> None:
        c, ct = (c32, "float[]") if x.dtype == F32 else (c64, "double[]")
        ot = "int64_t[]" if out.dtype == np.int64 else ct
        h = self._own.acquire(fn)
        try:
            st = c(h, _from_buffer(ct, x), x.shape[0], x.shape[1], _from_buffer(ot, out, True), out.size)
        finally:
            self._own.release()
        if st:
            raise_for_status(st)

    # -------------------------------------------------------------- predict

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)`` in ``classes_``
        order, as the pipeline's ``predict_proba``. float32 input gives float32.

        Raises ``ValueError`` for the wrong number of features, NaN where a
        step refuses it (as scikit-learn) or infinity; ``AttributeError`` if the
        final estimator has no probabilities.
        """
        # Fast path (one sample costs as much in Python as in the kernel): a
        # C-contiguous 2-D float32/float64 ndarray of the right width, a model
        # without feature names. Anything else -- or an error -- takes the
        # checked path, which converts or explains.
        if self._is_text:
            return self._text_out("predict_proba", X)
        own, nf, n_proba, fns = self._fast_proba
        if type(X) is _ndarray and self._fast_ok:
            shape = X.shape
            f = fns.get(X.dtype)
            if f is not None and len(shape) == 2 and shape[1] == nf and n_proba and shape[0]:
                fn, ct = f
                try:
                    xb = _from_buffer(ct, X)
                except ValueError:
                    xb = None
                if xb is not None:
                    n = shape[0]
                    out = _empty((n, n_proba), X.dtype)
                    h = own.acquire("predict_proba")
                    try:
                        st = fn(h, xb, n, nf, _from_buffer(ct, out, True), n * n_proba)
                    finally:
                        own.release()
                    if not st:
                        return out
                    if st != _MISALIGNED:
                        raise_for_status(st)
        x = self._x(X, "predict_proba")
        out = np.empty((x.shape[0], self._n_proba), dtype=x.dtype)
        self._call("predict_proba", lib.fk_model_predict_proba_f32, lib.fk_model_predict_proba_f64, x, out)
        return out

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions as the pipeline's ``predict``: class labels (with
        ``classes_``'s dtype), a 0/1 indicator matrix (multilabel), or
        regression values (1-D when scikit-learn returns 1-D)."""
        if self._is_text:
            return self._text_predict(X)
        x = self._x(X, "predict")
        n = x.shape[0]
        if self.task == "regressor":
            out = np.empty((n, self._n_outputs), dtype=x.dtype)
            self._call("predict", lib.fk_model_predict_f32, lib.fk_model_predict_f64, x, out)
            return out.ravel() if self._predict_1d else out
        shape = (n, self._n_outputs) if self.task == "multilabel" else (n,)
        idx = np.empty(shape, dtype=np.int64)
        self._call("predict", lib.fk_model_predict_class_f32, lib.fk_model_predict_class_f64, x, idx)
        if self.task == "multilabel":
            return idx
        assert self.classes_ is not None
        return self.classes_.take(idx)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Decision values as the pipeline's ``decision_function``:
        ``(n_samples,)`` for a binary classifier, else ``(n_samples, n_classes)``."""
        if self._is_text:
            out = self._text_out("decision_function", X)
            return out.ravel() if self._n_decision == 1 else out
        x = self._x(X, "decision_function")
        out = np.empty((x.shape[0], self._n_decision), dtype=x.dtype)
        self._call(
            "decision_function",
            lib.fk_model_decision_function_f32,
            lib.fk_model_decision_function_f64,
            x,
            out,
        )
        return out.ravel() if self._n_decision == 1 else out

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The pipeline's ``transform`` (pipelines of transformers only). A
        text model returns a ``scipy.sparse.csr_matrix`` in the vectorizer's
        dtype, entry for entry scikit-learn's (explicit zeros where hashed
        signs cancel included)."""
        if self._is_text:
            return self._text_transform(X)
        x = self._x(X, "transform")
        out = np.empty((x.shape[0], self._n_transform), dtype=x.dtype)
        self._call("transform", lib.fk_model_transform_f32, lib.fk_model_transform_f64, x, out)
        return out

    def kneighbors(self, X: ArrayLike, n_neighbors: int | None = None, return_distance: bool = True) -> Any:
        """``(distances, indices)`` of the nearest training rows of each row
        (a NearestNeighbors model), as its ``kneighbors(X)``."""
        if self._is_text:
            raise AttributeError("This text model has no kneighbors")
        x = self._x(X, "kneighbors")
        k = self._n_neighbors if n_neighbors is None else n_neighbors
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"Expected n_neighbors > 0 (an integer). Got {k!r}")
        k = int(k)
        n = x.shape[0]
        dist = np.empty((n, k), dtype=x.dtype)
        ind = np.empty((n, k), dtype=np.int64)
        ct = _CT[x.dtype]
        fn = lib.fk_model_kneighbors_f32 if x.dtype == F32 else lib.fk_model_kneighbors_f64
        h = self._own.acquire("kneighbors")
        try:
            st = fn(
                h,
                _from_buffer(ct, x),
                n,
                x.shape[1],
                k,
                _from_buffer(ct, dist, True),
                dist.size,
                _from_buffer("int64_t[]", ind, True),
                ind.size,
            )
        finally:
            self._own.release()
        _check(st)
        return (dist, ind) if return_distance else ind


_PRIVATE = object()


def load_model(source: str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]) -> Model:
    """Loads a model file written by :func:`ferrokit.export` (or an
    ``fk.nn.MLP`` file) from a path, its bytes, or a binary file object.

    Raises ``FerrokitIOError`` (an ``OSError``) when the file cannot be read,
    ``InvalidFormatError`` / ``UnsupportedVersionError`` (``ValueError``s) for
    a truncated, corrupted or too new file.

    >>> import numpy as np, ferrokit as fk
    >>> from sklearn.linear_model import LinearRegression
    >>> reg = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    >>> m = fk.load_model(fk.export(reg))
    >>> m.predict([[3.0]]).round(12).tolist()
    [7.0]
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Model.from_bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Model._load_path(source)
    read = getattr(source, "read", None)
    if read is None:
        raise TypeError(
            f"load_model: expected a path, bytes or a binary file object, got {type(source).__name__}"
        )
    data = read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("load_model: the file object must be opened in binary mode ('rb')")
    return Model.from_bytes(data)
