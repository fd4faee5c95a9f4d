"""Packaging: the wheel works without Rust, and import failures are explained."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import ferrokit as fk
from ferrokit import _native

ROOT = Path(__file__).resolve().parent.parent


def test_abi_mismatch_names_both_versions() -> None:
    with pytest.raises(ImportError) as exc:
        _native.check_abi(expected=999)
    msg = str(exc.value)
    assert "999" in msg and f"reports {fk.abi_version()}" in msg


def test_abi_matches() -> None:
    _native.check_abi()
    assert fk.abi_version() == _native.EXPECTED_ABI_VERSION


def test_missing_library_gives_import_error_with_build_hint(tmp_path: Path) -> None:
    pkg = Path(fk.__file__).parent
    copy = tmp_path / "ferrokit"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("libferrokit.so", "__pycache__"))
    r = subprocess.run(
        [sys.executable, "-c", "import ferrokit"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert "pip install ." in r.stderr and "cargo" in r.stderr


def test_version_cli_reports_versions_threads_and_simd() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ferrokit", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FERROKIT_NUM_THREADS": "3"},
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert fk.__version__ in out
    assert f"abi version: {fk.abi_version()}" in out
    assert "threads: 3" in out
    assert f"simd: {fk.simd_level()}" in out and fk.simd_level() in ("avx512", "avx2", "sse2")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_wheel_installs_into_clean_venv_without_rust_and_passes_selftest(tmp_path: Path) -> None:
    """`make wheel`, then install it into a fresh virtualenv whose PATH has no
    cargo/rustc, and run `python -m ferrokit selftest` there (outside the source tree)."""
    r = subprocess.run(["make", "-s", "wheel"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = sorted((ROOT / "dist").glob("ferrokit-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    py = env_dir / "bin" / "python"
    clean_env = {
        "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for key in ("PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_EXTRA_INDEX_URL", "SSL_CERT_FILE"):
        if key in os.environ:
            clean_env[key] = os.environ[key]
    assert shutil.which("cargo", path=clean_env["PATH"]) is None
    assert shutil.which("rustc", path=clean_env["PATH"]) is None
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(wheels[0])],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(
        [str(py), "-m", "ferrokit", "selftest"],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "selftest: all passed" in r.stdout
    assert str(env_dir) in r.stdout  # the installed copy ran, not the source tree
    # The wheel carries the header and library for C users.
    r = subprocess.run(
        [str(py), "-c", "import ferrokit as f, os; print(os.path.exists(f.get_library()), f.get_include())"],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.startswith("True"), r.stdout + r.stderr
    assert (Path(r.stdout.split()[1].strip()) / "ferrokit.h").exists()
    # The benchmark subpackage ships too (python -m ferrokit bench works from the wheel).
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "ferrokit/benchmarks/__init__.py" in names and "ferrokit/benchmarks/seed.py" in names
