"""ferrokit.nn kernels against numpy / scipy.special references.

Tolerances: float64 1e-12 relative, float32 1e-6 relative (references are
computed in float64 from the same float32 input); tiny absolute floors only
where a result underflows. Sizes 0, 1, odd, large (parallel path) and N-D.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.special as sp

import ferrokit as fk
from ferrokit import nn

RNG = np.random.default_rng(12345)
DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-12, np.float32: 1e-6}
ATOL = {np.float64: 1e-300, np.float32: 1e-37}
SHAPES = [(0,), (1,), (7,), (3, 5), (2, 3, 17), (300, 1025)]


def _x(shape: tuple[int, ...], dtype: type, scale: float = 6.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def _close(got: np.ndarray, want: np.ndarray, dtype: type, rtol: float | None = None) -> None:
    assert got.dtype == np.dtype(dtype)
    assert got.shape == want.shape
    np.testing.assert_allclose(
        got.astype(np.float64), want, rtol=rtol or RTOL[dtype], atol=ATOL[dtype], equal_nan=True
    )


def _gelu_ref(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * sp.erfc(-x / np.sqrt(2.0))


def _gelu_tanh_ref(x: np.ndarray) -> np.ndarray:
    # 0.5 x (1 + tanh(u)) == x * expit(2u), the form without cancellation
    u = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    return x * sp.expit(2.0 * u)


ELEMENTWISE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0.0)),
    "sigmoid": (nn.sigmoid, sp.expit),
    "tanh": (nn.tanh, np.tanh),
    "gelu": (nn.gelu, _gelu_ref),
    "gelu_tanh": (lambda x, **kw: nn.gelu(x, approximate="tanh", **kw), _gelu_tanh_ref),
    "silu": (nn.silu, lambda x: x * sp.expit(x)),
}


# ------------------------------------------------------------ element-wise


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_elementwise_matches_reference(name: str, dtype: type, shape: tuple[int, ...]) -> None:
    f, ref = ELEMENTWISE[name]
    x = _x(shape, dtype)
    _close(f(x), ref(x.astype(np.float64)), dtype)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_wide_range_and_specials(name: str, dtype: type) -> None:
    f, ref = ELEMENTWISE[name]
    lim = 80.0 if dtype == np.float32 else 700.0
    x = np.concatenate([np.linspace(-lim, lim, 20001), np.linspace(-1e-3, 1e-3, 101)]).astype(dtype)
    _close(f(x), ref(x.astype(np.float64)), dtype)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    with np.errstate(all="ignore"):
        want = ref(specials.astype(np.float64))
    got = f(specials)
    assert np.isnan(got[0])  # NaN propagates
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)].astype(dtype))


def test_gelu_matches_the_scipy_erf_formula() -> None:
    x = np.linspace(-8, 8, 4001)
    naive = 0.5 * x * (1.0 + sp.erf(x / np.sqrt(2.0)))  # cancels for x << 0
    np.testing.assert_allclose(nn.gelu(x), naive, rtol=1e-12, atol=1e-15)
    naive_tanh = 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nn.gelu(x, approximate="tanh"), naive_tanh, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_out_inplace_and_layouts(dtype: type) -> None:
    x = _x((40, 31), dtype)
    want = sp.expit(x.astype(np.float64))
    out = np.empty_like(x)
    assert nn.sigmoid(x, out=out) is out
    _close(out, want, dtype)
    y = x.copy()
    assert nn.sigmoid(y, out=y) is y  # in place
    _close(y, want, dtype)
    f = np.asfortranarray(x)
    r = nn.sigmoid(f)
    assert r.flags.f_contiguous
    _close(r, want, dtype)
    s = x[:, ::2]  # strided: one copy
    _close(nn.sigmoid(s), want[:, ::2], dtype)
    # partial overlap of out and x: read from a copy, result still right
    buf = x.ravel().copy()
    nn.relu(buf[:-1], out=buf[1:])
    np.testing.assert_array_equal(buf[1:], np.maximum(x.ravel()[:-1], 0))


def test_elementwise_conversions() -> None:
    assert nn.relu([-1, 2]).dtype == np.float64
    assert nn.relu(np.array([-1, 2], dtype=np.int32)).tolist() == [0.0, 2.0]
    assert nn.relu(np.float16([1.5])).dtype == np.float32
    assert nn.relu(np.float32(-2.0)).shape == ()


# ----------------------------------------------------------- softmax family


def _softmax_ref(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax_ref(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in SHAPES if s != (0,)] + [(4, 0), (0, 5)])
def test_softmax_log_softmax(dtype: type, shape: tuple[int, ...]) -> None:
    x = _x(shape, dtype, scale=10.0)
    x64 = x.astype(np.float64)
    if x.size == 0:
        assert nn.softmax(x).shape == x.shape and nn.log_softmax(x).shape == x.shape
        return
    with np.errstate(all="ignore"):
        _close(nn.softmax(x), _softmax_ref(x64), dtype)
        lw = _log_softmax_ref(x64)
    got = nn.log_softmax(x)
    np.testing.assert_allclose(got, lw, rtol=RTOL[dtype], atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one_for_huge_inputs(dtype: type) -> None:
    x = np.array(
        [[1e4, 1e4 - 1.0, -1e4, 0.0], [-1e4, -1e4, -1e4, -1e4], [3e38, 1.0, 2.0, -3e38]], dtype=dtype
    )
    s = nn.softmax(x)
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    big = _x((257, 1000), dtype, scale=1e4)
    np.testing.assert_allclose(nn.softmax(big).sum(axis=1), 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_nan_and_inf_like_numpy(dtype: type) -> None:
    x = np.array(
        [[1.0, np.nan, 2.0], [1.0, 2.0, 3.0], [np.inf, 1.0, 0.0], [-np.inf, -np.inf, -np.inf]], dtype=dtype
    )
    with np.errstate(all="ignore"):
        want = _softmax_ref(x.astype(np.float64))
        lwant = _log_softmax_ref(x.astype(np.float64))
    _close(nn.softmax(x), want, dtype)
    np.testing.assert_array_equal(np.isnan(nn.log_softmax(x)), np.isnan(lwant))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_out_and_inplace(dtype: type) -> None:
    x = _x((33, 65), dtype)
    want = _softmax_ref(x.astype(np.float64))
    out = np.zeros_like(x)
    assert nn.softmax(x, out=out) is out
    _close(out, want, dtype)
    y = x.copy()
    assert nn.log_softmax(y, out=y) is y
    np.testing.assert_allclose(y, _log_softmax_ref(x.astype(np.float64)), rtol=RTOL[dtype], atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_streaming_path_equals_small_path(dtype: type) -> None:
    # Outputs of 8 MiB or more are written with streaming stores (and rows are
    # prefetched): same arithmetic, so every row must equal the row computed
    # alone (small output, normal stores), bit for bit, and in place too.
    cols = 1031  # odd: vector body plus a scalar tail per row
    rows = (9 << 20) // (cols * np.dtype(dtype).itemsize) + 1
    x = _x((rows, cols), dtype)
    got = nn.softmax(x)
    for i in (0, 1, rows // 2, rows - 1):
        np.testing.assert_array_equal(got[i], nn.softmax(x[i : i + 1])[0])
    y = x.copy()
    nn.softmax(y, out=y)
    np.testing.assert_array_equal(y, got)
    _close(got[:50], _softmax_ref(x[:50].astype(np.float64)), dtype)


# -------------------------------------------------------------------- norms


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 17), (300, 1025)])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_and_rms_norm(dtype: type, shape: tuple[int, ...], affine: bool) -> None:
    x = _x(shape, dtype) + 3.0
    x64 = x.astype(np.float64)
    w = _x(shape[-1:], dtype, 1.0) if affine else None
    b = _x(shape[-1:], dtype, 1.0) if affine else None
    mean = x64.mean(axis=-1, keepdims=True)
    var = x64.var(axis=-1, keepdims=True)
    want = (x64 - mean) / np.sqrt(var + 1e-5)
    rms = x64 / np.sqrt((x64**2).mean(axis=-1, keepdims=True) + 1e-6)
    if affine:
        want = want * w.astype(np.float64) + b.astype(np.float64)
        rms = rms * w.astype(np.float64)
    atol = 1e-6 if dtype == np.float32 else 1e-12
    got = nn.layer_norm(x, w, b)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=atol)
    np.testing.assert_allclose(nn.rms_norm(x, w), rms, rtol=RTOL[dtype], atol=atol)
    y = x.copy()
    nn.layer_norm(y, w, b, out=y)
    np.testing.assert_array_equal(y, got)


def test_norms_nan_rows_and_eps() -> None:
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    r = nn.layer_norm(x)
    assert np.isnan(r[0]).all() and np.isfinite(r[1]).all()
    assert np.isnan(nn.rms_norm(x)[0]).all()
    np.testing.assert_array_equal(nn.layer_norm(np.ones((2, 4)), eps=1e-5), np.zeros((2, 4)))
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="eps"):
            nn.layer_norm(x, eps=bad)
    with pytest.raises(TypeError, match="eps"):
        nn.rms_norm(x, eps="small")
    with pytest.raises(ValueError, match="weight must have shape"):
        nn.layer_norm(x, weight=np.ones(4))
    with pytest.raises(ValueError, match="bias must have shape"):
        nn.layer_norm(x, bias=np.ones((1, 3)))


# --------------------------------------------------------------------- topk


def _topk_ref(x: np.ndarray, k: int, largest: bool, sorted_: bool) -> tuple[np.ndarray, np.ndarray]:
    rows = x.reshape(-1, x.shape[-1])
    vals, idxs = [], []
    for r in rows:

        def key(j: int, r: np.ndarray = r) -> tuple[int, float, int]:
            nan = bool(np.isnan(r[j]))
            v = 0.0 if nan else float(r[j])
            return ((0 if nan else 1) if largest else (1 if nan else 0), -v if largest else v, j)

        order = sorted(range(len(r)), key=key)[:k]
        if not sorted_:
            order.sort()
        vals.append(r[order])
        idxs.append(order)
    shape = (*x.shape[:-1], k)
    return np.array(vals, dtype=x.dtype).reshape(shape), np.array(idxs, dtype=np.int64).reshape(shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("sorted_", [True, False])
def test_topk_matches_reference(dtype: type, largest: bool, sorted_: bool) -> None:
    x = np.round(_x((4, 3, 29), dtype, 3.0))  # rounding makes ties
    x[0, 0, 3] = np.nan
    x[1, 2, 5] = np.inf
    for k in (0, 1, 5, 29):
        v, i = nn.topk(x, k, largest=largest, sorted=sorted_)
        wv, wi = _topk_ref(x, k, largest, sorted_)
        np.testing.assert_array_equal(i, wi)
        np.testing.assert_array_equal(v, wv)
        assert v.dtype == np.dtype(dtype) and i.dtype == np.int64


def test_topk_large_and_bad_k() -> None:
    x = _x((3000, 100), np.float32)
    v, i = nn.topk(x, 3)
    np.testing.assert_array_equal(v, -np.sort(-x, axis=1)[:, :3])
    np.testing.assert_array_equal(np.take_along_axis(x, i, axis=1), v)
    with pytest.raises(ValueError, match="k must be in"):
        nn.topk(x, 101)
    with pytest.raises(ValueError, match="k must be in"):
        nn.topk(x, -1)
    with pytest.raises(TypeError, match="integer"):
        nn.topk(x, 2.0)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        nn.topk(np.float64(3.0), 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_topk_flags_must_be_bools(dtype: type) -> None:
    x = _x((5, 7), dtype)
    for bad in ("no", "False", 0, 1, None, 1.0, [True]):
        with pytest.raises(TypeError, match="largest must be a bool"):
            nn.topk(x, 2, largest=bad)
        with pytest.raises(TypeError, match="sorted must be a bool"):
            nn.topk(x, 2, sorted=bad)
    v, _ = nn.topk(x, 2, largest=np.bool_(False), sorted=np.bool_(True))
    np.testing.assert_array_equal(v, np.sort(x, axis=1)[:, :2])


# ------------------------------------------------------------------- linear

ACTS = {
    None: lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": sp.expit,
    "tanh": np.tanh,
    "gelu": _gelu_ref,
    "gelu_tanh": _gelu_tanh_ref,
    "silu": lambda z: z * sp.expit(z),
    "softmax": _softmax_ref,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize(("m", "k", "n"), [(1, 1, 1), (3, 17, 5), (9, 64, 33), (700, 130, 70), (4, 0, 3)])
def test_linear_matches_numpy(dtype: type, act: str | None, m: int, k: int, n: int) -> None:
    x = _x((m, k), dtype, 1.0)
    w = _x((n, k), dtype, 1.0)
    b = _x((n,), dtype, 1.0)
    z = x.astype(np.float64) @ w.astype(np.float64).T + b
    want = ACTS[act](z)
    got = nn.linear(x, w, b, act)
    assert got.dtype == np.dtype(dtype) and got.shape == (m, n)
    # float32 products are accumulated in float32 by the GEMM: the error bound
    # scales with sum |x||w| (checked per element), not with the result.
    scale = np.abs(x.astype(np.float64)) @ np.abs(w.astype(np.float64)).T + np.abs(b)
    tol = (4e-7 * np.sqrt(k + 1) if dtype == np.float32 else 1e-15 * (k + 1)) * scale + ATOL[dtype]
    assert np.all(np.abs(got - want) <= tol + RTOL[dtype] * np.abs(want)), np.max(np.abs(got - want) - tol)


def test_linear_nd_out_mixed_dtypes_and_errors() -> None:
    x = _x((2, 3, 8), np.float32, 1.0)
    w = _x((5, 8), np.float32, 1.0)
    r = nn.linear(x, w)
    assert r.shape == (2, 3, 5)
    np.testing.assert_allclose(r, x @ w.T, rtol=1e-5, atol=1e-5)
    assert nn.linear(x, w.astype(np.float64)).dtype == np.float64
    out = np.empty((2, 3, 5), np.float32)
    assert nn.linear(x, w, out=out) is out
    with pytest.raises(ValueError, match="8 features"):
        nn.linear(x, w[:, :7])
    with pytest.raises(ValueError, match="2-D"):
        nn.linear(x, w.ravel())
    with pytest.raises(ValueError, match="bias must have shape"):
        nn.linear(x, w, np.ones(4))
    with pytest.raises(ValueError, match="activation"):
        nn.linear(x, w, activation="swish")
    with pytest.raises(ValueError, match="out must have shape"):
        nn.linear(x, w, out=np.empty((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="overlap"):
        xx = np.ones((4, 4))
        nn.linear(xx, np.ones((4, 4)), out=xx)


# ---------------------------------------------------- threads & determinism


def test_results_bit_identical_for_any_thread_count() -> None:
    x = _x((600, 513), np.float32)
    w = _x((300, 513), np.float32, 0.1)
    res = []
    try:
        for t in (1, 2, 3):
            fk.set_num_threads(t)
            res.append((nn.softmax(x), nn.layer_norm(x), nn.gelu(x), nn.linear(x, w, None, "tanh")))
    finally:
        fk.set_num_threads(None)
    for r in res[1:]:
        for a, b in zip(res[0], r, strict=True):
            np.testing.assert_array_equal(a, b)


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_linear_runs_on_the_library_pool_only() -> None:
    x = _x((2048, 256), np.float32)
    w = _x((256, 256), np.float32)
    try:
        fk.set_num_threads(2)
        nn.softmax(x)  # the pool exists now
        before = _os_threads()
        for _ in range(3):
            nn.linear(x, w, None, "relu")
        assert _os_threads() <= before, "linear started threads outside the library pool"
    finally:
        fk.set_num_threads(None)


def test_python_threads_run_kernels_concurrently(in_threads) -> None:
    x = _x((200, 300), np.float64)
    want = nn.softmax(x)

    def work() -> None:
        for _ in range(20):
            np.testing.assert_array_equal(nn.softmax(x), want)

    in_threads(work)


# ---------------------------------------------------------------- bad input

BAD_INPUTS = [
    (None, TypeError, "None"),
    ("abc", TypeError, "str"),
    (np.array([1 + 2j]), TypeError, "complex"),
    (np.array(["a"]), TypeError, "dtype"),
    ([[1.0, 2.0], [3.0]], TypeError, "could not be converted"),
]


@pytest.mark.parametrize(
    "fn",
    [nn.relu, nn.sigmoid, nn.tanh, nn.gelu, nn.silu, nn.softmax, nn.log_softmax, nn.layer_norm, nn.rms_norm],
)
@pytest.mark.parametrize(("bad", "exc", "msg"), BAD_INPUTS)
def test_bad_inputs_raise_clear_errors(fn: object, bad: object, exc: type, msg: str) -> None:
    with pytest.raises(exc, match=msg):
        fn(bad)  # type: ignore[operator]


@pytest.mark.parametrize("fn", [nn.relu, nn.softmax, nn.layer_norm])
def test_bad_out(fn: object) -> None:
    x = np.ones((3, 4))
    with pytest.raises(TypeError, match="dtype"):
        fn(x, out=np.empty((3, 4), np.float32))  # type: ignore[operator]
    with pytest.raises(ValueError, match="shape"):
        fn(x, out=np.empty((4, 3)))  # type: ignore[operator]
    ro = np.empty((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fn(x, out=ro)  # type: ignore[operator]
    with pytest.raises(TypeError, match="ndarray"):
        fn(x, out=[0.0] * 12)  # type: ignore[operator]


def test_read_only_and_non_contiguous_inputs_are_fine() -> None:
    x = _x((20, 30), np.float64)
    x.flags.writeable = False
    np.testing.assert_allclose(nn.softmax(x), _softmax_ref(x), rtol=1e-12)
    np.testing.assert_allclose(nn.softmax(x[:, ::3]), _softmax_ref(x[:, ::3]), rtol=1e-12)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        nn.softmax(np.float64(1.0))
    with pytest.raises(ValueError, match="approximate"):
        nn.gelu(x, approximate="fast")


def test_c_abi_reports_bad_arguments() -> None:
    from ferrokit._native import ffi, lib

    x = np.ones(4)
    buf = ffi.from_buffer("double[]", x)
    out = np.empty(4)
    ob = ffi.from_buffer("double[]", out, require_writable=True)
    assert lib.fk_activation_f64(99, buf, 4, ob, 4) == lib.FK_ERR_INVALID_ARGUMENT
    assert lib.fk_activation_f64(lib.FK_ACT_SOFTMAX, buf, 4, ob, 4) == lib.FK_ERR_INVALID_ARGUMENT
    assert lib.fk_activation_f64(lib.FK_ACT_RELU, buf, 4, ob, 3) == lib.FK_ERR_LENGTH_MISMATCH
    assert lib.fk_softmax_f64(buf, 2, 2, ob, 3) == lib.FK_ERR_LENGTH_MISMATCH
    assert lib.fk_softmax_f64(ffi.NULL, 2, 2, ob, 4) == lib.FK_ERR_NULL_POINTER
    part = ffi.from_buffer("double[]", x[1:], require_writable=True)
    assert lib.fk_softmax_f64(buf, 1, 3, part, 3) == lib.FK_ERR_ALIASING
    vi = np.empty(8, dtype=np.int64)
    vb = ffi.from_buffer("int64_t[]", vi, require_writable=True)
    assert lib.fk_topk_f64(buf, 1, 4, 5, 1, 1, ob, 5, vb, 5) == lib.FK_ERR_INVALID_ARGUMENT
    assert lib.fk_linear_f64(buf, 1, 4, buf, 1, 3, ffi.NULL, 0, 0, ob, 1) == lib.FK_ERR_LENGTH_MISMATCH
    assert (
        lib.fk_layer_norm_f64(buf, 1, 4, ffi.NULL, 0, ffi.NULL, 0, -1.0, ob, 4) == lib.FK_ERR_INVALID_ARGUMENT
    )
