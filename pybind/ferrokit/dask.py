"""ferrokit's scalers and min-max normalization over Dask arrays and dataframes.

``MinMaxScaler``, ``StandardScaler`` and ``MaxAbsScaler`` are
:mod:`ferrokit.preprocessing`'s estimators (same parameters, fitted
attributes and results as scikit-learn) that also accept a ``dask.array``
(chunked along rows) or a ``dask.dataframe``:

- ``fit`` builds one graph: every chunk's mergeable column statistics
  (:func:`ferrokit.stats.partial_stats`, one Rust pass, shipped between tasks
  as a small packed ``(8, n_features)`` float64 array), merged by a tree of
  tasks (``split_every`` chunks per task, pairwise inside a task, in chunk
  order, so the result does not depend on where or when tasks ran), and runs
  it with ONE ``compute``. Chunk sizes need not be known (dataframes, boolean
  indexing): rows are counted by the statistics themselves.
- ``transform`` / ``inverse_transform`` are lazy ``map_blocks`` (dataframes:
  ``map_partitions``) calling the in-memory estimator's Rust transform on
  each chunk; dataframes stay dataframes (same columns and index).
- numpy / pandas input uses the in-memory estimators unchanged, so the same
  object works for both.

Shape, dtype and feature-count problems raise when ``fit``/``transform`` is
called, before anything runs on a worker. Arrays chunked along columns are
rechunked to one column chunk (the row chunks stay). Data-dependent errors
(infinity) are found while computing: ``fit`` raises scikit-learn's
``ValueError``; ``transform`` raises it from the chunk that holds the value.

On ``dask.distributed`` worker processes, ferrokit's thread pool follows the
worker's ``nthreads`` (set by the first ferrokit task on each worker, or at
worker start with :func:`register_worker_plugin`), so ``nthreads`` Dask
threads share ``nthreads`` kernel threads instead of oversubscribing the
cores. Workers that share the caller's process (``processes=False``, or any
process that also runs a scheduler, a client or other workers) leave the
pool alone: it is the caller's setting, and every worker thread already
shares that one pool.

Needs the optional extra: ``pip install 'ferrokit[dask]'``.

>>> import dask.array as da
>>> import numpy as np
>>> from ferrokit.dask import StandardScaler
>>> x = da.from_array(np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]]), chunks=(2, 2))
>>> s = StandardScaler().fit(x)
>>> s.mean_
array([2., 1.])
>>> s.transform(x).compute()[:, 0]
array([-1.22474487,  0.        ,  1.22474487])
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised without dask
    raise ImportError("ferrokit.dask needs dask (an optional extra): pip install 'ferrokit[dask]'") from exc

from sklearn.utils.validation import _check_feature_names, check_is_fitted

import ferrokit.preprocessing as _mem
from ferrokit._buffers import c_contiguous
from ferrokit.preprocessing import _handle_zeros_in_scale, _is_constant_feature
from ferrokit.runtime import set_num_threads
from ferrokit.stats import ColumnStats, affine, partial_stats

__all__ = [
    "MaxAbsScaler",
    "MinMaxScaler",
    "StandardScaler",
    "WorkerThreads",
    "normalize",
    "register_worker_plugin",
]

#: Chunks merged per task in the statistics tree (pairwise inside a task).
SPLIT_EVERY = 8

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)


# ---------------------------------------------------------------- worker threads


_threads_done_for: tuple[int, int] | None = None


def _owns_its_process(worker: Any) -> bool:
    """True when ``worker`` is alone in its process (a worker process started by
    a nanny or ``dask worker``): no other worker, scheduler or client lives
    there. False for in-process clusters (``processes=False``), whose workers
    are threads of the caller's process, and when in doubt."""
    try:
        from distributed import Client, Scheduler, Worker

        others = [w for w in Worker._instances if w is not worker]
        return not others and not list(Scheduler._instances) and not list(Client._instances)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other distributed versions
        return False


def _size_pool_for(worker: Any, force: bool = False) -> None:
    """Sets the pool to ``worker``'s ``nthreads`` (once per worker unless
    ``force``), only in a worker process of its own (never the caller's setting)."""
    global _threads_done_for
    n = int(worker.state.nthreads)
    key = (id(worker), n)
    if _threads_done_for == key and not force:
        return
    _threads_done_for = key
    if _owns_its_process(worker):
        set_num_threads(max(n, 1))


def _follow_worker_threads() -> None:
    """On a ``distributed`` worker: size ferrokit's pool to the worker's
    ``nthreads`` (once per worker, only in a worker process of its own).
    Elsewhere: nothing."""
    if "distributed" not in sys.modules:
        return  # not a distributed worker process
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return
    _size_pool_for(worker)


try:
    from distributed import WorkerPlugin as _WorkerPluginBase
except ImportError:  # pragma: no cover - distributed not installed
    _WorkerPluginBase = object  # type: ignore[assignment,misc]


class WorkerThreads(_WorkerPluginBase):  # type: ignore[misc,valid-type]
    """``distributed`` worker plugin: ferrokit's pool size = the worker's ``nthreads``.

    ferrokit tasks do this themselves on their first run; the plugin does it
    when a worker starts (for your own tasks calling ferrokit kernels). Only in
    worker processes of their own: in-process workers (``processes=False``)
    leave the caller's setting unchanged.

    >>> from ferrokit.dask import WorkerThreads
    >>> WorkerThreads.name
    'ferrokit-threads'
    """

    name = "ferrokit-threads"

    def setup(self, worker: Any) -> None:
        _size_pool_for(worker, force=True)


def register_worker_plugin(client: Any = None) -> None:
    """Registers :class:`WorkerThreads` on ``client``'s cluster (default: the
    current client); it runs on every current and future worker.

    >>> from ferrokit.dask import register_worker_plugin
    >>> callable(register_worker_plugin)
    True
    """
    if client is None:
        from distributed import get_client

        client = get_client()
    client.register_plugin(WorkerThreads(), name=WorkerThreads.name)


# ---------------------------------------------------------------- statistics graph


def _is_dask_frame(X: Any) -> bool:
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(X, dd.DataFrame)


def _is_dask_series(X: Any) -> bool:
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(X, dd.Series)


def _is_dask(X: Any) -> bool:
    return dask.is_dask_collection(X)


def _kernel_dtype(dt: np.dtype) -> np.dtype:
    """dtype the chunk is converted to for the statistics kernel."""
    return dt if dt in (_F64, _F32) else (_F32 if dt == _F16 else _F64)


def _block_stats(
    block: Any, dtype: np.dtype, weight: Any = None, flatten: bool = False
) -> tuple[np.ndarray, int]:
    """Packed ``(FIELDS, n_features)`` statistics of one chunk (array or pandas
    frame; ``flatten``: all values as one column), optionally weighted, and its
    number of rows."""
    _follow_worker_threads()
    if hasattr(block, "to_numpy"):  # pandas partition (nullable dtypes: NA -> NaN)
        arr = block.to_numpy(dtype=dtype, na_value=np.nan)
    else:
        arr = np.asarray(block)
        if arr.dtype != dtype:
            arr = arr.astype(dtype)
    if flatten:
        arr = arr.reshape(-1, 1)
    if weight is None:
        return partial_stats(arr).packed(), arr.shape[0]
    w = weight.to_numpy(dtype=dtype) if hasattr(weight, "to_numpy") else np.asarray(weight, dtype=dtype)
    if w.ndim == 0:
        w = np.full(arr.shape[0], w, dtype=dtype)
    if w.shape != (arr.shape[0],):
        raise ValueError(
            f"sample_weight: a chunk of X has {arr.shape[0]} rows but its sample_weight chunk has "
            f"shape {w.shape}; give sample_weight the row chunks (partitions) of X"
        )
    return partial_stats(arr, sample_weight=c_contiguous(w)).packed(), arr.shape[0]


def _merge_packed(*parts: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """Merges (packed statistics, rows) pairwise, adjacent first, in the given order."""
    stats = [ColumnStats.from_packed(p) for p, _ in parts]
    while len(stats) > 1:
        stats = [
            stats[i].merge(stats[i + 1]) if i + 1 < len(stats) else stats[i] for i in range(0, len(stats), 2)
        ]
    return stats[0].packed(), sum(n for _, n in parts)


def _tree(level: list[Any], split_every: int) -> Any:
    """Root of a tree of ``_merge_packed`` tasks over ``level`` (chunk order kept)."""
    while len(level) > 1:
        level = [
            dask.delayed(_merge_packed, pure=True)(*level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    return level[0]


def _stats_graph(
    chunks: list[Any],
    dtype: np.dtype,
    n_features: int,
    split_every: int,
    weights: Any = None,
    flatten: bool = False,
) -> Any:
    """Delayed (packed statistics, rows) of all ``chunks`` (Delayed arrays or
    frames); ``weights``: None, a scalar or one Delayed chunk per chunk."""
    if not chunks:
        return dask.delayed((ColumnStats.empty(n_features).packed(), 0))
    if weights is None or np.ndim(weights) == 0:
        weights = [weights] * len(chunks)
    level = [
        dask.delayed(_block_stats, pure=True)(c, dtype, w, flatten)
        for c, w in zip(chunks, weights, strict=True)
    ]
    return _tree(level, split_every)


def _name(est: Any, fn: str) -> str:
    return f"ferrokit.dask.{type(est).__name__}.{fn}"


def _check_float_dtype(dt: np.dtype, where: str) -> None:
    if dt.kind not in "fiub":
        raise ValueError(f"{where}: X must hold real numbers, got dtype {dt}")


def _prepare_array(X: Any, where: str) -> Any:
    """Validates a dask array at call time; returns it with one column chunk."""
    if X.ndim != 2:
        raise ValueError(
            f"{where}: expected a 2-D dask array (n_samples, n_features), got {X.ndim}-D shape {X.shape}. "
            "Reshape your data with x.reshape(-1, 1) for a single feature or x.reshape(1, -1) for one sample."
        )
    _check_float_dtype(X.dtype, where)
    if any(math.isnan(c) for c in X.chunks[1]):
        raise ValueError(
            f"{where}: X has an unknown number of columns (chunks along axis 1: {X.chunks[1]}); "
            "call X.compute_chunk_sizes() first"
        )
    if X.shape[1] == 0:
        raise ValueError(f"{where}: X has 0 features (shape {X.shape}); a minimum of 1 is required")
    if len(X.chunks[1]) > 1:
        if any(math.isnan(c) for c in X.chunks[0]):
            raise ValueError(
                f"{where}: X is chunked along columns {X.chunks[1]} and has unknown row chunk sizes, "
                "so it cannot be rechunked to whole rows; call X.compute_chunk_sizes() first "
                "or chunk it along rows only"
            )
        X = X.rechunk({1: -1})
    return X


def _frame_dtype(meta: Any, where: str) -> np.dtype:
    """The float dtype scikit-learn would convert a frame to; raises on non-numeric columns."""
    import pandas as pd

    bad = [
        f"{c!r} ({t})"
        for c, t in meta.dtypes.items()
        if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))
        or pd.api.types.is_complex_dtype(t)
    ]
    if bad:
        raise ValueError(f"{where}: X has non-numeric columns: {', '.join(bad)}; select or encode them first")
    if meta.shape[1] == 0:
        raise ValueError(f"{where}: X has 0 columns; a minimum of 1 is required")
    if all(np.dtype(getattr(t, "numpy_dtype", t)) == _F32 for t in meta.dtypes):
        return _F32
    return _F64


def _chunks_and_meta(X: Any, where: str) -> tuple[Any, list[Any], np.dtype, np.dtype, int, Any]:
    """Validated X, its delayed chunks, statistics dtype, attribute dtype,
    n_features and the object whose feature names count (pandas meta or None)."""
    if _is_dask_frame(X):
        meta = X._meta
        dt = _frame_dtype(meta, where)
        return X, list(X.to_delayed()), dt, dt, meta.shape[1], meta
    if isinstance(X, da.Array):
        X = _prepare_array(X, where)
        attr_dt = X.dtype if X.dtype.kind == "f" else _F64
        blocks = list(X.to_delayed().ravel())
        return X, blocks, _kernel_dtype(X.dtype), np.dtype(attr_dt), int(X.shape[1]), None
    if _is_dask_series(X):
        raise ValueError(
            f"{where}: expected a 2-D dask dataframe or array, got a dask Series; "
            "use s.to_frame() for one feature"
        )
    raise TypeError(
        f"{where}: expected a dask.array.Array or dask.dataframe.DataFrame, got {type(X).__name__}"
    )


def _weight_chunks(sample_weight: Any, X: Any, n_chunks: int, where: str) -> Any:
    """``sample_weight`` as None, a scalar, or one delayed chunk per row chunk of
    ``X``; mismatches that the chunk sizes show raise here."""
    if sample_weight is None:
        return None
    if _is_dask_series(sample_weight):
        parts = list(sample_weight.to_delayed())
        if len(parts) != n_chunks:
            raise ValueError(
                f"{where}: sample_weight has {len(parts)} partitions, X has {n_chunks}; "
                "give them the same partitions"
            )
        return parts
    if _is_dask(sample_weight) and not isinstance(sample_weight, da.Array):
        raise TypeError(
            f"{where}: sample_weight must be None, a number, an array, a dask array or a dask Series, "
            f"got {type(sample_weight).__name__}"
        )
    w = sample_weight if isinstance(sample_weight, da.Array) else np.asarray(sample_weight)
    if w.dtype.kind not in "fiub":
        raise ValueError(f"{where}: sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.ndim == 0 and not isinstance(w, da.Array):
        return float(w)
    if w.ndim != 1:
        raise ValueError(f"{where}: sample_weight must be 1-D, got shape {w.shape}")
    row_chunks = X.chunks[0] if isinstance(X, da.Array) else None
    known = row_chunks is not None and not any(math.isnan(c) for c in row_chunks)
    if not isinstance(w, da.Array):
        if not known:
            raise ValueError(
                f"{where}: X has unknown chunk sizes, so an in-memory sample_weight cannot be split "
                "like it; pass sample_weight as a dask collection with X's partitions"
            )
        if w.shape[0] != X.shape[0]:
            raise ValueError(f"{where}: sample_weight has {w.shape[0]} values, X has {X.shape[0]} rows")
        w = da.from_array(w, chunks=(row_chunks,))
    if known and not any(math.isnan(c) for c in w.chunks[0]):
        if w.shape[0] != X.shape[0]:
            raise ValueError(f"{where}: sample_weight has {w.shape[0]} values, X has {X.shape[0]} rows")
        if w.chunks[0] != row_chunks:
            w = w.rechunk((row_chunks,))
    elif w.numblocks[0] != n_chunks:
        raise ValueError(
            f"{where}: sample_weight has {w.numblocks[0]} chunks, X has {n_chunks} (with unknown "
            "sizes); give them the same chunks"
        )
    return list(w.to_delayed().ravel())


def _fit_stats(
    est: Any, X: Any, split_every: int | None, sample_weight: Any = None
) -> tuple[ColumnStats, int, np.dtype]:
    """Validates ``X``, sets ``n_features_in_``/``feature_names_in_``, and
    computes the merged statistics (one compute). Returns (stats, n_rows, dtype)."""
    where = _name(est, "fit")
    est._validate_params()
    se = SPLIT_EVERY if split_every is None else int(split_every)
    if se < 2:
        raise ValueError(f"{where}: split_every must be >= 2, got {split_every!r}")
    X, chunks, kdt, attr_dt, d, meta = _chunks_and_meta(X, where)
    weights = _weight_chunks(sample_weight, X, len(chunks), where)
    root = _stats_graph(chunks, kdt, d, se, weights)
    ((packed, n_rows),) = dask.compute(root)
    p = ColumnStats.from_packed(np.asarray(packed))
    if n_rows == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, {d})) while a minimum of 1 is required "
            f"by {type(est).__name__}."
        )
    if (p.min == -np.inf).any() or (p.max == np.inf).any():
        raise ValueError(f"Input X contains infinity or a value too large for {attr_dt!r}.")
    _check_feature_names(est, meta if meta is not None else np.empty((0, d)), reset=True)
    est.n_features_in_ = d
    return p, int(n_rows), attr_dt


# ---------------------------------------------------------------- transform graph


def _memory_clone(est: Any) -> Any:
    """The fitted in-memory ferrokit.preprocessing estimator with ``est``'s state
    (copy=True: chunks are never modified in place)."""
    base = getattr(_mem, type(est).__name__)
    clone = base(**est.get_params(deep=False))
    for k, v in vars(est).items():
        if k.endswith("_") and not k.startswith("__") and k != "feature_names_in_":
            setattr(clone, k, v)
    # Feature names are checked once at call time; chunks reach the clone as numpy.
    clone.copy = True
    return clone


def _apply_block(arr: np.ndarray, est: Any, method: str, dtype: np.dtype) -> np.ndarray:
    _follow_worker_threads()
    if arr.shape[0] == 0:  # an empty chunk (scikit-learn refuses 0 samples)
        return np.empty(arr.shape, dtype=dtype)
    return getattr(est, method)(arr)


def _transform_block(block: Any, est: Any, method: str, dtype: np.dtype) -> Any:
    return _apply_block(np.asarray(block), est, method, dtype)


def _transform_frame(part: Any, est: Any, method: str, dtype: np.dtype) -> Any:
    import pandas as pd

    out = _apply_block(part.to_numpy(dtype=dtype, na_value=np.nan), est, method, dtype)
    return pd.DataFrame(out, index=part.index, columns=part.columns)


def _lazy_apply(est: Any, X: Any, method: str) -> Any:
    """``est.<method>`` mapped lazily over the chunks of ``X``, validated now."""
    where = _name(est, method)
    check_is_fitted(est)
    d = est.n_features_in_
    clone = _memory_clone(est)
    if _is_dask_frame(X):
        meta = X._meta
        dt = _frame_dtype(meta, where)
        if meta.shape[1] != d:
            raise ValueError(
                f"{where}: X has {meta.shape[1]} features, but {type(est).__name__} "
                f"is expecting {d} features as input."
            )
        if method == "transform":
            _check_feature_names(est, meta, reset=False)
        out_meta = meta.astype(dt)
        return X.map_partitions(_transform_frame, clone, method, dt, meta=out_meta)
    if isinstance(X, da.Array):
        X = _prepare_array(X, where)
        if X.shape[1] != d:
            raise ValueError(
                f"{where}: X has {X.shape[1]} features, but {type(est).__name__} "
                f"is expecting {d} features as input."
            )
        if method == "transform":
            _check_feature_names(est, X, reset=False)
        out_dt = X.dtype if X.dtype in (_F64, _F32, _F16) else _F64
        clone_d = dask.delayed(clone, pure=True)
        return X.map_blocks(
            _transform_block, clone_d, method, out_dt, dtype=out_dt, meta=np.empty((0, 0), dtype=out_dt)
        )
    if _is_dask_series(X):
        raise ValueError(f"{where}: expected a 2-D dask dataframe or array, got a dask Series")
    raise TypeError(
        f"{where}: expected a dask.array.Array or dask.dataframe.DataFrame, got {type(X).__name__}"
    )


# ---------------------------------------------------------------- estimators


class _DaskMixin:
    """fit/transform/inverse_transform dispatch: dask input -> graph, else in memory."""

    def transform(self, X: Any, **kwargs: Any) -> Any:
        """Lazy transform of a dask array/dataframe; in-memory input as in ferrokit.preprocessing."""
        if _is_dask(X):
            return _lazy_apply(self, X, "transform")
        return super().transform(X, **kwargs)  # type: ignore[misc]

    def inverse_transform(self, X: Any, **kwargs: Any) -> Any:
        """Lazy inverse transform of a dask array/dataframe; in-memory input as in ferrokit.preprocessing."""
        if _is_dask(X):
            return _lazy_apply(self, X, "inverse_transform")
        return super().inverse_transform(X, **kwargs)  # type: ignore[misc]

    def partial_fit(self, X: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """In-memory batches only (for dask data, ``fit`` once on the whole collection)."""
        if _is_dask(X):
            raise TypeError(
                f"{_name(self, 'partial_fit')}: dask input is not supported; "
                "call fit on the whole dask collection"
            )
        return super().partial_fit(X, y, *args, **kwargs)  # type: ignore[misc]


class MinMaxScaler(_DaskMixin, _mem.MinMaxScaler):
    """:class:`ferrokit.preprocessing.MinMaxScaler` that also fits and
    transforms dask arrays / dataframes (see the module docstring).

    >>> import dask.array as da
    >>> from ferrokit.dask import MinMaxScaler
    >>> x = da.arange(6.0, chunks=2).reshape(3, 2)
    >>> MinMaxScaler().fit(x).data_max_
    array([4., 5.])
    """

    def fit(self, X: Any, y: Any = None, *, split_every: int | None = None) -> MinMaxScaler:
        """Per-feature min and max (NaNs ignored): one graph for dask input."""
        if not _is_dask(X):
            return super().fit(X, y)
        self._reset()
        fr = self.feature_range
        if fr[0] >= fr[1]:
            raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got {fr!s}.")
        p, n_rows, dt = _fit_stats(self, X, split_every)
        fr0 = np.asarray(fr[0], dtype=dt)
        fr1 = np.asarray(fr[1], dtype=dt)
        has = p.count > 0
        data_min = np.where(has, p.min, np.nan).astype(dt)
        data_max = np.where(has, p.max, np.nan).astype(dt)
        data_range = data_max - data_min
        self.n_samples_seen_ = n_rows
        self.scale_ = (fr1 - fr0) / _handle_zeros_in_scale(data_range, copy=True)
        self.min_ = fr0 - data_min * self.scale_
        self.data_min_ = data_min
        self.data_max_ = data_max
        self.data_range_ = data_range
        return self


class MaxAbsScaler(_DaskMixin, _mem.MaxAbsScaler):
    """:class:`ferrokit.preprocessing.MaxAbsScaler` that also fits and
    transforms dask arrays / dataframes (see the module docstring).

    >>> import dask.array as da
    >>> from ferrokit.dask import MaxAbsScaler
    >>> x = da.from_array([[1.0, -4.0], [-2.0, 2.0]], chunks=(1, 2))
    >>> MaxAbsScaler().fit(x).max_abs_
    array([2., 4.])
    """

    def fit(self, X: Any, y: Any = None, *, split_every: int | None = None) -> MaxAbsScaler:
        """Per-feature maximum absolute value (NaNs ignored): one graph for dask input."""
        if not _is_dask(X):
            return super().fit(X, y)
        self._reset()
        p, n_rows, dt = _fit_stats(self, X, split_every)
        max_abs = np.where(p.count > 0, np.maximum(np.abs(p.min), np.abs(p.max)), np.nan).astype(dt)
        self.n_samples_seen_ = n_rows
        self.max_abs_ = max_abs
        self.scale_ = _handle_zeros_in_scale(max_abs, copy=True)
        return self


class StandardScaler(_DaskMixin, _mem.StandardScaler):
    """:class:`ferrokit.preprocessing.StandardScaler` that also fits and
    transforms dask arrays / dataframes (see the module docstring).
    ``sample_weight`` for dask ``X``: a number, a 1-D array (split like X's
    row chunks), a dask array or a dask Series with X's chunks/partitions.

    >>> import dask.array as da
    >>> from ferrokit.dask import StandardScaler
    >>> x = da.from_array([[0.0], [2.0], [4.0], [6.0]], chunks=(3, 1))
    >>> s = StandardScaler().fit(x)
    >>> float(s.mean_[0]), float(s.var_[0]), int(s.n_samples_seen_)
    (3.0, 5.0, 4)
    """

    def fit(
        self, X: Any, y: Any = None, sample_weight: Any = None, *, split_every: int | None = None
    ) -> StandardScaler:
        """Per-feature mean and variance (NaNs ignored): one graph for dask input."""
        if not _is_dask(X):
            return super().fit(X, y, sample_weight)
        self._reset()
        p, n_rows, dt = _fit_stats(self, X, split_every, sample_weight)
        # scikit-learn's dense partial_fit from an empty state (see
        # ferrokit.preprocessing.StandardScaler._partial_fit_dense).
        if not self.with_mean and not self.with_std:
            self.mean_ = None
            self.var_ = None
            seen = (n_rows - p.nan_count).astype(np.int64 if sample_weight is None else dt)
        else:
            n = p.count
            with np.errstate(invalid="ignore", divide="ignore"):
                self.mean_ = p.sum / n
                self.var_ = p.m2 / n if self.with_std else None
            seen = n  # float64, like scikit-learn's _incremental_mean_and_var (weighted or not)
        self.n_samples_seen_ = seen[0] if np.max(seen) == np.min(seen) else seen
        if self.with_std:
            constant_mask = _is_constant_feature(self.var_, self.mean_, self.n_samples_seen_)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_), copy=False, constant_mask=constant_mask)
        else:
            self.scale_ = None
        return self


# ---------------------------------------------------------------- normalize


def _plan(merged: tuple[np.ndarray, int], dtype: np.dtype) -> tuple[Any, Any, Any]:
    """(pre, lo, d) of ferrokit.core.normalize: ``(x * pre - lo) / d``, in ``dtype``."""
    p = ColumnStats.from_packed(merged[0])
    t = dtype.type
    if p.count[0] == 0:  # empty or all NaN: stays as it is
        return t(1), t(0), t(1)
    mn, mx = t(p.min[0]), t(p.max[0])
    if mn == -np.inf or mx == np.inf:
        raise ValueError(
            "ferrokit.dask.normalize: data contains infinity; "
            "min-max scaling needs finite values (NaN is ignored)"
        )
    with np.errstate(over="ignore"):
        rng = mx - mn
    if rng == np.inf:
        half = t(0.5)
        return half, mn * half, mx * half - mn * half
    if rng < np.finfo(dtype).eps:
        return t(1), mn, t(np.inf)
    return t(1), mn, rng


def _normalize_block(block: np.ndarray, plan: tuple[Any, Any, Any], dtype: np.dtype) -> np.ndarray:
    _follow_worker_threads()
    pre, lo, d = plan
    arr = np.asarray(block)
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    col = arr.reshape(-1, 1)
    if pre != 1:
        col = affine(col, pre)
    return affine(col, d, sub=lo, divide=True).reshape(arr.shape)


def normalize(x: Any, *, split_every: int | None = None) -> Any:
    """Lazy global min-max scaling of a dask array to [0, 1]: ferrokit.normalize
    over all chunks (same rules and results).

    The minimum and maximum (NaN ignored) come from a tree of Rust statistics
    tasks; the result is a dask array of ``x``'s chunks, floating dtype
    (float32 stays float32, integers give float64). Infinity raises
    ``ValueError`` when computed. Like the Dask scalers, in-memory input
    (numpy arrays, lists) is handled in memory: the result is
    ``ferrokit.normalize(x)``, a numpy array.

    >>> import dask.array as da
    >>> import numpy as np
    >>> from ferrokit.dask import normalize
    >>> normalize(da.arange(5.0, chunks=2)).compute()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> normalize(np.array([2.0, 4.0, 3.0]))
    array([0. , 1. , 0.5])
    """
    se = SPLIT_EVERY if split_every is None else int(split_every)
    if se < 2:
        raise ValueError(f"ferrokit.dask.normalize: split_every must be >= 2, got {split_every!r}")
    if not isinstance(x, da.Array):
        if dask.is_dask_collection(x):
            raise TypeError(
                "ferrokit.dask.normalize: x must be a dask.array.Array or an in-memory array, "
                f"got {type(x).__name__} (use .to_dask_array() for dataframes)"
            )
        from ferrokit.core import normalize as _normalize_in_memory

        return _normalize_in_memory(x)
    _check_float_dtype(x.dtype, "ferrokit.dask.normalize")
    dt = x.dtype if x.dtype in (_F64, _F32) else _F64
    merged = _stats_graph(list(x.to_delayed().ravel()), dt, 1, se, flatten=True)
    plan = dask.delayed(_plan, pure=True)(merged, dt)
    return x.map_blocks(_normalize_block, plan, dt, dtype=dt, meta=np.empty((0,) * x.ndim, dtype=dt))


# Text vectorizers over bags and string columns (ferrokit._dask_text).
from ferrokit._dask_text import CountVectorizer, HashingVectorizer  # noqa: E402

__all__ += ["CountVectorizer", "HashingVectorizer"]
