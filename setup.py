"""Builds the Rust library with cargo, then the cffi module that links it.

``pip install .`` / ``pip wheel .`` / ``pip install -e .`` all run ``build_ext``
below: it runs ``cargo build --release`` for the ``ferrokit`` crate and the
``ferrokit-serve`` server binary, compiles
the cffi API-mode module ``ferrokit._ffi`` against it, and places
``libferrokit.so`` and ``include/ferrokit.h`` next to that module (an
``$ORIGIN`` rpath makes the module find the library there, and C users get both
through ``ferrokit.get_library()`` / ``ferrokit.get_include()``). The
``ferrokit-serve`` binary goes there too (``python -m ferrokit serve`` runs it).

Environment: ``FERROKIT_CARGO_FEATURES`` (e.g. ``testing``) adds cargo features;
``CARGO`` names the cargo binary.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent
RUSTLIB = ROOT / "rustlib"
LIB_NAME = "libferrokit.so"
SERVE_BIN = "ferrokit-serve"


def cargo_build() -> pathlib.Path:
    cargo = os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        raise RuntimeError(
            "building ferrokit from source needs a Rust toolchain (cargo) on PATH; "
            "install one from rustup or install a prebuilt ferrokit wheel"
        )
    cmd = [cargo, "build", "--release", "--locked", "-p", "ferrokit", "-p", "ferrokit-serve"]
    features = os.environ.get("FERROKIT_CARGO_FEATURES", "").strip()
    if features:
        cmd += ["--features", ",".join(f"ferrokit/{f}" for f in features.split(","))]
    print("running", " ".join(cmd))
    subprocess.run(cmd, cwd=RUSTLIB, check=True)
    return RUSTLIB / "target" / "release"


class BuildExtWithCargo(build_ext):
    """build_ext that first builds the Rust cdylib and ships it with the module."""

    def run(self) -> None:
        libdir = cargo_build()
        for ext in self.extensions:
            if str(libdir) not in ext.library_dirs:
                ext.library_dirs.append(str(libdir))
        super().run()
        for ext in self.extensions:
            dest = pathlib.Path(self.get_ext_fullpath(ext.name)).parent
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(libdir / LIB_NAME, dest / LIB_NAME)
            shutil.copy2(libdir / SERVE_BIN, dest / SERVE_BIN)
            (dest / "include").mkdir(exist_ok=True)
            shutil.copy2(ROOT / "include" / "ferrokit.h", dest / "include" / "ferrokit.h")


setup(
    cffi_modules=["pybind/ferrokit/_build_ffi.py:ffibuilder"],
    cmdclass={"build_ext": BuildExtWithCargo},
)
