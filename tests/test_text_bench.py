"""The text benchmark's corpus extraction and README table (the suite itself runs in make bench)."""

from __future__ import annotations

from pathlib import Path

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


def test_readme_lines_show_every_row_and_the_peak() -> None:
    row = {
        "case": "HashingVectorizer (1,1)",
        "threads": 1,
        "ferrokit_s": 0.1,
        "sklearn_s": 1.0,
        "ferrokit_MBps": 200.0,
        "sklearn_MBps": 20.0,
        "ratio": 10.0,
    }
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
