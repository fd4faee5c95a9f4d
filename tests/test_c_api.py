"""The C ABI as a C user sees it: the example program, the header, status codes, panics.

- ``examples/c/seed_demo.c`` is compiled with strict warnings against the installed
  header and library, run, and its output checked line by line;
- ``include/ferrokit.h`` compiles alone as C99 and C++11 and is fresh (the pinned
  cbindgen regenerates the same bytes);
- every ``FK_ERR_*`` status of the header has a name and a Python exception class;
- a Rust panic, on the calling thread or in a pool worker, comes back as
  ``FK_ERR_PANIC`` and leaves the library usable (needs the cargo feature ``testing``);
- corner cases of the error API, called through cffi exactly as from C.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import cffi
import pytest

import ferrokit as fk
from ferrokit import _errors
from ferrokit._native import ffi, lib

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "ferrokit.h"
DEMO = ROOT / "examples" / "c" / "seed_demo.c"

GCC = shutil.which("gcc")
GXX = shutil.which("g++")
CARGO = shutil.which("cargo")

needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not found on PATH")
needs_gxx = pytest.mark.skipif(GXX is None, reason="g++ not found on PATH")

FK_ERR_PANIC = 7
REBUILD_HINT = (
    "the native library was built without the cargo feature `testing`, so it lacks "
    "fk_test_panic; rebuild it with `FERROKIT_CARGO_FEATURES=testing pip install -e .` "
    "(add --no-build-isolation in an offline checkout)"
)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)


def _header_statuses() -> dict[str, int]:
    """``FK_*`` enumerators of ``enum fk_status`` in the committed header."""
    text = HEADER.read_text()
    enum = re.search(r"enum fk_status\b[^{]*\{(.*?)\};", text, re.S)
    assert enum, "enum fk_status not found in include/ferrokit.h"
    body = re.sub(r"/\*.*?\*/", "", enum.group(1), flags=re.S)
    found = dict(re.findall(r"\b(FK_\w+)\s*=\s*(-?\d+)", body))
    return {name: int(v) for name, v in found.items()}


HEADER_STATUSES = _header_statuses()
ERROR_STATUSES = {k: v for k, v in HEADER_STATUSES.items() if k.startswith("FK_ERR_")}


# --------------------------------------------------------------------------- the example


@pytest.fixture(scope="module")
def demo_output(build_c) -> list[str]:
    exe = build_c(DEMO)
    run = _run([str(exe)])
    assert run.returncode == 0, f"seed_demo exited with {run.returncode}\n{run.stdout}{run.stderr}"
    return run.stdout.splitlines()


def _line(lines: list[str], prefix: str) -> str:
    hits = [ln for ln in lines if ln.startswith(prefix)]
    assert len(hits) == 1, f"expected one line starting with {prefix!r} in:\n" + "\n".join(lines)
    return hits[0]


def test_demo_versions(demo_output: list[str]) -> None:
    assert _line(demo_output, "abi_version:") == f"abi_version: {fk.abi_version()}"
    assert _line(demo_output, "version:") == f"version: {fk.runtime.version()}"
    assert demo_output[-1] == "ok"


def test_demo_values(demo_output: list[str]) -> None:
    assert "add_numbers(5, 7) = 12" in demo_output
    assert "dot_product = 32" in demo_output
    assert "normalize: 0 1 0.5 nan" in demo_output
    assert "normalize_inplace: 0 1 0.5 nan" in demo_output
    assert "normalize_f32: 0 0.25 0.5 1" in demo_output


@pytest.mark.parametrize(
    ("prefix", "status", "message"),
    [
        ("add_numbers(INT32_MAX, 1):", "FK_ERR_OVERFLOW", "overflows a 32-bit signed integer"),
        ("dot_product(3, 2):", "FK_ERR_LENGTH_MISMATCH", "Vectors must be of the same length"),
        ("normalize(inf):", "FK_ERR_NON_FINITE", "infinity"),
    ],
)
def test_demo_errors(demo_output: list[str], prefix: str, status: str, message: str) -> None:
    line = _line(demo_output, prefix)
    rest = line[len(prefix) :].strip()
    assert rest.startswith(status + " "), line
    assert message in rest, line


# --------------------------------------------------------------------------- the header

HEADER_USER = textwrap.dedent(
    """\
    #include <ferrokit.h>

    int main(void)
    {
        int32_t sum = 0;
        fk_status st = fk_add_numbers(1, 2, &sum);
        return (st == FK_OK && fk_abi_version() == FK_ABI_VERSION) ? 0 : 1;
    }
    """
)


@needs_gcc
def test_header_compiles_as_c99(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "use_header.c"
    src.write_text(HEADER_USER)
    flags = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
    r = _run([GCC, *flags, "-I", fk.get_include(), str(src)])
    assert r.returncode == 0, r.stderr


@needs_gxx
def test_header_compiles_as_cxx11(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "use_header.cpp"
    src.write_text(HEADER_USER)
    flags = ["-x", "c++", "-std=c++11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic"]
    r = _run([GXX, *flags, "-I", fk.get_include(), str(src)])
    assert r.returncode == 0, r.stderr


def test_installed_header_is_the_committed_one() -> None:
    installed = pathlib.Path(fk.get_include()) / "ferrokit.h"
    assert installed.read_text() == HEADER.read_text(), (
        f"{installed} differs from include/ferrokit.h: reinstall the package (pip install -e .)"
    )


@pytest.mark.skipif(CARGO is None, reason="cargo not found on PATH")
def test_header_is_fresh() -> None:
    r = _run(
        [CARGO, "run", "-q", "--locked", "-p", "ferrokit-header-gen", "--", "--verify"],
        cwd=ROOT / "rustlib",
    )
    assert r.returncode == 0, f"header generator --verify failed:\n{r.stdout}{r.stderr}"


# --------------------------------------------------------------------------- status codes


def test_header_status_numbers_are_distinct() -> None:
    assert HEADER_STATUSES.get("FK_OK") == 0
    assert len(ERROR_STATUSES) >= 10
    assert len(set(HEADER_STATUSES.values())) == len(HEADER_STATUSES)
    for name, value in HEADER_STATUSES.items():
        assert getattr(lib, name) == value, name


def test_every_error_status_has_its_own_exception() -> None:
    table = _errors.EXCEPTION_BY_STATUS
    assert set(table) == set(ERROR_STATUSES.values())
    classes = [table[v] for v in ERROR_STATUSES.values()]
    assert len(set(classes)) == len(classes), "two statuses share an exception class"
    for cls in classes:
        assert issubclass(cls, fk.FerrokitError), cls
        assert cls is not fk.FerrokitError


@pytest.mark.parametrize(("name", "value"), sorted(HEADER_STATUSES.items(), key=lambda kv: kv[1]))
def test_status_name_matches_header(name: str, value: int) -> None:
    assert ffi.string(lib.fk_status_name(value)).decode() == name


@pytest.mark.parametrize("value", [12345, -1, len(HEADER_STATUSES), 2**31 - 1, -(2**31)])
def test_status_name_of_unknown_value(value: int) -> None:
    assert ffi.string(lib.fk_status_name(value)).decode() == "FK_UNKNOWN_STATUS"


# --------------------------------------------------------------------------- panics

PANIC_CDEF = "int32_t fk_test_panic(int32_t where_); size_t fk_last_error_message(char *buf, size_t cap);"


def _message(ffi2: cffi.FFI, lib2) -> str:
    n = lib2.fk_last_error_message(ffi2.NULL, 0)
    buf = ffi2.new("char[]", n + 1)
    assert lib2.fk_last_error_message(buf, n + 1) == n
    return ffi2.string(buf).decode()


_PANIC_HANDLE: list[tuple[cffi.FFI, object]] = []


def _panic_lib() -> tuple[cffi.FFI, object]:
    """A separate cffi ABI-mode handle on the library, declaring the test-only export.

    Called in the test body (not a fixture) so a library built without the cargo
    feature ``testing`` makes the tests FAIL with the rebuild command, never skip.
    """
    if not _PANIC_HANDLE:
        ffi2 = cffi.FFI()
        ffi2.cdef(PANIC_CDEF)
        _PANIC_HANDLE.append((ffi2, ffi2.dlopen(fk.get_library())))
    ffi2, lib2 = _PANIC_HANDLE[0]
    if not hasattr(lib2, "fk_test_panic"):
        pytest.fail(REBUILD_HINT, pytrace=False)
    return ffi2, lib2


@pytest.mark.parametrize(
    ("where", "expected"),
    [(0, "deliberate panic on the calling thread"), (1, "deliberate panic in a pool worker")],
)
def test_panic_is_caught(where: int, expected: str) -> None:
    ffi2, lib2 = _panic_lib()
    assert lib2.fk_test_panic(where) == FK_ERR_PANIC
    msg = _message(ffi2, lib2)
    assert expected in msg, msg
    assert "panic" in msg
    # The library stays usable, on this thread and in the pool.
    assert fk.add_numbers(1, 2) == 3
    assert fk.dot_product([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    with fk.threads(2):
        n = 100_000
        assert fk.dot_product([1.0] * n, [2.0] * n) == 2.0 * n


def test_panic_in_every_pool_size() -> None:
    _, lib2 = _panic_lib()
    for n in (1, 2, 4):
        with fk.threads(n):
            assert lib2.fk_test_panic(1) == FK_ERR_PANIC
            assert lib2.fk_test_panic(0) == FK_ERR_PANIC
            assert fk.dot_product([1.0, 2.0], [3.0, 4.0]) == 11.0


def test_panic_maps_to_internal_error() -> None:
    _, lib2 = _panic_lib()
    assert lib2.fk_test_panic(1) == FK_ERR_PANIC
    with pytest.raises(fk.InternalError) as info:
        _errors.raise_for_status(FK_ERR_PANIC)
    err = info.value
    assert isinstance(err, RuntimeError)
    assert isinstance(err, fk.FerrokitError)
    assert "deliberate panic in a pool worker" in str(err)
    assert err.status == FK_ERR_PANIC
    assert err.status_name == "FK_ERR_PANIC"


def test_panic_does_not_abort_the_process() -> None:
    _panic_lib()  # fails early with the rebuild hint
    script = textwrap.dedent(
        f"""\
        import cffi
        import ferrokit as fk

        ffi2 = cffi.FFI()
        ffi2.cdef({PANIC_CDEF!r})
        lib2 = ffi2.dlopen(fk.get_library())
        for where in (0, 1, 0, 1):
            assert lib2.fk_test_panic(where) == {FK_ERR_PANIC}, where
        buf = ffi2.new("char[256]")
        lib2.fk_last_error_message(buf, 256)
        assert b"deliberate panic" in ffi2.string(buf)
        assert fk.add_numbers(1, 2) == 3
        assert fk.dot_product([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
        print("survived")
        """
    )
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    r = _run([sys.executable, "-c", script], env=env)
    assert r.returncode == 0, f"exit code {r.returncode} (negative = killed by a signal)\n{r.stderr}"
    assert r.stdout.strip() == "survived"
    # Rust's default hook reports each panic on stderr; nothing may say it aborted.
    assert "cannot unwind" not in r.stderr and "Aborted" not in r.stderr, r.stderr


# --------------------------------------------------------------------------- error API corner cases


def _last_error() -> str:
    n = lib.fk_last_error_message(ffi.NULL, 0)
    buf = ffi.new("char[]", n + 1)
    lib.fk_last_error_message(buf, n + 1)
    return ffi.string(buf).decode()


def test_last_error_message_length_query_and_truncation() -> None:
    x = ffi.new("double[]", [1.0, 2.0, 3.0])
    out = ffi.new("double *", 99.0)
    assert lib.fk_dot_f64(x, 3, x, 2, out) == lib.FK_ERR_LENGTH_MISMATCH
    assert out[0] == 99.0, "out written on error"
    expected = _last_error()
    assert "Vectors must be of the same length" in expected

    n = lib.fk_last_error_message(ffi.NULL, 0)
    assert n == len(expected.encode())

    small = ffi.new("char[4]", b"\x7f" * 4)
    assert lib.fk_last_error_message(small, 4) == n
    assert ffi.buffer(small)[:] == expected.encode()[:3] + b"\0"

    one = ffi.new("char[1]", b"\x7f")
    assert lib.fk_last_error_message(one, 1) == n
    assert ffi.buffer(one)[:] == b"\0"

    exact = ffi.new("char[]", n + 1)
    assert lib.fk_last_error_message(exact, n + 1) == n
    assert ffi.buffer(exact)[:] == expected.encode() + b"\0"

    # Successful calls do not clear the message.
    assert lib.fk_dot_f64(x, 3, x, 3, out) == lib.FK_OK
    assert out[0] == 14.0
    assert _last_error() == expected


def test_dot_null_pointers() -> None:
    y = ffi.new("double[]", [1.0, 2.0, 3.0])
    out = ffi.new("double *", 99.0)
    assert lib.fk_dot_f64(ffi.NULL, 3, y, 3, out) == lib.FK_ERR_NULL_POINTER == 1
    assert out[0] == 99.0
    assert "NULL" in _last_error()
    assert lib.fk_dot_f64(y, 3, y, 3, ffi.NULL) == lib.FK_ERR_NULL_POINTER
    # NULL with length 0 is an empty vector, not an error.
    assert lib.fk_dot_f64(ffi.NULL, 0, ffi.NULL, 0, out) == lib.FK_OK
    assert out[0] == 0.0


def test_set_num_threads_out_of_range() -> None:
    before = lib.fk_get_num_threads()
    assert lib.fk_set_num_threads(100_000) == lib.FK_ERR_INVALID_ARGUMENT
    assert "100000" in _last_error()
    assert lib.fk_get_num_threads() == before
    assert lib.fk_set_num_threads(lib.FK_MAX_THREADS + 1) == lib.FK_ERR_INVALID_ARGUMENT
