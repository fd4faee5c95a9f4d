"""``python -m ferrokit bench --suite text``: ferrokit's text vectorizers against
scikit-learn's in the same process (interleaved repeats, medians), on a real
multilingual corpus, with MB/s and peak memory.

Corpus: the paragraphs (``<p>``, ``<li>``, ``<dd>``, ``<pre>``, ``<td>`` of more
than 10 characters, deduplicated, in file order) of the HTML of Debian's
documentation packages in many languages (:data:`PACKAGES`: the installation
guide in 20 languages, the Debian Reference, Handbook, Developer's Reference,
New Maintainers' Guide and FAQ translations): about 110k documents, 20 MB of
UTF-8. The suite downloads the ``.deb`` files itself with ``apt-get download``
(no installation) and unpacks them with ``dpkg-deb -x`` into
``$FERROKIT_BENCH_CACHE`` (default ``~/.cache/ferrokit/text-corpus``), once.

Cases (the issue's goals; ratio = scikit-learn time / ferrokit time):
HashingVectorizer (1,1) at 2 threads >= 15x and at 1 thread >= 8x, (1,2) >= 15x;
CountVectorizer.fit_transform (1,1) >= 10x, (1,2) >= 8x;
TfidfVectorizer.fit_transform >= 8x; CountVectorizer char_wb (2,4) >= 20x;
HashingVectorizer (1,1) on 1 thread >= 150 MB/s. Context row (no goal): the
same hashing from a pyarrow array of the corpus (:data:`ARROW_CASE`: the
Arrow buffers go to Rust without packing) against scikit-learn on the list,
with ferrokit on the list in the same interleaved rounds. Peak memory: resident-set
peak above the corpus (``VmHWM`` after resetting it), each library in a fresh
process; goal: CountVectorizer (1,2) at most half of scikit-learn's.
vtext (context, no goal): its published 70-104 MB/s were measured on English
news text on a 3.8 GHz Xeon, so when ``$FERROKIT_VTEXT_BENCH`` names the
program in ``benchmarks/vtext`` (``make bench`` builds it), the suite also
times vtext 0.2.0's HashingVectorizer on this corpus and machine (one thread,
:func:`vtext_run`).
``--quick`` uses the first 20k documents and one repeat.
Writes ``<out_dir>/text.json``.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import ferrokit as fk
from ferrokit.benchmarks.common import cpu_model, fmt_time, interleaved

PACKAGES = (
    "installation-guide-amd64 debian-handbook "
    "debian-reference-en debian-reference-de debian-reference-es debian-reference-fr "
    "debian-reference-it debian-reference-ja debian-reference-pt debian-reference-zh-cn "
    "developers-reference developers-reference-de developers-reference-fr developers-reference-it "
    "developers-reference-ja developers-reference-ru maint-guide maint-guide-ca maint-guide-de "
    "maint-guide-es maint-guide-fr maint-guide-it maint-guide-ja maint-guide-ru debian-faq "
    "debian-faq-de debian-faq-fr debian-faq-it debian-faq-ja debian-faq-ko debian-faq-nl "
    "debian-faq-pt debian-faq-ru debian-faq-zh-cn harden-doc"
).split()
MIN_DOCS = 100_000

# (case name, threads or None for the default, minimum ratio)
GOALS = [
    ("HashingVectorizer (1,1)", 2, 15.0),
    ("HashingVectorizer (1,1)", 1, 8.0),
    ("HashingVectorizer (1,2)", 2, 15.0),
    ("CountVectorizer.fit_transform (1,1)", 2, 10.0),
    ("CountVectorizer.fit_transform (1,2)", 2, 8.0),
    ("TfidfVectorizer.fit_transform (1,1)", 2, 8.0),
    ("CountVectorizer.fit_transform char_wb (2,4)", 2, 20.0),
]
MBPS_GOAL = 150.0
VTEXT_ENV = "FERROKIT_VTEXT_BENCH"
ARROW_CASE = "HashingVectorizer (1,1), pyarrow input"


def _cache_dir() -> Path:
    d = os.environ.get("FERROKIT_BENCH_CACHE")
    return Path(d) if d else Path.home() / ".cache" / "ferrokit" / "text-corpus"


def _paragraphs(root: Path) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    files = sorted({os.path.realpath(p) for p in root.glob("usr/share/**/*.html")})
    block = re.compile(r"<(p|li|dd|pre|td)\b[^>]*>(.*?)</\1>", re.S)
    tag = re.compile(r"<[^>]+>")
    for f in files:
        text = Path(f).read_text(encoding="utf-8", errors="replace")
        for m in block.finditer(text):
            s = html.unescape(tag.sub("", m.group(2))).strip()
            if len(s) > 10 and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def corpus() -> list[str]:
    """The benchmark corpus (downloaded and cached on first use)."""
    cache = _cache_dir()
    path = cache / "paragraphs.json.gz"
    if not path.exists():
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            raise RuntimeError("the text benchmark needs apt-get and dpkg-deb to fetch its corpus")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            debs = Path(tmp) / "debs"
            debs.mkdir()
            os.chmod(debs, 0o777)  # apt's sandbox user may write there
            subprocess.run(["apt-get", "download", "-q", *PACKAGES], cwd=debs, check=True)
            root = Path(tmp) / "root"
            for deb in sorted(debs.glob("*.deb")):
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            docs = _paragraphs(root)
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            json.dump(docs, fh, ensure_ascii=False)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        docs = json.load(fh)
    if len(docs) < MIN_DOCS:
        raise RuntimeError(f"corpus has {len(docs)} documents, fewer than {MIN_DOCS}")
    return docs


def _cases() -> dict[str, Any]:
    """case -> (maker(module) -> callable(docs))."""
    return {
        "HashingVectorizer (1,1)": lambda m: m.HashingVectorizer().transform,
        "HashingVectorizer (1,2)": lambda m: m.HashingVectorizer(ngram_range=(1, 2)).transform,
        "CountVectorizer.fit_transform (1,1)": lambda m: m.CountVectorizer().fit_transform,
        "CountVectorizer.fit_transform (1,2)": lambda m: m.CountVectorizer(ngram_range=(1, 2)).fit_transform,
        "TfidfVectorizer.fit_transform (1,1)": lambda m: m.TfidfVectorizer().fit_transform,
        "CountVectorizer.fit_transform char_wb (2,4)": lambda m: (
            m.CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform
        ),
    }


_PEAK_SCRIPT = r"""
import gzip, json, sys
lib, case, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with gzip.open(sys.argv[4], "rt", encoding="utf-8") as fh:
    docs = json.load(fh)[:n]
if lib == "ferrokit":
    from ferrokit import text as m
    m.CountVectorizer().fit(["warm up the tables"])
else:
    from sklearn.feature_extraction import text as m
from ferrokit.benchmarks.text import _cases
f = _cases()[case](m)
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # resets VmHWM to the current resident set
base = status("VmRSS:")
x = f(docs)
print(status("VmHWM:") - base)
"""


def peak_rss(lib: str, case: str, n: int) -> int:
    """Peak resident bytes above the loaded corpus of one call, in a fresh process."""
    path = _cache_dir() / "paragraphs.json.gz"
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, lib, case, str(n), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def _row(case: str, threads: int, fk_s: float, sk_s: float, mb: float) -> dict[str, Any]:
    """One result row: both times, their ratio and both MB/s."""
    return {
        "case": case,
        "threads": threads,
        "ferrokit_s": fk_s,
        "sklearn_s": sk_s,
        "ratio": sk_s / fk_s,
        "ferrokit_MBps": mb / fk_s,
        "sklearn_MBps": mb / sk_s,
    }


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    from sklearn.feature_extraction import text as sk

    from ferrokit import text as ft

    docs = corpus()
    if quick:
        docs = docs[:20_000]
    mb = sum(len(d.encode()) for d in docs) / 1e6
    reps = 1 if quick else 3
    ft.CountVectorizer().fit(["warm up the character tables"])
    rows: list[dict[str, Any]] = []
    print(f"corpus: {len(docs)} documents, {mb:.1f} MB UTF-8 ({len(PACKAGES)} Debian documentation packages)")
    for threads in (1, 2):
        fk.set_num_threads(threads)
        try:
            for case, make in _cases().items():
                if threads == 1 and not case.startswith("HashingVectorizer (1,1)"):
                    continue
                t = interleaved(
                    {"ferrokit": lambda mk=make: mk(ft)(docs), "scikit-learn": lambda mk=make: mk(sk)(docs)},
                    reps,
                )
                row = _row(case, threads, t["ferrokit"], t["scikit-learn"], mb)
                rows.append(row)
                print(
                    f"{case:45s} {threads}t  ferrokit {fmt_time(row['ferrokit_s']):>9s} "
                    f"({row['ferrokit_MBps']:6.1f} MB/s)  scikit-learn {fmt_time(row['sklearn_s']):>9s} "
                    f"({row['sklearn_MBps']:5.1f} MB/s)  {row['ratio']:5.1f}x",
                    flush=True,
                )
        finally:
            fk.set_num_threads(None)
    h1 = _hashing_1t(rows)
    assert h1 is not None  # measured in the 1-thread round above
    vtext = vtext_run(docs, 2 * reps + 1)
    if vtext is not None:
        print(
            f"vtext {vtext['version']} HashingVectorizer 1t (Rust program, its own tokens and hash): "
            f"{fmt_time(vtext['seconds'])} ({vtext['MBps']:.1f} MB/s); ferrokit 1t from a list "
            f"{h1['ferrokit_MBps']:.1f} MB/s ({h1['ferrokit_MBps'] / vtext['MBps']:.1f}x)",
            flush=True,
        )
    arrow = arrow_row(docs, mb, reps, ft, sk)
    if arrow is not None:
        rows.append(arrow)
    goals = []
    for case, threads, need in GOALS:
        r = next(x for x in rows if x["case"] == case and x["threads"] == threads)
        ratio = r["ratio"]
        name = f"{case}, {threads} thread(s)"
        goals.append({"goal": name, "ratio": ratio, "required": need, "met": ratio >= need})
    goals.append(
        {
            "goal": "HashingVectorizer (1,1) MB/s on 1 thread",
            "ratio": h1["ferrokit_MBps"],
            "required": f">= {MBPS_GOAL:.0f} MB/s",
            "met": h1["ferrokit_MBps"] >= MBPS_GOAL,
        }
    )
    case = "CountVectorizer.fit_transform (1,2)"
    peak = {lib: peak_rss(lib, case, len(docs)) for lib in ("ferrokit", "scikit-learn")}
    share = peak["ferrokit"] / peak["scikit-learn"]
    print(
        f"peak memory, {case}: ferrokit {peak['ferrokit'] / 1e6:.0f} MB, "
        f"scikit-learn {peak['scikit-learn'] / 1e6:.0f} MB ({share:.2f} of scikit-learn's)"
    )
    goal = f"{case} peak memory / scikit-learn's"
    goals.append({"goal": goal, "ratio": share, "required": 0.5, "met": share <= 0.5})
    for g in goals:
        print(f"  {'met ' if g['met'] else 'MISS'} {g['goal']}: {g['ratio']:.2f} (goal {g['required']})")
    data = {
        "suite": "text",
        "machine": cpu_model(),
        "documents": len(docs),
        "megabytes": mb,
        "quick": quick,
        "rows": rows,
        "peak_bytes": peak,
        "goals": goals,
        "vtext_published_MBps": "70-104 (one thread)",
        "vtext_measured": vtext,
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "text.json").write_text(json.dumps(data, indent=2))
    return 0


def _hashing_1t(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The HashingVectorizer (1,1) row on 1 thread (the MB/s goal's and vtext's
    comparison), or None."""
    return next((r for r in rows if r["case"] == "HashingVectorizer (1,1)" and r["threads"] == 1), None)


def vtext_run(docs: list[str], repeats: int) -> dict[str, Any] | None:
    """vtext 0.2.0's ``HashingVectorizer().transform`` of ``docs`` on one
    thread, timed ``repeats`` times by the program ``$FERROKIT_VTEXT_BENCH``
    (built from ``benchmarks/vtext``) in its own process: the median
    ``seconds`` and ``MBps``; None without the program (or for documents
    holding NUL, the program's separator)."""
    exe = os.environ.get(VTEXT_ENV)
    if not exe or not Path(exe).is_file() or any("\0" in d for d in docs):
        return None
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        f.write("\0".join(docs).encode())
        f.flush()
        out = subprocess.run(
            [exe, f.name, str(repeats)], capture_output=True, text=True, check=True, timeout=1800
        )
    r = json.loads(out.stdout)
    med = statistics.median(r["seconds"])
    return {"version": "0.2.0", "seconds": med, "MBps": r["bytes"] / med / 1e6, "docs": r["docs"]}


def arrow_row(
    docs: list[str], mb: float, reps: int, ft: Any, sk: Any, threads: int = 2
) -> dict[str, Any] | None:
    """The :data:`ARROW_CASE` row: ferrokit's ``HashingVectorizer().transform``
    of ``pa.array(docs)`` (built once, outside the timing) and of the list,
    scikit-learn's of the list, interleaved; None without pyarrow."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is in requirements-dev
        return None
    arr = pa.array(docs, pa.string())
    fk.set_num_threads(threads)
    try:
        t = interleaved(
            {
                "arrow": lambda: ft.HashingVectorizer().transform(arr),
                "list": lambda: ft.HashingVectorizer().transform(docs),
                "scikit-learn": lambda: sk.HashingVectorizer().transform(docs),
            },
            reps,
        )
    finally:
        fk.set_num_threads(None)
    row = {**_row(ARROW_CASE, threads, t["arrow"], t["scikit-learn"], mb), "ferrokit_list_s": t["list"]}
    print(
        f"{ARROW_CASE:45s} {threads}t  ferrokit {fmt_time(t['arrow']):>9s} (list {fmt_time(t['list'])}, "
        f"{t['list'] / t['arrow']:.2f}x)  scikit-learn on the list {fmt_time(t['scikit-learn']):>9s}  "
        f"{row['ratio']:5.1f}x",
        flush=True,
    )
    return row


def readme_lines(data: dict[str, Any]) -> list[str]:
    """The README table of a ``text.json``."""
    lines = [
        f"Corpus: {data['documents']} paragraphs of Debian documentation in many languages, "
        f"{data['megabytes']:.1f} MB. vtext (another Rust rewrite, not identical) publishes "
        f"{data['vtext_published_MBps']} MB/s. Machine: {data.get('machine', 'not recorded')}.",
        "",
        "| case | threads | ferrokit | MB/s | scikit-learn | MB/s | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['case']} | {r['threads']} | {fmt_time(r['ferrokit_s'])} | {r['ferrokit_MBps']:.1f} | "
            f"{fmt_time(r['sklearn_s'])} | {r['sklearn_MBps']:.1f} | {r['ratio']:.1f}x |"
        )
    for r in data["rows"]:
        if "ferrokit_list_s" in r:
            lines.append("")
            lines.append(
                f"{r['case']}: ferrokit {fmt_time(r['ferrokit_s'])} from `pa.array(docs)`, "
                f"{fmt_time(r['ferrokit_list_s'])} from the list in the same rounds "
                f"({r['ferrokit_list_s'] / r['ferrokit_s']:.2f}x); scikit-learn on the list."
            )
    vt = data.get("vtext_measured")
    h1 = _hashing_1t(data["rows"])
    if vt and h1:
        lines.append("")
        lines.append(
            f"vtext {vt['version']}'s HashingVectorizer measured here (a Rust program over the same "
            f"documents, one thread; vtext's own tokens and hash, so not identical output): "
            f"{fmt_time(vt['seconds'])}, {vt['MBps']:.1f} MB/s. ferrokit's HashingVectorizer (1,1) on one "
            f"thread, from a Python list: {h1['ferrokit_MBps']:.1f} MB/s "
            f"({h1['ferrokit_MBps'] / vt['MBps']:.1f}x)."
        )
    p = data["peak_bytes"]
    lines.append("")
    lines.append(
        f"Peak memory of CountVectorizer (1,2).fit_transform above the corpus: ferrokit "
        f"{p['ferrokit'] / 1e6:.0f} MB, scikit-learn {p['scikit-learn'] / 1e6:.0f} MB."
    )
    return lines


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``text.json``: ferrokit and scikit-learn per case and thread count."""
    import textwrap

    from ferrokit.benchmarks.charts import machine_line

    threads = sorted({r["threads"] for r in data["rows"]})
    groups = [
        (
            "\n".join(
                [*textwrap.wrap(r["case"], 30), f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"]
            ),
            {"ferrokit": r["ferrokit_s"], "scikit-learn": r["sklearn_s"]},
        )
        for r in data["rows"]
    ]
    corpus = f"{data['documents']} documents, {data['megabytes']:.1f} MB"
    cpu = machine_line(data["machine"], " and ".join(map(str, threads)), data.get("load average"))
    return f"{cpu}; {corpus}", groups
