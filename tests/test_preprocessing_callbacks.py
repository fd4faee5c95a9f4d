"""scikit-learn 1.9's callback API on ferrokit's StandardScaler (the scaler
that has it in scikit-learn): same hooks, counts and fitted estimator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn import preprocessing as skp

from ferrokit import preprocessing as fkp

callback_utils = pytest.importorskip("sklearn.callback.tests._utils")
HOOKS = ("setup", "teardown", "on_fit_task_begin", "on_fit_task_end")


def _counts(cb) -> list[int]:
    return [cb.count_hooks(h) for h in HOOKS]


@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (10, 2), (7, 3), (20_001, 5)])
def test_hooks_like_scikit_learn(method: str, dtype: type, shape: tuple[int, int]) -> None:
    x = np.random.default_rng(0).random(shape).astype(dtype)
    ours, ref = callback_utils.RecordingCallback(), callback_utils.RecordingCallback()
    est = fkp.StandardScaler().set_callbacks(ours)
    getattr(est, method)(x)
    getattr(skp.StandardScaler().set_callbacks(ref), method)(x)
    assert _counts(ours) == _counts(ref) == [1, 1, 1, 1]
    assert [r["name"] for r in ours.record] == [r["name"] for r in ref.record]
    end = next(r for r in ours.record if r["name"] == "on_fit_task_end")
    fitted = end["kwargs"]["fitted_estimator"]
    assert isinstance(fitted, fkp.StandardScaler)
    np.testing.assert_array_equal(fitted.transform(x), est.transform(x))


def test_each_partial_fit_is_one_task_and_sparse_works() -> None:
    x = sparse.random(50, 4, density=0.3, format="csr", random_state=0)
    cb = callback_utils.RecordingCallback()
    est = fkp.StandardScaler(with_mean=False).set_callbacks(cb)
    est.partial_fit(x)
    est.partial_fit(x)
    assert _counts(cb) == [2, 2, 2, 2]


def test_teardown_runs_when_fit_fails_and_bad_callbacks_are_refused() -> None:
    cb = callback_utils.RecordingCallback()
    est = fkp.StandardScaler().set_callbacks(cb)
    with pytest.raises(ValueError):
        est.fit(np.ones((3, 2)), sample_weight=np.ones(4))  # fails after the callbacks' setup
    assert cb.count_hooks("setup") == cb.count_hooks("teardown") == 1
    with pytest.raises(TypeError, match="FitCallback protocol"):
        fkp.StandardScaler().set_callbacks(3)
    with pytest.raises(TypeError, match="FitCallback protocol"):
        fkp.StandardScaler().set_callbacks(callback_utils.RecordingCallback)  # a class
    est.set_callbacks()  # clears
    est.fit(np.ones((3, 2)))
    assert cb.count_hooks("setup") == 1


def test_other_scalers_have_no_callbacks_like_scikit_learn() -> None:
    for name in ("MinMaxScaler", "MaxAbsScaler", "Normalizer"):
        ours, theirs = getattr(fkp, name)(), getattr(skp, name)()
        assert hasattr(ours, "set_callbacks") == hasattr(theirs, "set_callbacks")
