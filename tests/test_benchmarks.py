"""The benchmark subpackage: its suite registry and the ``bench`` command line
(the suites themselves run in ``make bench``, not here: they take minutes)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import ferrokit
from ferrokit import benchmarks

ROOT = Path(__file__).resolve().parent.parent


def test_every_registered_suite_is_a_module_with_run() -> None:
    assert benchmarks.SUITES[0] == "seed"
    assert len(set(benchmarks.SUITES)) == len(benchmarks.SUITES)
    for name in benchmarks.SUITES:
        mod = importlib.import_module(f"ferrokit.benchmarks.{name}")
        assert callable(mod.run), name
        assert mod.__doc__, name


def test_every_suite_module_is_registered() -> None:
    folder = Path(benchmarks.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "common", "charts"}
    assert modules <= set(benchmarks.SUITES), modules - set(benchmarks.SUITES)


def test_no_benchmark_modules_among_the_public_modules() -> None:
    folder = Path(ferrokit.__file__).parent
    assert not list(folder.glob("bench*.py"))


def test_unknown_suite_is_rejected_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="no-such-suite"):
        benchmarks.run(suites=["seed", "no-such-suite"])


def test_cli_rejects_unknown_suite() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ferrokit", "bench", "--suite", "no-such-suite"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "no-such-suite" in r.stderr and "seed" in r.stderr


def test_interleaved_returns_a_median_per_case() -> None:
    from ferrokit.benchmarks.common import fmt_time, interleaved

    calls = {"a": 0, "b": 0}

    def a() -> None:
        calls["a"] += 1

    def b() -> None:
        calls["b"] += 1

    t = interleaved({"a": a, "b": b}, repeats=3, inner=2)
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())
    assert calls == {"a": 1 + 3 * 2, "b": 1 + 3 * 2}  # one warm-up, then repeats x inner
    assert fmt_time(2.5e-3) == "2.50 ms" and fmt_time(3e-9) == "3 ns"


def test_readme_table_script_imports_the_suites() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "readme_table.py"), "/nonexistent-results"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "no benchmark results" in r.stderr


def test_chart_is_written_for_a_suite_with_chart_groups(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from ferrokit.benchmarks import charts

    groups = [
        ("dot n=1e7\n2 thread(s)", {"ferrokit": 0.005, "numpy": 0.006}),
        ("normalize", {"ferrokit": 0.004, "numpy": 0.012, "nan case": float("nan")}),
    ]
    path = tmp_path / "x.png"
    assert charts.draw("seed", "test machine, 2 thread(s)", groups, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not charts.draw("seed", "nothing", [("empty", {})], tmp_path / "y.png")
    # From a suite's JSON: the seed suite's chart_groups.
    data = {
        "meta": {"cpu": "test cpu", "load average": "1.00 1.00 1.00"},
        "results": [
            {"n": 10, "threads": 1, "dot_product": {"ferrokit": 1e-6, "numpy": 2e-6}, "normalize": {}},
            {"n": 10, "threads": 2, "dot_product": {"ferrokit": 1e-6}, "normalize": {"numpy": 1e-6}},
        ],
    }
    (tmp_path / "seed.json").write_text(__import__("json").dumps(data))
    assert charts.chart_suite("seed", tmp_path) == tmp_path / "seed.png"
    assert charts.chart_suite("nn", tmp_path) is None  # no nn.json


def test_every_suite_draws_a_chart() -> None:
    for name in benchmarks.SUITES:
        mod = importlib.import_module(f"ferrokit.benchmarks.{name}")
        assert callable(getattr(mod, "chart_groups", None)), name


def test_text_and_serve_charts_from_their_json(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import json

    from ferrokit.benchmarks import charts, serve, text

    rows = [
        {"case": "HashingVectorizer (1,1)", "threads": t, "ferrokit_s": 0.1 * t, "sklearn_s": 0.9}
        for t in (1, 2)
    ]
    tdata = {"machine": "test cpu", "documents": 3, "megabytes": 0.5, "rows": rows, "load average": "1.00"}
    sub, groups = text.chart_groups(tdata)
    assert "test cpu" in sub and "1 and 2" in sub and "load average 1.00" in sub
    assert groups == [
        ("HashingVectorizer (1,1)\n1 thread", {"ferrokit": 0.1, "scikit-learn": 0.9}),
        ("HashingVectorizer (1,1)\n2 threads", {"ferrokit": 0.2, "scikit-learn": 0.9}),
    ]
    run = {"rps": 1000.0, "p50": 1e-4, "p99": 2e-4}
    sdata = {
        "meta": {"cpu": "test cpu", "cores": 2, "load average": [1.0, 2.0, 3.0]},
        "results": {
            "ferrokit-serve": {"1": run, "32": {**run, "rps": 4000.0}, "floor-32": run},
            "FastAPI+uvicorn, 2 workers": {"1": {**run, "rps": 100.0}},
        },
        "text": {},
    }
    sub, groups, xlabel = serve.chart_groups(sdata)
    assert "2 cores" in sub and "1.00 2.00 3.00" in sub and "p99" in xlabel
    # Time per request is 1 / throughput, so the bar ratio is the throughput ratio.
    assert groups[0] == (
        "MLP, 1 connection\n1 / throughput",
        {"ferrokit-serve": 1e-3, "FastAPI, 2 workers": 1e-2},
    )
    assert groups[1][1] == {"ferrokit-serve": 2e-4, "FastAPI, 2 workers": 2e-4}
    assert [g[0] for g in groups[2:]] == [
        "MLP, 32 connections\n1 / throughput",
        "MLP, 32 connections\np99 latency",
    ]
    for name, data in (("text", tdata), ("serve", sdata)):
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
        path = charts.chart_suite(name, tmp_path)
        assert path == tmp_path / f"{name}.png" and path.read_bytes()[:4] == b"\x89PNG"
