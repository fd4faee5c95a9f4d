"""``python -m ferrokit bench --suite preprocessing``: ferrokit's scalers against
scikit-learn's and against hand-written numpy formulas, side by side in one
process (interleaved repeats, medians; numpy's BLAS limited to the same thread
count with threadpoolctl), at 1 thread and at the default thread count, with
peak memory (tracemalloc).

The issue's speed goals are for the default thread count (all usable cores:
2 on the machine they were set on). The 1-thread rows and the ``copy=False``
(in place) rows are reported as context: printed and in the JSON under
``"context"``, each marked with why it is not a goal.

Data: a ``(1_000_000, 32)`` float64 array (``--quick``: ``(200_000, 32)``).
Writes ``<out_dir>/preprocessing.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import ferrokit as fk
from ferrokit.benchmarks.common import blas_limit, cpu_model, fmt_time, interleaved, peak_alloc

ESTIMATORS = ["StandardScaler", "MinMaxScaler", "MaxAbsScaler", "Normalizer"]

# (estimator, operation, reference, minimum ratio reference time / ferrokit time)
GOALS = [
    ("StandardScaler", "fit_transform", "scikit-learn", 6.0),
    ("MinMaxScaler", "fit_transform", "scikit-learn", 4.0),
    ("Normalizer", "fit_transform", "scikit-learn", 4.0),
    ("StandardScaler", "transform", "scikit-learn", 3.0),
    ("MinMaxScaler", "transform", "scikit-learn", 3.0),
    ("MaxAbsScaler", "transform", "scikit-learn", 3.0),
    ("Normalizer", "transform", "scikit-learn", 3.0),
    ("StandardScaler", "fit_transform", "numpy", 2.0),
    ("MinMaxScaler", "fit_transform", "numpy", 2.0),
    ("MaxAbsScaler", "fit_transform", "numpy", 2.0),
    ("Normalizer", "fit_transform", "numpy", 2.0),
    ("StandardScaler", "transform", "numpy", 2.0),
    ("MinMaxScaler", "transform", "numpy", 2.0),
    ("MaxAbsScaler", "transform", "numpy", 2.0),
    ("Normalizer", "transform", "numpy", 2.0),
]
# Not goals of the issue, reported for context (in place: no output allocation).
EXTRA = [(n, "transform copy=False", "scikit-learn", 3.0) for n in ESTIMATORS]
CONTEXT_INPLACE = "in place (copy=False), not a goal of the issue"
CONTEXT_SCALING = "scaling context (fewer threads than the default), not a goal of the issue"


def _numpy_formulas(x: np.ndarray) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Per estimator: (fit_transform, transform) written directly in numpy."""
    m, s = x.mean(axis=0), x.std(axis=0)
    mn, mx = x.min(axis=0), x.max(axis=0)
    scale = 1.0 / (mx - mn)
    offset = -mn * scale
    ma = np.abs(x).max(axis=0)

    def std_ft() -> Any:
        return (x - x.mean(axis=0)) / x.std(axis=0)

    def mm_ft() -> Any:
        lo, hi = x.min(axis=0), x.max(axis=0)
        sc = 1.0 / (hi - lo)
        return x * sc - lo * sc

    def norm() -> Any:
        return x / np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]

    return {
        "StandardScaler": (std_ft, lambda: (x - m) / s),
        "MinMaxScaler": (mm_ft, lambda: x * scale + offset),
        "MaxAbsScaler": (lambda: x / np.abs(x).max(axis=0), lambda: x / ma),
        "Normalizer": (norm, norm),
    }


def _fit_transform(cls: Any, x: np.ndarray) -> Callable[[], Any]:
    return lambda: cls().fit_transform(x)


def _inplace(make: dict[str, Callable[[], Any]], x: np.ndarray, repeats: int) -> dict[str, float]:
    """Median seconds of ``transform`` with ``copy=False`` (in place, no output
    allocation): each case gets a fresh copy of ``x`` before every timed call
    (the copy is not timed), cases interleaved."""
    import time

    buf = np.empty_like(x)
    samples: dict[str, list[float]] = {k: [] for k in make}
    for _ in range(repeats + 1):
        for name, f in make.items():
            np.copyto(buf, x)
            t0 = time.perf_counter()
            f(buf)
            samples[name].append(time.perf_counter() - t0)
    return {k: float(np.median(v[1:])) for k, v in samples.items()}


def bench(x: np.ndarray, threads: int, quick: bool, peak: bool = False) -> dict[str, Any]:
    from sklearn import preprocessing as skp

    from ferrokit import preprocessing as fkp

    reps = 3 if quick else 7
    np_forms = _numpy_formulas(x)
    res: dict[str, Any] = {"threads": threads}
    fk.set_num_threads(threads)
    try:
        with blas_limit(threads):
            for name in ESTIMATORS:
                ours = getattr(fkp, name)().fit(x)
                ref = getattr(skp, name)().fit(x)
                ft_np, tr_np = np_forms[name]
                ft = interleaved(
                    {
                        "ferrokit": _fit_transform(getattr(fkp, name), x),
                        "scikit-learn": _fit_transform(getattr(skp, name), x),
                        "numpy": ft_np,
                    },
                    reps,
                )
                tr = interleaved(
                    {
                        "ferrokit": lambda e=ours: e.transform(x),
                        "scikit-learn": lambda e=ref: e.transform(x),
                        "numpy": tr_np,
                    },
                    reps,
                )
                ours_ip = getattr(fkp, name)(copy=False).fit(x)
                ref_ip = getattr(skp, name)(copy=False).fit(x)
                ip = _inplace(
                    {"ferrokit": ours_ip.transform, "scikit-learn": ref_ip.transform},
                    x,
                    reps,
                )
                ip["numpy"] = float("nan")
                res[name] = {"fit_transform": ft, "transform": tr, "transform copy=False": ip}
                if peak:
                    res[name]["peak_bytes"] = {
                        "ferrokit": peak_alloc(_fit_transform(getattr(fkp, name), x)),
                        "scikit-learn": peak_alloc(_fit_transform(getattr(skp, name), x)),
                        "numpy": peak_alloc(ft_np),
                        "input": x.nbytes,
                    }
    finally:
        fk.set_num_threads(None)
    return res


def evaluate(
    results: list[dict[str, Any]],
    table: list[tuple[str, str, str, float]],
    context: str | None = None,
) -> list[dict[str, Any]]:
    """One row per (result, table entry); rows of ``context`` carry that note."""
    rows = []
    for r in results:
        for name, op, ref, need in table:
            t = r[name][op]
            ratio = t[ref] / t["ferrokit"]
            row = {
                "goal": f"{name} {op} vs {ref}, {r['threads']} thread(s)",
                "threads": r["threads"],
                "ratio": ratio,
                "required": need,
                "met": ratio >= need,
            }
            if context:
                row["context"] = context
            rows.append(row)
    return rows


def split_goals(
    results: list[dict[str, Any]], default_threads: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(goals, context): the issue's goals at the default thread count; the
    same table at fewer threads and the copy=False rows as context."""
    main = [r for r in results if r["threads"] == default_threads]
    fewer = [r for r in results if r["threads"] != default_threads]
    goals = evaluate(main, GOALS)
    context = evaluate(fewer, GOALS, CONTEXT_SCALING) + evaluate(results, EXTRA, CONTEXT_INPLACE)
    return goals, context


def report(
    meta: dict[str, Any],
    results: list[dict[str, Any]],
    goals: list[dict[str, Any]],
    context: list[dict[str, Any]],
) -> None:
    print("ferrokit preprocessing benchmark")
    for k, v in meta.items():
        print(f"  {k}: {v}")
    print("\nmedian time per call; ratio = reference time / ferrokit time (>1: ferrokit faster)")
    print(
        f"{'estimator':<15} {'op':<20} {'thr':>3} {'ferrokit':>10} {'sklearn':>10} {'numpy':>10} "
        f"{'vs skl':>7} {'vs np':>7}"
    )
    for r in results:
        for name in ESTIMATORS:
            for op in ("fit_transform", "transform", "transform copy=False"):
                t = r[name][op]
                print(
                    f"{name:<15} {op:<20} {r['threads']:>3} {fmt_time(t['ferrokit']):>10} "
                    f"{fmt_time(t['scikit-learn']):>10} {fmt_time(t['numpy']):>10} "
                    f"{t['scikit-learn'] / t['ferrokit']:6.2f}x {t['numpy'] / t['ferrokit']:6.2f}x"
                )
    print("\npeak allocation during fit_transform (tracemalloc, default thread count):")
    for r in results:
        for name in ESTIMATORS:
            p = r[name].get("peak_bytes")
            if p:
                print(
                    f"  {name:<15} input {p['input'] / 2**20:.0f} MiB: "
                    + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in p.items() if k != "input")
                )
    threads = sorted({g["threads"] for g in goals})
    print(f"\nspeed goals (issue 4, at the default thread count: {', '.join(map(str, threads))}):")
    for g in goals:
        print(
            f"  {'met ' if g['met'] else 'MISS'} {g['goal']:<70} "
            f"{g['ratio']:6.2f}x (need {g['required']:.0f}x)"
        )
    print("\ncontext, not goals (1 thread: scaling; copy=False: in place, no output allocation):")
    for g in context:
        print(
            f"  {'ok   ' if g['met'] else 'below'} {g['goal']:<70} "
            f"{g['ratio']:6.2f}x (goal-equivalent {g['required']:.0f}x)"
        )


def readme_lines(data: dict[str, Any]) -> list[str]:
    """Markdown for the README benchmark section (called by benchmarks/readme_table.py)."""
    m = data["meta"]
    lines = [
        "",
        f"Data {m['data']}; {m['cpu']}, {m['cores (usable)']} cores, SIMD {m['simd level']}; "
        f"scikit-learn {m['scikit-learn']}, numpy {m['numpy']}; load average during the run "
        f"{m.get('load average', '?')}. Medians of interleaved repeats; ratio = reference time / "
        "ferrokit time. `numpy` is the same formula written by hand. The issue's speed goals are "
        f"for the default thread count ({m.get('default threads', 2)}); the 1-thread rows show "
        "scaling and `transform copy=False` (in place, no output allocation) is context, neither "
        "is a goal.",
        "",
        "| estimator | operation | threads | ferrokit | scikit-learn | numpy | vs scikit-learn | vs numpy |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        for name in ESTIMATORS:
            for op in ("fit_transform", "transform", "transform copy=False"):
                t = r[name].get(op)
                if not t:
                    continue
                has_np = t["numpy"] == t["numpy"]
                vs_np = f"{t['numpy'] / t['ferrokit']:.2f}x" if has_np else ""
                lines.append(
                    f"| {name} | {op} | {r['threads']} | {fmt_time(t['ferrokit'])} | "
                    f"{fmt_time(t['scikit-learn'])} | {fmt_time(t['numpy']) if has_np else ''} | "
                    f"{t['scikit-learn'] / t['ferrokit']:.2f}x | "
                    f"{vs_np} |"
                )
    peaks = [(n, r[n]["peak_bytes"]) for r in data["results"] for n in ESTIMATORS if "peak_bytes" in r[n]]
    if peaks:
        lines += [
            "",
            "Peak allocation during `fit_transform` (tracemalloc; the input is "
            f"{peaks[0][1]['input'] / 2**20:.0f} MiB):",
            "",
        ]
        for n, p in peaks:
            lines.append(
                f"- {n}: ferrokit {p['ferrokit'] / 2**20:.0f} MiB (the output only), scikit-learn "
                f"{p['scikit-learn'] / 2**20:.0f} MiB, numpy {p['numpy'] / 2**20:.0f} MiB"
            )
    return lines


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    try:
        import sklearn
    except ImportError:
        print("scikit-learn is not installed: preprocessing suite skipped")
        return 0
    n = 200_000 if quick else 1_000_000
    x = np.random.default_rng(0).normal(size=(n, 32)) * 3.0 + 1.0
    meta = {
        "cpu": cpu_model(),
        "cores (usable)": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "simd level": fk.simd_level(),
        "data": f"({n}, 32) float64, C order",
        "ferrokit": fk.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    default_threads = fk.get_num_threads()
    meta["default threads"] = default_threads
    thread_counts = sorted({1, default_threads})
    results = [bench(x, th, quick, peak=th == default_threads) for th in thread_counts]
    goals, context = split_goals(results, default_threads)
    report(meta, results, goals, context)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "preprocessing.json").write_text(
        json.dumps({"meta": meta, "results": results, "goals": goals, "context": context}, indent=2)
    )
    print(f"\nwrote {out / 'preprocessing.json'}")
    return 0


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``preprocessing.json``: every estimator's fit_transform and
    transform at the default thread count."""
    from ferrokit.benchmarks.charts import machine_line

    m = data["meta"]
    default = m.get("default threads", 2)
    groups = []
    for r in data["results"]:
        if r["threads"] != default:
            continue
        for name in ESTIMATORS:
            for op in ("fit_transform", "transform"):
                t = r[name][op]
                groups.append((f"{name}\n{op}", {k: t[k] for k in ("ferrokit", "scikit-learn", "numpy")}))
    sub = machine_line(m["cpu"], default, m.get("load average")) + f"; data {m['data']}"
    return sub, groups
