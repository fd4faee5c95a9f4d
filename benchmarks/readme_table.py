"""Writes the benchmark section of README.md from bench-results/*.json.

`make bench` runs it after the benchmark; the text between the markers
<!-- bench:start --> and <!-- bench:end --> is replaced.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ferrokit.benchmarks.common import fmt_time as _t

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def seed_section(data: dict) -> list[str]:
    m = data["meta"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores (usable)']} cores, SIMD {m['simd level']}; numpy {m['numpy']}, "
        f"Python {m['python']}. Medians of interleaved repeats; ratio = numpy time / ferrokit time "
        "(numpy's BLAS limited to the same thread count).",
        "",
        "| function | n | threads | ferrokit | ferrokit `out=` | numpy | PyO3 tutorial (list) | "
        "ferrokit (list) | pure Python | ferrokit vs numpy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        for fn in ("dot_product", "normalize"):
            c = r[fn]

            def g(k: str, c: dict = c) -> str:
                return _t(c[k]) if k in c else ""

            ratio = c["numpy"] / c["ferrokit"]
            lines.append(
                f"| {fn} | {r['n']:.0e} | {r['threads']} | {g('ferrokit')} | {g('ferrokit out=')} | "
                f"{g('numpy')} | {g('pyo3 (list)')} | {g('ferrokit (list)')} | {g('pure python')} | "
                f"{ratio:.2f}x |"
            )
    s = data["small_calls"]
    lines += [
        "",
        f"Small calls: `add_numbers` {s['ferrokit add_numbers']:.0f} ns (PyO3 tutorial build "
        f"{s.get('pyo3 add_numbers', float('nan')):.0f} ns); `dot_product` of 16 elements "
        f"{s['ferrokit dot16']:.0f} ns (`np.dot` {s['numpy dot16']:.0f} ns).",
    ]
    c = data["call_modes"]
    lines += [
        f"cffi call cost: API mode {c['api mode call']:.0f} ns, ABI (`dlopen`) mode "
        f"{c['abi (dlopen) mode call']:.0f} ns; "
        f"`ffi.from_buffer(array)` {c['ffi.from_buffer(array)']:.0f} ns, "
        f"`ffi.cast(array.ctypes.data)` {c['ffi.cast(array.ctypes.data)']:.0f} ns.",
    ]
    return lines


def goals_section(name: str, goals: list[dict]) -> list[str]:
    lines = ["", f"Speed goals ({name}):", "", "| goal | measured | required | |", "|---|---:|---:|---|"]
    for g in goals:
        # A ratio goal gives numbers ("2.00x"); a goal in other units (the serve
        # suite's latencies, "<= 5" ms) gives its requirement as text.
        if isinstance(g["required"], str):
            measured, required = f"{g['ratio']:.4g}", g["required"]
        else:
            measured, required = f"{g['ratio']:.2f}x", f"{g['required']:.2f}x"
        lines.append(f"| {g['goal']} | {measured} | {required} | {'met' if g['met'] else '**missed**'} |")
    return lines


def context_section(name: str, rows: list[dict]) -> list[str]:
    """Ratios reported for context (not goals), with the reason each is not one."""
    lines = ["", f"Context ({name}, not goals):", "", "| case | measured | goal's ratio | why context |"]
    lines.append("|---|---:|---:|---|")
    for g in rows:
        lines.append(f"| {g['goal']} | {g['ratio']:.2f}x | {g['required']:.2f}x | {g.get('context', '')} |")
    return lines


CHARTS = ROOT / "docs" / "bench"


def _chart(results: Path, suite: str) -> list[str]:
    """Copies ``<results>/<suite>.png`` to docs/bench/ and returns the Markdown
    that shows it (nothing when the suite wrote no chart)."""
    import shutil

    png = results / f"{suite}.png"
    if not png.exists():
        return []
    CHARTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, CHARTS / png.name)
    return ["", f"![{suite} benchmark chart](docs/bench/{png.name})", ""]


def main(results_dir: str = "bench-results") -> int:
    d = ROOT / results_dir  # an absolute results_dir stays as it is
    if not any(d.glob("*.json")):
        # Never blank the README's table because of a wrong folder.
        print(f"no benchmark results (*.json) in {d}", file=sys.stderr)
        return 1
    lines: list[str] = []
    seed = d / "seed.json"
    if seed.exists():
        data = json.loads(seed.read_text())
        lines += [
            "### Seed functions",
            *_chart(d, "seed"),
            "",
            *seed_section(data),
            *goals_section("seed", data["goals"]),
        ]
    for path in sorted(d.glob("*.json")):
        if path.name == "seed.json":
            continue
        data = json.loads(path.read_text())
        extra: list[str] = []
        try:  # a suite may render its own table: ferrokit.benchmarks.<name>.readme_lines(data)
            import importlib

            extra = importlib.import_module(f"ferrokit.benchmarks.{path.stem}").readme_lines(data)
        except (ImportError, AttributeError):
            pass
        chart = _chart(d, path.stem)
        if "goals" in data or extra or chart:
            lines += ["", f"### {path.stem}", *chart, *extra]
        if "goals" in data:
            lines += goals_section(path.stem, data["goals"])
        if data.get("context"):
            lines += context_section(path.stem, data["context"])
    # One blank line between blocks (a chart is followed by one, some tables start with one).
    lines = [line for i, line in enumerate(lines) if line or i == 0 or lines[i - 1]]
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text:
        print("README.md has no benchmark markers", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + START + "\n" + "\n".join(lines) + "\n" + END + tail)
    print(f"updated README.md from {d}")
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir", nargs="?", default="bench-results", help="folder of the JSON results")
    sys.exit(main(ap.parse_args().results_dir))
