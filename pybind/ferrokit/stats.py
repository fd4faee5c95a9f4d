"""Column statistics and per-column transforms with numpy-like signatures.

Reductions (``sum``, ``mean``, ``var``, ``std``, ``min``, ``max``, their
NaN-ignoring ``nan*`` twins, ``argmin``, ``argmax``, ``norm``) take ``axis=``
(None, 0 or 1 for 2-D input), ``ddof=`` where numpy has it and ``out=``. One
fused pass computes count, NaN count, sum, M2 (for the variance), min, max,
sum of |x| and sum of x² together; float32 input is accumulated in float64 and
the result is returned as float32 (like numpy's dtype rules). C- and
Fortran-ordered arrays are read in place; other layouts are copied once.
Results are bit-identical for any thread count.

:func:`partial_stats` returns those statistics as a :class:`ColumnStats`
that merges exactly (Chan et al.), the building block of ``partial_fit``.

Transforms: :func:`affine` (``(x - sub) * scale + offset``, optional clip),
:func:`standardize`, :func:`minmax_scale`, :func:`normalize_rows`; each
writes a new array, into ``out=``, or in place with ``out=X``.

>>> import numpy as np
>>> from ferrokit import stats
>>> x = np.array([[1.0, 2.0], [3.0, np.nan]])
>>> stats.nanmean(x, axis=0)
array([2., 2.])
>>> stats.mean(x, axis=0)
array([ 2., nan])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import (
    F32,
    F64,
    as_float_array,
    c_contiguous,
    cbuf,
    cbuf_index_out,
    cbuf_out,
    check_out,
    f_contiguous,
)
from ferrokit._errors import ShapeMismatchError, raise_for_status
from ferrokit._native import ffi, lib

__all__ = [
    "ColumnStats",
    "affine",
    "argmax",
    "argmin",
    "max",
    "mean",
    "min",
    "minmax_scale",
    "nanmax",
    "nanmean",
    "nanmin",
    "nanstd",
    "nansum",
    "nanvar",
    "norm",
    "normalize_rows",
    "partial_stats",
    "standardize",
    "std",
    "sum",
    "var",
]

FIELDS = int(lib.FK_COLSTATS_FIELDS)
_LAYOUT_C = int(lib.FK_LAYOUT_C)
_LAYOUT_F = int(lib.FK_LAYOUT_F)
_NORMS = {"l1": int(lib.FK_NORM_L1), "l2": int(lib.FK_NORM_L2), "max": int(lib.FK_NORM_MAX)}
_COLSTATS = {F64: lib.fk_colstats_f64, F32: lib.fk_colstats_f32}
_ARGEXT = {F64: lib.fk_col_argminmax_f64, F32: lib.fk_col_argminmax_f32}
_MINMAX = {F64: lib.fk_colminmax_f64, F32: lib.fk_colminmax_f32}
_AFFINE = {F64: lib.fk_affine_cols_f64, F32: lib.fk_affine_cols_f32}
_NORMROWS = {F64: lib.fk_normalize_rows_f64, F32: lib.fk_normalize_rows_f32}
_NULL = ffi.NULL


# ---------------------------------------------------------------- helpers


def _kernel_view(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """``arr`` (2-D) as it is if C- or F-contiguous and aligned, else a C copy; and its layout."""
    flags = arr.flags
    if flags.aligned:
        # F first: an (n, 1) column is both, and F order vectorizes it across lanes.
        if flags.f_contiguous:
            return arr, _LAYOUT_F
        if flags.c_contiguous:
            return arr, _LAYOUT_C
    return c_contiguous(arr), _LAYOUT_C


def _layout(arr: np.ndarray) -> int:
    """Layout code of a C- or F-contiguous 2-D array (C when it is both)."""
    return _LAYOUT_C if arr.flags.c_contiguous else _LAYOUT_F


def _flat(arr: np.ndarray) -> np.ndarray:
    """All elements as a 1-D array in memory order (no copy when contiguous)."""
    flags = arr.flags
    if flags.aligned and flags.c_contiguous:
        return arr.reshape(-1)
    if flags.aligned and flags.f_contiguous:
        return arr.T.reshape(-1)
    return c_contiguous(arr).reshape(-1)


def _colstats_raw(m: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Packed ``(FIELDS, cols)`` statistics of a 2-D float32/float64 array."""
    m, layout = _kernel_view(m)
    rows, cols = m.shape
    out = np.empty((FIELDS, cols), dtype=F64)
    if weights is None:
        wp, nw = _NULL, 0
    else:
        wp, nw = cbuf(weights), weights.shape[0]
    st = _COLSTATS[m.dtype](
        cbuf(m.reshape(-1, order="A")), rows, cols, layout, wp, nw, cbuf_out(out), out.size
    )
    if st:
        raise_for_status(st)
    return out


def _colminmax_raw(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column NaN-ignoring (min, max) of a 2-D float32/float64 array in its
    dtype (+inf/-inf for a column without values): the lean two-comparison pass."""
    m, layout = _kernel_view(m)
    rows, cols = m.shape
    mn = np.empty(cols, dtype=m.dtype)
    mx = np.empty(cols, dtype=m.dtype)
    st = _MINMAX[m.dtype](
        cbuf(m.reshape(-1, order="A")), rows, cols, layout, cbuf_out(mn), cbuf_out(mx), cols
    )
    if st:
        raise_for_status(st)
    return mn, mx


def _prepare(a: ArrayLike, fn: str, axis: int | None) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Returns (original float array, 2-D kernel matrix whose columns are the
    reduced groups, normalized axis)."""
    x, _ = as_float_array(a, fn, "a")
    if axis is None or x.ndim <= 1:
        if axis is not None and axis not in (0, -1):
            raise np.exceptions.AxisError(axis, x.ndim)
        flat = _flat(x)
        return x, flat.reshape(-1, 1), None
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"{fn}: axis={axis} is supported for 1-D and 2-D arrays, got an array of shape {x.shape}"
        )
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{fn}: axis must be None, 0 or 1, got {axis!r}")
    ax = int(axis)
    if ax < 0:
        ax += 2
    if ax not in (0, 1):
        raise np.exceptions.AxisError(int(axis), 2)
    # Reducing over rows (axis 0) = column statistics of x; over columns = of x.T.
    return x, (x if ax == 0 else x.T), ax


def _finish(values: np.ndarray, dtype: np.dtype, axis: int | None, out: np.ndarray | None, fn: str) -> Any:
    res = values.astype(dtype, copy=False)
    if axis is None:
        res = res.reshape(())
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{fn}: out must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != res.shape:
            raise ShapeMismatchError(f"{fn}: out has shape {out.shape}, expected {res.shape}")
        out[...] = res
        return out
    return res[()] if axis is None else res


# ---------------------------------------------------------------- partial statistics


@dataclass
class ColumnStats:
    """Mergeable per-column statistics (all float64 arrays of ``n_features``).

    ``count`` is the (weighted) number of non-NaN values, ``nan_count`` the
    number of NaNs, ``m2`` the (weighted) sum of squared deviations from the
    mean; ``min``/``max`` ignore NaN (+inf/-inf when a column has no value).

    >>> import numpy as np
    >>> from ferrokit.stats import partial_stats
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> s = partial_stats(x[:2]).merge(partial_stats(x[2:]))
    >>> bool(np.allclose(s.var(), x.var(axis=0)))
    True
    """

    count: np.ndarray
    nan_count: np.ndarray
    sum: np.ndarray
    m2: np.ndarray
    min: np.ndarray
    max: np.ndarray
    sum_abs: np.ndarray
    sum_sq: np.ndarray

    @classmethod
    def from_packed(cls, packed: np.ndarray) -> ColumnStats:
        return cls(*(c_contiguous(packed[k]) for k in range(FIELDS)))

    @classmethod
    def empty(cls, n_features: int) -> ColumnStats:
        p = np.zeros((FIELDS, n_features))
        p[4] = np.inf
        p[5] = -np.inf
        return cls.from_packed(p)

    def packed(self) -> np.ndarray:
        return c_contiguous(
            np.stack(
                [self.count, self.nan_count, self.sum, self.m2, self.min, self.max, self.sum_abs, self.sum_sq]
            ).astype(F64)
        )

    @property
    def n_features(self) -> int:
        return int(self.count.shape[0])

    def merge(self, other: ColumnStats) -> ColumnStats:
        """Statistics of the rows of ``self`` and ``other`` together (a new object).

        Raises ``TypeError`` when ``other`` is not a :class:`ColumnStats` and
        ``ShapeMismatchError`` (a ``ValueError``) when its feature count differs.

        >>> import numpy as np
        >>> from ferrokit.stats import partial_stats
        >>> s = partial_stats(np.array([[1.0], [2.0]])).merge(partial_stats(np.array([[4.0]])))
        >>> s.count, s.mean()
        (array([3.]), array([2.33333333]))
        """
        if not isinstance(other, ColumnStats):
            raise TypeError(f"ColumnStats.merge: other must be a ColumnStats, got {type(other).__name__}")
        if other.n_features != self.n_features:
            raise ShapeMismatchError(
                f"ColumnStats.merge: other has {other.n_features} features, expected {self.n_features}"
            )
        a, b = self.packed(), other.packed()
        out = np.empty_like(a)
        st = lib.fk_colstats_merge(cbuf(a), a.size, cbuf(b), b.size, self.n_features, cbuf_out(out), out.size)
        if st:
            raise_for_status(st)
        return ColumnStats.from_packed(out)

    def mean(self) -> np.ndarray:
        """Mean of the non-NaN values (NaN for a column without values)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.sum / np.where(self.count > 0, self.count, 1), np.nan)

    def var(self, ddof: float = 0) -> np.ndarray:
        """Variance ``m2 / (count - ddof)`` (NaN where ``count <= ddof``)."""
        d = self.count - ddof
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(d > 0, self.m2 / np.where(d > 0, d, 1), np.nan)


def _check_weights(w: np.ndarray) -> None:
    """ValueError unless every weight is finite and >= 0 (one vectorized pass)."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(w) & (w >= 0)
    if not ok.all():
        i = int(np.argmin(ok))
        raise ValueError(
            f"partial_stats: sample_weight must be finite and non-negative; row {i} has weight {float(w[i])}"
        )


def partial_stats(X: ArrayLike, *, sample_weight: ArrayLike | None = None) -> ColumnStats:
    """Per-column statistics of a 2-D array in one pass (NaNs skipped and counted).

    ``sample_weight`` (one finite, non-negative weight per row) weights count,
    sum, m2, sum_abs and sum_sq; a negative, NaN or infinite weight raises
    ``ValueError`` naming the first such row. Merge results of chunks with
    :meth:`ColumnStats.merge`.

    >>> import numpy as np
    >>> from ferrokit.stats import partial_stats
    >>> s = partial_stats(np.array([[1.0, np.nan], [3.0, 4.0]]))
    >>> s.count, s.nan_count, s.mean()
    (array([2., 1.]), array([0., 1.]), array([2., 4.]))
    """
    x, _ = as_float_array(X, "partial_stats", "X")
    if x.ndim != 2:
        raise ShapeMismatchError(f"partial_stats: X must be 2-D, got an array of shape {x.shape}")
    w = None
    if sample_weight is not None:
        w = c_contiguous(np.asarray(sample_weight, dtype=x.dtype))
        if w.shape != (x.shape[0],):
            raise ShapeMismatchError(
                f"partial_stats: sample_weight must have shape ({x.shape[0]},), got {w.shape}"
            )
        _check_weights(w)
    return ColumnStats.from_packed(_colstats_raw(x, w))


# ---------------------------------------------------------------- reductions


def _reduce(a: ArrayLike, fn: str, axis: int | None, out: np.ndarray | None, pick: Any) -> Any:
    x, m, ax = _prepare(a, fn, axis)
    p = _colstats_raw(m)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        vals = pick(p)
    return _finish(np.asarray(vals, dtype=F64), x.dtype, ax, out, fn)


def _propagate(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.where(p[1] > 0, np.nan, v)


def sum(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Sum (NaN if any value is NaN), pairwise in fixed blocks.

    >>> from ferrokit import stats
    >>> float(stats.sum([1.0, 2.0, 3.5]))
    6.5
    """
    return _reduce(a, "sum", axis, out, lambda p: _propagate(p, p[2]))


def nansum(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Sum of the non-NaN values (0 when there are none).

    >>> from ferrokit import stats
    >>> float(stats.nansum([1.0, float("nan"), 3.0]))
    4.0
    """
    return _reduce(a, "nansum", axis, out, lambda p: p[2])


def _mean(p: np.ndarray) -> np.ndarray:
    return np.where(p[0] > 0, p[2] / np.where(p[0] > 0, p[0], 1), np.nan)


def mean(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Arithmetic mean (NaN if any value is NaN or there are none).

    >>> from ferrokit import stats
    >>> float(stats.mean([1.0, 2.0, 6.0]))
    3.0
    """
    return _reduce(a, "mean", axis, out, lambda p: _propagate(p, _mean(p)))


def nanmean(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Mean of the non-NaN values (NaN when there are none).

    >>> from ferrokit import stats
    >>> float(stats.nanmean([1.0, float("nan"), 3.0]))
    2.0
    """
    return _reduce(a, "nanmean", axis, out, _mean)


def _var(p: np.ndarray, ddof: float) -> np.ndarray:
    d = p[0] - ddof
    return np.where(d > 0, p[3] / np.where(d > 0, d, 1), np.nan)


def _check_ddof(ddof: Any, fn: str) -> float:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: ddof must be a number, got {type(ddof).__name__}")
    return float(ddof)


def var(a: ArrayLike, axis: int | None = None, *, ddof: float = 0, out: np.ndarray | None = None) -> Any:
    """Variance ``M2 / (n - ddof)`` (NaN if any value is NaN or ``n <= ddof``).

    >>> from ferrokit import stats
    >>> float(stats.var([1.0, 2.0, 3.0, 4.0], ddof=1))
    1.6666666666666667
    """
    d = _check_ddof(ddof, "var")
    return _reduce(a, "var", axis, out, lambda p: _propagate(p, _var(p, d)))


def nanvar(a: ArrayLike, axis: int | None = None, *, ddof: float = 0, out: np.ndarray | None = None) -> Any:
    """Variance of the non-NaN values.

    >>> from ferrokit import stats
    >>> float(stats.nanvar([1.0, float("nan"), 3.0]))
    1.0
    """
    d = _check_ddof(ddof, "nanvar")
    return _reduce(a, "nanvar", axis, out, lambda p: _var(p, d))


def std(a: ArrayLike, axis: int | None = None, *, ddof: float = 0, out: np.ndarray | None = None) -> Any:
    """Standard deviation, ``sqrt(var(a, axis, ddof=ddof))``.

    >>> from ferrokit import stats
    >>> float(stats.std([1.0, 3.0]))
    1.0
    """
    d = _check_ddof(ddof, "std")
    return _reduce(a, "std", axis, out, lambda p: np.sqrt(_propagate(p, _var(p, d))))


def nanstd(a: ArrayLike, axis: int | None = None, *, ddof: float = 0, out: np.ndarray | None = None) -> Any:
    """Standard deviation of the non-NaN values.

    >>> from ferrokit import stats
    >>> float(stats.nanstd([1.0, float("nan"), 3.0]))
    1.0
    """
    d = _check_ddof(ddof, "nanstd")
    return _reduce(a, "nanstd", axis, out, lambda p: np.sqrt(_var(p, d)))


def _empty_check(p: np.ndarray, fn: str) -> None:
    if p.shape[1] and (p[0] + p[1] == 0).any():
        raise ValueError(f"{fn}: zero-size array to reduction operation which has no identity")


def _ext(p: np.ndarray, k: int, fn: str, nan_ignoring: bool) -> np.ndarray:
    _empty_check(p, fn)
    v = np.where(p[0] > 0, p[k], np.nan)  # all-NaN column -> NaN (numpy warns)
    return v if nan_ignoring else _propagate(p, v)


def min(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Minimum (NaN if any value is NaN); empty input raises ``ValueError``.

    >>> from ferrokit import stats
    >>> float(stats.min([3.0, -1.0, 2.0]))
    -1.0
    """
    return _reduce(a, "min", axis, out, lambda p: _ext(p, 4, "min", False))


def max(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Maximum (NaN if any value is NaN); empty input raises ``ValueError``.

    >>> from ferrokit import stats
    >>> float(stats.max([3.0, -1.0, 2.0]))
    3.0
    """
    return _reduce(a, "max", axis, out, lambda p: _ext(p, 5, "max", False))


def nanmin(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Minimum of the non-NaN values (NaN for an all-NaN column).

    >>> from ferrokit import stats
    >>> float(stats.nanmin([float("nan"), 2.0, 1.0]))
    1.0
    """
    return _reduce(a, "nanmin", axis, out, lambda p: _ext(p, 4, "nanmin", True))


def nanmax(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Maximum of the non-NaN values (NaN for an all-NaN column).

    >>> from ferrokit import stats
    >>> float(stats.nanmax([float("nan"), 2.0, 1.0]))
    2.0
    """
    return _reduce(a, "nanmax", axis, out, lambda p: _ext(p, 5, "nanmax", True))


def norm(a: ArrayLike, ord: Any = 2, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Vector norm: ``ord`` 1 / ``"l1"`` (sum of |x|), 2 / ``"l2"`` (Euclidean)
    or ``inf`` / ``"max"`` (max |x|); per column (axis 0), per row (axis 1) or
    over all elements (axis None, as if raveled — unlike ``numpy.linalg.norm``
    whose ``ord=1``/``inf`` on a matrix are matrix norms). NaN propagates.

    >>> from ferrokit import stats
    >>> float(stats.norm([3.0, -4.0]))
    5.0
    >>> float(stats.norm([3.0, -4.0], ord=1))
    7.0
    """
    key = {1: "l1", 2: "l2", np.inf: "max", "l1": "l1", "l2": "l2", "max": "max"}.get(ord)  # type: ignore[call-overload]
    if key is None:
        raise ValueError(f"norm: ord must be 1, 2, inf, 'l1', 'l2' or 'max', got {ord!r}")

    def pick(p: np.ndarray) -> np.ndarray:
        if key == "l1":
            v = p[6]
        elif key == "l2":
            v = np.sqrt(p[7])
        else:
            v = np.where(p[0] > 0, np.maximum(np.abs(p[4]), np.abs(p[5])), 0.0)
        return _propagate(p, v)

    return _reduce(a, "norm", axis, out, pick)


def _argext(a: ArrayLike, axis: int | None, out: np.ndarray | None, which: int, fn: str) -> Any:
    x, _ = as_float_array(a, fn, "a")
    if axis is None and x.ndim >= 2 and not x.flags.c_contiguous:
        x = c_contiguous(x)  # numpy's flat index is in C order
    _, m, ax = _prepare(x, fn, axis)
    if m.shape[0] == 0 and m.shape[1] > 0:
        raise ValueError(f"{fn}: attempt to get {fn} of an empty sequence")
    mk, layout = _kernel_view(m)
    rows, cols = mk.shape
    res = [np.empty(cols, dtype=np.uintp), np.empty(cols, dtype=np.uintp)]
    st = _ARGEXT[mk.dtype](
        cbuf(mk.reshape(-1, order="A")),
        rows,
        cols,
        layout,
        cbuf_index_out(res[0]),
        cbuf_index_out(res[1]),
        cols,
    )
    if st:
        raise_for_status(st)
    idx = res[which].astype(np.intp)
    if ax is None:
        idx = idx.reshape(())
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{fn}: out must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != idx.shape:
            raise ShapeMismatchError(f"{fn}: out has shape {out.shape}, expected {idx.shape}")
        out[...] = idx
        return out
    return idx[()] if ax is None else idx


def argmin(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Index of the minimum (first occurrence; the first NaN if there is one),
    flat C-order index for ``axis=None``.

    >>> from ferrokit import stats
    >>> int(stats.argmin([3.0, 1.0, 1.0]))
    1
    """
    return _argext(a, axis, out, 0, "argmin")


def argmax(a: ArrayLike, axis: int | None = None, *, out: np.ndarray | None = None) -> Any:
    """Index of the maximum (first occurrence; the first NaN if there is one).

    >>> from ferrokit import stats
    >>> int(stats.argmax([3.0, 5.0, 5.0]))
    1
    """
    return _argext(a, axis, out, 1, "argmax")


# ---------------------------------------------------------------- transforms


def _param(v: Any, d: int, dtype: np.dtype, fn: str, arg: str) -> np.ndarray:
    p = np.asarray(v if v is not None else 0.0)
    if p.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: {arg} must be real numbers, got dtype {p.dtype}")
    if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != d):
        raise ShapeMismatchError(f"{fn}: {arg} must be a scalar or have shape ({d},), got {p.shape}")
    return c_contiguous(np.broadcast_to(p.astype(dtype, copy=False), (d,)))


def _affine_call(
    src: np.ndarray,
    dst: np.ndarray,
    sub: np.ndarray,
    scale: np.ndarray,
    add: np.ndarray,
    *,
    divide: bool,
    clip: tuple[float, float] | None,
    check_inf: bool,
) -> bool:
    """Kernel call on 2-D arrays of one dtype and one layout (``dst`` may be
    ``src``). Returns whether ``src`` held ±inf (with ``check_inf``)."""
    rows, cols = src.shape
    layout = _layout(src)
    flag = ffi.new("int32_t *") if check_inf else _NULL
    lo, hi = clip if clip is not None else (0.0, 0.0)
    st = _AFFINE[src.dtype](
        cbuf(src.reshape(-1, order="A")),
        rows,
        cols,
        layout,
        cbuf(sub),
        cbuf(scale),
        cbuf(add),
        cols,
        int(divide),
        int(clip is not None),
        lo,
        hi,
        cbuf_out(dst.reshape(-1, order="A")),
        dst.size,
        flag,
    )
    if st:
        raise_for_status(st)
    return bool(flag[0]) if check_inf else False


def _same_layout(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.flags.c_contiguous:
        return c_contiguous(x)
    return f_contiguous(x)


def _run_transform(x: np.ndarray, out: np.ndarray | None, fn: str, call: Any) -> np.ndarray:
    """Runs ``call(src, dst)`` choosing the buffers: new array, ``out=`` or in place."""
    if out is None:
        src, _ = _kernel_view(x)
        dst = np.empty_like(src)
        call(src, dst)
        return dst
    check_out(out, x, fn, "X")
    of = out.flags
    if not (of.aligned and (of.c_contiguous or of.f_contiguous)):
        out[...] = _run_transform(x, None, fn, call)
        return out
    src = x if (x is out) else _same_layout(x, out)
    if src is not out and np.may_share_memory(src, out):
        src = src.copy(order="K")
    call(src, out)
    return out


def _matrix(X: ArrayLike, fn: str) -> np.ndarray:
    x, _ = as_float_array(X, fn, "X")
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"{fn}: X must be 2-D (n_samples, n_features), got an array of shape {x.shape}"
        )
    return x


def affine(
    X: ArrayLike,
    scale: ArrayLike,
    offset: ArrayLike = 0.0,
    *,
    sub: ArrayLike = 0.0,
    divide: bool = False,
    clip: tuple[float, float] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Per-column ``(X - sub) * scale + offset`` (``/ scale`` with ``divide``),
    optionally clipped to ``clip=(lo, hi)`` (NaN stays NaN), in one pass.

    ``scale``, ``offset`` and ``sub`` are scalars or one value per column,
    cast to X's dtype. ``out=X`` transforms in place.

    >>> import numpy as np
    >>> from ferrokit import stats
    >>> stats.affine(np.array([[1.0, 2.0], [3.0, 4.0]]), [2.0, 10.0], [0.0, 1.0])
    array([[ 2., 21.],
           [ 6., 41.]])
    """
    x = _matrix(X, "affine")
    d = x.shape[1]
    s = _param(sub, d, x.dtype, "affine", "sub")
    m = _param(scale, d, x.dtype, "affine", "scale")
    a = _param(offset, d, x.dtype, "affine", "offset")
    if clip is not None:
        lo, hi = (float(c) for c in clip)
        if not lo <= hi:
            raise ValueError(f"affine: clip must be (lo, hi) with lo <= hi, got {clip!r}")
        clip = (lo, hi)
    return _run_transform(
        x,
        out,
        "affine",
        lambda src, dst: _affine_call(src, dst, s, m, a, divide=divide, clip=clip, check_inf=False),
    )


def standardize(
    X: ArrayLike, mean: ArrayLike, scale: ArrayLike, *, out: np.ndarray | None = None
) -> np.ndarray:
    """``(X - mean) / scale`` per column (scikit-learn's StandardScaler formula).

    >>> import numpy as np
    >>> from ferrokit import stats
    >>> stats.standardize(np.array([[1.0], [3.0]]), [2.0], [1.0])
    array([[-1.],
           [ 1.]])
    """
    return affine(X, scale, 0.0, sub=mean, divide=True, out=out)


def minmax_scale(
    X: ArrayLike,
    data_min: ArrayLike,
    data_max: ArrayLike,
    *,
    feature_range: tuple[float, float] = (0.0, 1.0),
    clip: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Maps ``[data_min, data_max]`` of each column to ``feature_range``
    (``X * scale + min`` with scikit-learn's MinMaxScaler parameters; a
    constant column gets scale 1); ``clip=True`` clips to the range.

    >>> import numpy as np
    >>> from ferrokit import stats
    >>> stats.minmax_scale(np.array([[0.0], [5.0], [10.0]]), [0.0], [10.0])
    array([[0. ],
           [0.5],
           [1. ]])
    """
    x = _matrix(X, "minmax_scale")
    lo, hi = (float(v) for v in feature_range)
    if not lo < hi:
        raise ValueError(
            f"minmax_scale: feature_range must be (min, max) with min < max, got {feature_range!r}"
        )
    d = x.shape[1]
    dmin = _param(data_min, d, x.dtype, "minmax_scale", "data_min")
    dmax = _param(data_max, d, x.dtype, "minmax_scale", "data_max")
    rng = dmax - dmin
    rng[rng < 10 * np.finfo(x.dtype).eps] = 1.0
    scale = (x.dtype.type(hi) - x.dtype.type(lo)) / rng
    mn = x.dtype.type(lo) - dmin * scale
    return affine(x, scale, mn, clip=(lo, hi) if clip else None, out=out)


def normalize_rows(X: ArrayLike, norm: str = "l2", *, out: np.ndarray | None = None) -> np.ndarray:
    """Divides each row by its ``"l1"``, ``"l2"`` or ``"max"`` norm (rows whose
    norm is below 10 * epsilon are left unchanged), in one pass for C order.

    >>> import numpy as np
    >>> from ferrokit import stats
    >>> stats.normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    code = _NORMS.get(norm) if isinstance(norm, str) else None
    if code is None:
        raise ValueError(f"normalize_rows: norm must be 'l1', 'l2' or 'max', got {norm!r}")
    x = _matrix(X, "normalize_rows")
    return _run_transform(x, out, "normalize_rows", lambda s, d: _normalize_rows_call(s, d, code))


def _normalize_rows_call(src: np.ndarray, dst: np.ndarray, code: int) -> int:
    rows, cols = src.shape
    layout = _layout(src)
    bad = ffi.new("size_t *")
    st = _NORMROWS[src.dtype](
        cbuf(src.reshape(-1, order="A")),
        rows,
        cols,
        layout,
        code,
        cbuf_out(dst.reshape(-1, order="A")),
        dst.size,
        bad,
    )
    if st:
        raise_for_status(st)
    return int(bad[0])
