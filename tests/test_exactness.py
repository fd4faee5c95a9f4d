"""Variance where scikit-learn is exact: data on a large offset, int64 epoch
nanoseconds, constant columns — against an exact rational reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import ferrokit as fk
from ferrokit import stats
from ferrokit.preprocessing import StandardScaler


def _exact_var(col: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Population variance of the float64 values, computed exactly."""
    v = [Fraction(float(a)) for a in col]
    w = [Fraction(1)] * len(v) if weights is None else [Fraction(float(a)) for a in weights]
    n = sum(w)
    m = sum(wi * vi for wi, vi in zip(w, v, strict=True)) / n
    return float(sum(wi * (vi - m) ** 2 for wi, vi in zip(w, v, strict=True)) / n)


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want) / want))


def _offset_data(n: int, cols: int, seed: int = 0) -> np.ndarray:
    return 1e12 + np.random.default_rng(seed).uniform(0, 100, size=(n, cols))


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (17, 5), (3001, 3), (9999, 1), (6000, 37)])
def test_large_offset_variance_is_exact(shape: tuple[int, int]) -> None:
    # Before the shifted sums the merged block means carried the rounding of
    # 1e12 (relative error 3e-8 at 20000 x 3).
    x = _offset_data(*shape)
    want = np.array([_exact_var(x[:, j]) for j in range(shape[1])])
    if shape[0] == 1:
        assert np.array_equal(StandardScaler().fit(x).var_, np.zeros(shape[1]))
        return
    for arr in (x, np.asfortranarray(x)):
        assert _rel(stats.var(arr, axis=0), want) < 1e-14
        assert _rel(StandardScaler().fit(arr).var_, want) < 1e-14
        assert _rel(stats.partial_stats(arr).var(), want) < 1e-14
    assert _rel(stats.var(x[:, 0].copy()), want[:1]) < 1e-14


def test_large_offset_weighted_variance() -> None:
    x = _offset_data(4001, 2, seed=1)
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=4001)
    want = np.array([_exact_var(x[:, j], w) for j in range(2)])
    assert _rel(StandardScaler().fit(x, sample_weight=w).var_, want) < 1e-14
    assert _rel(stats.partial_stats(x, sample_weight=w).var(), want) < 1e-14


@pytest.mark.parametrize("span_ns", [10**9, 3600 * 10**9, 86400 * 10**9])
def test_epoch_nanoseconds_match_exact(span_ns: int) -> None:
    # int64 timestamps (converted to float64 like scikit-learn does): was 6.7e-9
    # relative for a one-second span.
    t = 1_700_000_000_000_000_000 + np.random.default_rng(3).integers(0, span_ns, size=(20000, 2))
    want = np.array([_exact_var(t[:, j].astype(np.float64)) for j in range(2)])
    assert _rel(StandardScaler().fit(t).var_, want) < 1e-13


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 2, 3, 33, 1000, 5003, 70001])
def test_constant_columns_have_zero_variance(n: int, dtype: type) -> None:
    values = np.array([0.1, np.log(1e-5), 1e12 + 0.3, -7.25, 1.7e18], dtype=dtype)
    x = np.tile(values, (n, 1))
    w = 0.1 + (np.arange(n) % 7) * 0.37  # weighted means round away from the value
    for arr in (x, np.asfortranarray(x)):
        assert np.array_equal(stats.var(arr, axis=0), np.zeros(5, dtype=dtype))
        assert np.array_equal(StandardScaler().fit(arr).var_, np.zeros(5))
        assert np.array_equal(StandardScaler().fit(arr, sample_weight=w).var_, np.zeros(5))
    x[n // 2, 1] = np.nan
    want = np.zeros(5, dtype=dtype)
    want[1] = np.nan if n == 1 else 0.0  # no value left in that column
    assert np.array_equal(stats.nanvar(x, axis=0), want, equal_nan=True)


def test_exact_results_are_bit_identical_for_1_2_3_threads() -> None:
    x = _offset_data(70001, 7)
    runs = []
    for n in (1, 2, 3):
        with fk.threads(n):
            runs.append(stats.partial_stats(x).packed())
    assert all(np.array_equal(runs[0], r) for r in runs[1:])


def test_partial_fit_chunks_stay_close() -> None:
    # Across partial_fit calls the merge works on absolute sums (as scikit-learn's
    # does): chunks of 2000 rows stay within scikit-learn's own partial_fit error.
    from sklearn.preprocessing import StandardScaler as SkScaler

    x = _offset_data(10000, 2, seed=4)
    want = np.array([_exact_var(x[:, j]) for j in range(2)])
    ours, ref = StandardScaler(), SkScaler()
    for part in np.array_split(x, 5):
        ours.partial_fit(part)
        ref.partial_fit(part)
    assert _rel(ours.var_, want) <= max(1e-12, 10 * _rel(ref.var_, want))
