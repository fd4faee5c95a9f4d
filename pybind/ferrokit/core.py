"""The seed functions: ``add_numbers``, ``dot_product``, ``normalize``."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ferrokit._buffers import (
    F32,
    F64,
    as_float_array,
    as_vector,
    c_contiguous,
    cbuf,
    cbuf_out,
    check_out,
    data_address,
    f_contiguous,
    flat_view,
    raw_buffer,
)
from ferrokit._errors import raise_for_status
from ferrokit._native import ffi, lib

_I32_MAX = 2**31 - 1
_I32_MIN = -(2**31)
_STATUS_BASE = 2**32  # fkpy_add_numbers returns 2**32 + status on error
_add = lib.fkpy_add_numbers
_index = operator.index
_DOT = {F64: lib.fkpy_dot_f64, F32: lib.fkpy_dot_f32}
_take_status = lib.fkpy_take_status


def _load_fast_add() -> Any:
    """The C builtin ``fast_add(a, b)``: ``a + b`` (computed by fk_add_numbers)
    for two exact ints whose sum fits int32, else ``None``. It skips cffi's
    per-call work (argument conversion, errno and GIL handling), most of the
    cost of a call this small."""
    ns: dict[str, Any] = {}
    if lib.fkpy_install_fast_add(ffi.cast("void *", id(ns))) != 0:
        raise ImportError("ferrokit: could not create the add_numbers fast path")
    return ns["add"]


_fast_add = _load_fast_add()


def add_numbers(a: int, b: int) -> int:
    """Adds two 32-bit signed integers.

    Accepts Python ints and numpy integer scalars. Values outside int32, or a
    sum that does not fit int32, raise ``OverflowError`` (never wraps); floats,
    strings and None raise ``TypeError``.

    >>> import ferrokit as fk
    >>> fk.add_numbers(5, 7)
    12
    """
    r = _fast_add(a, b)
    if r is not None:
        return r
    # Anything else (bool, numpy integers, out of range, wrong types): the
    # general path, which raises the documented errors.
    try:
        # __index__ first: cffi alone would truncate anything with __int__
        # (np.float32(1.5) -> 1, Decimal); bool and numpy integers pass.
        r = _add(_index(a), _index(b))
    except OverflowError:
        raise OverflowError(
            f"add_numbers: arguments must fit a 32-bit signed integer "
            f"[{_I32_MIN}, {_I32_MAX}], got {a!r} and {b!r}"
        ) from None
    except TypeError:
        raise TypeError(
            f"add_numbers: expected two integers, got {type(a).__name__} and {type(b).__name__}"
        ) from None
    if r > _I32_MAX:
        raise_for_status(r - _STATUS_BASE)
    return r


def dot_product(vec1: ArrayLike, vec2: ArrayLike) -> float:
    """Dot product of two 1-D vectors of the same length, as a Python float.

    Accepts lists, tuples and 1-D numpy arrays. float32 input is computed
    without up-casting the arrays (products and sums in float64); mixing float32
    and float64 computes in float64. Empty vectors give 0.0. The sum is blocked
    and pairwise (at least as accurate as numpy) and bit-identical for any
    thread count. Raises ``ValueError("Vectors must be of the same length")``
    when the lengths differ.

    >>> import ferrokit as fk
    >>> fk.dot_product([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    32.0
    """
    # Fast path (small vectors are dominated by call overhead): two 1-D numpy
    # arrays of one supported dtype, passed as they are. Anything unusual
    # (non-contiguous: numpy refuses the buffer; misaligned: the C status) takes the general path.
    if type(vec1) is np.ndarray and type(vec2) is np.ndarray and vec1.ndim == 1 == vec2.ndim:
        fn = _DOT.get(vec1.dtype) if vec1.dtype is vec2.dtype else None
        if fn is not None:
            try:
                r = fn(raw_buffer(vec1), vec1.shape[0], raw_buffer(vec2), vec2.shape[0])
            except (BufferError, ValueError):
                pass  # numpy refuses a flat buffer of a non-contiguous array
            else:
                if r == r:  # not NaN: certainly a success
                    return r
                st = _take_status()
                if not st:
                    return r  # a genuine NaN result (NaN in the input)
                if st != lib.FK_ERR_MISALIGNED:
                    raise_for_status(st)
    x = as_vector(vec1, "dot_product", "vec1")
    y = as_vector(vec2, "dot_product", "vec2")
    if x.dtype is not y.dtype:
        x, y = x.astype(F64, copy=False), y.astype(F64, copy=False)
    r = _DOT[x.dtype](raw_buffer(x), x.shape[0], raw_buffer(y), y.shape[0])
    if r != r:
        st = _take_status()
        if st:
            raise_for_status(st)
    return r


def _normalize_call(src: np.ndarray, dst: np.ndarray) -> None:
    """Calls the kernel on two C-contiguous arrays of the same dtype and size
    (``dst`` may be ``src`` itself: in place)."""
    fn = lib.fk_normalize_f64 if src.dtype is F64 else lib.fk_normalize_f32
    st = fn(cbuf(src), src.size, cbuf_out(dst), dst.size)
    if st:
        raise_for_status(st)


def normalize(data: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
    """Min-max scales all values of ``data`` to [0, 1].

    The result has the shape of ``data`` and its floating dtype (float32 stays
    float32; lists and integer arrays give float64). NaNs are ignored when
    finding the range and stay NaN; all-NaN input stays all-NaN; if
    ``max - min`` is below the dtype's machine epsilon every finite value
    becomes 0. Infinity raises ``ValueError``. ``data`` is never modified unless
    it is passed as ``out``.

    Parameters
    ----------
    data : array_like
        Any shape. C- and Fortran-ordered arrays are used without a copy.
    out : numpy.ndarray, optional
        Array of the same shape and dtype to write into; may be ``data`` itself
        for in-place scaling. It is written only on success.

    >>> import numpy as np, ferrokit as fk
    >>> fk.normalize(np.array([1.0, 3.0, 2.0]))
    array([0. , 1. , 0.5])
    >>> x = np.array([[2.0, 4.0], [6.0, np.nan]], dtype=np.float32)
    >>> _ = fk.normalize(x, out=x)
    >>> x
    array([[0. , 0.5],
           [1. , nan]], dtype=float32)
    """
    x, owned = as_float_array(data, "normalize", "data")
    if out is None:
        xv = flat_view(x)
        if xv is None:
            # Strided/unaligned: one copy, then scale that copy in place.
            res = np.array(x, order="C", copy=True)
            _normalize_call(res, res)
            return res
        if owned:
            _normalize_call(xv, xv)
            return x
        res = np.empty_like(x)  # same memory layout (C or F) as x
        _normalize_call(xv, flat_view(res))
        return res

    check_out(out, x, "normalize")
    ov = flat_view(out)
    if ov is None:
        # out is strided: compute into a temporary, then copy (no partial writes).
        out[...] = normalize(x)
        return out
    # Lay x out like out, so element i of one buffer matches element i of the other.
    xv: Any = c_contiguous(x) if ov is out else f_contiguous(x).T
    if np.may_share_memory(xv, ov) and not (
        data_address(xv) == data_address(ov) and xv.strides == ov.strides
    ):
        xv = xv.copy()  # partial overlap: read from a copy
    _normalize_call(xv, ov)
    return out
