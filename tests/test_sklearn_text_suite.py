"""scikit-learn's own test_text.py with ferrokit's vectorizers swapped in.

Runs the installed scikit-learn's ``sklearn/feature_extraction/tests/test_text.py``
twice in subprocesses: as shipped, and with the plugin
``tests/sklearn_suite/fk_text_swap.py`` that replaces ``CountVectorizer``,
``HashingVectorizer``, ``TfidfVectorizer`` and ``TfidfTransformer`` in
``sklearn.feature_extraction.text`` by ferrokit's before the tests import them.
Every test that passes with scikit-learn's classes must pass with ferrokit's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sk_tests = pytest.importorskip("sklearn.feature_extraction.tests.test_text")
HERE = Path(__file__).resolve().parent


def _start(swap: bool, tmp_path: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o", "addopts="]
    if swap:
        cmd += ["-p", "fk_text_swap"]
    path = str(HERE / "sklearn_suite") + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.Popen(
        [*cmd, sk_tests.__file__],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def _outcomes(proc: subprocess.Popen) -> dict[str, str]:
    out, _ = proc.communicate(timeout=900)
    res = {}
    for line in out.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", line)
        if m:
            res[m.group(2)] = m.group(1)
    assert res, out[-5000:]
    return res


def test_sklearn_text_suite_passes_with_ferrokit(tmp_path):
    # Both runs at once (they are independent): about half the wall time.
    procs = [_start(False, tmp_path), _start(True, tmp_path)]
    plain, swapped = (_outcomes(p) for p in procs)
    passed_plain = {t for t, r in plain.items() if r == "PASSED"}
    broken = sorted(t for t in passed_plain if swapped.get(t) != "PASSED")
    n_pass = sum(r == "PASSED" for r in swapped.values())
    print(f"scikit-learn test_text.py: {len(passed_plain)} pass as shipped, {n_pass} pass with ferrokit")
    assert not broken, f"pass with scikit-learn, not with ferrokit: {broken}"
    assert n_pass >= len(passed_plain) > 100
