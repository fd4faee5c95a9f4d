"""The benchmark suites behind ``python -m ferrokit bench`` and ``make bench``.

Not part of the public API: these modules measure ferrokit against numpy,
scikit-learn and other references and need the ``bench`` extra.

One module per suite, listed in :data:`SUITES`. A suite module
``ferrokit.benchmarks.<name>`` provides

- ``run(quick: bool = False, out_dir: str = "bench-results") -> int``: runs the
  suite, prints its table, writes ``<out_dir>/<name>.json`` (with a ``"goals"``
  list of ``{"goal", "ratio", "required", "met"}`` if it has goals) and
  returns 0;
- optionally ``readme_lines(data: dict) -> list[str]``: the Markdown table
  that ``benchmarks/readme_table.py`` puts into the README for that JSON;
- optionally ``chart_groups(data: dict) -> (subtitle, groups)``: the bars of
  its PNG chart (see :mod:`ferrokit.benchmarks.charts`), written after the run
  as ``<out_dir>/<name>.png``.

To add a suite: write the module (shared helpers such as ``interleaved`` are in
:mod:`ferrokit.benchmarks.common`) and append its name to :data:`SUITES`;
``python -m ferrokit bench --suite <name>`` then runs it alone.

Example:
    >>> from ferrokit.benchmarks import SUITES
    >>> "seed" in SUITES
    True
"""

from __future__ import annotations

import importlib
import os

#: Every suite, in the order ``make bench`` runs them (append new ones).
SUITES: list[str] = [
    "seed",
    "preprocessing",
    "nn",
    "neighbors",
    "dask",
    "busy",
    "models",
    "text",
    "serve",
]


def run(quick: bool = False, out_dir: str = "bench-results", suites: list[str] | None = None) -> int:
    """Runs every suite of :data:`SUITES` (or only those named in ``suites``).

    A suite whose optional dependencies are missing is reported and skipped.
    Returns the OR of the suites' return codes; an unknown suite name raises
    ``ValueError`` before anything runs.

    Example:
        >>> run(suites=["no-such-suite"])
        Traceback (most recent call last):
        ...
        ValueError: unknown benchmark suite(s) ['no-such-suite']; known: seed, ...
    """
    from ferrokit.benchmarks.charts import chart_suite
    from ferrokit.runtime import set_num_threads

    unknown = sorted(set(suites or []) - set(SUITES))
    if unknown:
        raise ValueError(f"unknown benchmark suite(s) {unknown}; known: {', '.join(SUITES)}")
    status = 0
    # dask.distributed writes OMP_NUM_THREADS=1 into this process's environment
    # (its pre-spawn settings for workers). ferrokit reads it only at import,
    # but the processes later suites start (servers, spinners) would inherit
    # it: keep the environment each suite starts from.
    thread_env = {k: os.environ.get(k) for k in ("FERROKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    for name in SUITES:
        if suites is not None and name not in suites:
            continue
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ImportError as e:
            print(f"\n===== suite: {name} skipped ({e}) =====")
            continue
        print(f"\n===== suite: {name} =====")
        # Each suite starts from the default pool size: a suite that runs
        # threadpoolctl limits from several threads at once (dask, dask_ml)
        # can leave the process-wide setting at 1 (threadpoolctl restores
        # per context, and overlapping contexts restore out of order).
        for k, v in thread_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        set_num_threads(None)
        status |= mod.run(quick=quick, out_dir=out_dir)
        chart = chart_suite(name, out_dir)
        if chart is not None:
            print(f"wrote {chart}")
    return status
