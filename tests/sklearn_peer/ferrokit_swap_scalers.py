"""pytest plugin (``-p ferrokit_swap_scalers``): scikit-learn's own
``sklearn/preprocessing/tests/test_data.py`` runs with ferrokit's four scalers
in place of scikit-learn's.

The installed test module is imported once (pytest then collects that same
module object) and its global names ``StandardScaler``, ``MinMaxScaler``,
``MaxAbsScaler`` and ``Normalizer`` are rebound to ferrokit's classes; nothing
of scikit-learn is copied into this repository. scikit-learn's functions
(``scale``, ``minmax_scale``, ...) and other estimators stay its own.
"""

from __future__ import annotations

import sklearn.preprocessing.tests.test_data as _sk_test_data

import ferrokit.preprocessing as _fkp

SWAPPED = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "Normalizer")

for _name in SWAPPED:
    setattr(_sk_test_data, _name, getattr(_fkp, _name))


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    """Fails the run unless every collected test uses the patched module."""
    modules = {item.module for item in items if getattr(item, "module", None) is not None}
    if modules != {_sk_test_data}:
        raise RuntimeError(f"ferrokit_swap_scalers: collected {modules}, not the patched module")
    for name in SWAPPED:
        if getattr(_sk_test_data, name) is not getattr(_fkp, name):
            raise RuntimeError(f"ferrokit_swap_scalers: {name} is not ferrokit's")


def pytest_report_header(config) -> str:  # type: ignore[no-untyped-def]
    return "ferrokit_swap_scalers: " + ", ".join(f"{n} = ferrokit.preprocessing.{n}" for n in SWAPPED)
