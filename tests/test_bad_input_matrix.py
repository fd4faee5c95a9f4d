"""Table-driven bad-input matrix: every public array function × every awkward input.

Each case must either raise a documented exception (TypeError / ValueError /
OverflowError, with a message) or return the same result as a numpy reference
computed on the float64 version of the input. Inputs are never modified.
A new function joins by one line in FUNCTIONS.
"""

from __future__ import annotations

import copy
import datetime
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import ferrokit as fk

ALLOWED = (TypeError, ValueError, OverflowError)


class Raises(Exception):
    """Returned by a reference to say the call must raise this type."""

    def __init__(self, exc: type[BaseException]) -> None:
        super().__init__(exc.__name__)
        self.exc = exc


def _np_normalize(x: np.ndarray) -> Any:
    if np.isinf(x).any():
        return Raises(ValueError)
    if x.size == 0 or np.isnan(x).all():
        return x.copy()
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(over="ignore"):
        if not np.isfinite(hi - lo):  # documented: ferrokit halves both sides instead of overflowing
            x, lo, hi = x / 2, lo / 2, hi / 2
    return np.zeros_like(x) + 0 * x if hi - lo < np.finfo(x.dtype).eps else (x - lo) / (hi - lo)


def _np_dot(x: np.ndarray) -> Any:
    if x.ndim != 1:
        return Raises(ValueError)
    return float(np.dot(x.astype(np.float64), x.astype(np.float64)))


def _normalize_out(x: Any) -> Any:
    arr = np.asarray(x)
    out_dtype = np.float32 if arr.dtype in (np.float32, np.float16) else np.float64
    out = np.empty(arr.shape, dtype=out_dtype)
    return fk.normalize(x, out=out)


@dataclass(frozen=True)
class Fn:
    name: str
    call: Callable[[Any], Any]
    reference: Callable[[np.ndarray], Any]
    rtol: float = 1e-6


def _last_axis(f: Callable[[np.ndarray], Any], rowwise: bool = False) -> Callable[[np.ndarray], Any]:
    """Reference for kernels along the last axis. Row-wise ones need at least one
    dimension; empty input gives empty output (documented; numpy's max would raise)."""

    def ref(x: np.ndarray) -> Any:
        if rowwise and x.ndim == 0:
            return Raises(ValueError)
        if x.size == 0:
            return x.copy()
        with np.errstate(all="ignore"):
            return f(x)

    return ref


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layer_norm(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)


def _reduction(f: Callable[[np.ndarray], Any], empty_raises: bool = False) -> Callable[[np.ndarray], Any]:
    def ref(x: np.ndarray) -> Any:
        if empty_raises and x.size == 0:
            return Raises(ValueError)
        with np.errstate(all="ignore"):
            return f(x)

    return ref


def _np_pairwise(x: np.ndarray) -> Any:
    """Euclidean self-distances of the rows of a 2-D input (1-D and 0-D are refused,
    like scikit-learn; so are NaN/inf, like scikit-learn)."""
    if x.ndim != 2:
        return Raises(ValueError)
    if x.shape[0] == 0:
        return np.zeros((0, 0))  # documented: no rows, an empty matrix (scikit-learn raises)
    if not np.isfinite(x).all():
        return Raises(ValueError)
    d = x[:, None, :] - x[None, :, :]
    return np.sqrt((d * d).sum(-1))


def _erf(x: np.ndarray) -> np.ndarray:
    from math import erf

    return np.vectorize(erf, otypes=[np.float64])(x)


# One line per public function taking arrays.
FUNCTIONS = [
    Fn("dot_product", lambda x: fk.dot_product(x, x), _np_dot, rtol=1e-5),
    Fn("dot_product(y=list)", lambda x: fk.dot_product(x, copy.deepcopy(x)), _np_dot, rtol=1e-5),
    Fn("normalize", fk.normalize, _np_normalize),
    Fn("normalize(out=)", _normalize_out, _np_normalize),
    Fn("stats.sum", fk.stats.sum, _reduction(np.sum), rtol=1e-5),
    Fn("stats.mean", fk.stats.mean, _reduction(np.mean), rtol=1e-5),
    Fn("stats.var", fk.stats.var, _reduction(np.var), rtol=1e-5),
    Fn("stats.std", fk.stats.std, _reduction(np.std), rtol=1e-5),
    Fn("stats.min", fk.stats.min, _reduction(np.min, empty_raises=True)),
    Fn("stats.max", fk.stats.max, _reduction(np.max, empty_raises=True)),
    Fn("stats.nanmean", fk.stats.nanmean, _reduction(np.nanmean), rtol=1e-5),
    Fn("stats.nanmax", fk.stats.nanmax, _reduction(np.nanmax, empty_raises=True)),
    Fn("stats.argmin", fk.stats.argmin, _reduction(np.argmin, empty_raises=True)),
    Fn("stats.norm", fk.stats.norm, _reduction(np.linalg.norm), rtol=1e-5),
    Fn("nn.softmax", fk.nn.softmax, _last_axis(_np_softmax, rowwise=True), rtol=1e-5),
    Fn("nn.relu", fk.nn.relu, _last_axis(lambda x: np.maximum(x, 0.0))),
    Fn("nn.sigmoid", fk.nn.sigmoid, _last_axis(lambda x: 1 / (1 + np.exp(-x))), rtol=1e-5),
    Fn("nn.tanh", fk.nn.tanh, _last_axis(np.tanh), rtol=1e-5),
    Fn("nn.silu", fk.nn.silu, _last_axis(lambda x: x / (1 + np.exp(-x))), rtol=1e-5),
    Fn("nn.gelu", fk.nn.gelu, _last_axis(lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))), rtol=1e-5),
    Fn("nn.layer_norm", fk.nn.layer_norm, _last_axis(_np_layer_norm, rowwise=True), rtol=1e-4),
    Fn("neighbors.pairwise_distances", lambda x: fk.neighbors.pairwise_distances(x), _np_pairwise, rtol=1e-4),
]

_rng = np.random.default_rng(0)
_base = _rng.standard_normal(37)
_ro = _base.copy()
_ro.setflags(write=False)

# name -> input. Built fresh per test (arrays are mutable).
INPUTS: dict[str, Callable[[], Any]] = {
    "None": lambda: None,
    "string": lambda: "1.0, 2.0",
    "bytes": lambda: b"\x00\x01",
    "mixed list": lambda: [1.0, "a", 3],
    "list with None": lambda: [1.0, None],
    "ragged list": lambda: [[1.0, 2.0], [3.0]],
    "nested list": lambda: [[1.0, 2.0], [3.0, 4.0]],
    "tuple": lambda: (1.0, 2.0, 5.0),
    "int list": lambda: [1, 2, 3],
    "bool array": lambda: np.array([True, False, True]),
    "int8 array": lambda: np.arange(5, dtype=np.int8),
    "uint64 array": lambda: np.arange(5, dtype=np.uint64),
    "float16 array": lambda: _base.astype(np.float16),
    "float32 array": lambda: _base.astype(np.float32),
    "complex array": lambda: _base.astype(np.complex128),
    "object array": lambda: np.array([1.0, "x"], dtype=object),
    "datetime array": lambda: np.array([datetime.datetime(2020, 1, 1)], dtype="datetime64[s]"),
    "string array": lambda: np.array(["a", "b"]),
    "big-endian": lambda: _base.astype(">f8"),
    "F-ordered 2-D": lambda: np.asfortranarray(_base[:36].reshape(6, 6)),
    "strided view": lambda: _base[::3],
    "negative stride": lambda: _base[::-1],
    "read-only": lambda: _ro,
    "0-d": lambda: np.array(3.0),
    "empty": lambda: np.array([]),
    "empty 2-D": lambda: np.zeros((0, 3)),
    "one element": lambda: np.array([2.5]),
    "NaN inside": lambda: np.array([1.0, np.nan, 3.0]),
    "all NaN": lambda: np.full(5, np.nan),
    "+inf": lambda: np.array([1.0, np.inf]),
    "-inf": lambda: np.array([-np.inf, 1.0]),
    "constant": lambda: np.full(9, 4.0),
    "huge values": lambda: np.array([-1e308, 0.0, 1e308]),
    "scalar": lambda: 3.0,
    "dict": lambda: {"a": 1},
}


def _snapshot(x: Any) -> Any:
    return x.copy() if isinstance(x, np.ndarray) else copy.deepcopy(x)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (
            a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    return a == b


def _expected(fn: Fn, x: Any) -> Any:
    """The numpy reference result for input ``x``, or ``Raises(...)``."""
    if x is None or isinstance(x, (str, bytes, dict)):
        return Raises(TypeError)
    if isinstance(x, list) and None in x:
        return Raises(TypeError)  # documented: None is not a number (numpy would make it NaN)
    if isinstance(x, np.ndarray) and x.dtype.kind not in "fiub":
        return Raises(TypeError)
    try:
        as_float = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return Raises(TypeError)
    return fn.reference(as_float)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.name)
@pytest.mark.parametrize("input_name", list(INPUTS))
def test_bad_input_matrix(fn: Fn, input_name: str) -> None:
    x = INPUTS[input_name]()
    before = _snapshot(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # the numpy reference may warn (complex cast, overflow)
        expected = _expected(fn, x)
    try:
        got = fn.call(x)
    except ALLOWED as exc:
        assert str(exc), f"{fn.name}({input_name}): empty message"
        if isinstance(expected, Raises):
            assert isinstance(exc, (expected.exc, TypeError, ValueError)), (fn.name, input_name, exc)
        else:
            pytest.fail(f"{fn.name}({input_name}) raised {type(exc).__name__}: {exc}, expected a result")
    else:
        assert not isinstance(expected, Raises), f"{fn.name}({input_name}) returned {got!r}, not {expected}"
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=fn.rtol, atol=1e-12)
    assert _same(x, before), f"{fn.name} modified its input {input_name}"


def test_read_only_out_is_a_clear_error() -> None:
    x = _base.copy()
    out = np.empty_like(x)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="out is read-only"):
        fk.normalize(x, out=out)


def test_out_aliasing_the_input_gives_the_in_place_result() -> None:
    x = _base.copy()
    want = fk.normalize(x)
    assert fk.normalize(x, out=x) is x
    np.testing.assert_array_equal(x, want)


ADD_INPUTS: list[tuple[Any, Any, type[BaseException] | int]] = [
    (None, 1, TypeError),
    ("1", 1, TypeError),
    (1.5, 1, TypeError),
    (np.float64(1.0), 1, TypeError),
    ([1], 1, TypeError),
    (1j, 1, TypeError),
    (2**31, 0, OverflowError),
    (-(2**31) - 1, 0, OverflowError),
    (np.int64(2**40), 0, OverflowError),
    (2**31 - 1, 1, OverflowError),
    (-(2**31), -1, OverflowError),
    (True, 2, 3),
    (np.int8(-5), np.uint16(7), 2),
]


@pytest.mark.parametrize(("a", "b", "expected"), ADD_INPUTS, ids=repr)
def test_add_numbers_matrix(a: Any, b: Any, expected: Any) -> None:
    if isinstance(expected, int):
        assert fk.add_numbers(a, b) == expected
    else:
        with pytest.raises(expected) as exc:
            fk.add_numbers(a, b)
        assert "add_numbers" in str(exc.value)
