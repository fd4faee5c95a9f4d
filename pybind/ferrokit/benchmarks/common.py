"""Helpers shared by the benchmark suites: interleaved timing, thread limits
for BLAS, peak allocation, machine description, time formatting."""

from __future__ import annotations

import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

Timing = dict[str, Any]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_limit(n: int) -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - bench extra not installed
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(n)


# Multi-threaded references leave their idle threads spinning: OpenBLAS's
# workers busy-wait (sched_yield loop) about 0.1 s after each call, OpenMP's
# (faiss) likewise. In an interleaved round the case timed right after such a
# call shares the two CPUs with that spinning thread: ferrokit's 10 000-sample
# MLP at 2 threads measured 10.5 ms alone or 0.1 s after scikit-learn's call,
# 16-33 ms right after it; its 1e7 dot product 4.8 ms alone, 7-11 ms right
# after np.dot. Comparisons against a multi-threaded reference therefore pause
# this long before every timed call (every case alike; outside the timing).
BLAS_SETTLE_S = 0.15


def interleaved(
    cases: dict[str, Callable[[], Any]], repeats: int, inner: int = 1, settle: float = 0.0
) -> dict[str, float]:
    """Median seconds per call of each case, run round-robin `repeats` times.

    The order inside each round is shuffled (fixed seed), so the case that runs
    right after a cache-thrashing one is not always the same.
    """
    import random

    order = random.Random(0)
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for f in cases.values():  # warm-up (allocations, pool start, caches)
        f()
    names = list(cases)
    for _ in range(repeats):
        order.shuffle(names)
        for name in names:
            f = cases[name]
            if settle:
                time.sleep(settle)  # let the previous case's idle threads stop spinning
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            samples[name].append((time.perf_counter() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def peak_alloc(f: Callable[[], Any]) -> int:
    """Peak bytes allocated (numpy arrays included) while running ``f``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        r = f()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del r
    return peak


def fmt_time(s: float) -> str:
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"
