"""scikit-learn compatible estimators over ferrokit's exact neighbour kernels.

Imported on first use of ``ferrokit.neighbors.NearestNeighbors`` /
``KNeighborsClassifier`` / ``KNeighborsRegressor`` (scikit-learn is an
optional dependency). They take scikit-learn 1.9's full signature and give its
results and output dtypes, so code switches by changing the import:

- ``algorithm`` and ``leaf_size`` are accepted and validated, but do not change
  the search: it is always exact brute force (multi-threaded, results
  identical for any thread count). Combinations scikit-learn rejects (e.g.
  ``algorithm="kd_tree"`` with ``p < 1``) are rejected the same way, so code
  that runs here also runs with scikit-learn;
- ``n_jobs`` sets ferrokit's thread count for the duration of each call
  (``-1``: every usable CPU, ``-2`` all but one; ``None`` leaves the current
  setting); the results do not depend on it. Like :func:`ferrokit.threads`,
  this is the process-wide setting: other threads calling ferrokit during the
  call use it too;
- metrics computed by ferrokit: ``euclidean`` (``l2``), ``sqeuclidean``,
  ``cosine``, ``manhattan`` (``cityblock``, ``l1``), ``chebyshev``
  (``infinity``) and ``minkowski`` with any ``p > 0`` (the default
  ``metric="minkowski", p=2`` is euclidean);
- anything else scikit-learn accepts (``precomputed``, callables,
  ``haversine``, weighted minkowski, sparse input, ...) is **handed to
  scikit-learn's own search**, with a :class:`SklearnFallbackWarning` saying so:
  never a silent difference. The estimators' own logic (votes, weights,
  averaging) still runs here.

Input is validated the scikit-learn way: NaN / infinity raise ``ValueError``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import neighbors as _skn
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import VALID_METRICS
from sklearn.neighbors._base import NeighborsBase as _SkNeighborsBase
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ferrokit import _neighbors_metrics as _m

_DTYPES = [np.float64, np.float32]
_TREE_TYPES = (_skn.KDTree, _skn.BallTree)
_PREFITTED = (_skn.KDTree, _skn.BallTree, _SkNeighborsBase)


class SklearnFallbackWarning(UserWarning):
    """A ferrokit estimator handed a search to scikit-learn (a metric or input
    ferrokit has no kernel for); results are scikit-learn's."""


def _check_mode(mode: Any) -> None:
    if mode not in ("connectivity", "distance"):
        raise ValueError(
            f'Unsupported mode, must be one of "connectivity", or "distance" but got "{mode}" instead'
        )


def _csr(data: np.ndarray, indices: np.ndarray, counts: np.ndarray, n_cols: int) -> Any:
    """CSR matrix (scipy's spmatrix, like scikit-learn's default sparse interface)."""
    from scipy.sparse import csr_matrix

    indptr = np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)))
    return csr_matrix((data, indices, indptr), shape=(len(counts), n_cols))


def _get_weights(dist: np.ndarray | None, weights: Any) -> np.ndarray | None:
    """Neighbour weights as scikit-learn: None (uniform), inverse distances with
    exact matches deciding alone, or the callable's result."""
    if weights in (None, "uniform"):
        return None
    if weights == "distance":
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        inf_mask = np.isinf(w)
        inf_row = np.any(inf_mask, axis=1)
        w[inf_row] = inf_mask[inf_row]
        return w
    return weights(dist)


def _raise_if_all_zero(w: np.ndarray | None) -> None:
    if w is not None and np.any(np.all(w == 0, axis=1)):
        raise ValueError(
            "All neighbors of some sample is getting zero weights. "
            "Please modify 'weights' to avoid this case if you are "
            "using a user-defined function."
        )


class _NeighborsBase(BaseEstimator):
    """Fit, kneighbors and their validation, shared by the three estimators."""

    n_neighbors: int | None
    radius: float | None
    algorithm: str
    leaf_size: int
    metric: Any
    p: float | None
    metric_params: dict | None
    n_jobs: int | None

    def _check_algorithm_metric(self) -> None:
        # scikit-learn's checks (the search itself ignores algorithm).
        if self.algorithm == "auto":
            if self.metric == "precomputed":
                alg = "brute"
            elif callable(self.metric) or self.metric in VALID_METRICS["ball_tree"]:
                alg = "ball_tree"
            else:
                alg = "brute"
        else:
            alg = self.algorithm
        if callable(self.metric):
            if self.algorithm == "kd_tree":
                raise ValueError(f"kd_tree does not support callable metric '{self.metric}'")
        elif self.metric not in VALID_METRICS[alg] and not hasattr(self.metric, "pairwise"):
            raise ValueError(
                f"Metric '{self.metric}' not valid. Use sorted(sklearn.neighbors.VALID_METRICS['{alg}']) "
                "to get valid options. Metric can also be a callable function."
            )
        if self.metric_params is not None and "p" in self.metric_params and self.p is not None:
            warnings.warn(
                "Parameter p is found in metric_params. "
                "The corresponding parameter from __init__ is ignored.",
                SyntaxWarning,
                stacklevel=4,
            )

    def _fit_rows(self, X: Any) -> None:
        """Resolves the metric and stores the rows (X already validated, or a
        fitted neighbours estimator / KDTree / BallTree)."""
        self._check_algorithm_metric()
        eff, params, backend = _m.resolve(self.metric, self.p, self.metric_params)
        self.effective_metric_, self.effective_metric_params_ = eff, params
        self._fallback = None
        if isinstance(X, _NeighborsBase | _SkNeighborsBase):  # NeighborsBase
            X = X._fit_X
        elif isinstance(X, _TREE_TYPES):
            X = np.asarray(X.data)
        p = params.get("p", 2)
        if eff == "minkowski" and isinstance(p, numbers.Real) and p < 1:
            if self.algorithm in ("kd_tree", "ball_tree"):
                raise ValueError(
                    f'algorithm="{self.algorithm}" does not support 0 < p < 1 for '
                    "the Minkowski metric. To resolve this problem either "
                    'set p >= 1 or algorithm="brute".'
                )
            warnings.warn(
                "Mind that for 0 < p < 1, Minkowski metrics are not distance"
                " metrics. Continuing the execution with `algorithm='brute'`.",
                stacklevel=3,
            )
        if backend is None or not isinstance(X, np.ndarray) or X.dtype not in (_m.F32, _m.F64):
            self._fit_fallback(X)
            return
        if X.shape[0] == 0:
            raise ValueError("n_samples must be greater than 0")
        self._backend = backend
        self._fit_X = np.ascontiguousarray(X)
        self._fit_X64: np.ndarray | None = None
        self._fit_method = "brute"
        self.n_samples_fit_ = X.shape[0]

    def _fit_fallback(self, X: Any) -> None:
        what = "sparse input" if hasattr(X, "tocsr") else f"metric={self.effective_metric_!r}"
        if self.effective_metric_ == "minkowski" and self.effective_metric_params_.get("w") is not None:
            what = "weighted minkowski (w=...)"
        warnings.warn(
            f"{type(self).__name__}: ferrokit has no kernel for {what}; "
            "the neighbour search runs in scikit-learn",
            SklearnFallbackWarning,
            stacklevel=4,
        )
        params = {k: getattr(self, k) for k in ("n_neighbors", "radius", "algorithm", "leaf_size")}
        params |= {k: getattr(self, k) for k in ("metric", "p", "metric_params", "n_jobs")}
        if params["n_neighbors"] is None:
            params["n_neighbors"] = 5
        if params["radius"] is None:
            params["radius"] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            fb = _skn.NearestNeighbors(**params).fit(X)
        self._fallback = fb
        self._backend = None
        self._fit_X = fb._fit_X
        self._fit_method = fb._fit_method
        self.n_samples_fit_ = fb.n_samples_fit_
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(fb, attr):
                setattr(self, attr, getattr(fb, attr))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # through the scikit-learn fallback
        # For cross-validation routines to split precomputed distances correctly.
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.positive_only = tags.input_tags.pairwise
        tags.input_tags.allow_nan = self.metric == "nan_euclidean"
        return tags

    def _queries(self, X: ArrayLike) -> np.ndarray:
        return validate_data(self, X, dtype=_DTYPES, reset=False, order="C")

    def _rows64(self) -> np.ndarray:
        if self._fit_X64 is None:
            self._fit_X64 = self._fit_X.astype(np.float64)
        return self._fit_X64

    def kneighbors(
        self, X: ArrayLike | None = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """Distances to and indices of the ``n_neighbors`` nearest fitted samples of each query.

        As ``sklearn.neighbors.NearestNeighbors.kneighbors``: ``X=None`` queries
        the fitted samples, none being its own neighbour (a duplicate may be).
        Distances are float64 (float32 for cosine on float32 data, like
        scikit-learn), indices int64; ties go to the lower index.

        >>> import numpy as np
        >>> from ferrokit.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(n_neighbors=1, p=1).fit([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
        >>> nn.kneighbors([[2.0, 0.5]])
        (array([[1.5]]), array([[1]]))
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        elif isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral):
            raise TypeError(f"n_neighbors does not take {type(n_neighbors)} value, enter integer value")
        elif n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        if self._fallback is not None:
            return self._fallback.kneighbors(X, n_neighbors, return_distance)
        query_is_train = X is None
        Xq = self._fit_X if query_is_train else self._queries(X)
        k = n_neighbors + 1 if query_is_train else n_neighbors
        if k > self.n_samples_fit_:
            ineq = "n_neighbors < n_samples_fit" if query_is_train else "n_neighbors <= n_samples_fit"
            raise ValueError(
                f"Expected {ineq}, but n_neighbors = {n_neighbors}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {Xq.shape[0]}"
            )
        with _m.n_jobs_threads(self.n_jobs):
            dist, ind = _m.kneighbors(Xq, self._fit_X, k, self._backend)
        if query_is_train:
            # Drop each sample from its own list (or the last one if duplicates
            # pushed it out), exactly as scikit-learn does.
            n = Xq.shape[0]
            mask = ind != np.arange(n)[:, None]
            mask[:, 0][np.all(mask, axis=1)] = False
            ind = ind[mask].reshape(n, k - 1)
            dist = dist[mask].reshape(n, k - 1)
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(
        self, X: ArrayLike | None = None, n_neighbors: int | None = None, mode: str = "connectivity"
    ) -> Any:
        """Sparse (CSR) graph of the k-neighbours of each query, as scikit-learn's.

        ``mode="connectivity"``: ones; ``"distance"``: the distances.

        >>> from ferrokit.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(n_neighbors=1).fit([[0.0], [3.0], [1.0]])
        >>> nn.kneighbors_graph([[0.9]], mode="distance").toarray()
        array([[0. , 0. , 0.1]])
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        _check_mode(mode)
        if mode == "connectivity":
            ind = self.kneighbors(X, n_neighbors, return_distance=False)
            data = np.ones(ind.size)
        else:
            dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
            data = np.ravel(dist)
        counts = np.full(ind.shape[0], ind.shape[1])
        return _csr(data, ind.ravel(), counts, self.n_samples_fit_)


class NearestNeighbors(_NeighborsBase):
    """Exact nearest neighbours with the API and results of
    ``sklearn.neighbors.NearestNeighbors`` (brute force, multi-threaded).

    Parameters are scikit-learn's; ``algorithm`` / ``leaf_size`` do not change
    the exact search, ``n_jobs`` sets the thread count of each call. Metrics
    ferrokit computes: euclidean, sqeuclidean, cosine, manhattan, chebyshev,
    minkowski (any ``p > 0``); any other metric (or sparse input) runs
    scikit-learn's search with a :class:`SklearnFallbackWarning`.

    >>> import numpy as np
    >>> from ferrokit.neighbors import NearestNeighbors
    >>> nn = NearestNeighbors(n_neighbors=1).fit(np.array([[0.0], [1.0], [5.0]]))
    >>> nn.kneighbors(np.array([[0.8]]))
    (array([[0.2]]), array([[1]]))
    """

    _parameter_constraints: dict = _skn.NearestNeighbors._parameter_constraints

    def __init__(
        self,
        *,
        n_neighbors: int = 5,
        radius: float = 1.0,
        algorithm: str = "auto",
        leaf_size: int = 30,
        metric: str | Callable[..., float] = "minkowski",
        p: float = 2,
        metric_params: dict | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def fit(self, X: ArrayLike, y: Any = None) -> NearestNeighbors:
        """Stores the training rows (no copy when C-contiguous float32/float64).

        ``X`` may also be a fitted neighbours estimator, ``KDTree`` or ``BallTree``
        (their rows are used), as in scikit-learn.
        """
        self._validate_params()
        if not _is_prefitted(X):
            if not _fits_natively(self, X):
                self._fit_rows(X)  # fallback validates
                return self
            X = validate_data(self, X, dtype=_DTYPES, order="C")
        self._fit_rows(X)
        return self

    def radius_neighbors(
        self,
        X: ArrayLike | None = None,
        radius: float | ArrayLike | None = None,
        return_distance: bool = True,
        sort_results: bool = False,
    ) -> Any:
        """Fitted samples within ``radius`` of each query, as scikit-learn's ``radius_neighbors``.

        Returns object arrays of per-query arrays (indices int64, distances
        float64; float32 for cosine on float32 data), in index order unless
        ``sort_results``; ``X=None`` leaves each sample out of its own list.
        ``radius`` may be one value per query. Computed by blocks of queries
        (memory O(block · n_samples_fit)).

        >>> from ferrokit.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(radius=1.5).fit([[0.0], [1.0], [5.0]])
        >>> d, i = nn.radius_neighbors([[0.5]])
        >>> d[0], i[0]
        (array([0.5, 0.5]), array([0, 1]))
        """
        check_is_fitted(self)
        if sort_results and not return_distance:
            raise ValueError("return_distance must be True if sort_results is True.")
        if self._fallback is not None:
            r = self.radius if radius is None else radius
            return self._fallback.radius_neighbors(X, r, return_distance, sort_results)
        radius = self.radius if radius is None else radius
        query_is_train = X is None
        Xq = self._fit_X if query_is_train else self._queries(X)
        n = Xq.shape[0]
        radii = np.broadcast_to(np.asarray(radius, dtype=np.float64), (n,))
        rows = self._rows64() if _m.needs_f64_rows(self._fit_X, self._backend) else self._fit_X
        dists = np.empty(n, dtype=object)
        inds = np.empty(n, dtype=object)
        block = max(1, (1 << 22) // max(1, self.n_samples_fit_))
        with _m.n_jobs_threads(self.n_jobs):
            for s in range(0, n, block):
                D = _m.pairwise_block(Xq[s : s + block], rows, self._backend)
                for r in range(D.shape[0]):
                    row = D[r]
                    idx = np.flatnonzero(row <= radii[s + r])
                    if query_is_train:
                        idx = idx[idx != s + r]
                    d = row[idx]
                    if sort_results:
                        order = np.argsort(d, kind="mergesort")
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
        check_is_fitted(self)
        if radius is None:
            radius = self.radius
        _check_mode(mode)
        if mode == "connectivity":
            ind = self.radius_neighbors(X, radius, return_distance=False)
            data = None
        else:
            dist, ind = self.radius_neighbors(X, radius, return_distance=True, sort_results=sort_results)
            data = np.concatenate(list(dist)) if len(dist) else np.empty(0)
        counts = np.array([len(a) for a in ind], dtype=np.int64)
        flat = np.concatenate(list(ind)) if len(ind) else np.empty(0, dtype=np.int64)
        if data is None:
            data = np.ones(len(flat))
        return _csr(data, flat, counts, self.n_samples_fit_)


def _is_prefitted(X: Any) -> bool:
    """A fitted neighbours estimator (ours or scikit-learn's), KDTree or BallTree."""
    return isinstance(X, (*_PREFITTED, _NeighborsBase))


def _fits_natively(est: _NeighborsBase, X: Any) -> bool:
    """Whether ``fit`` can validate ``X`` itself (dense input, a metric with a
    ferrokit kernel); otherwise the scikit-learn fallback takes the raw input."""
    if hasattr(X, "tocsr") or hasattr(X, "nnz"):
        return False
    return _m.resolve(est.metric, est.p, est.metric_params)[2] is not None


class _SupervisedMixin:
    """fit for the classifier and the regressor: y validated as scikit-learn does."""

    def _fit_supervised(self, X: Any, y: Any, y_numeric: bool) -> tuple[Any, np.ndarray]:
        self._validate_params()
        if _is_prefitted(X):
            y = np.asarray(y)
        elif _fits_natively(self, X):
            X, y = validate_data(self, X, y, dtype=_DTYPES, order="C", multi_output=True, y_numeric=y_numeric)
        else:
            y = check_array(y, ensure_2d=False, dtype="numeric" if y_numeric else None)
            if hasattr(X, "shape") and X.shape[0] != y.shape[0]:
                raise ValueError(
                    "Found input variables with inconsistent numbers of samples: "
                    f"[{X.shape[0]}, {y.shape[0]}]"
                )
        return X, y


class KNeighborsClassifier(_SupervisedMixin, ClassifierMixin, _NeighborsBase):
    """k-nearest-neighbours vote with the API and predictions of
    ``sklearn.neighbors.KNeighborsClassifier``.

    ``weights``: ``"uniform"``, ``"distance"`` (inverse distance; a zero distance
    makes the exact matches decide alone) or a callable mapping the distance
    array to weights. ``y`` may have several columns (multi-output: ``classes_``
    is then a list, ``predict_proba`` returns one array per output). Vote ties
    go to the smallest class label. ``predict(None)`` predicts each fitted
    sample from its neighbours, leaving it out (leave-one-out). Other
    parameters as :class:`NearestNeighbors`.

    >>> import numpy as np
    >>> from ferrokit.neighbors import KNeighborsClassifier
    >>> clf = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0]], ["a", "b"])
    >>> clf.predict([[0.2], [0.9]]).tolist()
    ['a', 'b']
    """

    _parameter_constraints: dict = _skn.KNeighborsClassifier._parameter_constraints

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str | Callable[[np.ndarray], np.ndarray] | None = "uniform",
        algorithm: str = "auto",
        leaf_size: int = 30,
        p: float = 2,
        metric: str | Callable[..., float] = "minkowski",
        metric_params: dict | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    radius = None

    def fit(self, X: ArrayLike, y: ArrayLike) -> KNeighborsClassifier:
        """Stores the training rows and labels (``y`` 1-D, or 2-D for multi-output)."""
        X, y = self._fit_supervised(X, y, y_numeric=False)
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            if y.ndim != 1:
                warnings.warn(
                    "A column-vector y was passed when a 1d array was expected. Please change "
                    "the shape of y to (n_samples,), for example using ravel().",
                    DataConversionWarning,
                    stacklevel=2,
                )
            self.outputs_2d_ = False
            y = y.reshape((-1, 1))
        else:
            self.outputs_2d_ = True
        check_classification_targets(y)
        classes = []
        self._y = np.empty(y.shape, dtype=np.intp)
        for j in range(y.shape[1]):
            c, self._y[:, j] = np.unique(y[:, j], return_inverse=True)
            classes.append(c)
        self.classes_: Any = classes if self.outputs_2d_ else classes[0]
        if not self.outputs_2d_:
            self._y = self._y.ravel()
        self._fit_rows(X)
        return self

    def _votes(self, X: ArrayLike | None) -> list[np.ndarray]:
        """Per output, the (weighted) vote sums of each class, as scikit-learn adds them."""
        check_is_fitted(self)
        if self.weights in (None, "uniform"):
            ind = self.kneighbors(X, return_distance=False)
            w = np.ones_like(ind)
        else:
            dist, ind = self.kneighbors(X)
            w = _get_weights(dist, self.weights)
            _raise_if_all_zero(w)
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        ys = self._y if self.outputs_2d_ else self._y.reshape(-1, 1)
        rows = np.arange(ind.shape[0])
        votes = []
        for j, c in enumerate(classes):
            labels = ys[:, j][ind]
            v = np.zeros((ind.shape[0], c.size))
            for i, idx in enumerate(labels.T):
                v[rows, idx] += w[:, i]
            votes.append(v)
        return votes

    def predict_proba(self, X: ArrayLike | None) -> Any:
        """Class probabilities (columns in ``classes_`` order); a list per output
        for multi-output ``y``.

        >>> from ferrokit.neighbors import KNeighborsClassifier
        >>> clf = KNeighborsClassifier(n_neighbors=2).fit([[0.0], [1.0], [9.0]], [0, 1, 1])
        >>> clf.predict_proba([[0.1]])
        array([[0.5, 0.5]])
        """
        out = []
        for v in self._votes(X):
            norm = v.sum(axis=1)[:, None]
            norm[norm == 0.0] = 1.0
            out.append(v / norm)
        return out if self.outputs_2d_ else out[0]

    def predict(self, X: ArrayLike | None) -> np.ndarray:
        """The majority (or weighted-majority) class of each query's neighbours;
        ``(n_queries, n_outputs)`` for multi-output ``y``."""
        votes = self._votes(X)
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        cols = [c.take(np.argmax(v, axis=1)) for c, v in zip(classes, votes, strict=True)]
        if not self.outputs_2d_:
            return cols[0]
        out = np.empty((votes[0].shape[0], len(cols)), dtype=classes[0].dtype)
        for j, c in enumerate(cols):
            out[:, j] = c
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class KNeighborsRegressor(_SupervisedMixin, MultiOutputMixin, RegressorMixin, _NeighborsBase):
    """k-nearest-neighbours regression with the API and predictions of
    ``sklearn.neighbors.KNeighborsRegressor``.

    The prediction is the mean of the neighbours' targets (``weights="uniform"``),
    their inverse-distance weighted mean (``"distance"``; exact matches decide
    alone) or the mean weighted by a callable of the distances. ``y`` may have
    several columns. Output dtype as scikit-learn: the mean keeps float32
    targets float32, weighted means are float64. ``predict(None)`` is
    leave-one-out. Other parameters as :class:`NearestNeighbors`.

    >>> import numpy as np
    >>> from ferrokit.neighbors import KNeighborsRegressor
    >>> reg = KNeighborsRegressor(n_neighbors=2).fit([[0.0], [1.0], [10.0]], [0.0, 2.0, 50.0])
    >>> reg.predict([[0.4]]).tolist()
    [1.0]
    """

    _parameter_constraints: dict = _skn.KNeighborsRegressor._parameter_constraints

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str | Callable[[np.ndarray], np.ndarray] | None = "uniform",
        algorithm: str = "auto",
        leaf_size: int = 30,
        p: float = 2,
        metric: str | Callable[..., float] = "minkowski",
        metric_params: dict | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    radius = None

    def fit(self, X: ArrayLike, y: ArrayLike) -> KNeighborsRegressor:
        """Stores the training rows and targets (``y`` 1-D or 2-D)."""
        X, y = self._fit_supervised(X, y, y_numeric=True)
        if y.dtype.kind not in "biuf":
            # scikit-learn accepts string targets here and fails in predict.
            raise ValueError(f"KNeighborsRegressor: y must be numeric, got dtype {y.dtype}")
        self._y = y
        self._fit_rows(X)
        return self

    def predict(self, X: ArrayLike | None) -> np.ndarray:
        """The (weighted) mean target of each query's neighbours; 1-D for 1-D ``y``."""
        check_is_fitted(self)
        if self.weights in (None, "uniform"):
            ind = self.kneighbors(X, return_distance=False)
            w = None
        else:
            dist, ind = self.kneighbors(X)
            w = _get_weights(dist, self.weights)
        y = self._y if self._y.ndim == 2 else self._y.reshape(-1, 1)
        if w is None:
            pred = np.mean(y[ind], axis=1)
        else:
            pred = np.empty((ind.shape[0], y.shape[1]), dtype=np.float64)
            denom = np.sum(w, axis=1)
            for j in range(y.shape[1]):
                pred[:, j] = np.sum(y[ind, j] * w, axis=1) / denom
        return pred.ravel() if self._y.ndim == 1 else pred
