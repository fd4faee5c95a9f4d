"""Lengths beyond 2**31 elements go through size_t unharmed.

np.zeros maps the kernel's shared zero page lazily, so an 8 GiB float32 vector
costs almost no memory until written; one element near the end is set so a
length truncated to 32 bits would give a different answer.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrokit as fk

N = 2**31 + 3


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@pytest.mark.skipif(_available_bytes() < 4 << 30, reason="needs a few GiB of address space headroom")
def test_dot_product_over_2_31_elements() -> None:
    x = np.zeros(N, dtype=np.float32)
    x[-1] = 2.0
    x[2**31 + 1] = 3.0
    assert fk.dot_product(x, x) == 13.0
    y = x[:-1]
    with pytest.raises(ValueError, match="same length"):
        fk.dot_product(x, y)


def test_lengths_too_large_for_the_address_space_are_refused_in_c() -> None:
    from ferrokit._native import ffi, lib

    out = ffi.new("double *", -1.0)
    buf = ffi.new("double[]", 4)
    assert lib.fk_dot_f64(buf, 2**62, buf, 2**62, out) == lib.FK_ERR_TOO_LARGE
    assert lib.fk_dot_f64(ffi.NULL, 2**31 + 1, ffi.NULL, 2**31 + 1, out) == lib.FK_ERR_NULL_POINTER
    assert out[0] == -1.0
