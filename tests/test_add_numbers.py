"""add_numbers: 32-bit signed addition that never wraps."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import ferrokit as fk

I32_MAX = 2**31 - 1
I32_MIN = -(2**31)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (5, 7, 12),
        (0, 0, 0),
        (-5, 7, 2),
        (-5, -7, -12),
        (I32_MAX, 0, I32_MAX),
        (I32_MIN, 0, I32_MIN),
        (I32_MAX, I32_MIN, -1),
        (I32_MAX - 1, 1, I32_MAX),
        (I32_MIN + 1, -1, I32_MIN),
        (-1, I32_MAX, I32_MAX - 1),
    ],
)
def test_values(a: int, b: int, expected: int) -> None:
    r = fk.add_numbers(a, b)
    assert r == expected
    assert type(r) is int


def test_commutative_on_random_int32(rng: np.random.Generator) -> None:
    a = rng.integers(I32_MIN // 2, I32_MAX // 2, size=200)
    b = rng.integers(I32_MIN // 2, I32_MAX // 2, size=200)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        assert fk.add_numbers(x, y) == x + y == fk.add_numbers(y, x)


@pytest.mark.parametrize(
    ("a", "b"),
    [(2**31, 0), (0, 2**31), (-(2**31) - 1, 0), (0, -(2**31) - 1), (2**63, 1), (-(2**100), 1)],
)
def test_argument_out_of_int32_range_raises_overflow(a: int, b: int) -> None:
    with pytest.raises(OverflowError, match="32-bit"):
        fk.add_numbers(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [(I32_MAX, 1), (1, I32_MAX), (I32_MIN, -1), (-1, I32_MIN), (I32_MAX, I32_MAX), (I32_MIN, I32_MIN)],
)
def test_overflowing_sum_raises_integer_overflow_error(a: int, b: int) -> None:
    with pytest.raises(fk.IntegerOverflowError, match="overflow") as info:
        fk.add_numbers(a, b)
    assert isinstance(info.value, OverflowError)
    assert isinstance(info.value, fk.FerrokitError)
    assert info.value.status_name == "FK_ERR_OVERFLOW"


def test_integer_overflow_error_is_an_overflow_error() -> None:
    assert issubclass(fk.IntegerOverflowError, OverflowError)
    assert issubclass(fk.IntegerOverflowError, fk.FerrokitError)


def test_still_works_after_an_error() -> None:
    with pytest.raises(OverflowError):
        fk.add_numbers(I32_MAX, 1)
    assert fk.add_numbers(2, 3) == 5


@pytest.mark.parametrize(
    "bad",
    [
        1.5,
        2.0,
        "a",
        "1",
        None,
        [1],
        (1,),
        b"1",
        1j,
        np.float64(1.0),
        np.float32(1.5),
        np.float16(2.0),
        np.array([1, 2]),
        Decimal("1"),
        Fraction(3, 2),
    ],
    ids=repr,
)
def test_non_integers_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        fk.add_numbers(bad, 1)
    with pytest.raises(TypeError):
        fk.add_numbers(1, bad)


@pytest.mark.parametrize("typ", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32])
def test_numpy_integer_scalars(typ: type) -> None:
    r = fk.add_numbers(typ(5), typ(7))
    assert r == 12
    assert type(r) is int
    assert fk.add_numbers(typ(100), -3) == 97


def test_numpy_int32_limits() -> None:
    assert fk.add_numbers(np.int32(I32_MAX), np.int32(0)) == I32_MAX
    assert fk.add_numbers(np.int32(I32_MIN), np.int8(-0)) == I32_MIN
    with pytest.raises(fk.IntegerOverflowError):
        fk.add_numbers(np.int32(I32_MAX), np.int32(1))


@pytest.mark.parametrize("big", [np.int64(2**31), np.int64(-(2**31) - 1), np.uint32(2**31), np.uint64(2**40)])
def test_numpy_scalars_outside_int32_raise_overflow(big: np.integer) -> None:
    with pytest.raises(OverflowError):
        fk.add_numbers(big, 0)


def test_bool_is_accepted_like_int() -> None:
    assert fk.add_numbers(True, True) == 2
    assert fk.add_numbers(True, 4) == 5
    assert fk.add_numbers(False, -4) == -4


class _MyInt(int):
    """An int subclass: not an exact int, so it takes the general path."""


@pytest.mark.parametrize(
    ("a", "b"),
    [(5, 7), (I32_MAX, 0), (I32_MIN, 0), (I32_MAX, 1), (I32_MIN, -1), (2**31, -1), (-(2**63), 2**63 - 1)],
)
def test_fast_path_agrees_with_general_path(a: int, b: int) -> None:
    # The C fast path takes exact ints only and returns None for anything it
    # cannot compute; the general path (cffi call) then raises as documented.
    from ferrokit.core import _fast_add

    fast = _fast_add(a, b)
    if I32_MIN <= a <= I32_MAX and I32_MIN <= b <= I32_MAX and I32_MIN <= a + b <= I32_MAX:
        assert fast == a + b
        assert fk.add_numbers(_MyInt(a), _MyInt(b)) == a + b  # general path
    else:
        assert fast is None
        with pytest.raises(OverflowError):
            fk.add_numbers(a, b)
        with pytest.raises(OverflowError):
            fk.add_numbers(_MyInt(a), _MyInt(b))
    assert _fast_add(True, 1) is None  # bool is not an exact int: general path
    assert _fast_add(np.int32(1), 1) is None
