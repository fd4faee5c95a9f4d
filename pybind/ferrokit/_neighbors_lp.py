"""Exact manhattan / chebyshev / minkowski distances and k-NN search
(``ferrokit.neighbors.lp_pairwise_distances`` / ``lp_knn_search``).

Rust kernels (``fk_lp_*``): differences and sums in float64 in a fixed order
(float32 input loses nothing), multi-threaded on ferrokit's pool, results
bit-identical for any thread count. Distances are float64 for float32 and
float64 input alike (scikit-learn's dtype for these metrics).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import F32, cbuf, cbuf_out
from ferrokit._errors import InvalidArgumentError, raise_for_status
from ferrokit._native import ffi, lib
from ferrokit.neighbors import _check_k, _two_matrices

#: Metric names and their C constants.
LP_METRICS = {
    "manhattan": lib.FK_LP_MANHATTAN,
    "chebyshev": lib.FK_LP_CHEBYSHEV,
    "minkowski": lib.FK_LP_MINKOWSKI,
}
_PAIRWISE = {"f64": lib.fk_lp_pairwise_distances_f64, "f32": lib.fk_lp_pairwise_distances_f32}
_SEARCH = {"f64": lib.fk_lp_knn_search_f64, "f32": lib.fk_lp_knn_search_f32}


def _metric(metric: Any, p: Any, fn: str) -> tuple[int, float]:
    if not isinstance(metric, str) or metric not in LP_METRICS:
        raise InvalidArgumentError(f"{fn}: metric is {metric!r}, expected one of {sorted(LP_METRICS)}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{fn}: p must be a number, got {type(p).__name__}")
    p = float(p)
    if metric == "minkowski" and not (0.0 < p < np.inf):
        raise InvalidArgumentError(
            f"{fn}: p is {p}, expected a finite number > 0 (p = inf is metric='chebyshev')"
        )
    return LP_METRICS[metric], p


def _sfx(x: np.ndarray) -> str:
    return "f32" if x.dtype == F32 else "f64"


def lp_pairwise_distances(
    X: ArrayLike, Y: ArrayLike | None = None, metric: str = "manhattan", p: float = 2.0
) -> np.ndarray:
    """The float64 matrix of manhattan, chebyshev or minkowski distances between
    the rows of ``X`` and of ``Y`` (``X`` itself if None).

    ``"manhattan"``: ``Σ|x_i − y_i|``; ``"chebyshev"``: ``max|x_i − y_i|``;
    ``"minkowski"``: ``(Σ|x_i − y_i|^p)^(1/p)`` for a finite ``p > 0`` (``p`` is
    ignored by the other two). Matches ``sklearn.metrics.pairwise_distances``
    (exact: differences and sums in float64). float32 input is used without a
    copy; the result is float64 either way. NaN propagates.

    Raises ``ValueError`` for an unknown metric, ``p <= 0`` / non-finite ``p``
    for minkowski, mismatched numbers of features; ``TypeError`` for
    non-numeric input.

    >>> import numpy as np, ferrokit as fk
    >>> fk.neighbors.lp_pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    array([[0., 7.],
           [7., 0.]])
    >>> fk.neighbors.lp_pairwise_distances([[0.0, 0.0]], [[3.0, 4.0]], metric="minkowski", p=3)
    array([[4.49794145]])
    """
    fn = "lp_pairwise_distances"
    m, p = _metric(metric, p, fn)
    x, y = _two_matrices(X, X if Y is None else Y, fn, ("X", "Y"))
    out = np.empty((x.shape[0], y.shape[0]), dtype=np.float64)
    st = _PAIRWISE[_sfx(x)](
        cbuf(x), x.shape[0], cbuf(y), y.shape[0], x.shape[1], m, p, cbuf_out(out), out.size
    )
    if st:
        raise_for_status(st)
    return out


def lp_knn_search(
    queries: ArrayLike, database: ArrayLike, k: int, metric: str = "manhattan", p: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest database rows of every query row by manhattan,
    chebyshev or minkowski distance (exact, brute force).

    Returns ``(distances, indices)`` of shape ``(n_queries, k)``, nearest first;
    distances float64 (for float32 input too), indices int64; ties go to the
    lower index, NaN distances last. Metrics and ``p`` as
    :func:`lp_pairwise_distances`. Memory O(n_queries · k).

    Raises ``ValueError`` for k < 1, k > n_database, an empty database,
    mismatched numbers of features, an unknown metric or a bad ``p``;
    ``TypeError`` for non-numeric input or a non-integer k.

    >>> import numpy as np, ferrokit as fk
    >>> db = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]], dtype=np.float32)
    >>> fk.neighbors.lp_knn_search([[2.0, 0.5]], db, k=2, metric="chebyshev")
    (array([[1., 1.]]), array([[1, 2]]))
    """
    fn = "lp_knn_search"
    m, p = _metric(metric, p, fn)
    q, x = _two_matrices(queries, database, fn, ("queries", "database"))
    k = _check_k(k, x.shape[0], fn)
    nq = q.shape[0]
    dist = np.empty((nq, k), dtype=np.float64)
    ind = np.empty((nq, k), dtype=np.int64)
    st = _SEARCH[_sfx(x)](
        cbuf(q),
        nq,
        cbuf(x),
        x.shape[0],
        x.shape[1],
        k,
        m,
        p,
        cbuf_out(dist),
        dist.size,
        ffi.from_buffer("int64_t[]", ind, require_writable=True),
        ind.size,
    )
    if st:
        raise_for_status(st)
    return dist, ind
