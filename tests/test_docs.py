"""Documentation that runs (issue 13).

- every ```python block of README.md and examples/c/README.md runs as written,
  each in a fresh interpreter in an empty folder, except that integer literals
  written with ``_`` separators (the large sizes: ``1_000_000``,
  ``20_000_000``, ...) are divided by 1000 so the suite stays fast;
- the output shown in examples/c/README.md is the real output of
  examples/c/seed_demo.c (compiled and run here), line for line;
- the C quick start of README.md compiles and prints what its comments say.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

import ferrokit as fk

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "examples" / "c" / "README.md"]


def _blocks(path: pathlib.Path, lang: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block of ``lang`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    found = []
    for m in re.finditer(rf"^```{lang}[ \t]*\n(.*?)^```", text, re.S | re.M):
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def _scaled(code: str) -> str:
    return re.sub(
        r"\b\d{1,3}(?:_\d{3})+\b", lambda m: str(max(1, int(m.group().replace("_", "")) // 1000)), code
    )


PY_BLOCKS = [
    pytest.param(code, id=f"{path.relative_to(ROOT)}:{line}")
    for path in DOCS
    for line, code in _blocks(path, "python")
]


def test_the_docs_have_python_blocks() -> None:
    assert len(PY_BLOCKS) >= 6


@pytest.mark.parametrize("code", PY_BLOCKS)
def test_python_block_runs(code: str, tmp_path: pathlib.Path) -> None:
    (tmp_path / "block.py").write_text(_scaled(code), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-W", "ignore", "block.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"block failed:\n{code}\n--- stderr ---\n{r.stderr[-3000:]}"


#: The README's C blocks are C99 but not pedantic-clean.
README_C_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")


def test_c_readme_shows_the_real_output(build_c) -> None:
    readme = DOCS[1].read_text(encoding="utf-8")
    shown = re.search(r"Expected output.*?\n```\n(.*?)```", readme, re.S)
    assert shown, "examples/c/README.md: no expected-output block"
    exe = build_c(ROOT / "examples" / "c" / "seed_demo.c", README_C_FLAGS)
    real = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert shown.group(1).splitlines() == real.splitlines()
    assert f"abi_version: {fk.abi_version()}" in shown.group(1)


def test_readme_c_quick_start(tmp_path: pathlib.Path, build_c) -> None:
    (block,) = [code for _, code in _blocks(DOCS[0], "c")]
    (tmp_path / "demo.c").write_text(block, encoding="utf-8")
    exe = build_c(tmp_path / "demo.c", README_C_FLAGS)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("FK_ERR_LENGTH_MISMATCH: Vectors must be of the same length")
