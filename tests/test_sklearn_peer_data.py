"""scikit-learn's own ``sklearn/preprocessing/tests/test_data.py`` (from the
installed scikit-learn) with ferrokit's StandardScaler, MinMaxScaler,
MaxAbsScaler and Normalizer swapped in (the pytest plugin
``tests/sklearn_peer/ferrokit_swap_scalers.py``): every test that passes with
scikit-learn's classes must pass with ferrokit's. Both runs happen here, in
subprocesses, so the comparison holds for whatever scikit-learn is installed.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("sklearn.preprocessing.tests.test_data")

PLUGIN_DIR = pathlib.Path(__file__).resolve().parent / "sklearn_peer"


def _outcomes(tmp: pathlib.Path, swap: bool) -> dict[str, str]:
    xml = tmp / ("ferrokit.xml" if swap else "sklearn.xml")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(xml)]
    if swap:
        cmd += ["-p", "ferrokit_swap_scalers"]
    cmd += ["--pyargs", "sklearn.preprocessing.tests.test_data"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH")]))
    r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode in (0, 1), r.stdout[-3000:] + r.stderr[-3000:]  # 1: some tests failed
    out = {}
    for case in ET.parse(xml).iter("testcase"):
        tags = {child.tag for child in case}
        state = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        out[f"{case.get('classname')}::{case.get('name')}"] = state
    return out


def _counts(o: dict[str, str]) -> dict[str, int]:
    return {k: sum(v == k for v in o.values()) for k in ("passed", "failed", "skipped")}


def test_scikit_learn_test_data_passes_with_ferrokit_scalers(tmp_path: pathlib.Path) -> None:
    ref = _outcomes(tmp_path, swap=False)
    ours = _outcomes(tmp_path, swap=True)
    print("scikit-learn's classes:", _counts(ref), " ferrokit's:", _counts(ours))
    assert len(ref) > 400 and set(ours) == set(ref)
    lost = sorted(t for t, s in ref.items() if s == "passed" and ours[t] != "passed")
    assert lost == [], f"{len(lost)} tests pass with scikit-learn's scalers but not ferrokit's: {lost[:20]}"
