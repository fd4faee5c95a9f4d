"""The text benchmark's corpus extraction and README table (the suite itself runs in make bench)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ferrokit.benchmarks import text as bt


def test_paragraphs_are_extracted_deduplicated_and_unescaped(tmp_path: Path) -> None:
    d = tmp_path / "usr" / "share" / "doc" / "pkg"
    d.mkdir(parents=True)
    (d / "a.html").write_text(
        "<html><p class='x'>Première <b>ligne</b> &amp; plus</p><li>short</li>"
        "<td>Ελληνικό κείμενο εδώ</td><p>Première <b>ligne</b> &amp; plus</p></html>",
        encoding="utf-8",
    )
    (d / "b.html").write_text("<pre>code block here\n  indented</pre>", encoding="utf-8")
    assert bt._paragraphs(tmp_path) == [
        "Première ligne & plus",
        "Ελληνικό κείμενο εδώ",
        "code block here\n  indented",
    ]


def _hashing_row() -> dict:
    """A 1-thread HashingVectorizer (1,1) result row: 200 MB/s, 10x scikit-learn."""
    return {
        "case": "HashingVectorizer (1,1)",
        "threads": 1,
        "ferrokit_s": 0.1,
        "sklearn_s": 1.0,
        "ferrokit_MBps": 200.0,
        "sklearn_MBps": 20.0,
        "ratio": 10.0,
    }


def test_readme_lines_show_every_row_and_the_peak() -> None:
    row = _hashing_row()
    data = {
        "documents": 110000,
        "megabytes": 19.9,
        "vtext_published_MBps": "70-104",
        "rows": [row],
        "peak_bytes": {"ferrokit": 40e6, "scikit-learn": 120e6},
    }
    text = "\n".join(bt.readme_lines(data))
    assert "| HashingVectorizer (1,1) | 1 | 100.00 ms | 200.0 |" in text
    assert "ferrokit 40 MB, scikit-learn 120 MB" in text
    assert len(bt.PACKAGES) > 30 and bt.MIN_DOCS == 100_000


def test_arrow_row_times_the_arrow_input_against_the_list() -> None:
    pa = pytest.importorskip("pyarrow")
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    from ferrokit import text as ft

    calls = []

    class H(ft.HashingVectorizer):
        def transform(self, X):
            calls.append(type(X))
            return super().transform(X)

    docs = [f"doc {i} ΟΔΟΣ é" for i in range(50)]
    row = bt.arrow_row(docs, 0.001, 1, SimpleNamespace(HashingVectorizer=H), sk)
    assert row is not None and row["case"] == bt.ARROW_CASE and row["threads"] == 2
    assert {pa.StringArray, list} <= set(calls)
    assert row["ratio"] == pytest.approx(row["sklearn_s"] / row["ferrokit_s"])
    data = {
        "documents": 50,
        "megabytes": 0.001,
        "vtext_published_MBps": "70-104",
        "rows": [row],
        "peak_bytes": {"ferrokit": 1e6, "scikit-learn": 2e6},
    }
    text = "\n".join(bt.readme_lines(data))
    assert f"| {bt.ARROW_CASE} | 2 |" in text and "from `pa.array(docs)`" in text


def test_vtext_run_is_skipped_without_the_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(bt.VTEXT_ENV, raising=False)
    assert bt.vtext_run(["a b"], 1) is None
    monkeypatch.setenv(bt.VTEXT_ENV, str(tmp_path / "missing"))
    assert bt.vtext_run(["a b"], 1) is None


def test_vtext_run_passes_the_documents_and_takes_the_median(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A stand-in for the Rust program: checks the NUL-separated corpus file and
    # the repeat count it is given, and answers in the program's JSON format.
    exe = tmp_path / "fake-vtext"
    exe.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        "docs = open(sys.argv[1], encoding='utf-8').read().split('\\0')\n"
        "assert docs == ['é a', 'b c', ''] and sys.argv[2] == '3', (docs, sys.argv)\n"
        "print(json.dumps({'bytes': 100, 'docs': len(docs), 'seconds': [0.3, 0.1, 0.2]}))\n"
    )
    exe.chmod(0o755)
    monkeypatch.setenv(bt.VTEXT_ENV, str(exe))
    r = bt.vtext_run(["é a", "b c", ""], 3)
    assert r is not None and r["seconds"] == 0.2 and r["docs"] == 3
    assert r["MBps"] == pytest.approx(100 / 0.2 / 1e6)
    # NUL is the program's separator: such a corpus is not given to it.
    assert bt.vtext_run(["a\0b"], 3) is None
    row = _hashing_row()
    data = {
        "documents": 3,
        "megabytes": 0.0001,
        "vtext_published_MBps": "70-104",
        "vtext_measured": {**r, "MBps": 40.0},
        "rows": [row],
        "peak_bytes": {"ferrokit": 1e6, "scikit-learn": 2e6},
    }
    text = "\n".join(bt.readme_lines(data))
    assert "40.0 MB/s" in text and "200.0 MB/s (5.0x)" in text
