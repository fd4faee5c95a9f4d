"""normalize: min-max scaling to [0, 1], NaN/inf/eps rules, layouts, out=."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrokit as fk

SIZES = [0, 1, 7, 1000, 10**6 + 3]
DTYPES = [np.float64, np.float32]
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


def reference(x: np.ndarray) -> np.ndarray:
    """The documented rule, computed with numpy in x's own floating dtype."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    elif x.dtype == np.float16:
        x = x.astype(np.float32)
    x = x.astype(x.dtype.newbyteorder("="))
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        return x.copy()
    lo, hi = finite.min(), finite.max()
    rng = hi - lo
    if rng < np.finfo(x.dtype).eps:
        return np.where(np.isnan(x), x, x.dtype.type(0))
    return (x - lo) / rng


def assert_normalized(got: np.ndarray, x: object) -> None:
    want = reference(np.asarray(x))
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=RTOL[want.dtype], atol=0, equal_nan=True)


def random_data(rng: np.random.Generator, shape: int | tuple[int, ...], dtype: type) -> np.ndarray:
    return (rng.normal(size=shape) * 100 + 7).astype(dtype)


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


# --- reference checks ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_matches_numpy(n: int, dtype: type, threads: int, rng: np.random.Generator) -> None:
    x = random_data(rng, n, dtype)
    before = x.copy()
    got = fk.normalize(x)
    assert got.dtype == x.dtype
    assert got.shape == x.shape
    if n > 1:
        want = (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x))
        np.testing.assert_allclose(got, want, rtol=RTOL[np.dtype(dtype)], atol=0)
        assert got.min() == 0.0
        assert got.max() == 1.0
    assert_normalized(got, x)
    assert np.all((got >= 0) & (got <= 1))
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_bit_identical_for_any_thread_count(dtype: type, rng: np.random.Generator) -> None:
    x = random_data(rng, 10**6 + 3, dtype)
    x[rng.integers(0, x.size, 1000)] = np.nan
    results = []
    for n in (1, 2, 3, 8):
        with fk.threads(n):
            results.append(bits(fk.normalize(x)))
            out = np.empty_like(x)
            fk.normalize(x, out=out)
            results.append(bits(out))
    assert all(r == results[0] for r in results)


def test_large_with_nan_matches_reference(threads: int, rng: np.random.Generator) -> None:
    x = random_data(rng, 10**6 + 3, np.float64)
    x[rng.integers(0, x.size, 5000)] = np.nan
    got = fk.normalize(x)
    assert_normalized(got, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))


def test_small_example() -> None:
    r = fk.normalize(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(r, [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(fk.normalize([2, 4, 6, 10]), [0.0, 0.25, 0.5, 1.0])


# --- shapes and dtypes --------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (1, 1, 1), (4, 1)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_shapes(shape: tuple[int, ...], dtype: type, rng: np.random.Generator) -> None:
    x = random_data(rng, shape, dtype)
    got = fk.normalize(x)
    assert isinstance(got, np.ndarray)
    assert got.shape == shape
    assert got.dtype == dtype
    assert_normalized(got, x)


def test_zero_dim_and_scalars() -> None:
    for v in (np.array(3.5), 3.5, np.float64(2.0), 7):
        r = fk.normalize(v)
        assert isinstance(r, np.ndarray)
        assert r.shape == ()
        assert r.dtype == np.float64
        assert r == 0.0
    r = fk.normalize(np.float32(2.0))
    assert r.dtype == np.float32 and r.shape == () and r == 0.0
    assert np.isnan(fk.normalize(np.array(np.nan)))


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([1.0, 2.0, 4.0], np.float64),
        ((1.0, 2.0, 4.0), np.float64),
        ([1, 2, 4], np.float64),
        ([[1, 2], [4, 8]], np.float64),
        (np.array([1, 2, 4], dtype=np.int8), np.float64),
        (np.array([1, 2, 4], dtype=np.int32), np.float64),
        (np.array([1, 2, 4], dtype=np.int64), np.float64),
        (np.array([1, 2, 4], dtype=np.uint16), np.float64),
        (np.array([True, False, True]), np.float64),
        (np.array([1, 2, 4], dtype=np.float16), np.float32),
        (np.array([1, 2, 4], dtype=np.float32), np.float32),
        (np.array([1, 2, 4], dtype=">f4"), np.float32),
        (np.array([1, 2, 4], dtype=">f8"), np.float64),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else str(v.dtype),
)
def test_result_dtype(data: object, dtype: type) -> None:
    got = fk.normalize(data)
    assert got.dtype == np.dtype(dtype)
    assert got.dtype.isnative
    assert got.shape == np.shape(data)
    assert_normalized(got, data)


def test_int64_extremes_use_float64() -> None:
    x = np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])
    got = fk.normalize(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0], rtol=1e-12)


@pytest.mark.parametrize(
    "x",
    [np.empty(0), np.empty(0, np.float32), np.empty((0, 3)), np.empty((2, 0, 4), np.float32), []],
    ids=["f64", "f32", "0x3", "2x0x4-f32", "list"],
)
def test_empty(x: object) -> None:
    got = fk.normalize(x)
    want_dtype = np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64
    assert isinstance(got, np.ndarray)
    assert got.shape == np.shape(x)
    assert got.dtype == want_dtype
    out = np.empty(np.shape(x), dtype=want_dtype)
    assert fk.normalize(x, out=out) is out


# --- the range rules ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_constant_gives_zeros(dtype: type) -> None:
    for x in (np.full(7, 3.25, dtype), np.full((3, 5), -2.0, dtype), np.full(10**6 + 3, 1e30, dtype)):
        got = fk.normalize(x)
        assert got.dtype == dtype
        assert got.shape == x.shape
        assert np.all(got == 0)
        assert not np.signbit(got).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_range_below_eps_gives_zeros(dtype: type) -> None:
    t = np.dtype(dtype).type
    eps = np.finfo(dtype).eps
    half = t(0.5)
    above_half = np.nextafter(half, t(1))  # a range of eps / 2
    assert 0 < above_half - half < eps
    np.testing.assert_array_equal(fk.normalize(np.array([half, above_half, half], dtype)), [0, 0, 0])
    # 1.0 + 1e-17 rounds to 1.0 in both dtypes: constant
    np.testing.assert_array_equal(fk.normalize(np.array([1.0, 1.0 + 1e-17], dtype)), [0, 0])
    # the rule is absolute (the tutorial's): tiny values spanning less than eps give zeros
    np.testing.assert_array_equal(fk.normalize(np.array([1e-20, 5e-20, 3e-20], dtype)), [0, 0, 0])
    tiny = t(eps) * t(0.75)
    got = fk.normalize(np.array([0, tiny, np.nan], dtype))
    np.testing.assert_array_equal(got, [0, 0, np.nan])
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_range_of_eps_or_more_is_scaled(dtype: type) -> None:
    t = np.dtype(dtype).type
    eps = t(np.finfo(dtype).eps)
    got = fk.normalize(np.array([1, 1 + eps], dtype))  # range == eps: not below it
    np.testing.assert_array_equal(got, [0, 1])
    got = fk.normalize(np.array([0, 2 * eps, eps], dtype))
    np.testing.assert_array_equal(got, [0, 1, 0.5])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_nan_ignored_and_kept(dtype: type, rng: np.random.Generator) -> None:
    x = np.array([np.nan, 2.0, np.nan, 4.0, 3.0, np.nan], dtype)
    got = fk.normalize(x)
    np.testing.assert_array_equal(got, np.array([np.nan, 0.0, np.nan, 1.0, 0.5, np.nan], dtype))
    big = random_data(rng, (300, 7), dtype)
    big[rng.random(big.shape) < 0.2] = np.nan
    big[0, 0] = np.nan  # NaN first: it must not seed min/max
    got = fk.normalize(big)
    assert_normalized(got, big)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(big))
    assert np.nanmin(got) == 0 and np.nanmax(got) == 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (10**6 + 3,)], ids=str)
def test_all_nan_stays_nan(dtype: type, shape: tuple[int, ...]) -> None:
    x = np.full(shape, np.nan, dtype)
    got = fk.normalize(x)
    assert got.dtype == dtype
    assert got.shape == shape
    assert np.isnan(got).all()
    out = np.zeros(shape, dtype)
    fk.normalize(x, out=out)
    assert np.isnan(out).all()


def test_constant_with_nan_gives_zeros_and_nan() -> None:
    np.testing.assert_array_equal(fk.normalize([5.0, np.nan, 5.0]), [0.0, np.nan, 0.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_range_that_overflows(dtype: type) -> None:
    big = np.finfo(dtype).max
    x = np.array([-big, 0, big, big / 2], dtype)
    got = fk.normalize(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [0, 0.5, 1, 0.75], rtol=RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "values",
    [[1.0, np.inf, 2.0], [-np.inf, 1.0], [np.inf], [np.nan, -np.inf], [np.inf, -np.inf]],
    ids=["inf", "-inf", "only-inf", "nan-and-inf", "both"],
)
def test_infinity_raises(dtype: type, values: list[float]) -> None:
    x = np.array(values, dtype)
    before = x.copy()
    with pytest.raises(ValueError, match="inf") as info:
        fk.normalize(x)
    assert isinstance(info.value, fk.NonFiniteError)
    assert isinstance(info.value, fk.FerrokitError)
    with pytest.raises(fk.NonFiniteError):
        fk.normalize(x, out=x)
    np.testing.assert_array_equal(x, before)


def test_infinity_in_large_input_raises(threads: int, rng: np.random.Generator) -> None:
    x = rng.random(10**6 + 3)
    for pos in (0, 123_457, x.size - 1):
        y = x.copy()
        y[pos] = -np.inf if pos % 2 else np.inf
        with pytest.raises(fk.NonFiniteError):
            fk.normalize(y)
    as_list = x[:1000].tolist()
    as_list[77] = float("inf")
    with pytest.raises(fk.NonFiniteError):
        fk.normalize(as_list)


def test_still_works_after_an_error() -> None:
    with pytest.raises(ValueError):
        fk.normalize([np.inf])
    np.testing.assert_array_equal(fk.normalize([0.0, 2.0]), [0.0, 1.0])


# --- layouts: the input is never modified ----------------------------------------------


def _layouts(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    base = random_data(rng, (40, 30), np.float64)
    ro = base.copy()
    ro.flags.writeable = False
    raw = b"\0" + base.tobytes()
    unaligned = np.frombuffer(raw, dtype=np.float64, offset=1).reshape(base.shape)
    assert not unaligned.flags.aligned
    return [
        ("C", base.copy()),
        ("F", np.asfortranarray(base)),
        ("F-f32", np.asfortranarray(base.astype(np.float32))),
        ("strided", base[::2, ::3]),
        ("transposed-strided", base.T[::3]),
        ("reversed", base[::-1, ::-1]),
        ("column", base[:, 3]),
        ("read-only", ro),
        ("big-endian", base.astype(">f8")),
        ("big-endian-f4", base.astype(">f4")),
        ("unaligned", unaligned),
        ("int", (base * 10).astype(np.int64)),
    ]


def test_layouts_give_correct_values_and_are_not_modified(rng: np.random.Generator) -> None:
    for name, x in _layouts(rng):
        before = x.copy()
        got = fk.normalize(x)
        assert_normalized(got, before)
        np.testing.assert_array_equal(x, before, err_msg=name)
        assert x.dtype == before.dtype, name
        out = np.full(x.shape, -1.0, dtype=got.dtype)
        assert fk.normalize(x, out=out) is out
        np.testing.assert_array_equal(out, got, err_msg=name)
        np.testing.assert_array_equal(x, before, err_msg=name)


def test_f_ordered_result(rng: np.random.Generator) -> None:
    x = np.asfortranarray(random_data(rng, (50, 40), np.float64))
    got = fk.normalize(x)
    assert got.flags.f_contiguous
    assert_normalized(got, x)
    x3 = np.asfortranarray(random_data(rng, (4, 5, 6), np.float32))
    got3 = fk.normalize(x3)
    assert got3.flags.f_contiguous
    assert got3.dtype == np.float32
    assert_normalized(got3, x3)


def test_list_input_not_modified() -> None:
    data = [3.0, 1.0, 2.0]
    fk.normalize(data)
    assert data == [3.0, 1.0, 2.0]


# --- out= ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_out_returns_the_same_object(dtype: type, rng: np.random.Generator) -> None:
    x = random_data(rng, (30, 20), dtype)
    out = np.empty_like(x)
    r = fk.normalize(x, out=out)
    assert r is out
    assert_normalized(out, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("order", ["C", "F"])
def test_out_in_place(dtype: type, order: str, rng: np.random.Generator) -> None:
    x = np.array(random_data(rng, (30, 20), dtype), order=order)
    want = reference(x)
    r = fk.normalize(x, out=x)
    assert r is x
    np.testing.assert_allclose(x, want, rtol=RTOL[np.dtype(dtype)], atol=0)


def test_out_in_place_large(threads: int, rng: np.random.Generator) -> None:
    x = random_data(rng, 10**6 + 3, np.float64)
    want = reference(x)
    assert fk.normalize(x, out=x) is x
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("xo", "oo"), [("C", "F"), ("F", "C"), ("F", "F")])
def test_out_with_other_memory_order(xo: str, oo: str, rng: np.random.Generator) -> None:
    x = np.array(random_data(rng, (7, 9), np.float64), order=xo)
    out = np.empty((7, 9), order=oo)
    assert fk.normalize(x, out=out) is out
    np.testing.assert_allclose(out, reference(x), rtol=1e-12, atol=0)


def test_out_for_list_and_int_input() -> None:
    out = np.empty(3)
    assert fk.normalize([1, 3, 2], out=out) is out
    np.testing.assert_array_equal(out, [0, 1, 0.5])
    out2 = np.empty((2, 2))
    fk.normalize(np.array([[1, 2], [3, 5]], dtype=np.int16), out=out2)
    np.testing.assert_array_equal(out2, [[0, 0.25], [0.5, 1]])


@pytest.mark.parametrize(
    ("data", "out"),
    [
        (np.ones(3), np.empty(3, np.float32)),
        (np.ones(3, np.float32), np.empty(3)),
        (np.ones(3, np.float16), np.empty(3, np.float16)),
        ([1, 2, 3], np.empty(3, np.int64)),
        (np.ones(3), np.empty(3, np.complex128)),
    ],
    ids=["f64->f32", "f32->f64", "f16->f16", "list->int", "f64->complex"],
)
def test_out_wrong_dtype(data: object, out: np.ndarray) -> None:
    with pytest.raises(TypeError, match="dtype"):
        fk.normalize(data, out=out)


@pytest.mark.parametrize(
    "out",
    [np.empty(4), np.empty((3, 1)), np.empty((1, 3)), np.empty(()), np.empty(0)],
    ids=["4", "3x1", "1x3", "0-d", "0"],
)
def test_out_wrong_shape(out: np.ndarray) -> None:
    out.fill(-1.0)
    with pytest.raises(ValueError, match="shape"):
        fk.normalize(np.array([1.0, 2.0, 3.0]), out=out)
    assert (out == -1).all()


def test_out_read_only() -> None:
    out = np.zeros(3)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fk.normalize(np.array([1.0, 2.0, 3.0]), out=out)
    assert (out == 0).all()
    x = np.array([1.0, 2.0, 3.0])
    x.flags.writeable = False
    with pytest.raises(ValueError):
        fk.normalize(x, out=x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("out", [[0.0, 0.0, 0.0], (0.0, 0.0, 0.0), memoryview(bytearray(24)), "out"])
def test_out_not_an_ndarray(out: object) -> None:
    with pytest.raises(TypeError):
        fk.normalize(np.array([1.0, 2.0, 3.0]), out=out)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_out_strided_writes_only_its_elements(dtype: type, rng: np.random.Generator) -> None:
    x = random_data(rng, (6, 5), dtype)
    big = np.full((12, 15), -7.0, dtype)
    out = big[::2, ::3]
    assert not out.flags.c_contiguous and not out.flags.f_contiguous
    r = fk.normalize(x, out=out)
    assert r is out
    np.testing.assert_allclose(big[::2, ::3], reference(x), rtol=RTOL[np.dtype(dtype)], atol=0)
    mask = np.ones(big.shape, bool)
    mask[::2, ::3] = False
    assert (big[mask] == -7).all()
    line = np.full(41, -7.0, dtype)
    fk.normalize(x.ravel()[:20], out=line[1::2])
    np.testing.assert_allclose(line[1::2], reference(x.ravel()[:20]), rtol=RTOL[np.dtype(dtype)], atol=0)
    assert (line[::2] == -7).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", [10, 1000, 10**6 + 3])
def test_out_partially_overlapping_input(dtype: type, n: int, rng: np.random.Generator) -> None:
    buf = random_data(rng, n + 1, dtype)
    orig = buf.copy()
    fk.normalize(buf[:-1], out=buf[1:])  # out starts one element later
    np.testing.assert_allclose(buf[1:], reference(orig[:-1]), rtol=RTOL[np.dtype(dtype)], atol=0)
    assert buf[0] == orig[0]

    buf = orig.copy()
    fk.normalize(buf[1:], out=buf[:-1])  # out starts one element earlier
    np.testing.assert_allclose(buf[:-1], reference(orig[1:]), rtol=RTOL[np.dtype(dtype)], atol=0)
    assert buf[-1] == orig[-1]


def test_out_overlapping_with_strides(rng: np.random.Generator) -> None:
    buf = random_data(rng, 2001, np.float64)
    orig = buf.copy()
    fk.normalize(buf[:1000], out=buf[::2][:1000])  # out interleaves with the input
    np.testing.assert_allclose(buf[::2][:1000], reference(orig[:1000]), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(buf[1::2][500:], orig[1::2][500:])

    m = random_data(rng, (20, 20), np.float64)
    orig = m.copy()
    fk.normalize(m, out=m.T)  # same memory, other element order
    np.testing.assert_allclose(m.T, reference(orig), rtol=1e-12, atol=0)

    b = random_data(rng, 100, np.float64)
    orig = b.copy()
    fk.normalize(b[::-1], out=b)  # reversed view of itself
    np.testing.assert_allclose(b, reference(orig[::-1]), rtol=1e-12, atol=0)


@pytest.mark.parametrize("strided", [False, True])
def test_out_untouched_on_error(strided: bool) -> None:
    x = np.array([1.0, 2.0, np.inf, 3.0])
    big = np.full(8, 5.0)
    out = big[::2] if strided else big[:4]
    with pytest.raises(fk.NonFiniteError):
        fk.normalize(x, out=out)
    assert (big == 5.0).all()


# --- bad inputs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "abc",
        b"abc",
        1j,
        np.ones(3, np.complex128),
        np.ones(3, np.complex64),
        np.array([1.0, object()], dtype=object),
        np.array(["a", "b"]),
        ["a", "b"],
        [1.0, None],
        object(),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.array([1.0, 2.0], dtype=np.longdouble),
    ],
    ids=[
        "None",
        "str",
        "bytes",
        "complex",
        "complex128",
        "complex64",
        "object",
        "str-array",
        "str-list",
        "list-with-None",
        "object()",
        "datetime",
        "longdouble",
    ],
)
def test_bad_types_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        fk.normalize(bad)


# --- properties ---------------------------------------------------------------------


def _arrays(dtype: type) -> st.SearchStrategy[np.ndarray]:
    width = 64 if dtype is np.float64 else 32
    bounded = st.floats(min_value=-1e6, max_value=1e6, width=width)
    elements = bounded | st.just(float("nan"))
    return hnp.arrays(
        dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9), elements=elements
    )


@settings(max_examples=150, deadline=None)
@given(x=_arrays(np.float64))
def test_property_float64(x: np.ndarray) -> None:
    _check_property(x)


@settings(max_examples=150, deadline=None)
@given(x=_arrays(np.float32))
def test_property_float32(x: np.ndarray) -> None:
    _check_property(x)


@settings(max_examples=50, deadline=None)
@given(x=_arrays(np.float64), order=st.sampled_from(["C", "F"]))
def test_property_out_in_place(x: np.ndarray, order: str) -> None:
    x = np.array(x, order=order)
    want = reference(x)
    fk.normalize(x, out=x)
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=0, equal_nan=True)


def _check_property(x: np.ndarray) -> None:
    before = x.copy()
    got = fk.normalize(x)
    assert got.shape == x.shape
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
    finite = got[~np.isnan(got)]
    assert ((finite >= 0) & (finite <= 1)).all()
    assert_normalized(got, x)
