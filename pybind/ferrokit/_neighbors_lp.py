"""Exact manhattan / chebyshev / minkowski distances and k-NN search.

An exact numpy path (blocks of |q - x| in float64; ties to the lower index by a
stable sort), used by the scikit-learn estimators until the Rust kernels for
these metrics land. Single-threaded, memory O(block).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

LP_METRICS = ("manhattan", "chebyshev", "minkowski")


def _block(q: np.ndarray, x: np.ndarray, metric: str, p: float, root: bool) -> np.ndarray:
    diff = np.abs(q[:, None, :].astype(np.float64) - x[None, :, :].astype(np.float64))
    if metric == "manhattan":
        return diff.sum(-1)
    if metric == "chebyshev":
        return diff.max(-1)
    s = (diff**p).sum(-1)
    return s ** (1.0 / p) if root else s


def lp_pairwise_distances(
    X: ArrayLike, Y: ArrayLike | None = None, metric: str = "manhattan", p: float = 2.0
) -> np.ndarray:
    x = np.asarray(X)
    y = x if Y is None else np.asarray(Y)
    out = np.empty((x.shape[0], y.shape[0]))
    b = max(1, (1 << 21) // max(1, y.shape[0] * x.shape[1]))
    for s in range(0, x.shape[0], b):
        out[s : s + b] = _block(x[s : s + b], y, metric, p, True)
    return out


def lp_knn_search(
    queries: ArrayLike, database: ArrayLike, k: int, metric: str = "manhattan", p: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    q, x = np.asarray(queries), np.asarray(database)
    d = lp_pairwise_distances(q, x, metric, p)
    ind = np.argsort(d, axis=1, kind="stable")[:, :k].astype(np.int64)
    return np.take_along_axis(d, ind, axis=1), ind
