"""Leak soak: a million calls of each seed function must not grow memory.

RSS is read after a warm-up and again after the calls; growth must stay
below 1 MiB. Error paths (which store messages and raise) are soaked too.
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import ferrokit as fk

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")

MIB = 1 << 20


def _rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _soak(fn, calls: int) -> int:  # type: ignore[no-untyped-def]
    for _ in range(10_000):  # warm-up: caches, free lists, thread-locals
        fn()
    before = _rss()
    for _ in range(calls):
        fn()
    return _rss() - before


def test_add_numbers_million_calls() -> None:
    assert _soak(lambda: fk.add_numbers(5, 7), 1_000_000) < MIB


def test_dot_product_million_calls() -> None:
    a = np.random.default_rng(0).random(16)
    b = a[::-1].copy()
    assert _soak(lambda: fk.dot_product(a, b), 1_000_000) < MIB


def test_normalize_million_calls() -> None:
    x = np.random.default_rng(1).random(16)
    out = np.empty_like(x)
    assert _soak(lambda: fk.normalize(x, out=out), 1_000_000) < MIB


def test_heavier_calls_and_error_paths() -> None:
    x = np.random.default_rng(2).random(300_000)  # goes through the thread pool

    def heavy() -> None:
        fk.normalize(x)
        fk.dot_product(x, x)

    assert _soak(heavy, 10_000) < MIB

    def errors() -> None:
        try:
            fk.dot_product(x, x[:-1])
        except ValueError:
            pass
        try:
            fk.add_numbers(2**31 - 1, 1)
        except OverflowError:
            pass

    assert _soak(errors, 100_000) < MIB


def test_stats_and_nn_kernels_ten_thousand_calls() -> None:
    rng = np.random.default_rng(3)
    m = rng.standard_normal((2_000, 16))
    r = rng.standard_normal((64, 128)).astype(np.float32)

    def heavy() -> None:
        fk.stats.partial_stats(m)
        fk.stats.var(m, axis=0)
        fk.stats.affine(m, scale=2.0)
        fk.nn.softmax(r)
        fk.nn.layer_norm(r)
        fk.nn.gelu(r)

    assert _soak(heavy, 10_000) < MIB


def test_mlp_handles_created_and_freed_ten_thousand_times() -> None:
    """Each iteration loads a model (a new native handle), predicts, and closes it;
    a handle that leaked or was freed twice would show here (or crash)."""
    from pathlib import Path

    model = Path(__file__).resolve().parent.parent / "rustlib/fuzz/regressions/mlp_load/classifier-3class.bin"
    x = np.random.default_rng(4).standard_normal((8, 5))

    def cycle() -> None:
        with fk.nn.MLP.load(model) as mlp:
            mlp.predict_proba(x)
        fk.nn.MLP.load(model).predict(x)  # freed by the finalizer instead

    assert _soak(cycle, 10_000) < MIB


def test_knn_index_handles_and_searches_ten_thousand_times() -> None:
    db = np.random.default_rng(5).standard_normal((500, 16)).astype(np.float32)

    def cycle() -> None:
        with fk.neighbors.KnnIndex(dim=16) as index:
            index.add(db)
            index.search(db[:4], k=3)
        fk.neighbors.knn_search(db[:2], db, 5)

    assert _soak(cycle, 10_000) < MIB
