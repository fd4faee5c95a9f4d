"""Runtime controls: thread count, environment, config output, paths, GIL release."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

import ferrokit as fk


def run_python(code: str, **env_changes: str | None) -> subprocess.CompletedProcess[str]:
    """Runs ``python -c code`` in a fresh interpreter with the given environment changes."""
    env = dict(os.environ)
    for key in ("FERROKIT_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(key, None)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


# --- thread count -------------------------------------------------------------------


def test_the_autouse_guard_restores_the_default_thread_setting(tmp_path) -> None:
    # Runs tests under this suite's conftest in a fresh pytest: after a test that
    # changes the count, the next one starts with the default setting (None), not
    # with an explicit count equal to the default's value (which would stop
    # following FERROKIT_NUM_THREADS / the CPU count).
    here = os.path.dirname(os.path.abspath(__file__))
    (tmp_path / "conftest.py").write_text(open(os.path.join(here, "conftest.py")).read())
    (tmp_path / "test_guard.py").write_text(
        "import ferrokit as fk\n"
        "def test_1_default_then_changed():\n"
        "    assert fk.requested_num_threads() is None\n"
        "    fk.set_num_threads(1)\n"
        "def test_2_default_again():\n"
        "    assert fk.requested_num_threads() is None\n"
        "    fk.set_num_threads(3)\n"
        "def test_3_unchanged():\n"
        "    assert fk.requested_num_threads() is None\n"
        "def test_4_still_default():\n"
        "    assert fk.requested_num_threads() is None\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FERROKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0 and "4 passed" in r.stdout, r.stdout + r.stderr


def test_get_and_set_num_threads() -> None:
    assert fk.get_num_threads() >= 1
    for n in (1, 2, 3, 7, 1):
        assert fk.set_num_threads(n) is None
        assert fk.get_num_threads() == n
    fk.set_num_threads(np.int64(2))
    assert fk.get_num_threads() == 2


def test_none_restores_default() -> None:
    fk.set_num_threads(None)
    default = fk.get_num_threads()
    fk.set_num_threads(default + 3)
    assert fk.get_num_threads() == default + 3
    fk.set_num_threads(None)
    assert fk.get_num_threads() == default


def test_default_is_the_usable_cpu_count() -> None:
    code = (
        "import os, ferrokit as fk\n"
        "print(fk.get_num_threads(), len(os.sched_getaffinity(0)))\n"
        "fk.set_num_threads(1); fk.set_num_threads(None)\n"
        "print(fk.get_num_threads())\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.split("\n")[:2]
    threads, cpus = map(int, first.split())
    assert threads == cpus
    assert int(second) == cpus


@pytest.mark.parametrize("bad", [0, -1, -(2**40), 1025, 5000, 2**70])
def test_set_num_threads_rejects_values_outside_the_range(bad: int) -> None:
    before = fk.get_num_threads()
    with pytest.raises(ValueError, match=rf"between 1 and 1024 \(or None for the default\), got {bad}$"):
        fk.set_num_threads(bad)
    assert fk.get_num_threads() == before


def test_set_num_threads_accepts_the_whole_range() -> None:
    assert fk.MAX_THREADS == fk.runtime.MAX_THREADS == 1024
    with fk.threads(fk.MAX_THREADS):  # accepted (no kernel runs: no pool of 1024 threads)
        assert fk.get_num_threads() == 1024
    with fk.threads(1):
        assert fk.get_num_threads() == 1


@pytest.mark.parametrize("bad", ["2", 2.0, 1.5, [2], b"2", True, False, np.True_], ids=repr)
def test_set_num_threads_rejects_non_integers(bad: object) -> None:
    before = fk.get_num_threads()
    with pytest.raises(TypeError):
        fk.set_num_threads(bad)
    assert fk.get_num_threads() == before


def test_threads_context_restores_previous_value() -> None:
    fk.set_num_threads(3)
    with fk.threads(1):
        assert fk.get_num_threads() == 1
        with fk.threads(2):
            assert fk.get_num_threads() == 2
        assert fk.get_num_threads() == 1
    assert fk.get_num_threads() == 3


def test_threads_context_restores_after_exception() -> None:
    fk.set_num_threads(2)
    with pytest.raises(KeyError), fk.threads(1):
        assert fk.get_num_threads() == 1
        raise KeyError("boom")
    assert fk.get_num_threads() == 2


def test_threads_context_with_invalid_value_changes_nothing() -> None:
    fk.set_num_threads(2)
    with pytest.raises(ValueError), fk.threads(0):
        pass
    assert fk.get_num_threads() == 2
    with pytest.raises(TypeError), fk.threads("1"):  # type: ignore[arg-type]
        pass
    assert fk.get_num_threads() == 2


def test_threads_context_restores_the_default_exactly() -> None:
    # Not the count in effect but "no explicit setting": the default (here
    # FERROKIT_NUM_THREADS) applies again after the block.
    proc = run_python(
        "import os, ferrokit as fk\n"
        "with fk.threads(1):\n"
        "    pass\n"
        "print(fk.requested_num_threads())\n"
        "print(fk.get_num_threads())\n"
        "fk.set_num_threads(2)\n"
        "with fk.threads(None):\n"
        "    print(fk.requested_num_threads(), fk.get_num_threads())\n"
        "print(fk.requested_num_threads())\n",
        FERROKIT_NUM_THREADS="5",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", "5", "None", "5", "2"]


def test_environment_changed_after_import_leaves_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # dask.distributed's LocalCluster writes OMP_NUM_THREADS=1 into the client's
    # os.environ: the default read at import stays, also after set_num_threads(None).
    fk.set_num_threads(None)
    default = fk.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert fk.get_num_threads() == default
    monkeypatch.setenv("FERROKIT_NUM_THREADS", str(default + 2))
    assert fk.get_num_threads() == default
    fk.set_num_threads(1)
    fk.set_num_threads(None)
    assert fk.get_num_threads() == default
    assert fk.config()["threads"] == default
    with fk.threads(None):
        assert fk.get_num_threads() == default


def test_environment_read_at_import_even_when_changed_before_first_kernel() -> None:
    # In a fresh process: OMP_NUM_THREADS=3 at import, then changed to 1 (as
    # dask does) before any kernel ran; a parallel kernel and the getters
    # still see 3, and no warning appears for the new (valid or invalid) text.
    proc = run_python(
        "import os, warnings, numpy as np, ferrokit as fk\n"
        "os.environ['OMP_NUM_THREADS'] = '1'\n"
        "os.environ['FERROKIT_NUM_THREADS'] = 'abc'\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('error')\n"
        "    ok = fk.stats.sum(np.ones(300_000)) == 300_000.0\n"
        "    print(fk.get_num_threads(), ok)\n",
        OMP_NUM_THREADS="3",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["3", "True"]


def test_threads_context_none_uses_default() -> None:
    fk.set_num_threads(None)
    default = fk.get_num_threads()
    fk.set_num_threads(default + 1)
    with fk.threads(None):
        assert fk.get_num_threads() == default
    assert fk.get_num_threads() == default + 1


def test_results_use_new_thread_count_immediately() -> None:
    x = np.random.default_rng(3).random(10**6 + 3)
    with fk.threads(1):
        one = fk.dot_product(x, x)
    with fk.threads(2):
        two = fk.dot_product(x, x)
    assert one == two


# --- environment --------------------------------------------------------------------


def test_env_variable_sets_threads() -> None:
    proc = run_python(
        "import ferrokit as fk; print(fk.get_num_threads()); print(fk.config()['threads'])",
        FERROKIT_NUM_THREADS="3",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["3", "3"]


def test_env_variable_is_the_default_restored_by_none() -> None:
    proc = run_python(
        "import ferrokit as fk; fk.set_num_threads(1); fk.set_num_threads(None); print(fk.get_num_threads())",
        FERROKIT_NUM_THREADS="5",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "5"


ENV_PROBE = (
    "import warnings\n"
    "with warnings.catch_warnings(record=True) as w:\n"
    "    warnings.simplefilter('always')\n"
    "    import numpy as np, ferrokit as fk\n"
    "    n = fk.get_num_threads(); cfg = fk.config(); fk.get_num_threads()\n"
    "    ok = fk.stats.sum(np.ones(300_000)) == 300_000.0\n"
    "print(n, cfg['threads'], ok)\n"
    "for m in w: print('WARNING', m.category.__name__, m.message)\n"
)


def _probe(**env: str) -> tuple[list[str], list[str]]:
    proc = run_python(ENV_PROBE, **env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    return lines[0].split(), [line for line in lines[1:] if line.startswith("WARNING")]


@pytest.mark.parametrize("name", ["FERROKIT_NUM_THREADS", "OMP_NUM_THREADS"])
@pytest.mark.parametrize("value", ["999999", "3000", "99999999999999999999999"])
def test_too_large_env_value_is_clamped_with_one_warning(name: str, value: str) -> None:
    # 999999 used to hang the first parallel call (the pool never finished
    # starting). The probe's sum is too small to start the pool (1024 threads
    # take seconds to start on a small machine): see the next test for that.
    out, warns = _probe(**{name: value})
    assert out == ["1024", "1024", "True"]
    assert len(warns) == 1, warns
    assert f'{name}="{value}" is above the maximum of 1024 threads; using the maximum, 1024' in warns[0]
    assert warns[0].startswith("WARNING RuntimeWarning")


@pytest.mark.parametrize("name", ["FERROKIT_NUM_THREADS", "OMP_NUM_THREADS"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "2e3", "+"])
def test_invalid_env_value_warns_once_and_falls_back(name: str, value: str) -> None:
    cpus = len(os.sched_getaffinity(0))
    out, warns = _probe(**{name: value})
    assert out == [str(cpus), str(cpus), "True"]
    assert len(warns) == 1, warns
    assert (
        f'{name}="{value}" is not a positive integer (1..=1024): ignored; using the {cpus} usable CPUs'
        in warns[0]
    )


def test_invalid_ferrokit_variable_falls_back_to_omp() -> None:
    out, warns = _probe(FERROKIT_NUM_THREADS="abc", OMP_NUM_THREADS="3")
    assert out == ["3", "3", "True"]
    assert len(warns) == 1 and warns[0].endswith("ignored; using OMP_NUM_THREADS=3"), warns


def test_valid_env_values_give_no_warning_and_config_shows_them() -> None:
    out, warns = _probe(FERROKIT_NUM_THREADS="3", OMP_NUM_THREADS="abc")  # OMP not consulted
    assert out == ["3", "3", "True"] and warns == []
    out, warns = _probe(OMP_NUM_THREADS="4,2")
    assert out == ["4", "4", "True"] and warns == []
    proc = run_python(
        "import ferrokit as fk; c = fk.config()\n"
        "print(c['threads'], c['threads requested'], c['threads note'])",
        FERROKIT_NUM_THREADS="-1",
        OMP_NUM_THREADS="2",
    )
    assert proc.returncode == 0
    assert proc.stdout.split()[:2] == ["2", "None"]
    assert "ignored; using OMP_NUM_THREADS=2" in proc.stdout
    assert proc.stderr.count("RuntimeWarning") == 1


def test_env_clamp_does_not_hang_a_parallel_call() -> None:
    # The first parallel call with the clamp in effect finishes (it used to hang
    # at 999999; a 1024-thread pool on a small machine takes a few seconds).
    proc = run_python(
        "import numpy as np, ferrokit as fk\nprint(fk.stats.sum(np.ones(4_000_000)), fk.get_num_threads())",
        FERROKIT_NUM_THREADS="999999",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["4000000.0", "1024"]


@pytest.mark.parametrize("value", ["abc", "0", "-2", ""])
def test_bad_env_variable_does_not_break_import(value: str) -> None:
    proc = run_python(
        "import ferrokit as fk; print(fk.get_num_threads()); print(fk.dot_product([1.0, 2.0], [3.0, 4.0]))",
        FERROKIT_NUM_THREADS=value,
    )
    assert proc.returncode == 0, proc.stderr
    n, dot = proc.stdout.split()
    assert int(n) >= 1
    assert float(dot) == 11.0


# --- information for users ----------------------------------------------------------


def test_version_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ferrokit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "FERROKIT_NUM_THREADS": "2"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    lines = {
        k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)
    }
    assert lines["ferrokit"] == fk.__version__
    assert lines["abi version"] == str(fk.abi_version())
    assert lines["threads"] == "2"
    assert lines["simd"] == fk.simd_level()
    assert fk.simd_level() in {"avx512", "avx2", "sse2", "neon", "scalar"}


def test_show_config_prints_the_same_facts(capsys: pytest.CaptureFixture[str]) -> None:
    with fk.threads(1):
        fk.show_config()
    out = capsys.readouterr().out
    assert fk.__version__ in out
    assert "abi version" in out and str(fk.abi_version()) in out
    assert "threads: 1" in out
    assert fk.simd_level() in out
    cfg = fk.config()
    assert cfg["abi version"] == fk.abi_version() == cfg["expected abi version"]


def test_get_include_and_get_library() -> None:
    include = fk.get_include()
    assert os.path.isdir(include)
    header = os.path.join(include, "ferrokit.h")
    assert os.path.isfile(header)
    with open(header, encoding="utf-8") as f:
        text = f.read()
    assert "fk_add_numbers" in text and "fk_dot_f64" in text and "fk_normalize_f64" in text
    lib = fk.get_library()
    assert os.path.isfile(lib)
    with open(lib, "rb") as f:
        assert f.read(4) == b"\x7fELF"


# --- the GIL is released during kernel calls ------------------------------------------


class _Spinner:
    """A Python thread that notes every stretch of time it could not run (needs the GIL)."""

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        clock = time.perf_counter
        stalls = self.stalls
        last = clock()
        while not self._stop:
            now = clock()
            if now - last > 5e-4:
                stalls.append((last, now))
            last = now

    def __enter__(self) -> _Spinner:
        self._thread.start()
        time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join()

    def longest_stall_while(self, fn: Callable[[], object]) -> float:
        """The longest time the spinner stood still while ``fn`` ran, as a fraction of its run time."""
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        time.sleep(0.005)  # let the spinner record the stall that ``fn`` may have caused
        longest = max((min(b, t1) - max(a, t0) for a, b in self.stalls if b > t0 and a < t1), default=0.0)
        return longest / (t1 - t0)


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(), reason="free-threaded Python: no GIL to release"
)
@pytest.mark.parametrize("kernel", ["normalize", "dot_product"])
def test_gil_released_during_kernel_calls(kernel: str) -> None:
    """While ferrokit runs a kernel, another Python thread keeps running.

    A pure-Python thread notes every moment it could not run while the main thread
    calls the kernel (1 ferrokit thread, 2*10**7 float64). If the call held the GIL
    the spinner would stand still for the whole call, as it does during a GIL-holding
    C call of the same length (``sum(range(...))``, the control); with the GIL
    released it stalls only when the OS schedules something else. This stays true on
    a loaded machine, unlike a wall-clock "two threads beat sequential" comparison
    (both kernels are memory-bound: two of them in parallel gain nothing on this
    2-core machine, GIL or not).
    """
    x = np.random.default_rng(0).random(2 * 10**7)
    out = np.empty_like(x)
    if kernel == "normalize":

        def calls() -> None:
            for _ in range(2):
                fk.normalize(x, out=out)
    else:

        def calls() -> None:
            for _ in range(4):
                fk.dot_product(x, x)

    def gil_held() -> None:  # a C loop of about the same length that keeps the GIL
        sum(range(1_500_000))

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(2e-4)  # the spinner gets the GIL back quickly between calls
    try:
        with fk.threads(1), _Spinner() as spinner:
            calls()  # warm up: first touch of out, pool start
            kernel_stall, held_stall = [], []
            for _ in range(5):
                kernel_stall.append(spinner.longest_stall_while(calls))
                held_stall.append(spinner.longest_stall_while(gil_held))
    finally:
        sys.setswitchinterval(old_interval)
    kernel_stall.sort()
    held_stall.sort()
    assert held_stall[2] > 0.6, ("the method cannot see a held GIL", held_stall)
    assert kernel_stall[2] < 0.4, (kernel_stall, held_stall)


def test_concurrent_calls_from_threads_are_correct() -> None:
    rng = np.random.default_rng(9)
    xs = [rng.random(300_000) * (i + 1) for i in range(4)]
    want_norm = [fk.normalize(x) for x in xs]
    want_dot = [fk.dot_product(x, x) for x in xs]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                assert np.array_equal(fk.normalize(xs[i]), want_norm[i])
                assert fk.dot_product(xs[i], xs[i]) == want_dot[i]
                with pytest.raises(ValueError, match=r"^Vectors must be of the same length$"):
                    fk.dot_product(xs[i], xs[i][:-1])
                with pytest.raises(fk.NonFiniteError):
                    fk.normalize([1.0, float("inf")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
