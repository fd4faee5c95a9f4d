"""``python -m ferrokit bench --suite models``: pipeline model files (issue 15).

A fitted scikit-learn pipeline, exported with :func:`ferrokit.export` and
loaded with :func:`ferrokit.load_model`, against the same pipeline in
scikit-learn, in one process: one row (the latency of a single request) and
a batch of 10 000 rows, for Pipeline(StandardScaler, MLPClassifier(256, 128))
and Pipeline(StandardScaler, LogisticRegression); one document (about 40
words) through Pipeline(TfidfVectorizer(ngram_range=(1, 2)),
LogisticRegression) with 5 classes; and the load time of a ~100 MB model file
next to the time of reading its bytes (both from the page cache: they
alternate after a first read), and the peak memory the load adds (in a fresh
process).

Every number is the median of interleaved repeats (ferrokit and scikit-learn
alternate), measured twice: on the machine as it is, and with one core kept
busy by a spinning process (what a user's machine looks like). scikit-learn's
BLAS is limited to ferrokit's thread count. Goals are ratios ``scikit-learn
time / ferrokit time``; they are reported, never asserted.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import ferrokit as fk
from ferrokit.benchmarks.common import BLAS_SETTLE_S, blas_limit, cpu_model, fmt_time, interleaved

# (label, key, minimum ratio)
GOALS = [
    ("1 row, StandardScaler + MLPClassifier(256,128) predict_proba", "mlp_1", 20.0),
    ("1 row, StandardScaler + LogisticRegression predict_proba", "logreg_1", 30.0),
    ("1 document, TfidfVectorizer + LogisticRegression predict_proba", "tfidf_logreg_1", 20.0),
    ("batch of rows, StandardScaler + MLPClassifier(256,128) predict_proba", "mlp_batch", 2.0),
    ("batch of rows, StandardScaler + LogisticRegression predict_proba", "logreg_batch", 2.0),
]
N_FEATURES = 20


def _spin(stop: Any) -> None:  # pragma: no cover - runs in a child process
    x = 0
    while not stop.is_set():
        for _ in range(10000):
            x += 1


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """One extra process spinning on a core for the duration of the block."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    p = ctx.Process(target=_spin, args=(stop,), daemon=True)
    p.start()
    time.sleep(0.2)
    try:
        yield
    finally:
        stop.set()
        p.join(5)
        if p.is_alive():  # pragma: no cover
            p.terminate()


def _pipelines(quick: bool) -> dict[str, Any]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, N_FEATURES))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=3 if quick else 20)
        )
        mlp.fit(X, y)
        logreg = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return {"mlp": mlp, "logreg": logreg}


def bench_predict(quick: bool) -> dict[str, dict[str, float]]:
    """Seconds per predict_proba call: ``{key: {"ferrokit": s, "scikit-learn": s}}``
    for one row (``*_1``) and a batch of 10 000 rows (1000 with ``quick``; ``*_batch``)."""
    rng = np.random.default_rng(1)
    one = rng.normal(size=(1, N_FEATURES))
    batch = rng.normal(size=(1000 if quick else 10000, N_FEATURES))
    res: dict[str, dict[str, float]] = {}
    for name, pipe in _pipelines(quick).items():
        m = fk.load_model(fk.export(pipe))
        assert np.allclose(m.predict_proba(batch), pipe.predict_proba(batch), rtol=1e-9, atol=1e-12)
        res[f"{name}_1"] = interleaved(
            {
                "ferrokit": lambda m=m: m.predict_proba(one),
                "scikit-learn": lambda p=pipe: p.predict_proba(one),
            },
            repeats=5 if quick else 15,
            inner=200 if quick else 1000,
        )
        res[f"{name}_batch"] = interleaved(
            {
                "ferrokit": lambda m=m: m.predict_proba(batch),
                "scikit-learn": lambda p=pipe: p.predict_proba(batch),
            },
            repeats=3 if quick else 9,
            settle=BLAS_SETTLE_S,
        )
    return res


def _corpus(n: int, seed: int, words: np.ndarray) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=int(rng.integers(20, 60)))) for _ in range(n)]


def bench_text(quick: bool) -> dict[str, dict[str, float]]:
    """Seconds per predict_proba call of one document through
    Pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzé"))
    words = np.array(["".join(rng.choice(letters, size=int(rng.integers(2, 9)))) for _ in range(5000)])
    docs = _corpus(500 if quick else 3000, 4, words)
    y = np.array([len(d) % 5 for d in docs])
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=200)).fit(docs, y)
    m = fk.load_model(fk.export(pipe))
    one = _corpus(1, 5, words)
    check = _corpus(50, 6, words)
    assert np.allclose(m.predict_proba(check), pipe.predict_proba(check), rtol=1e-12, atol=1e-15)
    return {
        "tfidf_logreg_1": interleaved(
            {
                "ferrokit": lambda: m.predict_proba(one),
                "scikit-learn": lambda: pipe.predict_proba(one),
            },
            repeats=5 if quick else 15,
            inner=50 if quick else 300,
        )
    }


def bench_load(quick: bool) -> dict[str, float]:
    """Load time of a large model file (a NearestNeighbors index of float64
    rows) against reading its bytes; MB/s of both."""
    from ferrokit.neighbors import NearestNeighbors

    rows = 20_000 if quick else 200_000
    X = np.random.default_rng(2).normal(size=(rows, 64))
    nn = NearestNeighbors(n_neighbors=5).fit(X)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.fk"
        fk.export(nn, path)
        size = path.stat().st_size

        def read() -> bytes:
            with open(path, "rb") as f:
                return f.read()

        def load() -> None:
            fk.load_model(path).close()

        t = interleaved({"read bytes": read, "fk.load_model": load}, repeats=3 if quick else 7)
        peak = _load_peak_mb(path)
    mb = size / 1e6
    return {
        "load peak MB": peak,
        "file MB": mb,
        "read s": t["read bytes"],
        "load s": t["fk.load_model"],
        "read MB/s": mb / t["read bytes"],
        "load MB/s": mb / t["fk.load_model"],
        "load / read": t["fk.load_model"] / t["read bytes"],
    }


_PEAK = """
import sys
import ferrokit as fk

def hwm():  # peak resident set of this process (reset by exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

before = hwm()
m = fk.load_model(sys.argv[1])
print(hwm() - before)
"""


def _load_peak_mb(path: Path) -> float:
    """Peak memory (MB of resident set, in a fresh process) that loading
    ``path`` adds: the model itself plus whatever the load held on the way."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    """Runs the suite (quiet machine, then one busy core), prints the table
    and the goals, writes models.json."""
    threads = fk.get_num_threads()
    meta = {
        "cpu": cpu_model(),
        "simd level": fk.simd_level(),
        "default threads": threads,
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "quick": quick,
        "batch rows": 1000 if quick else 10000,
    }
    with blas_limit(threads):
        results = {"as is": {**bench_predict(quick), **bench_text(quick)}}
        with busy_core():
            results["one busy core"] = {**bench_predict(quick), **bench_text(quick)}
    load = bench_load(quick)
    print(f"ferrokit models benchmark ({meta['cpu']}, {threads} threads; medians)")
    for mode, res in results.items():
        print(f"\n--- {mode} ---")
        for key, cases in res.items():
            ratio = cases["scikit-learn"] / cases["ferrokit"]
            print(
                f"  {key:<14} ferrokit {fmt_time(cases['ferrokit']):>10}   "
                f"scikit-learn {fmt_time(cases['scikit-learn']):>10}   x{ratio:7.2f}"
            )
    print(
        f"\nload {load['file MB']:.0f} MB: read {fmt_time(load['read s'])} ({load['read MB/s']:.0f} MB/s), "
        f"fk.load_model {fmt_time(load['load s'])} ({load['load MB/s']:.0f} MB/s), "
        f"{load['load / read']:.2f}x the read; loading adds {load['load peak MB']:.0f} MB at its peak "
        f"({load['load peak MB'] / load['file MB']:.2f}x the file)"
    )
    goals = []
    print("\ngoals (ratio = scikit-learn time / ferrokit time):")
    for label, key, need in GOALS:
        for mode, res in results.items():
            ratio = res[key]["scikit-learn"] / res[key]["ferrokit"]
            row = {"goal": f"{label} ({mode})", "ratio": ratio, "required": need, "met": bool(ratio >= need)}
            goals.append(row)
            print(
                f"  {row['goal']:<84} x{ratio:7.2f}  goal >= {need:g}: {'met' if row['met'] else 'NOT met'}"
            )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.json").write_text(
        json.dumps({"meta": meta, "results": results, "load": load, "goals": goals}, indent=2)
    )
    print(f"\nwrote {out / 'models.json'}")
    return 0


def _case(key: str, meta: dict[str, Any]) -> str:
    name, n = key.rsplit("_", 1)
    pipe = {
        "mlp": "scaler + MLP(256,128)",
        "logreg": "scaler + logistic regression",
        "tfidf_logreg": "TF-IDF + logistic regression",
    }.get(name, name)
    if name == "tfidf_logreg":
        rows = "1 document"
    else:
        rows = "1 row" if n == "1" else f"{meta.get('batch rows', 10000)} rows"
    return f"{pipe}, {rows}"


def readme_lines(data: dict[str, Any]) -> list[str]:
    """The README table of ``models.json``."""
    lines = [
        "| case | ferrokit | scikit-learn | ratio | busy core: ratio |",
        "|---|---|---|---|---|",
    ]
    quiet, busy = data["results"]["as is"], data["results"].get("one busy core", {})
    for key, cases in quiet.items():
        r = cases["scikit-learn"] / cases["ferrokit"]
        b = busy.get(key)
        rb = f"{b['scikit-learn'] / b['ferrokit']:.1f}x" if b else "-"
        lines.append(
            f"| {_case(key, data['meta'])} | {fmt_time(cases['ferrokit'])} | "
            f"{fmt_time(cases['scikit-learn'])} | {r:.1f}x | {rb} |"
        )
    ld = data["load"]
    lines.append(
        f"| load {ld['file MB']:.0f} MB file | {fmt_time(ld['load s'])} ({ld['load MB/s']:.0f} MB/s) | "
        f"read: {fmt_time(ld['read s'])} ({ld['read MB/s']:.0f} MB/s) | "
        f"{ld['load / read']:.2f}x the read | - |"
    )
    return lines


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``models.json``: every case as is and with a busy core."""
    from ferrokit.benchmarks.charts import machine_line

    m = data["meta"]
    groups = []
    for mode, res in data["results"].items():
        for key, cases in res.items():
            groups.append((f"{_case(key, m)}\n{mode}", dict(cases)))
    return machine_line(m["cpu"], str(m["default threads"]), m.get("load average")), groups
