"""scikit-learn's own ``sklearn/neighbors/tests/test_neighbors.py`` with ferrokit's
``NearestNeighbors``, ``KNeighborsClassifier`` and ``KNeighborsRegressor`` swapped in.

How: the installed module's source is executed into a fresh module while
``sklearn.neighbors`` is replaced by a proxy whose three classes are factories:
``algorithm="brute"`` or ``"auto"`` (the default) builds ferrokit's estimator,
``"kd_tree"`` / ``"ball_tree"`` builds scikit-learn's. So the tests that compare
algorithms compare ferrokit's exact search with scikit-learn's trees, and the
tests that use the defaults run ferrokit only. The module-level functions
(``neighbors.kneighbors_graph``, ...), the radius estimators, the transformers
and the tree classes stay scikit-learn's. Nothing of scikit-learn's source is
copied into this repository; its tests are collected from here.

Scope (what must pass): the test functions in ``IN_SCOPE`` below, i.e. every
test that runs one of the three estimators on dense input, minus (``_deselect``)
their parametrizations with a metric ferrokit has no kernel for, with a radius
estimator as the class under test, or with joblib's loky backend. Of the 1029
tests the module yields (both dtypes: scikit-learn's ``global_dtype`` fixture
runs float64 only by default, ours runs float32 too), the out-of-scope ones are:

- other metrics (``precomputed``, callables, ``haversine``, ``seuclidean``,
  ``mahalanobis``, ``nan_euclidean``, boolean and scipy metrics,
  ``DistanceMetric`` objects) and sparse input: ferrokit hands those to
  scikit-learn's own search (with a ``SklearnFallbackWarning``), so such a test
  would measure scikit-learn (test_precomputed_*, test_callable_metric,
  test_sparse_metric_callable, test_pairwise_boolean_distance,
  test_nan_euclidean_support, test_kneighbors_*_sparse,
  test_radius_neighbors_returns_array_of_objects, and the matching
  parametrizations of the in-scope functions). A function that mixes both
  (test_neighbors_metrics[minkowski] and test_*_brute_backend[minkowski]
  with their weighted case,
  test_neighbors_validate_parameters with haversine and sparse input,
  test_valid_brute_metric_for_auto_algorithm with sparse input,
  test_pipeline_with_nearest_neighbors_transformer with a precomputed
  regressor) stays in: its other cases run ferrokit;
- the radius estimators and transformers (RadiusNeighborsClassifier /
  Regressor are not ferrokit's), scikit-learn internals that never build the
  three estimators (graph sorting helpers, ``VALID_METRICS``), and
  test_radius_neighbors_parallel_array_radius (trees only);
- test_auto_algorithm: asserts scikit-learn's choice of tree
  (``_fit_method == "kd_tree"``); ferrokit's search is always brute force
  (``_fit_method == "brute"``), by design;
- joblib's loky backend in test_knn_forcing_backend (ferrokit never uses
  joblib; 7 s of process start-up); the threading backend stays in.

test_kneighbors_brute_backend / test_radius_neighbors_brute_backend compare
scikit-learn's two brute-force backends (``enable_cython_pairwise_dist``); with
ferrokit's single kernel they only check that both calls agree, kept because
they are cheap.

Result (scikit-learn 1.9.1): 460 in scope, 460 pass; 421 of them run only
ferrokit's kernels, 39 also hand a case to the fallback (the mixed functions
above). 391 parametrizations deselected, 178 tests of out-of-scope functions
not collected.

Runtime: about 8 s of CPU (30 s wall on a loaded 2-core machine).
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import neighbors as _skn  # noqa: E402

from ferrokit import neighbors as _fkn  # noqa: E402
from ferrokit._neighbors_metrics import NATIVE_METRICS  # noqa: E402

_SWAPPED = ("NearestNeighbors", "KNeighborsClassifier", "KNeighborsRegressor")


def _factory(name: str) -> type:
    ours, theirs = getattr(_fkn, name), getattr(_skn, name)

    # A subclass of scikit-learn's class for `issubclass(cls, KNeighborsMixin)`
    # checks; instances are ferrokit's (or scikit-learn's for the trees).
    class Swapped(theirs):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("algorithm", "auto") in ("kd_tree", "ball_tree"):
                return theirs(*args, **kwargs)
            return ours(*args, **kwargs)

    Swapped.__name__ = Swapped.__qualname__ = name
    Swapped.__module__ = "sklearn.neighbors"
    return Swapped


class _Proxy(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        return getattr(_skn, name)


def _load() -> types.ModuleType:
    path = Path(sklearn.__file__).parent / "neighbors" / "tests" / "test_neighbors.py"
    proxy = _Proxy("sklearn.neighbors")
    for name in _SWAPPED:
        setattr(proxy, name, _factory(name))
    saved = sys.modules["sklearn.neighbors"], sklearn.neighbors
    sys.modules["sklearn.neighbors"] = proxy
    sklearn.neighbors = proxy
    try:
        spec = importlib.util.spec_from_file_location("_sklearn_test_neighbors", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.modules["sklearn.neighbors"], sklearn.neighbors = saved
    return mod


_mod = _load()

# Tests (by function name) that run at least one of the three estimators on
# inputs ferrokit computes; parametrizations with out-of-scope metrics are
# deselected by OUT_OF_SCOPE_PARAMS below.
IN_SCOPE = {
    "test_unsupervised_kneighbors",
    "test_neigh_predictions_algorithm_agnosticity",
    "test_unsupervised_inputs",
    "test_not_fitted_error_gets_raised",
    "test_unsupervised_radius_neighbors",
    "test_kneighbors_classifier",
    "test_kneighbors_classifier_float_labels",
    "test_kneighbors_classifier_predict_proba",
    "test_neighbors_regressors_zero_distance",
    "test_radius_neighbors_boundary_handling",
    "test_query_equidistant_kth_nn",
    "test_radius_neighbors_sort_results",
    "test_KNeighborsClassifier_multioutput",
    "test_kneighbors_regressor",
    "test_KNeighborsRegressor_multioutput_uniform_weight",
    "test_kneighbors_regressor_multioutput",
    "test_neighbors_iris",
    "test_neighbors_digits",
    "test_kneighbors_graph",
    "test_kneighbors_graph_sparse",
    "test_radius_neighbors_graph",
    "test_radius_neighbors_graph_sparse",
    "test_neighbors_validate_parameters",
    "test_neighbors_minkowski_semimetric_algo_warn",
    "test_neighbors_minkowski_semimetric_algo_error",
    "test_nearest_neighbors_validate_params",
    "test_neighbors_metrics",
    "test_metric_params_interface",
    "test_predict_sparse_ball_kd_tree",
    "test_non_euclidean_kneighbors",
    "test_k_and_radius_neighbors_train_is_not_query",
    "test_k_and_radius_neighbors_X_None",
    "test_k_and_radius_neighbors_duplicates",
    "test_include_self_neighbors_graph",
    "test_same_knn_parallel",
    "test_knn_forcing_backend",
    "test_dtype_convert",
    "test_pipeline_with_nearest_neighbors_transformer",
    "test_regressor_predict_on_arraylikes",
    "test_predict_dataframe",
    "test_nearest_neighbours_works_with_p_less_than_1",
    "test_KNeighborsClassifier_raise_on_all_zero_weights",
    "test_neighbor_classifiers_loocv",
    "test_neighbor_regressors_loocv",
    "test_neighbors_classifier_with_string_labels",
    "test_valid_brute_metric_for_auto_algorithm",
    "test_kneighbors_brute_backend",
    "test_radius_neighbors_brute_backend",
}

for _name in dir(_mod):
    if _name.startswith("test_") and _name in IN_SCOPE:
        globals()[_name] = getattr(_mod, _name)


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def global_dtype(request: pytest.FixtureRequest) -> Any:
    """scikit-learn's fixture, both dtypes (its default runs float64 only)."""
    return request.param


@pytest.fixture
def global_random_seed() -> int:
    """scikit-learn's default seed."""
    return 42


# Parametrizations out of scope (see the module docstring).


def _deselect(item: pytest.Item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for name, value in params.items():
        if name == "metric" and (not isinstance(value, str) or value not in NATIVE_METRICS):
            return True
        if isinstance(value, type) and value.__name__.startswith("Radius"):
            return True
        if name == "backend" and value == "loky":
            return True
    return False


warnings.filterwarnings("ignore", category=_fkn.SklearnFallbackWarning)
