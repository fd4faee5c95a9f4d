"""Registers ferrokit's thread pool with threadpoolctl (optional dependency).

With threadpoolctl installed, ``threadpool_info()`` lists ferrokit and
``threadpool_limits(n)`` limits ferrokit's pool like BLAS and OpenMP pools,
restoring it on exit — the way scikit-learn, joblib and Dask limit nested
parallelism. threadpoolctl finds ``libferrokit.so`` among the loaded libraries
and drives it through the C functions ``fk_get_num_threads`` /
``fk_set_num_threads`` / ``fk_version``.
"""

from __future__ import annotations

import ctypes


def register() -> bool:
    """Registers the controller; returns False if threadpoolctl is unavailable."""
    try:
        from threadpoolctl import LibController
        from threadpoolctl import register as tpc_register
    except ImportError:
        return False

    class FerrokitController(LibController):  # type: ignore[misc, valid-type]
        user_api = "ferrokit"
        internal_api = "ferrokit"
        filename_prefixes = ("libferrokit",)

        def _fn(self, name: str, restype: object, argtypes: list[object]) -> object:
            f = getattr(self.dynlib, name)
            f.restype = restype
            f.argtypes = argtypes
            return f

        def get_num_threads(self) -> int:
            return int(self._fn("fk_get_num_threads", ctypes.c_size_t, [])())

        def set_num_threads(self, num_threads: int) -> int:
            return int(self._fn("fk_set_num_threads", ctypes.c_int32, [ctypes.c_size_t])(num_threads))

        def get_version(self) -> str:
            return self._fn("fk_version", ctypes.c_char_p, [])().decode()

        def set_additional_attributes(self) -> None:
            simd = self._fn("fk_simd_level", ctypes.c_char_p, [])()
            self.simd_level = simd.decode()

    tpc_register(FerrokitController)
    return True
