"""atheris harness over ferrokit's public Python API.

Builds arbitrary inputs (dtype, shape, layout, special values, lists) from the
fuzzer's bytes and calls every seed function. Allowed outcomes: a result that
matches the numpy reference, or TypeError / ValueError / OverflowError with a
message. Anything else (another exception, a crash, a modified input) is a
finding. Run: `python tests/fuzz/fuzz_python_api.py -max_total_time=60`.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import numpy as np

    import ferrokit as fk

DTYPES = ["f8", "f4", ">f8", "<f2", "i4", "u1", "?", "c16", "O", "U3", "M8[s]"]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308, 5e-324, 1.0]
ALLOWED = (TypeError, ValueError, OverflowError)


def _array(fdp: atheris.FuzzedDataProvider) -> object:
    kind = fdp.ConsumeIntInRange(0, 5)
    n = fdp.ConsumeIntInRange(0, 300)
    if kind == 0:  # list of floats, maybe with junk
        items: list[object] = [fdp.ConsumeRegularFloat() for _ in range(n)]
        if n and fdp.ConsumeBool():
            items[fdp.ConsumeIntInRange(0, n - 1)] = fdp.PickValueInList([None, "x", [1.0], 1j])
        return items
    values = np.array([fdp.ConsumeRegularFloat() for _ in range(n)])
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        if n:
            values[fdp.ConsumeIntInRange(0, n - 1)] = fdp.PickValueInList(SPECIALS)
    dtype = fdp.PickValueInList(DTYPES)
    try:
        with np.errstate(all="ignore"):
            arr = values.astype(dtype)
    except (TypeError, ValueError):
        arr = values
    if kind == 2 and arr.size >= 4:
        arr = arr[: arr.size // 2 * 2].reshape(2, -1)
        if fdp.ConsumeBool():
            arr = np.asfortranarray(arr)
    elif kind == 3:
        arr = arr[:: fdp.ConsumeIntInRange(1, 3)]
    elif kind == 4:
        arr.setflags(write=False)
    return arr


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        if a.dtype.kind in "fc":
            return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)  # type: ignore[union-attr]
        return a.dtype == b.dtype and repr(a.tolist()) == repr(b.tolist())  # type: ignore[union-attr]
    return a == b or repr(a) == repr(b)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    op = fdp.ConsumeIntInRange(0, 3)
    if op == 0:
        a = fdp.PickValueInList([fdp.ConsumeInt(5), fdp.ConsumeRegularFloat(), None, "7", np.int64(3)])
        b = fdp.ConsumeInt(5)
        try:
            r = fk.add_numbers(a, b)  # type: ignore[arg-type]
        except ALLOWED as e:
            assert str(e)
        else:
            assert r == int(a) + b and -(2**31) <= r < 2**31  # type: ignore[call-overload]
        return
    x = _array(fdp)
    before = x.copy() if isinstance(x, np.ndarray) else list(x)  # type: ignore[call-overload]
    try:
        if op == 1:
            r = fk.dot_product(x, x)  # type: ignore[arg-type]
            ref = float(np.dot(np.asarray(x, np.float64), np.asarray(x, np.float64)))
            if np.isfinite(ref):
                assert abs(r - ref) <= 1e-6 * max(1.0, abs(ref)), (r, ref)
        elif op == 2:
            r = fk.normalize(x)  # type: ignore[arg-type]
            finite = r[~np.isnan(r)]
            assert np.all((finite >= 0) & (finite <= 1))
        else:
            arr = np.asarray(x)
            out = np.empty(arr.shape, np.float32 if arr.dtype in (np.float32, np.float16) else np.float64)
            assert fk.normalize(x, out=out) is out  # type: ignore[arg-type]
    except ALLOWED as e:
        assert str(e)
    assert _same(x, before), "input modified"


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
