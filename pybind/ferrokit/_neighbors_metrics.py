"""Metric resolution and exact distance backends of the scikit-learn estimators.

:func:`resolve` turns scikit-learn's ``metric`` / ``p`` / ``metric_params``
into what scikit-learn calls ``effective_metric_`` / ``effective_metric_params_``
(same rules: ``minkowski`` with ``p=1`` is ``manhattan``, ``p=2`` ``euclidean``,
``p=inf`` ``chebyshev``) and a :class:`Backend` naming the ferrokit kernel that
computes it, or ``None`` when ferrokit has no kernel for it (the estimators then
fall back to scikit-learn, with a warning).

Kernels:

- ``"gemm"``: :func:`ferrokit.neighbors.knn_search` /
  :func:`~ferrokit.neighbors.pairwise_distances` (euclidean, sqeuclidean, cosine);
- ``"lp"``: :func:`ferrokit.neighbors.lp_knn_search` /
  :func:`~ferrokit.neighbors.lp_pairwise_distances` (manhattan, chebyshev,
  minkowski with any ``p > 0``), exact, summed in float64.

Distances come back with scikit-learn's dtypes: float64, except cosine on
float32 data (float32, as scikit-learn's brute force).
"""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import ferrokit as fk
from ferrokit.neighbors import knn_search, lp_knn_search, lp_pairwise_distances, pairwise_distances

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

_GEMM = {"euclidean": "euclidean", "l2": "euclidean", "sqeuclidean": "sqeuclidean", "cosine": "cosine"}
_LP = {
    "manhattan": "manhattan",
    "cityblock": "manhattan",
    "l1": "manhattan",
    "chebyshev": "chebyshev",
    "infinity": "chebyshev",
}

#: Metrics ferrokit computes itself (``minkowski`` without weights ``w``).
NATIVE_METRICS = tuple(sorted([*_GEMM, *_LP, "minkowski"]))


@dataclass(frozen=True)
class Backend:
    """A ferrokit kernel: ``kind`` ``"gemm"`` or ``"lp"``, its metric name, ``p`` for minkowski."""

    kind: str
    metric: str
    p: float = 2.0


def resolve(metric: Any, p: Any, metric_params: dict | None) -> tuple[Any, dict, Backend | None]:
    """``(effective_metric_, effective_metric_params_, backend)`` as scikit-learn 1.9 resolves them."""
    params = {} if metric_params is None else dict(metric_params)
    effective_p = params.get("p", p)
    if metric == "minkowski":
        params["p"] = effective_p
    effective = metric
    if metric == "minkowski":
        p_ = params.pop("p", 2)
        w = params.pop("w", None)
        if p_ == 1 and w is None:
            effective = "manhattan"
        elif p_ == 2 and w is None:
            effective = "euclidean"
        elif p_ == np.inf and w is None:
            effective = "chebyshev"
        else:
            params["p"] = p_
            params["w"] = w
    return effective, params, _backend(effective, params)


def _backend(effective: Any, params: dict) -> Backend | None:
    if not isinstance(effective, str):
        return None  # callables, DistanceMetric objects
    if effective in _GEMM and not params:
        return Backend("gemm", _GEMM[effective])
    if effective in _LP and not params:
        return Backend("lp", _LP[effective])
    if effective == "minkowski" and set(params) == {"p", "w"} and params["w"] is None:
        p = params["p"]
        if isinstance(p, numbers.Real) and not isinstance(p, bool) and 0 < p < np.inf:
            return Backend("lp", "minkowski", float(p))
    return None


@contextlib.contextmanager
def n_jobs_threads(n_jobs: Any) -> Iterator[None]:
    """Runs the block with the thread count scikit-learn's ``n_jobs`` asks for.

    ``None``: ferrokit's current setting; ``-1`` every usable CPU; ``-2`` all
    but one (joblib's rule ``cpus + 1 + n_jobs``); a positive count as is.
    """
    if n_jobs is None:
        yield
        return
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive count or -1 for all CPUs")
    if n_jobs < 0:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cpus = os.cpu_count() or 1
        n_jobs = max(1, cpus + 1 + n_jobs)
    with fk.threads(min(int(n_jobs), 1024)):
        yield


def _common(Xq: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if Xq.dtype != X.dtype:
        return Xq.astype(F64), X.astype(F64)
    return Xq, X


def _refine_l2(Xq: np.ndarray, X: np.ndarray, ind: np.ndarray, squared: bool) -> np.ndarray:
    """Euclidean distances of the pairs (query i, row ind[i, j]) summed in float64
    from differences (float32 data: no float32 rounding, like scikit-learn's
    float64 results)."""
    nq, k = ind.shape
    out = np.empty((nq, k), dtype=F64)
    block = max(1, (1 << 20) // max(1, k * X.shape[1]))
    for s in range(0, nq, block):
        diff = Xq[s : s + block, None, :].astype(F64) - X[ind[s : s + block]].astype(F64)
        out[s : s + block] = np.einsum("qkd,qkd->qk", diff, diff)
    return out if squared else np.sqrt(out, out=out)


def kneighbors(Xq: np.ndarray, X: np.ndarray, k: int, backend: Backend) -> tuple[np.ndarray, np.ndarray]:
    """Distances (scikit-learn's dtype) and int64 indices of the ``k`` nearest rows of ``X``."""
    Xq, X = _common(Xq, X)
    if backend.kind == "lp":
        return lp_knn_search(Xq, X, k, metric=backend.metric, p=backend.p)
    dist, ind = knn_search(Xq, X, k, metric=backend.metric)
    if dist.dtype == F32 and backend.metric != "cosine":
        dist = _refine_l2(Xq, X, ind, squared=backend.metric == "sqeuclidean")
    return dist, ind


def needs_f64_rows(X: np.ndarray, backend: Backend) -> bool:
    """True when :func:`pairwise_block` wants a float64 copy of the fitted rows
    (float32 euclidean / sqeuclidean: scikit-learn compares float64 distances
    with the radius)."""
    return X.dtype == F32 and backend.kind == "gemm" and backend.metric != "cosine"


def pairwise_block(Xq: np.ndarray, X: np.ndarray, backend: Backend) -> np.ndarray:
    """The distance matrix of a block of queries, scikit-learn's dtype.

    Pass the float64 rows when :func:`needs_f64_rows` says so (the caller
    keeps that copy across blocks).
    """
    if backend.kind == "lp":
        return lp_pairwise_distances(*_common(Xq, X), metric=backend.metric, p=backend.p)
    if X.dtype == F64 and Xq.dtype != F64:
        Xq = Xq.astype(F64)
    Xq, X = _common(Xq, X)
    return pairwise_distances(Xq, X, metric=backend.metric)
