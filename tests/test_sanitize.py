"""The C programs under valgrind memcheck: no invalid access, no definite leak.

`make sanitize` runs the same checks; this test keeps them in `make test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = [
    ROOT / "examples" / "c" / "seed_demo.c",
    ROOT / "examples" / "c" / "stats_demo.c",
    ROOT / "examples" / "c" / "knn_search.c",
    ROOT / "examples" / "c" / "text_vectorize.c",
    ROOT / "tests" / "c" / "stress.c",
]
MLP_MODEL = ROOT / "rustlib" / "fuzz" / "regressions" / "mlp_load" / "classifier-3class.bin"

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("gcc") is None, reason="needs valgrind and gcc"
)


#: Debug information for valgrind's reports.
DEBUG_C_FLAGS = ("-std=c99", "-g", "-O1")


@pytest.mark.parametrize("src", PROGRAMS, ids=lambda p: p.name)
def test_c_program_is_memcheck_clean(src: Path, build_c) -> None:
    exe = build_c(src, DEBUG_C_FLAGS)
    r = subprocess.run(
        ["valgrind", "--error-exitcode=99", "--leak-check=full",
         "--errors-for-leak-kinds=definite,indirect", str(exe)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr


def test_mlp_predict_is_memcheck_clean_and_rejects_a_truncated_file(tmp_path: Path, build_c) -> None:
    exe = build_c(ROOT / "examples" / "c" / "mlp_predict.c", DEBUG_C_FLAGS)
    samples = "\n".join(" ".join(["0.25"] * 5) for _ in range(4)) + "\n"
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(MLP_MODEL.read_bytes()[:-7])
    for model, want in ((MLP_MODEL, 0), (truncated, 1)):
        r = subprocess.run(
            ["valgrind", "--error-exitcode=99", "--leak-check=full",
             "--errors-for-leak-kinds=definite,indirect", str(exe), str(model)],
            input=samples, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == want, r.stdout[-2000:] + r.stderr[-4000:]
        assert "ERROR SUMMARY: 0 errors" in r.stderr


PY_SCRIPT = """
import numpy as np, ferrokit as fk
x = np.random.default_rng(0).random(300_001)
for t in (1, 2):
    fk.set_num_threads(t)
    fk.dot_product(x, x); fk.normalize(x); fk.normalize(x.astype(np.float32))
    fk.normalize(x, out=x.copy()); fk.dot_product(list(x[:100]), x[:100])
    try:
        fk.dot_product(x, x[:-1])
    except ValueError:
        pass
    fk.add_numbers(1, 2)
print("ok")
"""


def test_python_calls_under_memcheck_are_clean_inside_ferrokit(tmp_path: Path) -> None:
    """The seed functions called from Python under valgrind: no error report has
    a frame in libferrokit or the cffi module. (CPython and numpy themselves
    trigger known uninitialised-value reports under valgrind; those are not ours.)"""
    import sys

    script = tmp_path / "calls.py"
    script.write_text(PY_SCRIPT)
    r = subprocess.run(
        ["valgrind", "--leak-check=no", "--num-callers=40", sys.executable, str(script)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONMALLOC": "malloc"},
    )  # fmt: skip
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]
    # Any report line naming a frame of ours means a report touches our code.
    ours = [
        line for line in r.stderr.splitlines() if "libferrokit" in line or "_ffi" in line or " fk_" in line
    ]
    assert ours == [], "\n".join(ours[:20])
    assert "ERROR SUMMARY" in r.stderr
