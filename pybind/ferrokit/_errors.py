"""Status codes of the C ABI -> Python exception classes.

Each class is also the builtin exception a Python user expects
(``ShapeMismatchError`` is a ``ValueError``, ``InternalError`` a
``RuntimeError``), so ``except ValueError`` keeps working. Classes are written
out here, not generated at import, so they are visible to type checkers and docs.
"""

from __future__ import annotations

from typing import NoReturn

from ferrokit._native import ffi, lib


class FerrokitError(Exception):
    """Base class of every error raised by ferrokit's native library.

    ``status`` is the C status code, ``status_name`` its name in ``ferrokit.h``.
    """

    status: int = -1
    status_name: str = "FK_UNKNOWN_STATUS"


class NullPointerError(FerrokitError, ValueError):
    """A required buffer was missing (FK_ERR_NULL_POINTER)."""


class ShapeMismatchError(FerrokitError, ValueError):
    """Arguments that must have the same length or shape do not (FK_ERR_LENGTH_MISMATCH)."""


class InvalidArgumentError(FerrokitError, ValueError):
    """An argument is outside its documented domain (FK_ERR_INVALID_ARGUMENT)."""


class NonFiniteError(FerrokitError, ValueError):
    """The input holds infinity or NaN where it is not allowed (FK_ERR_NON_FINITE)."""


class IntegerOverflowError(FerrokitError, OverflowError):
    """An integer result does not fit its type (FK_ERR_OVERFLOW)."""


class AllocationError(FerrokitError, MemoryError):
    """The library could not allocate memory (FK_ERR_ALLOCATION)."""


class InternalError(FerrokitError, RuntimeError):
    """A bug inside the library was caught (a Rust panic, FK_ERR_PANIC); it stays usable."""


class MisalignedError(FerrokitError, ValueError):
    """A buffer is not aligned for its element type (FK_ERR_MISALIGNED)."""


class TooLargeError(FerrokitError, ValueError):
    """A length exceeds what the address space allows (FK_ERR_TOO_LARGE)."""


class AliasingError(FerrokitError, ValueError):
    """An output buffer partially overlaps an input (FK_ERR_ALIASING)."""


class FerrokitIOError(FerrokitError, OSError):
    """A file could not be opened, read or written (FK_ERR_IO)."""


class InvalidFormatError(FerrokitError, ValueError):
    """Data or a file is truncated, corrupted or not in the expected format (FK_ERR_INVALID_FORMAT)."""


class UnsupportedVersionError(FerrokitError, ValueError):
    """A file was written by an unsupported format version (FK_ERR_UNSUPPORTED_VERSION)."""


class InvalidStateError(FerrokitError, RuntimeError):
    """An object is used in a state that does not allow the call (FK_ERR_INVALID_STATE)."""


class ClosedError(InvalidStateError, ValueError):
    """A method was called on an object whose native handle was closed.

    Raised by every method of every handle-owning object (``nn.MLP``,
    ``neighbors.KnnIndex``, ...) after ``close()``. It is an
    ``InvalidStateError`` (a ``RuntimeError``) and, like an operation on a
    closed file, a ``ValueError``.

    >>> import numpy as np, ferrokit as fk
    >>> index = fk.neighbors.KnnIndex(2)
    >>> index.close()
    >>> try:
    ...     index.add(np.zeros((1, 2)))
    ... except fk.ClosedError as e:
    ...     print(e)
    KnnIndex.add: the KnnIndex is closed
    """

    status = int(lib.FK_ERR_INVALID_STATE)
    status_name = "FK_ERR_INVALID_STATE"


#: Every error status of the header -> its exception class.
EXCEPTION_BY_STATUS: dict[int, type[FerrokitError]] = {
    lib.FK_ERR_NULL_POINTER: NullPointerError,
    lib.FK_ERR_LENGTH_MISMATCH: ShapeMismatchError,
    lib.FK_ERR_INVALID_ARGUMENT: InvalidArgumentError,
    lib.FK_ERR_NON_FINITE: NonFiniteError,
    lib.FK_ERR_OVERFLOW: IntegerOverflowError,
    lib.FK_ERR_ALLOCATION: AllocationError,
    lib.FK_ERR_PANIC: InternalError,
    lib.FK_ERR_MISALIGNED: MisalignedError,
    lib.FK_ERR_TOO_LARGE: TooLargeError,
    lib.FK_ERR_ALIASING: AliasingError,
    lib.FK_ERR_IO: FerrokitIOError,
    lib.FK_ERR_INVALID_FORMAT: InvalidFormatError,
    lib.FK_ERR_UNSUPPORTED_VERSION: UnsupportedVersionError,
    lib.FK_ERR_INVALID_STATE: InvalidStateError,
}


def last_error_message() -> str:
    """The calling thread's last error message from the native library."""
    buf = ffi.new("char[]", 256)
    n = lib.fk_last_error_message(buf, 256)
    if n >= 256:
        buf = ffi.new("char[]", n + 1)
        lib.fk_last_error_message(buf, n + 1)
    return ffi.string(buf).decode("utf-8", "replace")


def raise_for_status(status: int) -> NoReturn:
    """Raises the exception for a non-zero status, with the library's message.

    Callers test ``if status:`` first, so the success path costs one comparison.
    """
    cls = EXCEPTION_BY_STATUS.get(status, FerrokitError)
    name = ffi.string(lib.fk_status_name(status)).decode()
    err = cls(last_error_message() or name)
    err.status = status
    err.status_name = name
    raise err
