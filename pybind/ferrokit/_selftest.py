"""``python -m ferrokit selftest``: a quick check of an installed package."""

from __future__ import annotations

import numpy as np

import ferrokit as fk


def run() -> int:
    rng = np.random.default_rng(0)
    checks: list[tuple[str, bool]] = []
    checks.append(("add_numbers", fk.add_numbers(5, 7) == 12))
    try:
        fk.add_numbers(2**31 - 1, 1)
        checks.append(("add_numbers overflow", False))
    except OverflowError:
        checks.append(("add_numbers overflow", True))
    for dt in (np.float64, np.float32):
        x = rng.standard_normal(100_003).astype(dt)
        y = rng.standard_normal(100_003).astype(dt)
        ref = float(np.dot(x.astype(np.float64), y.astype(np.float64)))
        checks.append((f"dot_product {np.dtype(dt).name}", abs(fk.dot_product(x, y) - ref) <= 1e-9 * 100_003))
        lo, hi = x.min(), x.max()
        checks.append((f"normalize {np.dtype(dt).name}", np.allclose(fk.normalize(x), (x - lo) / (hi - lo))))
    try:
        fk.dot_product([1.0], [1.0, 2.0])
        checks.append(("length mismatch", False))
    except ValueError as e:
        checks.append(("length mismatch", "same length" in str(e)))
    import os

    checks.append(("header present", os.path.exists(os.path.join(fk.get_include(), "ferrokit.h"))))
    checks.append(("library present", os.path.exists(fk.get_library())))
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    fk.show_config()
    failed = [n for n, ok in checks if not ok]
    print("selftest:", "FAILED " + ", ".join(failed) if failed else "all passed")
    return 1 if failed else 0
