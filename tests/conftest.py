"""Shared fixtures for the ferrokit test suite."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import ferrokit as fk


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for each test (results do not depend on test order)."""
    return np.random.default_rng(20240531)


@pytest.fixture(params=[1, 2], ids=lambda n: f"threads={n}")
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    """Runs the test with ferrokit's pool limited to 1 and then 2 threads."""
    with fk.threads(request.param):
        assert fk.get_num_threads() == request.param
        yield request.param


#: The flags the C examples must compile cleanly with.
C_FLAGS = ("-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror")


@pytest.fixture(scope="session")
def build_c(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``build_c(src, flags=C_FLAGS) -> executable``: compiles a C program against
    the installed ferrokit (its header folder, its shared library with an rpath,
    and libm) into a fresh temporary folder. Skips the test when gcc is missing;
    a failed build fails it with the command and the compiler's output."""
    gcc = shutil.which("gcc")

    def build(src: str | Path, flags: tuple[str, ...] = C_FLAGS) -> Path:
        if gcc is None:
            pytest.skip("gcc not found on PATH")
        src = Path(src)
        exe = tmp_path_factory.mktemp(src.stem) / src.stem
        lib = Path(fk.get_library())
        cmd = [gcc, *flags, "-I", fk.get_include(), str(src), "-o", str(exe), str(lib)]
        cmd += [f"-Wl,-rpath,{lib.parent}", "-lm"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}{r.stderr}"
        return exe

    return build


def run_in_threads(work: Callable[[], object], n: int = 4, timeout: float = 120.0) -> None:
    """Runs ``work()`` in ``n`` Python threads at once and waits for them. The
    threads start ``work`` together (a barrier), so even quick work overlaps.
    Any exception in a thread (a failed assertion included) fails the test,
    with the first one chained; so does a thread still running ``timeout``
    seconds after the start (a hang fails instead of blocking the suite)."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def body() -> None:
        try:
            start.wait(timeout)
            work()
        except BaseException as e:  # reported below
            errors.append(e)

    workers = [threading.Thread(target=body, name=f"in_threads-{i}", daemon=True) for i in range(n)]
    deadline = time.monotonic() + timeout
    for t in workers:
        t.start()
    for t in workers:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in workers if t.is_alive()]
    assert not stuck, f"still running after {timeout} s: {stuck}"
    if errors:
        raise AssertionError(f"{len(errors)} of {n} threads failed, first: {errors[0]!r}") from errors[0]


@pytest.fixture
def in_threads() -> Callable[..., None]:
    """``in_threads(work, n=4, timeout=120.0)``: :func:`run_in_threads` (runs
    ``work`` in ``n`` threads at once; any error or hang fails the test)."""
    return run_in_threads


@pytest.fixture(autouse=True)
def _restore_num_threads() -> Iterator[None]:
    """Guards every test: whatever it does, the thread setting is restored
    afterwards exactly (the default, which follows ``FERROKIT_NUM_THREADS`` /
    the CPU count, stays the default rather than becoming an explicit count)."""
    before = fk.requested_num_threads()
    yield
    fk.set_num_threads(before)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test module may define ``_deselect(item) -> bool`` to deselect some of its
    parametrizations (used by the scikit-learn peer suites, whose test functions
    are imported and whose out-of-scope cases are documented there)."""
    keep, drop = [], []
    for item in items:
        fn = getattr(getattr(item, "module", None), "_deselect", None)
        (drop if fn is not None and fn(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
