"""scikit-learn compatible estimators over :func:`ferrokit.neighbors.knn_search`.

Imported on first use of ``ferrokit.neighbors.NearestNeighbors`` /
``KNeighborsClassifier`` / ``KNeighborsRegressor`` (scikit-learn is an
optional dependency).
Unlike :func:`~ferrokit.neighbors.knn_search`, these validate input the
scikit-learn way: NaN / infinity raise ``ValueError``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ferrokit.neighbors import knn_search, metric_id, pairwise_distances

_DTYPES = [np.float64, np.float32]
#: Distance metrics the estimators accept (inner_product is a similarity).
_ESTIMATOR_METRICS = ("euclidean", "l2", "sqeuclidean", "cosine")


def _check_metric(metric: Any, owner: str) -> None:
    if metric not in _ESTIMATOR_METRICS:
        raise ValueError(f"{owner}: metric is {metric!r}, expected one of {list(_ESTIMATOR_METRICS)}")
    metric_id(metric, owner)


def _check_n_neighbors(n: Any, owner: str) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{owner}: n_neighbors does not take {type(n).__name__} value, enter integer value")
    if n <= 0:
        raise ValueError(f"Expected n_neighbors > 0. Got {n}")
    return int(n)


def _check_weights(weights: Any) -> None:
    if weights not in ("uniform", "distance"):
        raise ValueError(f"weights not recognized: should be 'uniform' or 'distance', got {weights!r}")


def _neighbor_weights(weights: str, dist: np.ndarray) -> np.ndarray:
    """Vote weights of each neighbour: ones, or inverse distances where a zero
    distance makes the exact matches of that row decide alone (scikit-learn's rule)."""
    if weights == "uniform":
        return np.ones(dist.shape)
    with np.errstate(divide="ignore"):
        w = 1.0 / dist.astype(np.float64)
    inf_mask = np.isinf(w)
    inf_row = np.any(inf_mask, axis=1)
    w[inf_row] = inf_mask[inf_row]
    return w


def _check_mode(mode: Any) -> None:
    if mode not in ("connectivity", "distance"):
        raise ValueError(
            f'Unsupported mode, must be one of "connectivity", or "distance" but got "{mode}" instead'
        )


def _csr_graph(mode: str, dist: Any, ind: Any, n_cols: int) -> Any:
    """CSR matrix with one row per query from per-row (distances, indices): 2-D
    arrays (k neighbours each) or object arrays of per-row arrays (radius)."""
    from scipy.sparse import csr_matrix

    if ind.dtype != object:
        counts = np.full(ind.shape[0], ind.shape[1])
        flat_ind, flat_d = ind.ravel(), np.ravel(dist)
    else:
        counts = np.array([len(r) for r in ind], dtype=np.int64)
        flat_ind = np.concatenate(list(ind)).astype(np.int64) if len(ind) else np.empty(0, np.int64)
        flat_d = np.concatenate(list(dist)) if len(dist) else np.empty(0)
    indptr = np.concatenate(([0], np.cumsum(counts)))
    data = np.ones(flat_ind.size) if mode == "connectivity" else np.asarray(flat_d, dtype=np.float64)
    return csr_matrix((data, flat_ind, indptr), shape=(len(counts), n_cols))


class _KNeighborsBase(BaseEstimator):
    """Shared fit / kneighbors of the estimators."""

    n_neighbors: int
    metric: str

    def _fit_data(self, X: np.ndarray) -> None:
        _check_metric(self.metric, type(self).__name__)
        _check_n_neighbors(self.n_neighbors, type(self).__name__)
        self._fit_X = np.ascontiguousarray(X)
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean" if self.metric == "l2" else self.metric

    def kneighbors(
        self, X: ArrayLike | None = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """Indices (and distances) of the k nearest fitted samples of each row of ``X``.

        As ``sklearn.neighbors.NearestNeighbors.kneighbors``: with ``X=None`` the
        fitted samples are queried and none is its own neighbour.
        """
        check_is_fitted(self)
        owner = type(self).__name__
        k = _check_n_neighbors(self.n_neighbors if n_neighbors is None else n_neighbors, owner)
        query_is_train = X is None
        if query_is_train:
            Xq = self._fit_X
            k += 1
        else:
            Xq = validate_data(self, X, dtype=_DTYPES, reset=False, order="C")
        if k > self.n_samples_fit_:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {Xq.shape[0]}"
            )
        dist, ind = knn_search(Xq, self._fit_X, k, metric=self.effective_metric_)
        if query_is_train:
            # Drop each sample from its own list (or the last one if a duplicate
            # pushed it out), exactly as scikit-learn does.
            n_queries = Xq.shape[0]
            mask = ind != np.arange(n_queries)[:, None]
            dup = np.all(mask, axis=1)
            mask[:, 0][dup] = False
            ind = ind[mask].reshape(n_queries, k - 1)
            dist = dist[mask].reshape(n_queries, k - 1)
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(
        self, X: ArrayLike | None = None, n_neighbors: int | None = None, mode: str = "connectivity"
    ) -> Any:
        """Sparse (CSR) graph of k-neighbours, as scikit-learn's ``kneighbors_graph``."""
        _check_mode(mode)
        dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
        return _csr_graph(mode, dist, ind, self.n_samples_fit_)


class NearestNeighbors(_KNeighborsBase):
    """Exact nearest neighbours, API of ``sklearn.neighbors.NearestNeighbors``.

    Brute force through ferrokit's fused distance + top-k kernel (what
    scikit-learn calls ``algorithm="brute"``), multi-threaded. Metrics:
    ``"euclidean"`` (``"l2"``), ``"sqeuclidean"``, ``"cosine"``.

    >>> import numpy as np
    >>> from ferrokit.neighbors import NearestNeighbors
    >>> nn = NearestNeighbors(n_neighbors=1).fit(np.array([[0.0], [1.0], [5.0]]))
    >>> nn.kneighbors(np.array([[0.8]]))
    (array([[0.2]]), array([[1]]))
    """

    def __init__(self, n_neighbors: int = 5, *, radius: float = 1.0, metric: str = "euclidean") -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.metric = metric

    def fit(self, X: ArrayLike, y: Any = None) -> NearestNeighbors:
        """Stores the training data (no copy when C-contiguous float32/float64)."""
        X = validate_data(self, X, dtype=_DTYPES, order="C")
        self._fit_data(X)
        return self

    def radius_neighbors(
        self,
        X: ArrayLike | None = None,
        radius: float | None = None,
        return_distance: bool = True,
        sort_results: bool = False,
    ) -> Any:
        """Neighbours within ``radius`` of each row, as scikit-learn's ``radius_neighbors``.

        Returns object arrays of per-query arrays. Computed by blocks of query
        rows through :func:`~ferrokit.neighbors.pairwise_distances` (memory
        O(block · n_samples_fit)).
        """
        check_is_fitted(self)
        radius = self.radius if radius is None else radius
        query_is_train = X is None
        Xq = self._fit_X if query_is_train else validate_data(self, X, dtype=_DTYPES, reset=False, order="C")
        n = Xq.shape[0]
        dists = np.empty(n, dtype=object)
        inds = np.empty(n, dtype=object)
        block = max(1, (1 << 22) // max(1, self.n_samples_fit_))
        for s in range(0, n, block):
            D = pairwise_distances(Xq[s : s + block], self._fit_X, metric=self.effective_metric_)
            for r in range(D.shape[0]):
                row = D[r]
                idx = np.flatnonzero(row <= radius)
                if query_is_train:
                    idx = idx[idx != s + r]
                d = row[idx]
                if sort_results:
                    order = np.argsort(d, kind="stable")
                    idx, d = idx[order], d[order]
                inds[s + r] = idx
                dists[s + r] = d
        return (dists, inds) if return_distance else inds

    def radius_neighbors_graph(
        self,
        X: ArrayLike | None = None,
        radius: float | None = None,
        mode: str = "connectivity",
        sort_results: bool = False,
    ) -> Any:
        """Sparse (CSR) graph of the neighbours within ``radius``, as
        scikit-learn's ``radius_neighbors_graph``.

        >>> import numpy as np
        >>> from ferrokit.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(radius=1.5).fit(np.array([[0.0], [1.0], [5.0]]))
        >>> nn.radius_neighbors_graph(np.array([[0.5]])).toarray()
        array([[1., 1., 0.]])
        """
        _check_mode(mode)
        # As scikit-learn: connectivity rows list neighbours by index; only the
        # distance mode honours sort_results.
        sort = sort_results and mode == "distance"
        dist, ind = self.radius_neighbors(X, radius, return_distance=True, sort_results=sort)
        return _csr_graph(mode, dist, ind, self.n_samples_fit_)


class KNeighborsClassifier(ClassifierMixin, _KNeighborsBase):
    """k-nearest-neighbours vote, API and predictions of
    ``sklearn.neighbors.KNeighborsClassifier(algorithm="brute")``.

    ``weights``: ``"uniform"`` or ``"distance"`` (inverse distance; a zero
    distance makes the exact matches decide alone, as in scikit-learn). Vote
    ties go to the smallest class label.

    >>> import numpy as np
    >>> from ferrokit.neighbors import KNeighborsClassifier
    >>> clf = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0]], ["a", "b"])
    >>> clf.predict([[0.2], [0.9]]).tolist()
    ['a', 'b']
    """

    def __init__(self, n_neighbors: int = 5, *, weights: str = "uniform", metric: str = "euclidean") -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.metric = metric

    def fit(self, X: ArrayLike, y: ArrayLike) -> KNeighborsClassifier:
        """Stores the training data and labels."""
        _check_weights(self.weights)
        X, y = validate_data(self, X, y, dtype=_DTYPES, order="C")
        check_classification_targets(y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        self._fit_data(X)
        return self

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of each row of ``X`` (columns in ``classes_`` order)."""
        check_is_fitted(self)
        dist, ind = self.kneighbors(X)
        n_queries, k = ind.shape
        w = _neighbor_weights(self.weights, dist)
        proba = np.zeros((n_queries, len(self.classes_)))
        rows = np.repeat(np.arange(n_queries), k)
        np.add.at(proba, (rows, self._y[ind].ravel()), w.ravel())
        normalizer = proba.sum(axis=1)[:, None]
        normalizer[normalizer == 0.0] = 1.0
        return proba / normalizer

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The majority (or distance-weighted) class of each row's neighbours."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class KNeighborsRegressor(MultiOutputMixin, RegressorMixin, _KNeighborsBase):
    """k-nearest-neighbours regression, API and predictions of
    ``sklearn.neighbors.KNeighborsRegressor(algorithm="brute")``.

    The prediction is the mean of the neighbours' targets (``weights="uniform"``)
    or their inverse-distance weighted mean (``"distance"``; exact matches decide
    alone). ``y`` may have several columns (multi-output).

    >>> import numpy as np
    >>> from ferrokit.neighbors import KNeighborsRegressor
    >>> reg = KNeighborsRegressor(n_neighbors=2).fit([[0.0], [1.0], [10.0]], [0.0, 2.0, 50.0])
    >>> reg.predict([[0.4]]).tolist()
    [1.0]
    """

    def __init__(self, n_neighbors: int = 5, *, weights: str = "uniform", metric: str = "euclidean") -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.metric = metric

    def fit(self, X: ArrayLike, y: ArrayLike) -> KNeighborsRegressor:
        """Stores the training data and targets."""
        _check_weights(self.weights)
        X, y = validate_data(self, X, y, dtype=_DTYPES, order="C", multi_output=True, y_numeric=True)
        self._y = np.asarray(y, dtype=np.float64)
        self._fit_data(X)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The (weighted) mean target of each row's neighbours; 1-D for 1-D ``y``."""
        check_is_fitted(self)
        dist, ind = self.kneighbors(X)
        y = self._y if self._y.ndim == 2 else self._y[:, None]
        w = _neighbor_weights(self.weights, dist)
        pred = np.einsum("qk,qkj->qj", w, y[ind]) / w.sum(axis=1)[:, None]
        return pred[:, 0] if self._y.ndim == 1 else pred
