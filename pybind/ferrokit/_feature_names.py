"""Feature names of DataFrame input, checked the way scikit-learn checks them.

scikit-learn estimators remember ``feature_names_in_`` (the column names of the
DataFrame they were fitted on) and, at predict time, refuse a DataFrame whose
columns are missing, extra or in another order (``ValueError``), and warn when
only one side has names. Objects converted from scikit-learn (``nn.MLP``) do
the same with the same messages, so switching does not hide a column mix-up.

>>> import numpy as np, pandas as pd
>>> fitted = np.array(["a", "b"], dtype=object)
>>> check_feature_names("MLP", fitted, pd.DataFrame({"a": [1.0]}))
Traceback (most recent call last):
...
ValueError: The feature names should match those that were passed during fit.
Feature names seen at fit time, yet now missing:
- b
<BLANKLINE>
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["check_feature_names", "feature_names_of"]


def feature_names_of(X: Any) -> np.ndarray | None:
    """The column names of a DataFrame-like ``X`` (an object array), or None.

    None for arrays, lists and frames whose column names are not all strings
    (as scikit-learn); ``TypeError`` for a mix of strings and other names.

    >>> import pandas as pd
    >>> feature_names_of(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    array(['a', 'b'], dtype=object)
    >>> feature_names_of(np.zeros((1, 2))) is None
    True
    """
    if isinstance(X, np.ndarray) or not hasattr(X, "columns") or not hasattr(X, "shape"):
        return None
    names = np.asarray(list(X.columns), dtype=object)
    if len(names) == 0:
        return None
    types = sorted({type(v).__qualname__ for v in names})
    if len(types) > 1 and "str" in types:
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {types} as feature name / column name types. "
            "If you want feature names to be stored and validated, you must convert "
            "them all to strings, by using X.columns = X.columns.astype(str) for "
            "example. Otherwise you can remove feature / column names from your input "
            "data, or convert them all to a non-string data type."
        )
    return names if types == ["str"] else None


def _listed(names: list[str]) -> str:
    out = ""
    for i, name in enumerate(names):
        if i >= 5:
            return out + "- ...\n"
        out += f"- {name}\n"
    return out


def check_feature_names(owner: str, fitted: np.ndarray | None, X: Any) -> None:
    """Raises ``ValueError`` (scikit-learn's message) when the columns of
    ``X`` differ from ``fitted`` -- missing, unexpected or reordered -- and
    warns (``UserWarning``) when only one side has names. ``owner`` is the
    class name used in the warnings.

    >>> import pandas as pd
    >>> fitted = np.array(["a", "b"], dtype=object)
    >>> check_feature_names("MLP", fitted, pd.DataFrame({"a": [1.0], "b": [2.0]}))
    >>> check_feature_names("MLP", fitted, pd.DataFrame({"b": [1.0], "a": [2.0]}))
    Traceback (most recent call last):
    ...
    ValueError: The feature names should match those that were passed during fit.
    Feature names must be in the same order as they were in fit.
    <BLANKLINE>
    """
    names = feature_names_of(X)
    if fitted is None and names is None:
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {owner} was fitted without feature names", stacklevel=3)
        return
    if names is None:
        warnings.warn(
            f"X does not have valid feature names, but {owner} was fitted with feature names", stacklevel=3
        )
        return
    if len(fitted) == len(names) and bool(np.all(fitted == names)):
        return
    message = "The feature names should match those that were passed during fit.\n"
    unexpected = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    if unexpected:
        message += "Feature names unseen at fit time:\n" + _listed(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _listed(missing)
    if not missing and not unexpected:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(message)
