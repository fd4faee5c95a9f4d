"""Exact nearest-neighbour search and pairwise distances.

Distances come from one matrix product (a BLAS-class GEMM on fixed tiles,
multi-threaded on ferrokit's pool); the k best of each tile are selected as it
is computed, so :func:`knn_search` never builds the full ``queries × database``
distance matrix (memory O(queries · k)). Results are bit-identical for any
thread count.

Metrics (``metric=``):

- ``"sqeuclidean"``: squared euclidean distance, smallest first;
- ``"euclidean"`` (alias ``"l2"``): euclidean distance, smallest first;
- ``"cosine"``: cosine distance ``1 - cos(q, x)`` in [0, 2], smallest first
  (largest similarity first); a zero vector has similarity 0 with everything;
- ``"inner_product"``: the inner product ``q · x``, a similarity: **largest first**
  (like faiss ``IndexFlatIP``).

NaN: a query or database row holding NaN gets NaN distances, which sort after
every number (ties, NaN included, go to the lower database index).

scikit-learn compatible estimators ``NearestNeighbors``,
``KNeighborsClassifier`` and ``KNeighborsRegressor`` are available here too; they need scikit-learn
(``pip install ferrokit[sklearn]``), which ``import ferrokit`` does not.

>>> import numpy as np, ferrokit as fk
>>> db = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
>>> d, i = fk.neighbors.knn_search(np.array([[0.9, 0.1]]), db, k=2)
>>> i
array([[1, 0]])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import F32, F64, as_matrix, cbuf, cbuf_out
from ferrokit._errors import ClosedError, InvalidArgumentError, ShapeMismatchError, raise_for_status
from ferrokit._handle import HandleOwner, NativeHandle
from ferrokit._native import ffi, lib

# NearestNeighbors, KNeighborsClassifier and KNeighborsRegressor (loaded on first use, they need
# scikit-learn) are left out so that `import *` works without it.
__all__ = [
    "METRICS",
    "KnnIndex",
    "knn_search",
    "lp_knn_search",
    "lp_pairwise_distances",
    "pairwise_distances",
]

#: Metric name -> the C constant ``FK_METRIC_*``.
METRICS: dict[str, int] = {
    "sqeuclidean": lib.FK_METRIC_SQEUCLIDEAN,
    "euclidean": lib.FK_METRIC_EUCLIDEAN,
    "cosine": lib.FK_METRIC_COSINE,
    "inner_product": lib.FK_METRIC_INNER_PRODUCT,
}
_ALIASES = {"l2": "euclidean"}

_PAIRWISE = {F64: lib.fk_pairwise_distances_f64, F32: lib.fk_pairwise_distances_f32}
_SEARCH = {F64: lib.fk_knn_search_f64, F32: lib.fk_knn_search_f32}
_I64 = np.dtype(np.int64)


def metric_id(metric: Any, fn: str) -> int:
    """The C constant of a metric name; ``ValueError`` naming the valid ones."""
    if isinstance(metric, str):
        name = _ALIASES.get(metric, metric)
        if name in METRICS:
            return METRICS[name]
    raise InvalidArgumentError(f"{fn}: metric is {metric!r}, expected one of {sorted([*METRICS, *_ALIASES])}")


def _as_int(value: Any, fn: str, arg: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {arg} must be an integer, got a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{fn}: {arg} must be an integer, got {type(value).__name__}") from None


def _two_matrices(a: Any, b: Any, fn: str, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two C-contiguous 2-D arrays of one float dtype (float64 if they differ)."""
    x = as_matrix(a, fn, names[0])
    y = as_matrix(b, fn, names[1])
    if x.dtype != y.dtype:
        x, y = x.astype(F64), y.astype(F64)
    if x.shape[1] != y.shape[1]:
        raise ShapeMismatchError(
            f"{fn}: {names[0]} has {x.shape[1]} features (columns) but {names[1]} has "
            f"{y.shape[1]}; they must match"
        )
    if x.shape[1] == 0:
        raise ShapeMismatchError(f"{fn}: {names[0]} and {names[1]} have 0 features, expected at least 1")
    return x, y


def pairwise_distances(X: ArrayLike, Y: ArrayLike | None = None, metric: str = "euclidean") -> np.ndarray:
    """The matrix of distances between the rows of ``X`` and of ``Y`` (``X`` itself if None).

    Matches ``sklearn.metrics.pairwise_distances`` for ``"euclidean"``,
    ``"sqeuclidean"`` and ``"cosine"`` (with ``Y=None`` the diagonal is exactly 0,
    like scikit-learn); ``"inner_product"`` gives ``X @ Y.T``. Computed in float64
    for float32 input too (blocks are widened, as scikit-learn does for
    euclidean), so float32 results are correctly rounded to about 1e-7;
    euclidean entries that would lose digits to the ``|x|² + |y|² - 2 x·y``
    formula are recomputed from differences. Output dtype: the input's
    (float64 if ``X`` and ``Y`` differ). Memory: the output only.

    Parameters
    ----------
    X : array_like, shape (n_x, n_features)
    Y : array_like, shape (n_y, n_features), optional
    metric : {"euclidean", "sqeuclidean", "cosine", "inner_product"}

    >>> import numpy as np, ferrokit as fk
    >>> fk.neighbors.pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    array([[0., 5.],
           [5., 0.]])
    """
    fn = "pairwise_distances"
    m = metric_id(metric, fn)
    x, y = _two_matrices(X, X if Y is None else Y, fn, ("X", "Y"))
    out = np.empty((x.shape[0], y.shape[0]), dtype=x.dtype)
    st = _PAIRWISE[x.dtype](cbuf(x), x.shape[0], cbuf(y), y.shape[0], x.shape[1], m, cbuf_out(out), out.size)
    if st:
        raise_for_status(st)
    if Y is None and m != lib.FK_METRIC_INNER_PRODUCT:
        np.fill_diagonal(out, 0.0)
    return out


def _check_k(k: Any, n_database: int, fn: str) -> int:
    k = _as_int(k, fn, "k")
    if n_database == 0:
        raise InvalidArgumentError(f"{fn}: the database is empty (0 rows); nothing to search")
    if k <= 0:
        raise InvalidArgumentError(f"{fn}: k must be >= 1, got {k}")
    if k > n_database:
        raise InvalidArgumentError(f"{fn}: k is {k}, larger than the database ({n_database} rows)")
    return k


def knn_search(
    queries: ArrayLike, database: ArrayLike, k: int, metric: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest database rows of every query row (exact, brute force).

    Returns ``(distances, indices)``, both of shape ``(n_queries, k)``, best
    first: ascending distance (``"euclidean"``, ``"sqeuclidean"``, ``"cosine"``)
    or descending inner product (``"inner_product"``). Ties go to the lower
    index; NaN distances sort last. Distances have the input dtype, indices are
    int64. float32 input is searched in float32; the k distances returned are
    recomputed in float64 (no cancellation error). Arrays are used without a
    copy when C-contiguous float32/float64; mixed dtypes are computed in
    float64. Memory: O(n_queries · k), never the full distance matrix.

    Raises ``ValueError`` for k < 1, k > n_database, an empty database,
    mismatched numbers of features or an unknown metric; ``TypeError`` for
    non-numeric input or a non-integer k.

    >>> import numpy as np, ferrokit as fk
    >>> db = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    >>> d, i = fk.neighbors.knn_search(db[:1], db, k=2, metric="sqeuclidean")
    >>> d, i
    (array([[0., 1.]], dtype=float32), array([[0, 1]]))
    """
    fn = "knn_search"
    m = metric_id(metric, fn)
    q, x = _two_matrices(queries, database, fn, ("queries", "database"))
    k = _check_k(k, x.shape[0], fn)
    nq = q.shape[0]
    dist = np.empty((nq, k), dtype=x.dtype)
    ind = np.empty((nq, k), dtype=_I64)
    st = _SEARCH[x.dtype](
        cbuf(q),
        nq,
        cbuf(x),
        x.shape[0],
        x.shape[1],
        k,
        m,
        cbuf_out(dist),
        dist.size,
        ffi.from_buffer("int64_t[]", ind, require_writable=True),
        ind.size,
    )
    if st:
        raise_for_status(st)
    return dist, ind


class KnnIndex(HandleOwner):
    """An exact k-NN index owned by the native library (a C index handle).

    Rows added are copied into the index (with their norms, computed once).
    On CPUs with AVX2 or AVX-512 VNNI the index also keeps 4-bit and int8 codes
    of the rows (3/8 of the float32 rows' memory, 28 bytes per row more):
    searches of 1-3 queries scan the codes first, with proven error bounds, and score only
    the rows that can be among the k best; the result is identical to a full
    scan. :meth:`search` is thread-safe and releases the GIL, so several Python
    threads can search one index in parallel; :meth:`add` takes exclusive
    access. :meth:`close` (or leaving a ``with`` block) releases the handle;
    otherwise it is freed when the object is garbage collected — exactly once
    either way.

    >>> import numpy as np, ferrokit as fk
    >>> with fk.neighbors.KnnIndex(2, metric="inner_product") as index:
    ...     index.add(np.array([[1.0, 0.0], [3.0, 0.0]], dtype=np.float32))
    ...     index.search(np.array([[1.0, 1.0]], dtype=np.float32), k=1)
    (array([[3.]], dtype=float32), array([[1]]))
    """

    def __init__(self, dim: int, metric: str = "euclidean", *, dtype: Any = np.float32) -> None:
        fn = "KnnIndex"
        dim = _as_int(dim, fn, "dim")
        if dim < 1:
            raise InvalidArgumentError(f"{fn}: dim must be >= 1, got {dim}")
        dt = np.dtype(dtype)
        if dt not in (F32, F64):
            raise TypeError(f"{fn}: dtype is {dt}, expected float32 or float64")
        self._dtype = F32 if dt == F32 else F64
        self._metric = _ALIASES.get(metric, metric) if isinstance(metric, str) else metric
        m = metric_id(metric, fn)
        self._dim = dim
        sfx = "f32" if self._dtype is F32 else "f64"
        self._add = getattr(lib, f"fk_knn_index_add_{sfx}")
        self._search = getattr(lib, f"fk_knn_index_search_{sfx}")
        self._len = getattr(lib, f"fk_knn_index_len_{sfx}")
        self._get_rows = getattr(lib, f"fk_knn_index_rows_{sfx}")
        out = ffi.new(f"fk_knn_index_{sfx} **")
        st = getattr(lib, f"fk_knn_index_new_{sfx}")(dim, m, out)
        if st:
            raise_for_status(st)
        self._own = NativeHandle(out[0], getattr(lib, f"fk_knn_index_free_{sfx}"), "KnnIndex")

    @property
    def dim(self) -> int:
        """Number of features of every row."""
        return self._dim

    @property
    def metric(self) -> str:
        """The metric searched by."""
        return self._metric

    @property
    def dtype(self) -> np.dtype:
        """float32 or float64."""
        return self._dtype

    def _rows(self, data: ArrayLike, fn: str, arg: str) -> np.ndarray:
        x = as_matrix(data, f"KnnIndex.{fn}", arg)
        if x.shape[1] != self._dim:
            raise ShapeMismatchError(
                f"KnnIndex.{fn}: {arg} has {x.shape[1]} features (columns), the index holds "
                f"rows of {self._dim}"
            )
        if x.dtype != self._dtype:
            x = x.astype(self._dtype)
        return x

    def add(self, data: ArrayLike) -> None:
        """Appends the rows of ``data`` (n, dim); they get the next indices.

        Converted to the index dtype if needed; copied into the index.
        """
        x = self._rows(data, "add", "data")
        with self._own.borrow("add") as h:
            st = self._add(h, cbuf(x), x.shape[0], x.shape[1])
        if st:
            raise_for_status(st)

    def search(self, queries: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(distances, indices)`` of the ``k`` best rows for each query, as :func:`knn_search`."""
        fn = "KnnIndex.search"
        with self._own.borrow("search") as h:
            q = self._rows(queries, "search", "queries")
            k = _as_int(k, fn, "k")
            n = self._count(h)
            if n == 0:
                raise InvalidArgumentError(f"{fn}: the index is empty; add rows first")
            k = _check_k(k, n, fn)
            dist = np.empty((q.shape[0], k), dtype=self._dtype)
            ind = np.empty((q.shape[0], k), dtype=_I64)
            st = self._search(
                h,
                cbuf(q),
                q.shape[0],
                q.shape[1],
                k,
                cbuf_out(dist),
                dist.size,
                ffi.from_buffer("int64_t[]", ind, require_writable=True),
                ind.size,
            )
        if st:
            raise_for_status(st)
        return dist, ind

    def _count(self, h: Any) -> int:
        out = ffi.new("size_t *")
        st = self._len(h, out)
        if st:
            raise_for_status(st)
        return int(out[0])

    def __len__(self) -> int:
        with self._own.borrow("__len__") as h:
            return self._count(h)

    def rows(self) -> np.ndarray:
        """A copy of every row added so far, ``(len(index), dim)``, in the
        index dtype, exactly as stored (the order of addition).

        >>> import numpy as np, ferrokit as fk
        >>> index = fk.neighbors.KnnIndex(2, dtype=np.float64)
        >>> index.add([[1.0, 2.0], [3.0, 4.0]])
        >>> index.rows()
        array([[1., 2.],
               [3., 4.]])
        """
        with self._own.borrow("rows") as h:
            n = self._count(h)
            out = np.empty((n, self._dim), dtype=self._dtype)
            st = self._get_rows(h, 0, n, cbuf_out(out) if n else ffi.NULL, out.size)
        if st:
            raise_for_status(st)
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies, pickles, joblib files and Dask transfers carry the rows, the
        # metric and the dtype: every copy owns its own native index (closing
        # one never affects another). A closed index raises ClosedError here.
        return (_restore_index, (self._dim, self._metric, self._dtype.name, self.rows()))

    def __repr__(self) -> str:
        try:
            state = f"{len(self)} rows"
        except ClosedError:
            state = "closed"
        return f"KnnIndex(dim={self._dim}, metric={self._metric!r}, dtype={self._dtype}, {state})"


def _restore_index(dim: int, metric: str, dtype: str, rows: np.ndarray) -> KnnIndex:
    """Rebuilds a :class:`KnnIndex` from its parts (unpickling, copies)."""
    index = KnnIndex(dim, metric, dtype=np.dtype(dtype))
    if len(rows):
        index.add(rows)
    return index


def __getattr__(name: str) -> Any:
    # The scikit-learn estimators load scikit-learn only when first used.
    if name in ("NearestNeighbors", "KNeighborsClassifier", "KNeighborsRegressor", "SklearnFallbackWarning"):
        try:
            from ferrokit import _neighbors_sklearn
        except ImportError as exc:
            raise ImportError(
                f"ferrokit.neighbors.{name} needs scikit-learn: pip install 'ferrokit[sklearn]' ({exc})"
            ) from exc
        return getattr(_neighbors_sklearn, name)
    raise AttributeError(f"module 'ferrokit.neighbors' has no attribute {name!r}")


# Manhattan / chebyshev / minkowski (their own module; it uses the helpers above).
from ferrokit._neighbors_lp import lp_knn_search, lp_pairwise_distances  # noqa: E402
