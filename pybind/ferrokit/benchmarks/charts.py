"""One PNG chart per benchmark suite, drawn from its JSON results.

A suite module that defines ``chart_groups(data) -> (subtitle, groups)`` gets a
chart (a third element, the x-axis label, replaces the default one for charts
whose bars are not times per call): ``groups`` is a list of
``(case label, {implementation: seconds})``,
ferrokit's implementation first. Each case is a group of horizontal bars (one
per implementation, time on a log axis); every bar is labelled with its time
and, for the references, ``reference time / ferrokit time`` of the group's
first ferrokit case (">1x": ferrokit is faster). The title names the suite, the
CPU, the thread count and the load.

``python -m ferrokit.benchmarks.charts bench-results`` redraws every chart from
the JSON files in that folder (``make bench`` draws them after each suite).

Example:
    >>> groups = [("dot 1e7", {"ferrokit": 0.005, "numpy": 0.006})]
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> draw("seed", "2 threads", groups, p)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import textwrap
from pathlib import Path
from typing import Any

from ferrokit.benchmarks.common import fmt_time

Groups = list[tuple[str, dict[str, float]]]

# ferrokit in orange, references in distinct muted colours.
_FERROKIT = "#e8730c"
_FERROKIT_LIGHT = "#f5b97f"
_REFS = ["#4c72b0", "#55a868", "#8172b2", "#937860", "#64b5cd", "#8c8c8c", "#c44e52", "#ccb974"]


def _is_ferrokit(name: str) -> bool:
    return name.startswith("ferrokit")


XLABEL = "median time per call (log scale; shorter is faster); (Nx) = reference time / ferrokit time"


def draw(suite: str, subtitle: str, groups: Groups, path: Path, xlabel: str = XLABEL) -> bool:
    """Writes the chart of one suite to ``path``; False when matplotlib is missing
    or there is nothing to draw."""
    groups = [(c, {k: v for k, v in t.items() if v and v > 0 and math.isfinite(v)}) for c, t in groups]
    groups = [(label, t) for label, t in groups if t]
    if not groups:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart written")
        return False
    # ferrokit's bars orange (the group's lead case dark, its variants light);
    # each reference keeps one colour across groups.
    colours: dict[str, str] = {}
    for _, t in groups:
        for n in t:
            if not _is_ferrokit(n) and n not in colours:
                colours[n] = _REFS[len(colours) % len(_REFS)]
    bar_h = 0.8
    rows = sum(len(t) for _, t in groups) + len(groups)  # one blank row between groups
    fig_h = max(3.0, 0.28 * rows + 1.6)
    fig, ax = plt.subplots(figsize=(11, fig_h))
    y = 0.0
    yticks, ylabels = [], []
    tmin = min(v for _, t in groups for v in t.values())
    tmax = max(v for _, t in groups for v in t.values())
    for label, t in groups:
        ours_name = next((n for n in t if _is_ferrokit(n)), None)
        ours = t.get(ours_name) if ours_name else None
        top = y
        for name, sec in t.items():
            if _is_ferrokit(name):
                colour = _FERROKIT if name == ours_name else _FERROKIT_LIGHT
            else:
                colour = colours[name]
            ax.barh(y, sec, height=bar_h, color=colour, edgecolor="white", linewidth=0.5)
            text = f"{name}  {fmt_time(sec)}"
            bold = "bold" if name == ours_name else "normal"
            if ours and not _is_ferrokit(name):
                text += f"  ({sec / ours:.2f}x)"
            ax.text(sec * 1.05, y, text, va="center", ha="left", fontsize=7.5, fontweight=bold)
            y += 1
        yticks.append((top + y - 1) / 2)
        ylabels.append(label)
        ax.axhspan(top - 0.5, y - 0.5, color="#f3f3f3" if len(yticks) % 2 else "white", zorder=0)
        y += 1
    ax.set_xscale("log")
    ax.set_xlim(tmin * 0.5, tmax * 30.0)  # room for the labels right of the bars
    ax.set_ylim(y - 1.5, -0.5)
    # Case labels on the left, outside the implementation names.
    ax.set_yticks(yticks)
    ax.set_yticklabels(ylabels, fontsize=9, fontweight="bold")
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(xlabel)
    sub = "\n".join(textwrap.wrap(subtitle, 120))
    ax.set_title(f"ferrokit benchmark: {suite}\n{sub}", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def chart_suite(name: str, out_dir: str | Path) -> Path | None:
    """Draws ``<out_dir>/<name>.png`` from ``<out_dir>/<name>.json`` if the suite
    defines ``chart_groups``; returns the path written, else None."""
    out = Path(out_dir)
    js = out / f"{name}.json"
    if not js.exists():
        return None
    try:
        mod = importlib.import_module(f"ferrokit.benchmarks.{name}")
    except ImportError:
        return None
    make = getattr(mod, "chart_groups", None)
    if make is None:
        return None
    subtitle, groups, *xlabel = make(json.loads(js.read_text()))
    path = out / f"{name}.png"
    return path if draw(name, subtitle, groups, path, *xlabel) else None


def machine_line(cpu: Any, threads: Any, load: Any = None) -> str:
    """The subtitle every chart starts with."""
    s = f"{cpu}, {threads} thread(s)"
    if load:
        s += f", load average {load}"
    return s


def main(argv: list[str] | None = None) -> int:
    from ferrokit.benchmarks import SUITES

    args = sys.argv[1:] if argv is None else argv
    out = args[0] if args else "bench-results"
    for name in SUITES:
        p = chart_suite(name, out)
        if p:
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
