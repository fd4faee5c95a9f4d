"""ferrokit: fast numeric kernels in Rust for Python data and ML work.

>>> import ferrokit as fk
>>> fk.add_numbers(5, 7)
12
>>> fk.dot_product([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
32.0
"""

from __future__ import annotations

__version__ = "0.1.0"

from ferrokit import neighbors, nn, stats
from ferrokit._errors import (
    AliasingError,
    AllocationError,
    ClosedError,
    FerrokitError,
    FerrokitIOError,
    IntegerOverflowError,
    InternalError,
    InvalidArgumentError,
    InvalidFormatError,
    InvalidStateError,
    MisalignedError,
    NonFiniteError,
    NullPointerError,
    ShapeMismatchError,
    TooLargeError,
    UnsupportedVersionError,
)
from ferrokit._threadpoolctl import register as _register_threadpoolctl
from ferrokit.core import add_numbers, dot_product, normalize
from ferrokit.export import export
from ferrokit.model import Model, load_model
from ferrokit.runtime import (
    MAX_THREADS,
    _warn_env_once,
    abi_version,
    config,
    get_include,
    get_library,
    get_num_threads,
    requested_num_threads,
    set_num_threads,
    show_config,
    simd_level,
    threads,
)

_register_threadpoolctl()
_warn_env_once(stacklevel=2)  # a clamped or ignored FERROKIT_NUM_THREADS / OMP_NUM_THREADS


def __getattr__(name: str) -> object:
    # ferrokit.preprocessing and ferrokit.text need scikit-learn, ferrokit.dask also dask (optional):
    # imported on first use, so `import ferrokit` never requires them.
    if name in ("preprocessing", "dask", "text"):
        import importlib

        return importlib.import_module(f"ferrokit.{name}")
    raise AttributeError(f"module 'ferrokit' has no attribute {name!r}")


__all__ = [
    "MAX_THREADS",
    "AliasingError",
    "AllocationError",
    "ClosedError",
    "FerrokitError",
    "FerrokitIOError",
    "IntegerOverflowError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidFormatError",
    "InvalidStateError",
    "MisalignedError",
    "Model",
    "NonFiniteError",
    "NullPointerError",
    "ShapeMismatchError",
    "TooLargeError",
    "UnsupportedVersionError",
    "__version__",
    "abi_version",
    "add_numbers",
    "config",
    "dot_product",
    "export",
    "get_include",
    "get_library",
    "get_num_threads",
    "load_model",
    "neighbors",
    "nn",
    "normalize",
    "requested_num_threads",
    "set_num_threads",
    "show_config",
    "simd_level",
    "stats",
    "threads",
]
