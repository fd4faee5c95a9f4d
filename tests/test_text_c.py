"""examples/c/text_vectorize.c: compiled with strict warnings, run, checked against scikit-learn."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.feature_extraction.text")
SRC = Path(__file__).resolve().parent.parent / "examples" / "c" / "text_vectorize.c"
DOCS = ["The cat sat on the mat.", "Le chat était là.", "ΟΔΟΣ the cat"]


def _rows(lines: list[str], name: str) -> list[list[tuple[int, float]]]:
    i = next(k for k, ln in enumerate(lines) if ln.startswith(f"{name}:"))
    n = int(re.match(rf"{name}: (\d+) x", lines[i]).group(1))
    out = []
    for ln in lines[i + 1 : i + 1 + n]:
        pairs = ln.split(":", 1)[1].split()
        out.append([(int(p.split(":")[0]), float(p.split(":")[1])) for p in pairs])
    return out


def _sk_rows(x) -> list[list[tuple[int, float]]]:
    return [
        list(zip(x.indices[a:b].tolist(), x.data[a:b].astype(float).tolist(), strict=True))
        for a, b in zip(x.indptr[:-1], x.indptr[1:], strict=True)
    ]


def test_text_example_compiles_runs_and_matches_sklearn(build_c) -> None:
    exe = build_c(SRC)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "ok"
    assert any(ln.startswith("transform before fit: FK_ERR_INVALID_STATE") for ln in lines)
    hv = sk.HashingVectorizer(n_features=16, norm=None, ngram_range=(1, 2))
    assert _rows(lines, "hashed") == _sk_rows(hv.transform(DOCS))
    cv = sk.CountVectorizer(ngram_range=(1, 2))
    assert _rows(lines, "counts") == _sk_rows(cv.fit_transform(DOCS))
    voc = next(ln for ln in lines if ln.startswith("vocabulary"))
    pairs = re.findall(r"'([^']*)':(\d+)", voc)
    assert [(t, int(i)) for t, i in pairs] == list(cv.vocabulary_.items())
    assert _rows(lines, "transformed") == _sk_rows(cv.transform(["a dog and the cat"]))
    np.testing.assert_equal(len(pairs), len(cv.vocabulary_))
