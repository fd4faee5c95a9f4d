"""Library information, thread control and paths for C users."""

from __future__ import annotations

import contextlib
import operator
import os
import pathlib
from collections.abc import Iterator

from ferrokit._errors import raise_for_status
from ferrokit._native import EXPECTED_ABI_VERSION, ffi, lib

_PKG_DIR = pathlib.Path(__file__).resolve().parent


def get_num_threads() -> int:
    """The number of threads ferrokit's kernels use.

    Set by :func:`set_num_threads`, else ``FERROKIT_NUM_THREADS``, else
    ``OMP_NUM_THREADS``, else the CPUs this process may use.

    >>> import ferrokit as fk
    >>> fk.get_num_threads() >= 1
    True
    """
    return int(lib.fk_get_num_threads())


def set_num_threads(n: int | None) -> None:
    """Sets the number of threads kernels use from the next call on.

    ``None`` restores the default. Results do not depend on the thread count.

    >>> import ferrokit as fk
    >>> fk.set_num_threads(1); fk.get_num_threads()
    1
    >>> fk.set_num_threads(None)
    """
    if n is None:
        n = 0
    else:
        try:
            n = operator.index(n)  # ints and numpy integers
        except TypeError:
            raise TypeError(f"set_num_threads: n must be an int or None, got {type(n).__name__}") from None
        if n < 1:
            raise ValueError(f"set_num_threads: n must be >= 1 (or None for the default), got {n}")
    st = lib.fk_set_num_threads(n)
    if st:
        raise_for_status(st)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Context manager: run the block with ``n`` threads, then restore.

    >>> import ferrokit as fk
    >>> with fk.threads(1):
    ...     fk.get_num_threads()
    1
    """
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def version() -> str:
    """The version of the loaded native library."""
    return ffi.string(lib.fk_version()).decode()


def abi_version() -> int:
    """The C ABI version of the loaded native library."""
    return int(lib.fk_abi_version())


def simd_level() -> str:
    """The SIMD instruction set the kernels use on this CPU: avx512, avx2 or sse2."""
    return ffi.string(lib.fk_simd_level()).decode()


def get_include() -> str:
    """The folder holding ``ferrokit.h``, for compiling C/C++ against ferrokit.

    >>> import os, ferrokit as fk
    >>> os.path.exists(os.path.join(fk.get_include(), "ferrokit.h"))
    True
    """
    return str(_PKG_DIR / "include")


def get_library() -> str:
    """The path of the shared library ``libferrokit.so`` shipped with the package.

    Link with ``-L$(dirname ...) -lferrokit`` (and an rpath) or pass the path itself.

    >>> import os, ferrokit as fk
    >>> os.path.exists(fk.get_library())
    True
    """
    return str(_PKG_DIR / "libferrokit.so")


def config() -> dict[str, object]:
    """The facts :func:`show_config` prints, as a dict."""
    from ferrokit import __version__

    return {
        "ferrokit": __version__,
        "native library": version(),
        "abi version": abi_version(),
        "expected abi version": EXPECTED_ABI_VERSION,
        "threads": get_num_threads(),
        "FERROKIT_NUM_THREADS": os.environ.get("FERROKIT_NUM_THREADS"),
        "simd": simd_level(),
        "library": get_library(),
        "include": get_include(),
    }


def show_config() -> None:
    """Prints version, ABI version, thread count, SIMD level and paths."""
    for k, v in config().items():
        print(f"{k:>22}: {v}")
