"""ferrokit.stats: reductions against numpy, mergeable statistics, transforms, bad input."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrokit as fk
from ferrokit import stats

RTOL = {np.float64: 1e-12, np.float32: 1e-5}


def _data(rng: np.random.Generator, shape: tuple[int, ...], dtype: type, nan: bool) -> np.ndarray:
    x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
    if nan and x.size:
        x.flat[rng.integers(0, x.size, size=max(1, x.size // 9))] = np.nan
    return x


def _close(got: object, want: object, dtype: type, scale: float = 1.0) -> None:
    # Sums near zero cancel: compare with an absolute floor relative to the data scale.
    atol = (1e-11 if dtype is np.float64 else 2e-4) * scale
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=atol, equal_nan=True)


def _layouts(x: np.ndarray) -> list[np.ndarray]:
    out = [x]
    if x.ndim == 2:
        out.append(np.asfortranarray(x))
        out.append(np.repeat(x, 2, axis=1)[:, ::2])  # strided: copied once
    return out


PAIRS = [
    (stats.sum, np.sum),
    (stats.nansum, np.nansum),
    (stats.mean, np.mean),
    (stats.nanmean, np.nanmean),
    (stats.var, np.var),
    (stats.nanvar, np.nanvar),
    (stats.std, np.std),
    (stats.nanstd, np.nanstd),
    (stats.min, np.min),
    (stats.max, np.max),
    (stats.nanmin, np.nanmin),
    (stats.nanmax, np.nanmax),
    (stats.argmin, np.argmin),
    (stats.argmax, np.argmax),
]


@pytest.mark.parametrize("fn,ref", PAIRS, ids=[p[0].__name__ for p in PAIRS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (2049, 5), (5, 300), (40001, 33)])
@pytest.mark.parametrize("nan", [False, True])
def test_reductions_match_numpy(fn, ref, dtype, shape, nan, rng) -> None:  # type: ignore[no-untyped-def]
    x = _data(rng, shape, dtype, nan)
    for a in _layouts(x):
        for axis in (None, 0, 1, -1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = ref(a, axis=axis)
            got = fn(a, axis=axis)
            if fn in (stats.argmin, stats.argmax):
                np.testing.assert_array_equal(got, want)
                continue
            assert np.asarray(got).dtype == np.asarray(want).dtype
            assert np.shape(got) == np.shape(want)
            _close(got, want, dtype, scale=max(shape))


@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 1000, 100_003])
def test_one_d_sizes(n: int, rng: np.random.Generator) -> None:
    x = rng.normal(size=n)
    assert stats.sum(x) == pytest.approx(np.sum(x), rel=1e-12, abs=1e-10)
    assert stats.nansum(list(x)) == pytest.approx(np.sum(x), rel=1e-12, abs=1e-10)
    if n:
        assert stats.mean(x) == pytest.approx(np.mean(x), rel=1e-12, abs=1e-12)
        assert stats.min(x) == np.min(x) and stats.max(x) == np.max(x)
        assert stats.argmin(x) == np.argmin(x) and stats.argmax(x) == np.argmax(x)
        for ord_ in (1, 2, np.inf):
            assert stats.norm(x, ord_) == pytest.approx(np.linalg.norm(x, ord_), rel=1e-12)
    if n > 1:
        assert stats.var(x, ddof=1) == pytest.approx(np.var(x, ddof=1), rel=1e-12)
        assert stats.std(x, ddof=1.5) == pytest.approx(np.std(x, ddof=1.5), rel=1e-12)
    else:
        assert np.isnan(stats.var(x, ddof=1))


def test_empty_and_all_nan_rules() -> None:
    assert stats.sum(np.empty(0)) == 0.0
    assert np.isnan(stats.mean(np.empty(0)))
    with pytest.raises(ValueError, match="zero-size"):
        stats.min(np.empty(0))
    with pytest.raises(ValueError):
        stats.argmax(np.empty((0, 3)), axis=0)
    x = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    np.testing.assert_array_equal(stats.nanmin(x, axis=0), [np.nan, 1.0])
    np.testing.assert_array_equal(stats.nansum(x, axis=0), [0.0, 3.0])
    np.testing.assert_array_equal(stats.argmin(x, axis=0), [0, 0])
    assert stats.max(np.array([1.0, np.inf])) == np.inf
    np.testing.assert_array_equal(stats.sum(np.zeros((0, 3)), axis=0), np.zeros(3))


def test_norm_axis_and_nan() -> None:
    x = np.array([[3.0, -4.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(stats.norm(x, axis=1), np.linalg.norm(x, axis=1))
    np.testing.assert_allclose(stats.norm(x, 1, axis=0), np.linalg.norm(x, 1, axis=0))
    np.testing.assert_allclose(stats.norm(x, "max", axis=0), [3.0, 4.0])
    assert np.isnan(stats.norm([1.0, np.nan], "max"))
    with pytest.raises(ValueError, match="ord"):
        stats.norm(x, ord=3)


def test_out_parameter() -> None:
    x = np.arange(12.0).reshape(4, 3)
    out = np.empty(3)
    assert stats.mean(x, axis=0, out=out) is out
    np.testing.assert_allclose(out, x.mean(axis=0))
    with pytest.raises(ValueError):
        stats.mean(x, axis=0, out=np.empty(4))
    with pytest.raises(TypeError):
        stats.mean(x, axis=0, out=[0.0, 0.0, 0.0])  # type: ignore[arg-type]
    idx = np.empty(4, dtype=np.intp)
    stats.argmax(x, axis=1, out=idx)
    np.testing.assert_array_equal(idx, [2, 2, 2, 2])


def test_argmin_axis_none_uses_c_order_flat_index() -> None:
    x = np.asfortranarray(np.array([[5.0, 1.0], [1.0, 0.0]]))
    assert stats.argmin(x) == np.argmin(x) == 3
    y = np.array([[2.0, 1.0], [1.0, 3.0]], order="F")
    assert stats.argmin(y) == np.argmin(y) == 1  # first in C order, not memory order


def test_partial_stats_merge_equals_whole(rng: np.random.Generator) -> None:
    x = _data(rng, (3001, 6), np.float64, nan=True)
    x[:500, 2] = np.nan  # a chunk whose column is all NaN
    whole = stats.partial_stats(x)
    acc = stats.ColumnStats.empty(6)
    for lo, hi in [(0, 1), (1, 500), (500, 517), (517, 3001)]:
        acc = acc.merge(stats.partial_stats(x[lo:hi]))
    np.testing.assert_array_equal(acc.count, whole.count)
    np.testing.assert_array_equal(acc.nan_count, whole.nan_count)
    np.testing.assert_array_equal(acc.min, whole.min)
    np.testing.assert_allclose(acc.mean(), np.nanmean(x, axis=0), rtol=1e-13)
    np.testing.assert_allclose(acc.var(), np.nanvar(x, axis=0), rtol=1e-12)
    np.testing.assert_allclose(acc.var(ddof=1), np.nanvar(x, axis=0, ddof=1), rtol=1e-12)
    with pytest.raises(ValueError):
        acc.merge(stats.ColumnStats.empty(5))


def test_partial_stats_weights(rng: np.random.Generator) -> None:
    x = rng.normal(size=(999, 4))
    w = rng.uniform(0.0, 3.0, size=999)
    for a in (x, np.asfortranarray(x), x.astype(np.float32)):
        s = stats.partial_stats(a, sample_weight=w)
        mean = np.average(a.astype(np.float64), axis=0, weights=w.astype(a.dtype))
        np.testing.assert_allclose(s.mean(), mean, rtol=RTOL[a.dtype.type])
        var = np.average((a - mean) ** 2, axis=0, weights=w.astype(a.dtype))
        np.testing.assert_allclose(s.var(), var, rtol=RTOL[a.dtype.type] * 10)
        np.testing.assert_allclose(s.count, w.astype(a.dtype).sum(), rtol=RTOL[a.dtype.type])
    with pytest.raises(ValueError, match="sample_weight"):
        stats.partial_stats(x, sample_weight=w[:-1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "bad,row,shown",
    [(-1.0, 0, "-1.0"), (np.nan, 2, "nan"), (np.inf, 6, "inf"), (-np.inf, 4, "-inf"), (-1e-30, 1, "-1")],
)
def test_partial_stats_rejects_negative_nan_and_infinite_weights(dtype, bad, row, shown) -> None:
    x = np.ones((7, 3), dtype=dtype)
    w = np.ones(7, dtype=dtype)
    w[row] = bad
    with pytest.raises(ValueError, match=rf"finite and non-negative; row {row} has weight {shown}"):
        stats.partial_stats(x, sample_weight=w)
    w2 = w.copy()
    w2[row] = 0.0
    w2[-1] = bad  # the first bad row is named
    with pytest.raises(ValueError, match="row 6 has"):
        stats.partial_stats(x, sample_weight=w2)


@pytest.mark.parametrize("n", [0, 1, 7, 100_003])
def test_partial_stats_accepts_zero_and_positive_weights(n: int) -> None:
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    w = np.zeros(n)
    w[::2] = 2.0
    w[1::4] = -0.0  # negative zero is not negative
    s = stats.partial_stats(x, sample_weight=w)
    np.testing.assert_allclose(s.count, w.sum())
    if n:
        with pytest.raises(ValueError, match="non-negative"):
            stats.partial_stats(x, sample_weight=w - 3)


@pytest.mark.parametrize("other", [3, None, "x", np.zeros((8, 2)), {"count": 1}], ids=repr)
def test_column_stats_merge_rejects_other_types(other) -> None:
    s = stats.partial_stats(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"ColumnStats\.merge: other must be a ColumnStats, got "):
        s.merge(other)


def test_bit_identical_for_any_thread_count(rng: np.random.Generator) -> None:
    x = rng.normal(size=(70_001, 32))
    res = []
    for n in (1, 2, 3):
        with fk.threads(n):
            res.append((stats.partial_stats(x).packed(), stats.var(x.T.copy(), axis=None)))
    for r in res[1:]:
        np.testing.assert_array_equal(r[0], res[0][0])
        assert r[1] == res[0][1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1, max_size=60),
    st.integers(1, 59),
)
def test_property_merge_of_split_equals_whole(vals: list[float], cut: int) -> None:
    x = np.array(vals).reshape(-1, 1)
    cut = min(cut, len(vals))
    a = stats.partial_stats(x[:cut]).merge(stats.partial_stats(x[cut:]))
    b = stats.partial_stats(x)
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_allclose(a.sum, b.sum, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(a.m2, b.m2, rtol=1e-9, atol=1e-3)


# ---------------------------------------------------------------- transforms


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (17, 5), (1000, 32), (3, 70)])
def test_affine_and_friends_match_formula(dtype, shape, rng) -> None:  # type: ignore[no-untyped-def]
    x = _data(rng, shape, dtype, nan=True)
    d = shape[1]
    sub = rng.normal(size=d)
    sc = rng.uniform(0.5, 2, size=d)
    add = rng.normal(size=d)
    want = (x - sub.astype(dtype)) * sc.astype(dtype) + add.astype(dtype)
    for a in _layouts(x):
        got = stats.affine(a, sc, add, sub=sub)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    got = stats.affine(x, sc, add, sub=sub, clip=(-1, 1))
    np.testing.assert_array_equal(got, np.clip(want, -1, 1))
    np.testing.assert_array_equal(stats.standardize(x, sub, sc), (x - sub.astype(dtype)) / sc.astype(dtype))
    y = x.copy()
    assert stats.affine(y, sc, add, sub=sub, out=y) is y
    np.testing.assert_array_equal(y, want)
    f = np.asfortranarray(x)
    out = np.empty_like(x)  # C out for F input
    stats.affine(f, sc, add, sub=sub, out=out)
    np.testing.assert_array_equal(out, want)


def test_minmax_scale_and_normalize_rows(rng: np.random.Generator) -> None:
    x = rng.normal(size=(300, 7))
    x[:, 3] = 2.5  # constant column
    mn, mx = x.min(axis=0), x.max(axis=0)
    got = stats.minmax_scale(x, mn, mx, feature_range=(-1, 2))
    rng_ = np.where(mx - mn < 10 * np.finfo(float).eps, 1.0, mx - mn)
    scale = 3.0 / rng_
    np.testing.assert_array_equal(got, x * scale + (-1 - mn * scale))
    assert got[:, 3].max() == -1.0
    clipped = stats.minmax_scale(x * 2, mn, mx, clip=True)
    assert clipped.min() >= 0 and clipped.max() <= 1
    x[5] = 0.0
    for norm, ref in [
        ("l1", np.abs(x).sum(axis=1)),
        ("l2", np.sqrt((x * x).sum(axis=1))),
        ("max", np.abs(x).max(axis=1)),
    ]:
        ref = np.where(ref < 10 * np.finfo(float).eps, 1.0, ref)
        for a in _layouts(x):
            np.testing.assert_allclose(stats.normalize_rows(a, norm), x / ref[:, None], rtol=1e-14)
        f32 = x.astype(np.float32)
        r32 = stats.normalize_rows(f32, norm, out=f32)
        assert r32 is f32 and r32.dtype == np.float32
        np.testing.assert_allclose(r32, x / ref[:, None], rtol=1e-6, atol=1e-7)


BAD = [
    (lambda: stats.mean(np.array([1 + 2j])), TypeError),
    (lambda: stats.mean(np.array(["a", "b"])), TypeError),
    (lambda: stats.mean(None), TypeError),  # type: ignore[arg-type]
    (lambda: stats.mean("abc"), TypeError),  # type: ignore[arg-type]
    (lambda: stats.mean(np.ones((2, 2, 2)), axis=0), ValueError),
    (lambda: stats.mean(np.ones((2, 2)), axis=2), np.exceptions.AxisError),
    (lambda: stats.mean(np.ones((2, 2)), axis=1.0), TypeError),  # type: ignore[arg-type]
    (lambda: stats.var(np.ones(3), ddof="1"), TypeError),  # type: ignore[arg-type]
    (lambda: stats.partial_stats(np.ones(3)), ValueError),
    (lambda: stats.affine(np.ones(3), 1.0), ValueError),
    (lambda: stats.affine(np.ones((2, 3)), [1.0, 2.0]), ValueError),
    (lambda: stats.affine(np.ones((2, 3)), ["a", "b", "c"]), TypeError),
    (lambda: stats.affine(np.ones((2, 3)), 1.0, clip=(1, 0)), ValueError),
    (lambda: stats.affine(np.ones((2, 3)), 1.0, out=np.ones((2, 3), dtype=np.float32)), TypeError),
    (lambda: stats.affine(np.ones((2, 3)), 1.0, out=np.ones((3, 2))), ValueError),
    (lambda: stats.normalize_rows(np.ones((2, 3)), "l3"), ValueError),
    (lambda: stats.normalize_rows(np.ones((2, 3)), norm=None), ValueError),  # type: ignore[arg-type]
    (lambda: stats.minmax_scale(np.ones((2, 3)), 0, 1, feature_range=(1, 0)), ValueError),
]


@pytest.mark.parametrize("call,exc", BAD)
def test_bad_input_raises(call, exc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc):
        call()


def test_read_only_input_and_out() -> None:
    x = np.arange(6.0).reshape(2, 3)
    x.flags.writeable = False
    assert stats.mean(x) == 2.5
    np.testing.assert_array_equal(stats.affine(x, 2.0), x * 2)
    with pytest.raises(ValueError, match="read-only"):
        stats.affine(x, 2.0, out=x)


def test_integer_and_list_input_become_float64() -> None:
    assert stats.sum([1, 2, 3]).dtype == np.float64
    r = stats.affine(np.arange(6).reshape(2, 3), 2.0)
    assert r.dtype == np.float64


def test_stats_work_without_scikit_learn() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import ferrokit, numpy as np\n"
        "assert ferrokit.stats.mean([1.0, 3.0]) == 2.0\n"
        "try:\n"
        "    import ferrokit.preprocessing\n"
        "except ImportError as e:\n"
        "    assert 'ferrokit[sklearn]' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('preprocessing imported without scikit-learn')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240531)


def test_lean_minmax_kernel_matches_numpy(rng: np.random.Generator) -> None:
    from ferrokit.stats import _colminmax_raw

    for shape in [(1, 1), (37, 3), (3001, 33), (9, 300)]:
        x = _data(rng, shape, np.float64, nan=True)
        x[:, 0] = np.nan
        for a in (*_layouts(x), x.astype(np.float32)):
            mn, mx = _colminmax_raw(a)
            assert mn.dtype == a.dtype
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                np.testing.assert_array_equal(mn[1:], np.nanmin(a, axis=0)[1:])
                np.testing.assert_array_equal(mx[1:], np.nanmax(a, axis=0)[1:])
            assert mn[0] == np.inf and mx[0] == -np.inf  # no values: empty range


def test_c_example_stats_demo_compiles_and_runs(build_c) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    exe = build_c(Path(__file__).resolve().parent.parent / "examples" / "c" / "stats_demo.c")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "ok"
    assert any(ln.startswith("overlap: FK_ERR_ALIASING") for ln in lines)
