"""Loads the native library and checks its ABI version. Nothing else."""

from __future__ import annotations

#: The C ABI version this Python package was written against.
EXPECTED_ABI_VERSION = 5

try:
    from ferrokit._ffi import ffi, lib
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "ferrokit's native library could not be loaded "
        f"({exc}). Build it from a source checkout with `pip install .` "
        "(needs a Rust toolchain: cargo) or install a ferrokit wheel."
    ) from exc


def check_abi(expected: int = EXPECTED_ABI_VERSION) -> None:
    """Raises ImportError naming both versions if the library's ABI differs."""
    found = int(lib.fk_abi_version())
    if found != expected or int(lib.FK_ABI_VERSION) != expected:
        raise ImportError(
            f"ferrokit ABI mismatch: the Python package expects ABI version "
            f"{expected}, the loaded native library reports {found} "
            f"(compiled header: {int(lib.FK_ABI_VERSION)}). Reinstall ferrokit so "
            "both come from the same build."
        )


check_abi()

__all__ = ["EXPECTED_ABI_VERSION", "check_abi", "ffi", "lib"]
