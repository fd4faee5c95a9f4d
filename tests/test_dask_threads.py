"""ferrokit.dask never changes the caller's thread setting: in-process clusters
(``processes=False``) and the worker plugin leave it exactly as it was, while
worker processes of their own take their ``nthreads``. Runs in fresh
interpreters (the setting is process-wide) under a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("distributed")

SCRIPT = """
    import logging, sys
    import numpy as np
    import dask.array as da
    from distributed import Client, LocalCluster
    import ferrokit as fk
    import ferrokit.dask as fkd
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(4000, 5)) * 3 + 1e6
    dx = da.from_array(x, chunks=(500, 5))
    ref = StandardScaler().fit(x)

    def case(setting, plugin, processes, tpw):
        fk.set_num_threads(setting)
        before = (fk.requested_num_threads(), fk.get_num_threads())
        cluster = LocalCluster(n_workers=2, threads_per_worker=tpw, processes=processes,
                               dashboard_address=None, silence_logs=logging.ERROR)
        with cluster, Client(cluster) as client:
            if plugin:
                fkd.register_worker_plugin(client)
            est = fkd.StandardScaler().fit(dx)
            out = est.transform(dx).compute()
            fkd.MinMaxScaler().fit(dx)
            fkd.normalize(dx).compute()
            workers = sorted(client.run(fk.get_num_threads).values())
            after = (fk.requested_num_threads(), fk.get_num_threads())
        ok = np.allclose(est.var_, ref.var_, rtol=1e-12) and np.allclose(out, ref.transform(x), atol=1e-9)
        print(setting, plugin, "before", before, "after", after, "workers", workers, "ok", ok)

    for setting, plugin, processes, tpw in {cases}:
        case(setting, plugin, processes, tpw)
"""


def _run(cases: list[tuple[int | None, bool, bool, int]]) -> list[str]:
    code = textwrap.dedent(SCRIPT).format(cases=cases)
    env = {k: v for k, v in os.environ.items() if k not in ("FERROKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    env["FERROKIT_NUM_THREADS"] = "3"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip().splitlines()


def test_in_process_cluster_leaves_the_callers_setting_exactly() -> None:
    # Before: the first ferrokit task (or the plugin) set the caller's pool to
    # the worker's nthreads (1) and left it there.
    cases = [(s, p, False, 1) for s in (None, 2, 1) for p in (False, True)]
    lines = _run(cases)
    assert len(lines) == len(cases), lines
    for (setting, plugin, _, _), line in zip(cases, lines, strict=True):
        want = f"({setting}, {setting or 3})"  # None stays None: FERROKIT_NUM_THREADS=3 applies
        workers = f"[{setting or 3}, {setting or 3}]"  # in-process workers share the caller's pool
        assert line == f"{setting} {plugin} before {want} after {want} workers {workers} ok True", line


def test_worker_processes_take_their_nthreads_and_the_caller_keeps_its_setting() -> None:
    lines = _run([(None, True, True, 2)])
    assert lines == ["None True before (None, 3) after (None, 3) workers [2, 2] ok True"], lines


def test_a_local_cluster_leaves_the_callers_default_thread_count() -> None:
    # LocalCluster writes OMP_NUM_THREADS=1 into the client's os.environ (for
    # its worker processes); ferrokit in the client keeps the default it read
    # at import (no FERROKIT_NUM_THREADS/OMP_NUM_THREADS here: the usable CPUs).
    code = textwrap.dedent(
        """
        import logging, os
        from distributed import LocalCluster
        import ferrokit as fk

        before = fk.get_num_threads()
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR):
            during = fk.get_num_threads()
            print(os.environ.get("OMP_NUM_THREADS"), before, len(os.sched_getaffinity(0)), during)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FERROKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    omp, before, cpus, during = r.stdout.split()
    assert omp == "1"  # what dask does to the environment (the reason for this test)
    assert before == cpus == during
