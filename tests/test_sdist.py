"""The source distribution (issue 13, packaging).

- default (a few seconds): ``python -m build --sdist --no-isolation`` runs
  without warnings (``project.license`` is an SPDX string, so no setuptools
  deprecation), ships what a source build needs (the Rust workspace and lock
  file, the committed header, the cffi builder and cdef) and no build output;
- ``FERROKIT_SLOW_TESTS=1`` (``make test-sdist``; about 2-4 minutes, it compiles
  the Rust library in release mode from scratch, so it is not part of
  ``make test``): the sdist built in an isolated environment installs into a
  clean virtualenv and passes ``python -m ferrokit selftest`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = [
    "pyproject.toml",
    "setup.py",
    "README.md",
    "include/ferrokit.h",
    "pybind/ferrokit/_build_ffi.py",
    "pybind/ferrokit/_cdef.h",
    "pybind/ferrokit/__init__.py",
    "pybind/ferrokit/py.typed",
    "rustlib/Cargo.toml",
    "rustlib/Cargo.lock",
    "rustlib/core/Cargo.toml",
    "rustlib/core/src/lib.rs",
    "rustlib/capi/Cargo.toml",
    "rustlib/capi/src/lib.rs",
    "rustlib/capi/cbindgen.toml",
    "rustlib/header-gen/Cargo.toml",  # a workspace member: cargo needs its manifest
    "docs/mlp_format.md",
]


def _build_sdist(out: Path, *extra: str) -> tuple[Path, str]:
    pytest.importorskip("build")
    r = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), *extra, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (sdist,) = out.glob("ferrokit-*.tar.gz")
    return sdist, r.stdout + r.stderr


def test_license_is_an_spdx_expression() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT OR Apache-2.0"


def test_sdist_ships_the_sources_without_warnings(tmp_path: Path) -> None:
    sdist, log = _build_sdist(tmp_path, "--no-isolation")
    assert "deprecat" not in log.lower(), log
    assert "warning" not in log.lower(), log
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        pkg_info = tar.extractfile(f"{sdist.name[: -len('.tar.gz')]}/PKG-INFO").read().decode()  # type: ignore[union-attr]
    missing = [n for n in NEEDED if n not in names]
    assert not missing, missing
    # Every Rust source of the two library crates is there.
    for crate in ("core", "capi"):
        for src in (ROOT / "rustlib" / crate / "src").rglob("*.rs"):
            assert str(src.relative_to(ROOT)) in names, src
    built = [n for n in names if n.startswith(("rustlib/target", "rustlib/fuzz")) or n.endswith(".so")]
    assert not built, built[:10]
    assert "License-Expression: MIT OR Apache-2.0" in pkg_info


@pytest.mark.skipif(
    os.environ.get("FERROKIT_SLOW_TESTS") != "1",
    reason="compiles the Rust library from scratch (minutes): FERROKIT_SLOW_TESTS=1 / make test-sdist",
)
def test_sdist_builds_in_a_clean_venv_and_passes_selftest(tmp_path: Path) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("needs cargo")
    sdist, _ = _build_sdist(tmp_path / "dist")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "FERROKIT"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(sdist)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    selftest = [str(py), "-m", "ferrokit", "selftest"]
    r = subprocess.run(selftest, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "selftest: all passed" in r.stdout
    assert str(env_dir) in r.stdout  # the installed copy ran, not the source tree
