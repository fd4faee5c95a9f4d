"""scikit-learn-compatible scalers on ferrokit's kernels.

``MinMaxScaler``, ``StandardScaler``, ``MaxAbsScaler`` and ``Normalizer``
behave like scikit-learn's (same parameters, fitted attributes, validation and
exception types, ``partial_fit``, ``inverse_transform``, feature names,
``set_output``), so replacing ``from sklearn.preprocessing import X`` by
``from ferrokit.preprocessing import X`` is enough. Dense float32/float64 data
is fitted with one fused statistics pass and transformed with one read+write
pass (no temporary the size of the input; ``copy=False`` works in place).

Differences from scikit-learn 1.9.1, all deliberate:

- ``partial_fit`` stays correct when a batch has a column that is entirely
  NaN (scikit-learn's MinMaxScaler/MaxAbsScaler running min/max and
  StandardScaler's running mean become NaN there); the result always equals
  ``fit`` on the concatenated batches.
- infinity is detected inside the kernels' pass instead of by a separate scan
  (same ``ValueError`` and message).

Sparse input (CSR/CSC where scikit-learn accepts it) and float16 use
scikit-learn's own sparse / numpy code paths.

scikit-learn is an optional dependency (``pip install ferrokit[sklearn]``):
this module needs it, ``import ferrokit`` and ``ferrokit.stats`` do not.

>>> import numpy as np
>>> from ferrokit.preprocessing import StandardScaler
>>> StandardScaler().fit_transform(np.array([[0.0], [2.0]]))
array([[-1.],
       [ 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from scipy import sparse
    from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
    from sklearn.preprocessing import normalize as _sk_normalize
    from sklearn.utils import assert_all_finite
    from sklearn.utils._param_validation import StrOptions
    from sklearn.utils.sparsefuncs import (
        incr_mean_variance_axis,
        inplace_column_scale,
        mean_variance_axis,
        min_max_axis,
    )
    from sklearn.utils.validation import (
        FLOAT_DTYPES,
        _check_sample_weight,
        check_array,
        check_is_fitted,
        validate_data,
    )
except ImportError as exc:  # pragma: no cover - exercised without scikit-learn
    raise ImportError(
        "ferrokit.preprocessing needs scikit-learn (an optional extra): "
        "pip install 'ferrokit[sklearn]'. ferrokit.stats works without it."
    ) from exc

try:  # scikit-learn >= 1.9: the callback API (set_callbacks), as its StandardScaler has it
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn: no callbacks there either

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Stand-in for scikit-learn < 1.9, which has no callback API."""


from ferrokit._buffers import F32, F64, c_contiguous
from ferrokit.stats import (
    ColumnStats,
    _affine_call,
    _colminmax_raw,
    _colstats_raw,
    _normalize_rows_call,
    _param,
)


class _NoCallbacks:
    """The callback context of a scikit-learn without the callback API."""

    def call_on_fit_task_begin(self, **kwargs: Any) -> None:
        pass

    def call_on_fit_task_end(self, **kwargs: Any) -> None:
        pass


def _callback_context(est: Any) -> Any:
    """``est``'s root callback context for one fit task (scikit-learn 1.9's
    ``_init_callback_context``: sets its callbacks up), or a no-op stand-in."""
    init = getattr(est, "_init_callback_context", None)
    return _NoCallbacks() if init is None else init()


__all__ = ["MaxAbsScaler", "MinMaxScaler", "Normalizer", "StandardScaler"]

_KERNEL_DTYPES = (F64, F32)


# ---------------------------------------------------------------- shared helpers


def _handle_zeros_in_scale(scale: Any, copy: bool = True, constant_mask: Any = None) -> Any:
    """scikit-learn's rule: near-zero scales (or ``constant_mask``) become 1."""
    if np.isscalar(scale):
        return 1.0 if scale == 0.0 else scale
    if constant_mask is None:
        constant_mask = scale < 10 * np.finfo(scale.dtype).eps
    if copy:
        scale = scale.copy()
    scale[constant_mask] = 1.0
    return scale


def _is_constant_feature(var: np.ndarray, mean: np.ndarray, n_samples: Any) -> np.ndarray:
    """scikit-learn's bound for a variance indistinguishable from 0 (Chan, Golub, LeVeque)."""
    eps = np.finfo(np.float64).eps
    upper_bound = n_samples * eps * var + (n_samples * mean * eps) ** 2
    return var <= upper_bound


def _fresh(xv: Any, x_in: Any) -> bool:
    """True when validation produced an array nobody else can see."""
    if isinstance(x_in, np.ndarray):
        return not np.may_share_memory(xv, x_in)
    return isinstance(x_in, (list, tuple))


def _validated(estimator: Any, X: Any, **check_params: Any) -> Any:
    """``validate_data(estimator, X, reset=False, copy=False, ...)`` for a
    fitted estimator, skipping scikit-learn's generic checks (about 0.1 ms a
    call) when they cannot change anything: ``X`` is a plain float32/float64
    2-D ndarray with at least one sample and exactly ``n_features_in_``
    features, and the estimator was fitted without feature names. Then
    ``validate_data`` returns ``X`` itself without a warning, so this does
    too. Any other input (lists, pandas, other dtypes, wrong shapes, sparse)
    goes through ``validate_data`` and converts, warns or raises exactly as
    before."""
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _KERNEL_DTYPES
        and X.shape[0] > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", None)
        and not hasattr(estimator, "feature_names_in_")
    ):
        return X
    return validate_data(estimator, X, reset=False, copy=False, ensure_all_finite=False, **check_params)


def _raise_if_inf(x: Any, estimator: Any, allow_nan: bool = True) -> None:
    """Raises scikit-learn's exact ValueError for non-finite data (full check)."""
    assert_all_finite(x, allow_nan=allow_nan, estimator_name=type(estimator).__name__, input_name="X")


def _dense_stats(xv: np.ndarray, estimator: Any, sample_weight: Any = None) -> ColumnStats:
    """Column statistics of validated dense data; raises on ±inf like scikit-learn."""
    p = ColumnStats.from_packed(_colstats_raw(xv, sample_weight))
    if (p.min == -np.inf).any() or (p.max == np.inf).any():
        _raise_if_inf(xv, estimator)
    return p


def _dense_minmax(xv: np.ndarray, estimator: Any) -> tuple[np.ndarray, np.ndarray]:
    """NaN-ignoring per-column min and max in X's dtype (NaN for an all-NaN
    column, like ``np.nanmin``); raises on ±inf like scikit-learn."""
    mn, mx = _colminmax_raw(xv)
    if (mn == -np.inf).any() or (mx == np.inf).any():
        _raise_if_inf(xv, estimator)
    empty = mn > mx
    if empty.any():
        mn[empty] = np.nan
        mx[empty] = np.nan
    return mn, mx


def _apply_affine(
    x_in: Any,
    xv: np.ndarray,
    copy: bool,
    estimator: Any,
    *,
    sub: Any,
    scale: Any,
    add: Any,
    divide: bool,
    clip: tuple[float, float] | None = None,
) -> np.ndarray:
    """``(xv - sub) * scale + add`` (``/ scale`` with ``divide``), clipped, into a
    new array when ``copy`` (unless validation already copied), else in place.
    Raises scikit-learn's ValueError when ``xv`` holds ±inf."""
    inplace = (not copy or _fresh(xv, x_in)) and xv.flags.writeable
    if xv.dtype not in _KERNEL_DTYPES:
        # float16: numpy, with scikit-learn's operations.
        _raise_if_inf(xv, estimator)
        y = xv if inplace else xv.copy()
        y -= np.asarray(sub).astype(y.dtype)
        if divide:
            y /= np.asarray(scale).astype(y.dtype)
        else:
            y *= np.asarray(scale).astype(y.dtype)
        y += np.asarray(add).astype(y.dtype)
        if clip is not None:
            np.clip(y, clip[0], clip[1], out=y)
        return y
    d = xv.shape[1]
    s = _param(sub, d, xv.dtype, type(estimator).__name__, "sub")
    m = _param(scale, d, xv.dtype, type(estimator).__name__, "scale")
    a = _param(add, d, xv.dtype, type(estimator).__name__, "add")
    f = xv.flags
    contiguous = f.aligned and (f.c_contiguous or f.f_contiguous)
    if inplace and contiguous:
        _raise_if_inf(xv, estimator)  # before writing: no partial results
        _affine_call(xv, xv, s, m, a, divide=divide, clip=clip, check_inf=False)
        return xv
    src = xv if contiguous else c_contiguous(xv)
    dst = np.empty_like(src) if src is xv else src
    if _affine_call(src, dst, s, m, a, divide=divide, clip=clip, check_inf=True):
        _raise_if_inf(xv, estimator)
    if inplace:  # strided input transformed in place: write back
        xv[...] = dst
        return xv
    return dst


def _sparse_copy(x: Any, copy: bool, x_in: Any) -> Any:
    if copy and x is x_in:
        return x.copy()
    return x


# ---------------------------------------------------------------- MinMaxScaler


class MinMaxScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scales each feature to ``feature_range`` (scikit-learn's MinMaxScaler).

    Fitted attributes: ``min_``, ``scale_``, ``data_min_``, ``data_max_``,
    ``data_range_``, ``n_features_in_``, ``n_samples_seen_``,
    ``feature_names_in_``. NaNs are ignored in fit and kept in transform.

    >>> import numpy as np
    >>> from ferrokit.preprocessing import MinMaxScaler
    >>> MinMaxScaler().fit_transform(np.array([[1.0, 10.0], [3.0, 20.0]]))
    array([[0., 0.],
           [1., 1.]])
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "feature_range": [tuple],
        "copy": ["boolean"],
        "clip": ["boolean"],
    }

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True, clip: bool = False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def _reset(self) -> None:
        if hasattr(self, "scale_"):
            del self.scale_
            del self.min_
            del self.n_samples_seen_
            del self.data_min_
            del self.data_max_
            del self.data_range_

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Computes the per-feature minimum and maximum (NaNs ignored)."""
        self._reset()
        return self.partial_fit(X, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Updates the running minimum and maximum with the batch ``X``."""
        feature_range = self.feature_range
        if feature_range[0] >= feature_range[1]:
            raise ValueError(
                f"Minimum of desired feature range must be smaller than maximum. Got {feature_range!s}."
            )
        if sparse.issparse(X):
            raise TypeError(
                "MinMaxScaler does not support sparse input. Consider using MaxAbsScaler instead."
            )
        first_pass = not hasattr(self, "n_samples_seen_")
        xv = validate_data(self, X, reset=first_pass, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        dt = xv.dtype
        fr0 = np.asarray(feature_range[0], dtype=dt)
        fr1 = np.asarray(feature_range[1], dtype=dt)
        if dt in _KERNEL_DTYPES:
            data_min, data_max = _dense_minmax(xv, self)
        else:
            _raise_if_inf(xv, self)
            with np.errstate(all="ignore"), _ignore_all_nan_warning():
                data_min = np.nanmin(xv, axis=0)
                data_max = np.nanmax(xv, axis=0)
        if first_pass:
            self.n_samples_seen_ = xv.shape[0]
        else:
            # fmin/fmax: a batch whose column is all NaN must not erase what
            # earlier batches saw (scikit-learn 1.9.1's minimum/maximum do).
            data_min = np.fmin(self.data_min_, data_min)
            data_max = np.fmax(self.data_max_, data_max)
            self.n_samples_seen_ += xv.shape[0]
        data_range = data_max - data_min
        self.scale_ = (fr1 - fr0) / _handle_zeros_in_scale(data_range, copy=True)
        self.min_ = fr0 - data_min * self.scale_
        self.data_min_ = data_min
        self.data_max_ = data_max
        self.data_range_ = data_range
        return self

    def transform(self, X: Any) -> Any:
        """Scales ``X``: ``X * scale_ + min_`` (then clipped with ``clip=True``)."""
        check_is_fitted(self)
        xv = _validated(self, X, dtype=FLOAT_DTYPES)
        clip = (float(self.feature_range[0]), float(self.feature_range[1])) if self.clip else None
        return _apply_affine(
            X, xv, self.copy, self, sub=0.0, scale=self.scale_, add=self.min_, divide=False, clip=clip
        )

    def inverse_transform(self, X: Any) -> Any:
        """Undoes the scaling: ``(X - min_) / scale_``."""
        check_is_fitted(self)
        xv = check_array(X, copy=False, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        return _apply_affine(X, xv, self.copy, self, sub=self.min_, scale=self.scale_, add=0.0, divide=True)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class _ignore_all_nan_warning:
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.filterwarnings("ignore", message="All-NaN slice encountered")

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


# ---------------------------------------------------------------- StandardScaler


class StandardScaler(CallbackSupportMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Removes the mean and scales to unit variance (scikit-learn's StandardScaler).

    Fitted attributes: ``scale_``, ``mean_``, ``var_``, ``n_features_in_``,
    ``n_samples_seen_`` (a scalar, or one count per feature when NaNs make
    them differ), ``feature_names_in_``. ``sample_weight`` is supported in
    ``fit``/``partial_fit``; sparse CSR/CSC input with ``with_mean=False``.
    With scikit-learn >= 1.9, ``set_callbacks(...)`` works as for scikit-learn's
    StandardScaler (the only scaler there with callbacks): each ``fit`` /
    ``partial_fit`` is one task (setup, on_fit_task_begin, on_fit_task_end,
    teardown).

    >>> import numpy as np
    >>> from ferrokit.preprocessing import StandardScaler
    >>> s = StandardScaler().fit(np.array([[0.0, 1.0], [2.0, 1.0]]))
    >>> s.mean_, s.scale_
    (array([1., 1.]), array([1., 1.]))
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "copy": ["boolean"],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
    }

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.copy = copy

    def _reset(self) -> None:
        if hasattr(self, "scale_"):
            del self.scale_
            del self.n_samples_seen_
            del self.mean_
            del self.var_

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Computes the mean and standard deviation of each feature (NaNs ignored)."""
        self._reset()
        return self.partial_fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Updates mean and variance with the batch ``X`` (Chan et al.'s merge)."""
        first_call = not hasattr(self, "n_samples_seen_")
        xv = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=FLOAT_DTYPES,
            ensure_all_finite=False,
            reset=first_call,
        )
        n_features = xv.shape[1]
        callback_ctx = _callback_context(self)
        callback_ctx.call_on_fit_task_begin(
            estimator=self, X=xv, y=y, metadata={"sample_weight": sample_weight}
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, xv, dtype=xv.dtype)
        dtype = np.int64 if sample_weight is None else xv.dtype
        if first_call:
            self.n_samples_seen_ = np.zeros(n_features, dtype=dtype)
        elif np.size(self.n_samples_seen_) == 1:
            self.n_samples_seen_ = np.repeat(self.n_samples_seen_, n_features).astype(dtype, copy=False)

        if sparse.issparse(xv):
            self._partial_fit_sparse(xv, sample_weight, dtype)
        else:
            self._partial_fit_dense(xv, sample_weight)

        if np.max(self.n_samples_seen_) == np.min(self.n_samples_seen_):
            self.n_samples_seen_ = self.n_samples_seen_[0]
        if self.with_std:
            constant_mask = _is_constant_feature(self.var_, self.mean_, self.n_samples_seen_)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_), copy=False, constant_mask=constant_mask)
        else:
            self.scale_ = None
        callback_ctx.call_on_fit_task_end(
            estimator=self,
            X=xv,
            y=y,
            metadata={"sample_weight": sample_weight},
            reconstruction_attributes={},
        )
        return self

    def _partial_fit_sparse(self, xv: Any, sample_weight: Any, dtype: Any) -> None:
        if self.with_mean:
            raise ValueError(
                "Cannot center sparse matrices: pass `with_mean=False` "
                "instead. See docstring for motivation and alternatives."
            )
        _raise_if_inf(xv, self)
        ctor = sparse.csr_array if xv.format == "csr" else sparse.csc_array
        if self.with_std:
            if not hasattr(self, "scale_"):
                self.mean_, self.var_, self.n_samples_seen_ = mean_variance_axis(
                    xv, axis=0, weights=sample_weight, return_sum_weights=True
                )
            else:
                self.mean_, self.var_, self.n_samples_seen_ = incr_mean_variance_axis(
                    xv,
                    axis=0,
                    last_mean=self.mean_,
                    last_var=self.var_,
                    last_n=self.n_samples_seen_,
                    weights=sample_weight,
                )
            self.mean_ = self.mean_.astype(np.float64, copy=False)
            self.var_ = self.var_.astype(np.float64, copy=False)
        else:
            self.mean_ = None
            self.var_ = None
            weights = _check_sample_weight(sample_weight, xv)
            sum_weights_nan = weights @ ctor((np.isnan(xv.data), xv.indices, xv.indptr), shape=xv.shape)
            self.n_samples_seen_ += (np.sum(weights) - sum_weights_nan).astype(dtype)

    def _partial_fit_dense(self, xv: np.ndarray, sample_weight: Any) -> None:
        if not hasattr(self, "scale_"):
            self.mean_ = 0.0
            self.var_ = 0.0 if self.with_std else None
        if xv.dtype in _KERNEL_DTYPES:
            p = _dense_stats(xv, self, sample_weight)
        else:  # float16: accumulate in float64
            x64 = xv.astype(F64)
            _raise_if_inf(xv, self)
            p = ColumnStats.from_packed(
                _colstats_raw(x64, None if sample_weight is None else sample_weight.astype(F64))
            )
        if not self.with_mean and not self.with_std:
            self.mean_ = None
            self.var_ = None
            self.n_samples_seen_ += (xv.shape[0] - p.nan_count).astype(self.n_samples_seen_.dtype)
            return
        last_n = np.asarray(self.n_samples_seen_, dtype=F64)
        seen = last_n > 0
        with np.errstate(invalid="ignore"):
            last_sum = np.where(seen, np.asarray(self.mean_, dtype=F64) * last_n, 0.0)
            last_m2 = (
                np.where(seen, np.asarray(self.var_, dtype=F64) * last_n, 0.0)
                if self.var_ is not None
                else np.zeros_like(last_n)
            )
        last = ColumnStats.empty(xv.shape[1])
        last.count = np.broadcast_to(last_n, (xv.shape[1],)).copy()
        last.sum = np.broadcast_to(last_sum, (xv.shape[1],)).copy()
        last.m2 = np.broadcast_to(last_m2, (xv.shape[1],)).copy()
        total = last.merge(p)
        n = total.count
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean_ = total.sum / n
            self.var_ = total.m2 / n if self.var_ is not None else None
        # scikit-learn returns the updated count as float64 (the sum of weights when weighted).
        self.n_samples_seen_ = n

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Standardizes ``X``: ``(X - mean_) / scale_``."""
        check_is_fitted(self)
        copy = copy if copy is not None else self.copy
        xv = _validated(self, X, accept_sparse="csr", dtype=FLOAT_DTYPES)
        if sparse.issparse(xv):
            if self.with_mean:
                raise ValueError(
                    "Cannot center sparse matrices: pass `with_mean=False` "
                    "instead. See docstring for motivation and alternatives."
                )
            _raise_if_inf(xv, self)
            xv = _sparse_copy(xv, copy, X)
            if self.scale_ is not None:
                inplace_column_scale(xv, 1 / self.scale_)
            return xv
        return _apply_affine(
            X,
            xv,
            copy,
            self,
            sub=self.mean_ if self.with_mean else 0.0,
            scale=self.scale_ if self.with_std else 1.0,
            add=0.0,
            divide=True,
        )

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """Scales back: ``X * scale_ + mean_``."""
        check_is_fitted(self)
        copy = copy if copy is not None else self.copy
        xv = check_array(X, accept_sparse="csr", copy=False, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        if sparse.issparse(xv):
            if self.with_mean:
                raise ValueError(
                    "Cannot uncenter sparse matrices: pass `with_mean=False` "
                    "instead See docstring for motivation and alternatives."
                )
            _raise_if_inf(xv, self)
            xv = _sparse_copy(xv, copy, X)
            if self.scale_ is not None:
                inplace_column_scale(xv, self.scale_)
            return xv
        return _apply_affine(
            X,
            xv,
            copy,
            self,
            sub=0.0,
            scale=self.scale_ if self.with_std else 1.0,
            add=self.mean_ if self.with_mean else 0.0,
            divide=False,
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = not self.with_mean
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


# ---------------------------------------------------------------- MaxAbsScaler


class MaxAbsScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scales each feature by its maximum absolute value (scikit-learn's MaxAbsScaler).

    Fitted attributes: ``scale_``, ``max_abs_``, ``n_features_in_``,
    ``n_samples_seen_``, ``feature_names_in_``. Sparse CSR/CSC accepted.

    >>> import numpy as np
    >>> from ferrokit.preprocessing import MaxAbsScaler
    >>> MaxAbsScaler().fit_transform(np.array([[1.0, -4.0], [-2.0, 2.0]]))
    array([[ 0.5, -1. ],
           [-1. ,  0.5]])
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "copy": ["boolean"],
        "clip": ["boolean"],
    }

    def __init__(self, *, copy: bool = True, clip: bool = False):
        self.copy = copy
        self.clip = clip

    def _reset(self) -> None:
        if hasattr(self, "scale_"):
            del self.scale_
            del self.n_samples_seen_
            del self.max_abs_

    def fit(self, X: Any, y: Any = None) -> MaxAbsScaler:
        """Computes the maximum absolute value of each feature (NaNs ignored)."""
        self._reset()
        return self.partial_fit(X, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None) -> MaxAbsScaler:
        """Updates the running maximum absolute value with the batch ``X``."""
        first_pass = not hasattr(self, "n_samples_seen_")
        xv = validate_data(
            self,
            X,
            reset=first_pass,
            accept_sparse=("csr", "csc"),
            dtype=FLOAT_DTYPES,
            ensure_all_finite=False,
        )
        if sparse.issparse(xv):
            _raise_if_inf(xv, self)
            mins, maxs = min_max_axis(xv, axis=0, ignore_nan=True)
            max_abs = np.maximum(np.abs(mins), np.abs(maxs))
        elif xv.dtype in _KERNEL_DTYPES:
            mn, mx = _dense_minmax(xv, self)
            max_abs = np.maximum(np.abs(mn), np.abs(mx))
        else:
            _raise_if_inf(xv, self)
            with np.errstate(all="ignore"), _ignore_all_nan_warning():
                max_abs = np.nanmax(np.abs(xv), axis=0)
        if first_pass:
            self.n_samples_seen_ = xv.shape[0]
        else:
            max_abs = np.fmax(self.max_abs_, max_abs)  # an all-NaN batch column keeps the old value
            self.n_samples_seen_ += xv.shape[0]
        self.max_abs_ = max_abs
        self.scale_ = _handle_zeros_in_scale(max_abs, copy=True)
        return self

    def transform(self, X: Any) -> Any:
        """Scales ``X``: ``X / scale_`` (clipped to [-1, 1] with ``clip=True``)."""
        check_is_fitted(self)
        xv = _validated(self, X, accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES)
        if sparse.issparse(xv):
            _raise_if_inf(xv, self)
            xv = _sparse_copy(xv, self.copy, X)
            inplace_column_scale(xv, 1.0 / self.scale_)
            if self.clip:
                np.clip(xv.data, -1.0, 1.0, out=xv.data)
            return xv
        return _apply_affine(
            X,
            xv,
            self.copy,
            self,
            sub=0.0,
            scale=self.scale_,
            add=0.0,
            divide=True,
            clip=(-1.0, 1.0) if self.clip else None,
        )

    def inverse_transform(self, X: Any) -> Any:
        """Scales back: ``X * scale_``."""
        check_is_fitted(self)
        xv = check_array(
            X, accept_sparse=("csr", "csc"), copy=False, dtype=FLOAT_DTYPES, ensure_all_finite=False
        )
        if sparse.issparse(xv):
            _raise_if_inf(xv, self)
            xv = _sparse_copy(xv, self.copy, X)
            inplace_column_scale(xv, self.scale_)
            return xv
        return _apply_affine(X, xv, self.copy, self, sub=0.0, scale=self.scale_, add=0.0, divide=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


# ---------------------------------------------------------------- Normalizer


class Normalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scales each sample (row) to unit norm (scikit-learn's Normalizer).

    ``norm`` is ``"l1"``, ``"l2"`` or ``"max"``; rows with zero norm stay
    zero. Stateless (``fit`` only validates). Sparse CSR accepted.

    >>> import numpy as np
    >>> from ferrokit.preprocessing import Normalizer
    >>> Normalizer().fit_transform(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "norm": [StrOptions({"l1", "l2", "max"})],
        "copy": ["boolean"],
    }

    def __init__(self, norm: str = "l2", *, copy: bool = True):
        self.norm = norm
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> Normalizer:
        """Only validates ``X`` (and records ``n_features_in_``)."""
        validate_data(self, X, accept_sparse="csr")
        return self

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Divides each row of ``X`` by its norm."""
        copy = copy if copy is not None else self.copy
        xv = _validated(self, X, accept_sparse="csr")
        return self._normalize(X, xv, copy)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X).transform(X)`` with one validation and one pass over ``X``."""
        xv = validate_data(self, X, accept_sparse="csr", copy=False, ensure_all_finite=False)
        return self._normalize(X, xv, self.copy)

    def _normalize(self, x_in: Any, xv: Any, copy: bool) -> Any:
        if sparse.issparse(xv) or xv.dtype not in _KERNEL_DTYPES:
            _raise_if_inf(xv.data if sparse.issparse(xv) else xv, self, allow_nan=False)
            if sparse.issparse(xv):
                xv = _sparse_copy(xv, copy, x_in)
            elif copy and not _fresh(xv, x_in):
                xv = xv.copy()
            return _sk_normalize(xv, norm=self.norm, axis=1, copy=False)
        code = {"l1": 0, "l2": 1, "max": 2}[self.norm]
        inplace = (not copy or _fresh(xv, x_in)) and xv.flags.writeable
        f = xv.flags
        contiguous = f.aligned and (f.c_contiguous or f.f_contiguous)
        if inplace and contiguous:
            _raise_if_inf(xv, self, allow_nan=False)  # before writing: no partial results
            _normalize_rows_call(xv, xv, code)
            return xv
        src = xv if contiguous else c_contiguous(xv)
        dst = np.empty_like(src) if src is xv else src
        if _normalize_rows_call(src, dst, code):
            # A non-finite norm: NaN/inf in the data (raise like scikit-learn), or
            # a finite row whose sum of squares overflows (scikit-learn then gives
            # 0 for that row, and so did the kernel).
            _raise_if_inf(xv, self, allow_nan=False)
        if inplace:
            xv[...] = dst
            return xv
        return dst

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = False
        return tags
