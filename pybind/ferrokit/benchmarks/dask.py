"""``python -m ferrokit bench --suite dask``: ferrokit.dask.StandardScaler against
dask_ml.preprocessing.StandardScaler and a plain dask-array formulation
(``x.mean(axis=0)``, ``x.std(axis=0)``) on a LocalCluster of 2 worker processes
(1 thread each), in the same process, interleaved repeats, medians.

The data, a ``(20_000_000, 16)`` float64 array in 100 row chunks (``--quick``:
``(2_000_000, 16)`` in 20), is generated with ``dask.array.random`` on the
workers and persisted there (2.56 GB over the two workers; never in the
client), so the timings are the scalers' own work, not the random generator.
Then the fit time against the chunk count (same data rechunked).

Writes ``<out_dir>/dask.json`` with the timings, the ratios and a ``goals``
list of ``{"goal", "ratio", "required", "met"}``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ferrokit.benchmarks.common import cpu_model, fmt_time, interleaved


def _fmt(s: float) -> str:
    return f"{fmt_time(s):>10s}"


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    """Runs the suite; returns 0 (goals are reported, never asserted)."""
    import dask
    import dask.array as da
    from dask_ml.preprocessing import StandardScaler as DaskMLStandardScaler
    from distributed import Client, LocalCluster, wait

    import ferrokit as fk
    import ferrokit.dask as fkd

    n_rows, n_features, n_chunks = (2_000_000, 16, 20) if quick else (20_000_000, 16, 100)
    repeats = 3 if quick else 5
    sweep = [5, 10, 20, 40, 80] if quick else [25, 50, 100, 200, 400, 800]

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # no heartbeat noise while shutting down
    )
    client = Client(cluster)
    try:
        t0 = time.perf_counter()
        x = da.random.default_rng(42).standard_normal(
            (n_rows, n_features), chunks=(-(-n_rows // n_chunks), n_features)
        )
        x = (x * np.linspace(0.5, 8.0, n_features) + np.linspace(-100, 100, n_features)).persist()
        wait(x)
        gen_s = time.perf_counter() - t0
        print(
            f"data: {x.shape} float64, {x.numblocks[0]} chunks of {x.chunks[0][0]} rows, "
            f"{x.nbytes / 1e9:.2f} GB persisted on 2 workers (generated in {gen_s:.1f} s)"
        )

        def fk_fit() -> Any:
            return fkd.StandardScaler().fit(x)

        def dml_fit() -> Any:
            return DaskMLStandardScaler().fit(x)

        def da_fit() -> Any:
            return dask.compute(x.mean(axis=0), x.std(axis=0))

        def fk_ft() -> Any:
            return fkd.StandardScaler().fit_transform(x).sum().compute()

        def dml_ft() -> Any:
            return DaskMLStandardScaler().fit_transform(x).sum().compute()

        def da_ft() -> Any:
            m, s = dask.compute(x.mean(axis=0), x.std(axis=0))
            return ((x - m) / s).sum().compute()

        # correctness first (same numbers from all three)
        ours = fk_fit()
        ref_m, ref_s = da_fit()
        dml = dml_fit()
        ok = bool(
            np.allclose(ours.mean_, ref_m, rtol=1e-10, atol=1e-12)
            and np.allclose(ours.scale_, ref_s, rtol=1e-10)
            and np.allclose(ours.scale_, dml.scale_, rtol=1e-10)
        )
        threads = client.run(fk.get_num_threads)
        print(
            f"fitted attributes agree with dask.array and dask_ml: {ok}; "
            f"ferrokit threads on workers: {threads}"
        )

        cases: dict[str, Callable[[], Any]] = {
            "ferrokit fit": fk_fit,
            "dask_ml fit": dml_fit,
            "dask.array mean/std": da_fit,
            "ferrokit fit_transform.sum": fk_ft,
            "dask_ml fit_transform.sum": dml_ft,
            "dask.array fit_transform.sum": da_ft,
        }
        t = interleaved(cases, repeats)
        print(f"\n{'case':32s} {'median':>12s}")
        for k, v in t.items():
            print(f"{k:32s} {_fmt(v)}")

        ratios = {
            "fit vs dask_ml": t["dask_ml fit"] / t["ferrokit fit"],
            "fit vs dask.array": t["dask.array mean/std"] / t["ferrokit fit"],
            "fit_transform.sum vs dask_ml": t["dask_ml fit_transform.sum"] / t["ferrokit fit_transform.sum"],
            "fit_transform.sum vs dask.array": t["dask.array fit_transform.sum"]
            / t["ferrokit fit_transform.sum"],
        }
        required = {
            "fit vs dask_ml": 3.0,
            "fit vs dask.array": 2.0,
            "fit_transform.sum vs dask_ml": 3.0,
            "fit_transform.sum vs dask.array": 2.0,
        }
        goals = [
            {
                "goal": f"StandardScaler {k} >= {required[k]:g}x",
                "ratio": round(r, 3),
                "required": required[k],
                "met": bool(r >= required[k]),
            }
            for k, r in ratios.items()
        ]
        print()
        for g in goals:
            print(f"{g['goal']:45s} {g['ratio']:6.2f}x  {'met' if g['met'] else 'NOT met'}")

        # fit time against chunk count (same data, rechunked and persisted)
        print(f"\n{'chunks':>7s} {'rows/chunk':>11s} {'ferrokit fit':>13s} {'dask.array':>13s} {'ratio':>7s}")
        by_chunks = []
        for k in sweep:
            xc = x.rechunk((-(-n_rows // k), n_features)).persist()
            wait(xc)
            tc = interleaved(
                {
                    "ferrokit": lambda xc=xc: fkd.StandardScaler().fit(xc),
                    "dask.array": lambda xc=xc: dask.compute(xc.mean(axis=0), xc.std(axis=0)),
                },
                max(2, repeats - 2),
            )
            by_chunks.append(
                {
                    "chunks": int(xc.numblocks[0]),
                    "rows_per_chunk": int(xc.chunks[0][0]),
                    "ferrokit_fit_s": tc["ferrokit"],
                    "dask_array_fit_s": tc["dask.array"],
                    "ratio": tc["dask.array"] / tc["ferrokit"],
                }
            )
            b = by_chunks[-1]
            print(
                f"{b['chunks']:7d} {b['rows_per_chunk']:11d} {_fmt(b['ferrokit_fit_s']):>13s} "
                f"{_fmt(b['dask_array_fit_s']):>13s} {b['ratio']:6.2f}x"
            )
            del xc

        result = {
            "suite": "dask",
            "quick": quick,
            "machine": {
                "cpu": cpu_model(),
                "load average": [round(v, 2) for v in os.getloadavg()],
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "dask": dask.__version__,
            },
            "cluster": {
                "n_workers": 2,
                "threads_per_worker": 1,
                "processes": True,
                "ferrokit_threads": threads,
            },
            "data": {
                "shape": list(x.shape),
                "dtype": "float64",
                "chunks": int(x.numblocks[0]),
                "bytes": int(x.nbytes),
                "generated_s": gen_s,
                "persisted": True,
            },
            "repeats": repeats,
            "agree": ok,
            "median_s": t,
            "ratios": ratios,
            "goals": goals,
            "fit_by_chunk_count": by_chunks,
        }
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "dask.json").write_text(json.dumps(result, indent=2))
        print(f"\nwrote {out / 'dask.json'}")
        return 0 if ok else 1
    finally:
        client.close()
        cluster.close()


def readme_lines(data: dict[str, Any]) -> list[str]:
    """Markdown for the README benchmark section (called by benchmarks/readme_table.py)."""
    m, d = data["machine"], data["data"]
    t = data["median_s"]
    lines = [
        "",
        f"`ferrokit.dask.StandardScaler` on a `{tuple(d['shape'])}` float64 dask array in {d['chunks']} "
        f"chunks, persisted on a LocalCluster of 2 worker processes x 1 thread; {m['cpu']}, "
        f"{m['cpus']} cores, load average {m.get('load average', '?')}; dask {m['dask']}. Medians of "
        "interleaved repeats; ratio = reference time / ferrokit time.",
        "",
        "| operation | ferrokit.dask | dask_ml | dask.array mean/std | vs dask_ml | vs dask.array |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op, fk_key, dml_key, da_key in [
        ("fit", "ferrokit fit", "dask_ml fit", "dask.array mean/std"),
        (
            "fit_transform(x).sum().compute()",
            "ferrokit fit_transform.sum",
            "dask_ml fit_transform.sum",
            "dask.array fit_transform.sum",
        ),
    ]:
        lines.append(
            f"| {op} | {fmt_time(t[fk_key])} | {fmt_time(t[dml_key])} | {fmt_time(t[da_key])} | "
            f"{t[dml_key] / t[fk_key]:.2f}x | {t[da_key] / t[fk_key]:.2f}x |"
        )
    lines += [
        "",
        "| chunks | rows/chunk | ferrokit fit | dask.array mean/std | ratio |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in data["fit_by_chunk_count"]:
        lines.append(
            f"| {r['chunks']} | {r['rows_per_chunk']} | {fmt_time(r['ferrokit_fit_s'])} | "
            f"{fmt_time(r['dask_array_fit_s'])} | {r['ratio']:.2f}x |"
        )
    return lines


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``dask.json``: fit and fit_transform against dask_ml and dask.array."""
    from ferrokit.benchmarks.charts import machine_line

    m, t, d = data["machine"], data["median_s"], data["data"]
    groups = [
        (
            "fit",
            {
                "ferrokit": t["ferrokit fit"],
                "dask_ml": t["dask_ml fit"],
                "dask.array": t["dask.array mean/std"],
            },
        ),
        (
            "fit_transform\n.sum()",
            {
                "ferrokit": t["ferrokit fit_transform.sum"],
                "dask_ml": t["dask_ml fit_transform.sum"],
                "dask.array": t["dask.array fit_transform.sum"],
            },
        ),
    ]
    load = " ".join(str(v) for v in m.get("load average", []))
    sub = (
        machine_line(m["cpu"], "2 workers x 1", load) + f"; data {tuple(d['shape'])} in {d['chunks']} chunks"
    )
    return sub, groups
