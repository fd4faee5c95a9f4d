"""Stress test of handle-owning objects under real concurrency (issue 13).

1000 rounds; in each, 8 Python threads call methods on one ``nn.MLP`` and one
``neighbors.KnnIndex`` (native calls release the GIL), make copies, close
their own copies and copies made by other threads, while one more thread
closes the originals at a random moment. Every call must return exactly the
reference result or raise ``ferrokit.ClosedError``: never a wrong answer,
another exception or a crash. A watchdog ends the process with tracebacks if
the test hangs (limit: 120 s; it takes a few seconds).
"""

from __future__ import annotations

import copy
import faulthandler
import random
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import ferrokit as fk
from ferrokit import nn

ROUNDS = 1000
WORKERS = 8
TIMEOUT = 120.0


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=30, random_state=0).fit(X, y)
    model = nn.MLP.from_sklearn(sk)
    rows = rng.normal(size=(3000, 12)).astype(np.float32)
    index = fk.neighbors.KnnIndex(12, dtype=np.float32)
    index.add(rows)
    q = rng.normal(size=(3, 12)).astype(np.float32)
    ref = {
        "proba1": model.predict_proba(X[:1]),
        "proba": model.predict_proba(X),
        "predict": model.predict(X),
        "search": index.search(q, 5),
    }
    np.testing.assert_allclose(ref["proba"], sk.predict_proba(X), atol=1e-12, rtol=0)
    return model.to_bytes(), rows, X, q, ref


def test_threads_calling_copying_and_closing(setup) -> None:
    data, rows, X, q, ref = setup
    x1 = np.ascontiguousarray(X[:1])
    stats = {"calls": 0, "closed_errors": 0, "copies": 0, "deferred_closes": 0}
    stats_lock = threading.Lock()
    failures: list[str] = []
    objects: dict[str, object] = {}
    orphan_copies: list[object] = []  # copies made by one thread, closed by another
    start = threading.Barrier(WORKERS + 2)
    end = threading.Barrier(WORKERS + 2)
    stop = threading.Event()

    def check(name: str, got: object, want: object) -> None:
        if isinstance(want, tuple):
            ok = all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))  # type: ignore[arg-type]
        else:
            ok = np.array_equal(got, want)  # type: ignore[arg-type]
        if not ok:
            failures.append(f"wrong result from {name}")

    def calls(m: nn.MLP, index: fk.neighbors.KnnIndex, rnd: random.Random) -> list:
        return [
            ("proba1", lambda: m.predict_proba(x1), ref["proba1"]),
            ("proba", lambda: m.predict_proba(X), ref["proba"]),
            ("predict", lambda: m.predict(X), ref["predict"]),
            ("search", lambda: index.search(q, 5), ref["search"]),
            ("len", lambda: len(index), len(rows)),
            ("to_bytes", lambda: m.to_bytes(), data),
        ]

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        n_calls = n_closed = n_copies = 0
        try:
            while True:
                start.wait()
                if stop.is_set():
                    break
                m, index = objects["m"], objects["index"]
                for _ in range(3):
                    # originals, or a copy of them (which may already be closed)
                    target_m, target_i = m, index
                    if rnd.random() < 0.2:
                        try:
                            target_m = copy.copy(m) if rnd.random() < 0.5 else copy.deepcopy(m)
                            target_i = copy.copy(index)
                            n_copies += 2
                        except fk.ClosedError:
                            n_closed += 1
                            continue
                    name, call, want = rnd.choice(calls(target_m, target_i, rnd))
                    try:
                        got = call()
                        check(name, got, want)
                    except fk.ClosedError:
                        n_closed += 1
                    n_calls += 1
                    if target_m is not m:
                        if rnd.random() < 0.5:
                            target_m.close()
                            target_i.close()
                        else:
                            orphan_copies.extend([target_m, target_i])
                if orphan_copies and rnd.random() < 0.5:
                    try:
                        orphan_copies.pop().close()
                    except IndexError:
                        pass
                end.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            start.abort()
            end.abort()
        finally:
            with stats_lock:
                stats["calls"] += n_calls
                stats["closed_errors"] += n_closed
                stats["copies"] += n_copies

    def closer(seed: int) -> None:
        rnd = random.Random(seed)
        try:
            while True:
                start.wait()
                if stop.is_set():
                    break
                time.sleep(rnd.random() * 1e-3)
                for obj in (objects["m"], objects["index"]):
                    if obj._own.in_use:  # type: ignore[attr-defined]
                        stats["deferred_closes"] += 1
                    obj.close()  # type: ignore[attr-defined]
                end.wait()
        except threading.BrokenBarrierError:
            pass

    faulthandler.dump_traceback_later(TIMEOUT, exit=True)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    threads.append(threading.Thread(target=closer, args=(99,)))
    t0 = time.perf_counter()
    try:
        for t in threads:
            t.start()
        for _ in range(ROUNDS):
            objects["m"] = nn.MLP.from_bytes(data)
            objects["index"] = fk.neighbors.KnnIndex(12, dtype=np.float32)
            objects["index"].add(rows)  # type: ignore[attr-defined]
            start.wait()
            end.wait()
            if failures:
                break
        stop.set()
        start.wait()
    except threading.BrokenBarrierError:
        pass
    finally:
        for t in threads:
            t.join(TIMEOUT)
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - t0
    for c in orphan_copies:
        c.close()  # type: ignore[attr-defined]
    print(
        f"\nstress: {ROUNDS} rounds, {WORKERS} threads + 1 closer, {stats['calls']} calls, "
        f"{stats['closed_errors']} ClosedError, {stats['copies']} copies, "
        f"{stats['deferred_closes']} closes while a call ran, {len(failures)} failures, {elapsed:.1f} s"
    )
    assert not failures, failures[:10]
    assert not any(t.is_alive() for t in threads)
    assert stats["calls"] >= ROUNDS * WORKERS * 2
    assert stats["closed_errors"] > 0  # the closer did race the calls
