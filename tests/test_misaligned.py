"""Misaligned but contiguous arrays (what unpickling from a byte stream gives,
e.g. Dask chunks) are copied once, never refused: np.ascontiguousarray keeps
them misaligned, so every module goes through _buffers.c_contiguous."""

from __future__ import annotations

import numpy as np
import pytest

import ferrokit as fk
from ferrokit import stats


def _misaligned(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    n = int(np.prod(shape))
    raw = np.zeros(n * itemsize + 1, np.uint8)[1:]
    a = raw.view(dtype).reshape(shape)
    a[...] = np.random.default_rng(0).standard_normal(shape)
    assert not a.flags.aligned and a.flags.c_contiguous
    return a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_misaligned_inputs_give_the_aligned_results(dtype: type) -> None:
    a = _misaligned((10, 8), dtype)
    b = np.array(a)  # aligned copy
    assert b.flags.aligned
    np.testing.assert_array_equal(stats.partial_stats(a).mean(), stats.partial_stats(b).mean())
    np.testing.assert_array_equal(stats.mean(a, axis=0), stats.mean(b, axis=0))
    np.testing.assert_array_equal(stats.affine(a, scale=2.0), stats.affine(b, scale=2.0))
    np.testing.assert_array_equal(fk.nn.softmax(a), fk.nn.softmax(b))
    np.testing.assert_array_equal(fk.normalize(a), fk.normalize(b))
    assert fk.dot_product(a.ravel(), a.ravel()) == fk.dot_product(b.ravel(), b.ravel())
    pytest.importorskip("sklearn")
    from ferrokit.preprocessing import StandardScaler

    np.testing.assert_array_equal(StandardScaler().fit_transform(a), StandardScaler().fit_transform(b))


def test_fitted_estimator_with_misaligned_attributes_transforms_alike() -> None:
    """What unpickling a fitted scaler on a Dask worker can give: its arrays at odd offsets."""
    pytest.importorskip("sklearn")
    from ferrokit.preprocessing import MinMaxScaler, StandardScaler

    x = np.random.default_rng(1).standard_normal((50, 8))
    for cls in (StandardScaler, MinMaxScaler):
        est = cls().fit(x)
        want = est.transform(x)
        for k, v in list(vars(est).items()):
            if isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1:
                m = _misaligned(v.shape)
                m[...] = v
                setattr(est, k, m)
        xm = _misaligned(x.shape)
        xm[...] = x
        np.testing.assert_array_equal(est.transform(xm), want)
