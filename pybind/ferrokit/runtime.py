"""Library information, thread control and paths for C users."""

from __future__ import annotations

import contextlib
import operator
import os
import pathlib
import warnings
from collections.abc import Iterator

import numpy as np

from ferrokit._errors import raise_for_status
from ferrokit._native import EXPECTED_ABI_VERSION, ffi, lib

_PKG_DIR = pathlib.Path(__file__).resolve().parent

#: The largest thread count (``set_num_threads`` accepts 1 to this; the
#: environment variables are clamped to it).
MAX_THREADS = int(lib.FK_MAX_THREADS)

_warned: set[str] = set()


def _env_warning() -> str:
    """The library's note on ``FERROKIT_NUM_THREADS`` / ``OMP_NUM_THREADS``
    (clamped or ignored values), or "" when they are fine or unset."""
    n = int(lib.fk_num_threads_warning(ffi.NULL, 0))
    if n == 0:
        return ""
    buf = ffi.new("char[]", n + 1)
    lib.fk_num_threads_warning(buf, n + 1)
    return ffi.string(buf).decode("utf-8", "replace")


def _warn_env_once(stacklevel: int = 3) -> None:
    """Issues a RuntimeWarning for a clamped or ignored thread-count variable,
    once per distinct message (checked at import and by get_num_threads/config)."""
    msg = _env_warning()
    if msg and msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel)


def get_num_threads() -> int:
    """The number of threads ferrokit's kernels use.

    Set by :func:`set_num_threads`, else ``FERROKIT_NUM_THREADS``, else
    ``OMP_NUM_THREADS``, else the CPUs this process may use. An environment
    value above :data:`MAX_THREADS` (1024) is clamped to it; one that is not a
    positive integer (``0``, ``-1``, ``abc``, ``1.5``) is ignored and the next
    source used; either issues one ``RuntimeWarning`` saying what is used.

    The two variables are read once, when ferrokit is imported: changing
    ``os.environ`` later does not change the default (``dask.distributed``
    sets ``OMP_NUM_THREADS=1`` in the client's environment when a
    ``LocalCluster`` starts, for its worker processes; ferrokit in the client
    keeps its threads). Use :func:`set_num_threads` to change the count at run
    time; ``set_num_threads(None)`` restores the default read at import.

    >>> import ferrokit as fk
    >>> fk.get_num_threads() >= 1
    True
    """
    _warn_env_once()
    return int(lib.fk_get_num_threads())


def set_num_threads(n: int | None) -> None:
    """Sets the number of threads kernels use from the next call on.

    ``n`` is an int from 1 to :data:`MAX_THREADS` (1024); ``None`` restores the
    default (see :func:`get_num_threads`). Results do not depend on the thread
    count. Raises ``TypeError`` for anything but an int or None (``True``
    included) and ``ValueError`` outside the range.

    >>> import ferrokit as fk
    >>> fk.set_num_threads(1); fk.get_num_threads()
    1
    >>> fk.set_num_threads(None)
    """
    if n is None:
        n = 0
    else:
        if isinstance(n, (bool, np.bool_)):
            raise TypeError(f"set_num_threads: n must be an int or None, got {type(n).__name__}")
        try:
            n = operator.index(n)  # ints and numpy integers
        except TypeError:
            raise TypeError(f"set_num_threads: n must be an int or None, got {type(n).__name__}") from None
        if not 1 <= n <= MAX_THREADS:
            raise ValueError(
                f"set_num_threads: n must be between 1 and {MAX_THREADS} (or None for the default), got {n}"
            )
    st = lib.fk_set_num_threads(n)
    if st:
        raise_for_status(st)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Context manager: run the block with ``n`` threads, then restore the
    previous setting exactly (an explicit count, or ``None``: the default).

    >>> import ferrokit as fk
    >>> with fk.threads(1):
    ...     fk.get_num_threads()
    1
    """
    before = requested_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def requested_num_threads() -> int | None:
    """The count last given to :func:`set_num_threads`, or ``None`` when the
    default applies; ``set_num_threads(requested_num_threads())`` restores a
    setting exactly (``get_num_threads`` gives the count in effect instead).

    >>> import ferrokit as fk
    >>> with fk.threads(2):
    ...     fk.requested_num_threads()
    2
    >>> fk.set_num_threads(None); fk.requested_num_threads() is None
    True
    """
    n = int(lib.fk_requested_num_threads())
    return n or None


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

    _warn_env_once()
    return {
        "ferrokit": __version__,
        "native library": version(),
        "abi version": abi_version(),
        "expected abi version": EXPECTED_ABI_VERSION,
        "threads": get_num_threads(),
        "threads requested": requested_num_threads(),
        "FERROKIT_NUM_THREADS": os.environ.get("FERROKIT_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "threads note": _env_warning() or None,
        "simd": simd_level(),
        "library": get_library(),
        "include": get_include(),
    }


def show_config() -> None:
    """Prints version, ABI version, thread count, SIMD level and paths."""
    for k, v in config().items():
        print(f"{k:>22}: {v}")
