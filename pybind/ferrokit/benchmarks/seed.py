"""Benchmark suite ``seed`` (``python -m ferrokit bench --suite seed``): the
seed functions side by side with pure Python, numpy and a PyO3 build of the
tutorial functions, in one process.

Every timing is the median of several repeats; the implementations being
compared are run interleaved (round-robin inside each repeat) so a noisy
neighbour slows all of them alike. numpy's BLAS is limited to the same thread
count as ferrokit with threadpoolctl. Results: a table on stdout, JSON and a PNG
chart in ``--out``.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import ferrokit as fk
from ferrokit.benchmarks.common import (
    BLAS_SETTLE_S,
    Timing,
    blas_limit,
    cpu_model,
    fmt_time,
    interleaved,
    peak_alloc,
)


def _py_dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


def _py_normalize(d: list[float]) -> list[float]:
    lo, hi = min(d), max(d)
    r = hi - lo
    return [0.0] * len(d) if r < 2.220446049250313e-16 else [(v - lo) / r for v in d]


def _np_normalize(x: np.ndarray) -> np.ndarray:
    return (x - x.min()) / (x.max() - x.min())


def _load_pyo3() -> Any:
    try:
        import pyo3_tutorial
    except ImportError:
        return None
    return pyo3_tutorial


def bench_small_calls(pyo3: Any, quick: bool) -> Timing:
    """Per-call overhead: add_numbers and a 16-element dot product."""
    a = np.random.default_rng(1).random(16)
    b = np.random.default_rng(2).random(16)
    inner = 2_000 if quick else 20_000
    cases: dict[str, Callable[[], Any]] = {
        "ferrokit add_numbers": lambda: fk.add_numbers(5, 7),
        "python a + b": lambda: 5 + 7,
        "ferrokit dot16": lambda: fk.dot_product(a, b),
        "numpy dot16": lambda: np.dot(a, b),
    }
    if pyo3 is not None:
        cases["pyo3 add_numbers"] = lambda: pyo3.add_numbers(5, 7)
    t = interleaved(cases, 5 if quick else 15, inner)
    out: Timing = {k: v * 1e9 for k, v in t.items()}  # ns per call
    out["unit"] = "ns/call"
    return out


def bench_call_modes(quick: bool) -> Timing:
    """Why cffi API mode: the cost of one call of a trivial C function and of
    handing one numpy array to C, measured both ways."""
    from cffi import FFI

    from ferrokit._native import ffi, lib

    abi = FFI()
    abi.cdef("uint32_t fk_abi_version(void);")
    abi_lib = abi.dlopen(fk.get_library())
    x = np.zeros(16)
    inner = 2_000 if quick else 50_000
    t = interleaved(
        {
            "api mode call": lambda: lib.fk_abi_version(),
            "abi (dlopen) mode call": lambda: abi_lib.fk_abi_version(),
            "ffi.from_buffer(array)": lambda: ffi.from_buffer("double[]", x),
            "ffi.cast(array.ctypes.data)": lambda: ffi.cast("double *", x.ctypes.data),
        },
        5 if quick else 11,
        inner,
    )
    out: Timing = {k: v * 1e9 for k, v in t.items()}
    out["unit"] = "ns/call"
    return out


def _bench_size_child(n: int, threads: int, quick: bool) -> Timing:
    return bench_size(n, threads, _load_pyo3(), quick)


def _bench_size_isolated(n: int, threads: int, quick: bool) -> Timing:
    """Runs one (n, threads) group in a fresh interpreter. Earlier groups leave
    the allocator in very different states (10**7-element Python lists, freed
    80 MB arrays), which decided how much page-fault time later groups paid:
    a 2-thread group measured after the 1-thread one ran up to 3x slower than
    the same group alone. A fresh process gives every group the same start."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_bench_size_child, (n, threads, quick))


def bench_size(n: int, threads: int, pyo3: Any, quick: bool) -> Timing:
    rng = np.random.default_rng(n)
    x = rng.random(n)
    y = rng.random(n)
    out = np.empty_like(x)
    xl, yl = x.tolist(), y.tolist()
    reps = 5 if quick else (21 if n <= 100_000 else 9)
    inner = max(1, 20_000 // max(n, 1)) if n < 100_000 else 1
    res: Timing = {"n": n, "threads": threads}
    fk.set_num_threads(threads)
    with blas_limit(threads):
        dot_cases: dict[str, Callable[[], Any]] = {
            "ferrokit": lambda: fk.dot_product(x, y),
            "numpy": lambda: np.dot(x, y),
        }
        norm_cases: dict[str, Callable[[], Any]] = {
            "ferrokit": lambda: fk.normalize(x),
            "ferrokit out=": lambda: fk.normalize(x, out=out),
            "numpy": lambda: _np_normalize(x),
        }
        # np.dot is multi-threaded BLAS at threads > 1: let its threads settle.
        settle = BLAS_SETTLE_S if threads > 1 and n >= 10**6 else 0.0
        res["dot_product"] = interleaved(dot_cases, reps, inner, settle)
        res["normalize"] = interleaved(norm_cases, reps, inner)
        if threads == 1:
            # List input (Python objects everywhere: they thrash the caches, so
            # they are timed apart from the array cases), measured at 1 thread.
            dot_list: dict[str, Callable[[], Any]] = {"ferrokit (list)": lambda: fk.dot_product(xl, yl)}
            norm_list: dict[str, Callable[[], Any]] = {"ferrokit (list)": lambda: fk.normalize(xl)}
            if pyo3 is not None:
                dot_list["pyo3 (list)"] = lambda: pyo3.dot_product(xl, yl)
                norm_list["pyo3 (list)"] = lambda: pyo3.normalize(xl)
                if n <= 100_000:
                    dot_list["pyo3 (numpy)"] = lambda: pyo3.dot_product(x, y)
            list_reps = max(3, reps // 3) if n >= 10**6 else reps
            res["dot_product"].update(interleaved(dot_list, list_reps, inner))
            res["normalize"].update(interleaved(norm_list, list_reps, inner))
            py_reps = 1 if n >= 10**7 else 3
            py = interleaved(
                {"dot": lambda: _py_dot(xl, yl), "normalize": lambda: _py_normalize(xl)},
                py_reps,
            )
            res["dot_product"]["pure python"] = py["dot"]
            res["normalize"]["pure python"] = py["normalize"]
        if n >= 10**6:
            res["normalize_peak_bytes"] = {
                "ferrokit": peak_alloc(lambda: fk.normalize(x)),
                "ferrokit out=": peak_alloc(lambda: fk.normalize(x, out=out)),
                "numpy": peak_alloc(lambda: _np_normalize(x)),
                "input": x.nbytes,
            }
    fk.set_num_threads(None)
    return res


GOALS = [
    # (label, function, n, threads, case, reference, minimum ratio reference/case)
    ("normalize 1e7 new array, 1 thread", "normalize", 10**7, 1, "ferrokit", "numpy", 1.6),
    ("normalize 1e7 new array, 2 threads", "normalize", 10**7, 2, "ferrokit", "numpy", 2.2),
    ("normalize 1e7 out=, 1 thread", "normalize", 10**7, 1, "ferrokit out=", "numpy", 2.5),
    ("normalize 1e7 out=, 2 threads", "normalize", 10**7, 2, "ferrokit out=", "numpy", 3.2),
    ("dot_product 1e7, 1 thread", "dot_product", 10**7, 1, "ferrokit", "numpy", 0.95),
    ("dot_product 1e7, 2 threads", "dot_product", 10**7, 2, "ferrokit", "numpy", 0.95),
    ("dot_product 1e6 list vs pyo3", "dot_product", 10**6, 1, "ferrokit (list)", "pyo3 (list)", 1.0),
    ("normalize 1e6 list vs pyo3", "normalize", 10**6, 1, "ferrokit (list)", "pyo3 (list)", 1.0),
]


def evaluate_goals(results: list[Timing], small: Timing) -> list[dict[str, Any]]:
    rows = []
    for label, fn, n, th, case, ref, need in GOALS:
        r = next((r for r in results if r["n"] == n and r["threads"] == th), None)
        if r is None or case not in r[fn] or ref not in r[fn]:
            continue
        ratio = r[fn][ref] / r[fn][case]
        rows.append({"goal": label, "ratio": ratio, "required": need, "met": ratio >= need})
    if "numpy dot16" in small:
        ratio = small["numpy dot16"] / small["ferrokit dot16"]
        rows.append(
            {
                "goal": "dot_product 16 elements vs np.dot",
                "ratio": ratio,
                "required": 0.5,
                "met": ratio >= 0.5,
            }
        )
    if "pyo3 add_numbers" in small:
        ratio = small["pyo3 add_numbers"] / small["ferrokit add_numbers"]
        rows.append(
            {"goal": "add_numbers call vs pyo3", "ratio": ratio, "required": 1 / 3, "met": ratio >= 1 / 3}
        )
    return rows


def print_report(
    meta: dict[str, Any], small: Timing, modes: Timing, results: list[Timing], goals: list[dict[str, Any]]
) -> None:
    print("ferrokit benchmark")
    for k, v in meta.items():
        print(f"  {k}: {v}")
    print("\nmedian time per call (speed-up = numpy time / this time; >1 is faster than numpy)")
    print(f"{'function':<12} {'n':>9} {'thr':>3}  {'implementation':<16} {'time':>10} {'vs numpy':>9}")
    for r in results:
        for fn in ("dot_product", "normalize"):
            ref = r[fn].get("numpy")
            for impl, t in sorted(r[fn].items(), key=lambda kv: kv[1]):
                ratio = f"{ref / t:8.2f}x" if ref else ""
                print(f"{fn:<12} {r['n']:>9} {r['threads']:>3}  {impl:<16} {fmt_time(t):>10} {ratio:>9}")
        if "normalize_peak_bytes" in r:
            p = r["normalize_peak_bytes"]
            print(
                f"{'':<12} peak allocation during normalize (input {p['input'] / 2**20:.0f} MiB): "
                + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in p.items() if k != "input")
            )
    print("\nsmall calls (ns per call):")
    for k, v in small.items():
        if k != "unit":
            print(f"  {k:<24} {v:8.0f}")
    print("\ncffi call modes (ns per call):")
    for k, v in modes.items():
        if k != "unit":
            print(f"  {k:<30} {v:8.0f}")
    print("\nspeed goals (ratio = reference time / ferrokit time):")
    for g in goals:
        print(
            f"  {'met ' if g['met'] else 'MISS'} {g['goal']:<40} "
            f"{g['ratio']:6.2f}x (need {g['required']:.2f}x)"
        )


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    """The seed functions against pure Python, numpy and the PyO3 tutorial build."""
    pyo3 = _load_pyo3()
    sizes = [10**3, 10**5] if quick else [10**3, 10**5, 10**6, 10**7]
    meta = {
        "cpu": cpu_model(),
        "cores (usable)": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "simd level": fk.simd_level(),
        "default threads": fk.get_num_threads(),
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "ferrokit": fk.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "pyo3 tutorial build": "loaded" if pyo3 is not None else "not installed (make bench builds it)",
    }
    small = bench_small_calls(pyo3, quick)
    modes = bench_call_modes(quick)
    results = []
    for n in sizes:
        for threads in (1, 2):
            results.append(_bench_size_isolated(n, threads, quick))
    goals = evaluate_goals(results, small)
    print_report(meta, small, modes, results, goals)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "seed.json").write_text(
        json.dumps(
            {"meta": meta, "small_calls": small, "call_modes": modes, "results": results, "goals": goals},
            indent=2,
        )
    )
    print(f"\nwrote {out / 'seed.json'}")
    return 0


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``seed.json``: the 1e7-element calls at each thread count
    (the largest size; smaller ones are in the README table), and the busy-core
    and interleaved cases when present."""
    from ferrokit.benchmarks.charts import machine_line

    m = data["meta"]
    n_max = max(r["n"] for r in data["results"])
    groups = []
    for fn in ("dot_product", "normalize"):
        for r in data["results"]:
            if r["n"] == n_max:
                t = dict(r[fn])
                t = {k: t[k] for k in sorted(t, key=lambda k: (not k.startswith("ferrokit"), k))}
                groups.append((f"{fn} n={n_max:.0e}\n{r['threads']} thread(s)", t))
    threads = sorted({r["threads"] for r in data["results"]})
    return machine_line(m["cpu"], " and ".join(map(str, threads)), m.get("load average")), groups
