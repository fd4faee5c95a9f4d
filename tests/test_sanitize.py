"""The C programs under valgrind memcheck: no invalid access, no definite leak.

`make sanitize` runs the same checks; this test keeps them in `make test`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import ferrokit as fk

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = [ROOT / "examples" / "c" / "seed_demo.c", ROOT / "tests" / "c" / "stress.c"]

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("gcc") is None, reason="needs valgrind and gcc"
)


def _build(src: Path, tmp: Path) -> Path:
    lib = Path(fk.get_library())
    exe = tmp / src.stem
    cmd = ["gcc", "-std=c99", "-g", "-O1", str(src), "-I", fk.get_include(), str(lib),
           f"-Wl,-rpath,{lib.parent}", "-lm", "-o", str(exe)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


@pytest.mark.parametrize("src", PROGRAMS, ids=lambda p: p.name)
def test_c_program_is_memcheck_clean(src: Path, tmp_path: Path) -> None:
    exe = _build(src, tmp_path)
    r = subprocess.run(
        ["valgrind", "--error-exitcode=99", "--leak-check=full",
         "--errors-for-leak-kinds=definite,indirect", str(exe)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr
