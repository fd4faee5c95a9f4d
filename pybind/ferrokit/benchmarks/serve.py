"""``python -m ferrokit bench --suite serve``: ferrokit-serve against FastAPI +
uvicorn + scikit-learn and MLServer + mlserver-sklearn, all serving the same
Pipeline(StandardScaler, MLPClassifier(256, 128)) (64 float64 features, 10
classes) over the Open Inference Protocol's JSON, one row per request asking
for ``predict_proba``; and a text case: Pipeline(TfidfVectorizer,
LogisticRegression) on 4 classes, one short document per request (BYTES),
``predict_proba``, ferrokit-serve against FastAPI.

The load generator is ``oha`` (installed with ``cargo install oha`` when
missing); each server runs at concurrency 1 and 32 for ``DURATION`` seconds,
on 127.0.0.1, sharing the machine's cores with the load generator. Reported:
requests/s, p50, p99 and the server's CPU time (all its processes).

The references are installed into their own virtual environments under
``~/.cache/ferrokit-bench`` (MLServer 1.7.1 needs ``uvloop<0.22``), so the
project's environment is not touched; a reference that cannot be installed is
reported and skipped. Goals (issue 16) are reported, never asserted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ferrokit.benchmarks.common import cpu_model

DURATION = 15.0
QUICK_DURATION = 3.0
CONCURRENCY = (1, 32)
N_FEATURES = 64
N_CLASSES = 10
CACHE = Path(os.environ.get("FERROKIT_BENCH_CACHE", Path.home() / ".cache" / "ferrokit-bench"))

FASTAPI_APP = """
import os

import joblib
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

model = joblib.load(os.environ["BENCH_MODEL"])
app = FastAPI()


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    req = await request.json()
    inp = req["inputs"][0]
    if inp["datatype"] == "BYTES":
        X = inp["data"]  # one document per row
    else:
        X = np.asarray(inp["data"], dtype=np.float64).reshape(inp["shape"])
    p = model.predict_proba(X)
    return JSONResponse({"model_name": name, "outputs": [
        {"name": "predict_proba", "datatype": "FP64", "shape": list(p.shape), "data": p.ravel().tolist()}]})
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_oha() -> str:
    """Path of ``oha``; runs ``cargo install oha --locked`` when it is missing.

    Example::

        >>> Path(ensure_oha()).name  # doctest: +SKIP
        'oha'
    """
    found = shutil.which("oha") or str(Path.home() / ".cargo" / "bin" / "oha")
    if Path(found).is_file():
        return found
    print("installing oha (cargo install oha --locked) ...", flush=True)
    subprocess.run(["cargo", "install", "oha", "--locked"], check=True)
    return str(Path.home() / ".cargo" / "bin" / "oha")


def ensure_venv(name: str, packages: list[str]) -> Path | None:
    """A virtual environment under the bench cache with `packages`; None (and a
    message) when it cannot be installed.

    Example::

        >>> ensure_venv("fastapi", ["fastapi", "uvicorn"])  # doctest: +SKIP
        PosixPath('.../venv-fastapi/bin/python')
    """
    venv = CACHE / f"venv-{name}"
    py = venv / "bin" / "python"
    stamp = venv / ("installed-" + hashlib.sha256(" ".join(packages).encode()).hexdigest()[:12])
    if stamp.exists():
        return py
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
            check=True,
            timeout=1800,
        )
    except (subprocess.SubprocessError, OSError) as e:
        print(f"cannot install {name} reference ({packages}): {e}")
        return None
    stamp.touch()
    return py


def make_pipeline(folder: Path) -> tuple[Any, np.ndarray, str]:
    """Fits the benchmark pipeline, writes it as ``model.joblib`` and the
    ferrokit model file; returns (pipeline, one row, ferrokit file name)."""
    import joblib
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline as mk
    from sklearn.preprocessing import StandardScaler

    import ferrokit as fk

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, N_FEATURES)) * 3 + 1
    y = np.argmax(X[:, :N_CLASSES], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = mk(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=20, random_state=0))
        pipe.fit(X, y)
    joblib.dump(pipe, folder / "model.joblib")
    if hasattr(fk, "export"):
        fk.export(pipe, str(folder / "model.fk"))
        name = "model.fk"
    else:  # pipelines need fk.export; serve the MLP with the scaler folded into its first layer
        scaler, mlp = pipe[0], pipe[-1]
        w0 = mlp.coefs_[0] / scaler.scale_[:, None]
        b0 = mlp.intercepts_[0] - (scaler.mean_ / scaler.scale_) @ mlp.coefs_[0]
        mlp.coefs_[0], mlp.intercepts_[0] = w0, b0
        fk.nn.MLP.from_sklearn(mlp).save(folder / "model.fkmlp")
        name = "model.fkmlp"
    return pipe, rng.normal(size=(1, N_FEATURES)), name


TEXT_WORDS = 5000
TEXT_CLASSES = 4


def make_text_pipeline(folder: Path) -> tuple[Any, str]:
    """Fits the text case's Pipeline(TfidfVectorizer, LogisticRegression) on a
    synthetic corpus (a 5000-word vocabulary, Zipf-like word frequencies, 4
    topics), writes ``text.joblib`` and ``text.fk``; returns (pipeline, one
    short document)."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as mk

    import ferrokit as fk

    rng = np.random.default_rng(1)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = sorted({"".join(rng.choice(letters, size=int(rng.integers(3, 10)))) for _ in range(TEXT_WORDS)})
    freq = 1.0 / np.arange(1, len(words) + 1)
    topics = [rng.permutation(freq) for _ in range(TEXT_CLASSES)]
    docs, y = [], []
    for i in range(4000):
        t = i % TEXT_CLASSES
        n = int(rng.integers(5, 40))
        docs.append(" ".join(rng.choice(words, size=n, p=topics[t] / topics[t].sum())))
        y.append(f"topic-{t}")
    pipe = mk(TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=300)).fit(docs, y)
    joblib.dump(pipe, folder / "text.joblib")
    fk.export(pipe, str(folder / "text.fk"))
    doc = "The " + " ".join(rng.choice(words, size=12)) + ", quite short!"
    return pipe, doc


def _wait_http(url: str, proc: subprocess.Popen, body: bytes, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _cpu_seconds(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    total = 0.0
    for q in [p, *p.children(recursive=True)]:
        try:
            t = q.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run_oha(oha: str, url: str, body: str | None, conc: int, seconds: float) -> dict[str, float]:
    """One oha run (POST `body`, or GET when it is None): requests/s, p50 and
    p99 latency (seconds), success share."""
    cmd = [oha, "-z", f"{seconds}s", "-c", str(conc), "--no-tui", "--output-format", "json"]
    if body is not None:
        cmd += ["-m", "POST", "-H", "Content-Type: application/json", "-d", body]
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    if r.returncode != 0:
        raise RuntimeError(f"oha failed: {r.stderr[-500:]}")
    d = json.loads(r.stdout)
    s, lat = d["summary"], d["latencyPercentiles"]
    codes = d.get("statusCodeDistribution", {})
    ok = codes.get("200", 0) / max(1, sum(codes.values()))
    return {"rps": s["requestsPerSec"], "p50": lat["p50"], "p99": lat["p99"], "ok": ok}


def bench_server(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    url: str,
    oha: str,
    body: str,
    secs: float,
    floor_url: str | None = None,
) -> dict:
    """Starts a server, warms it, runs every concurrency (``CONCURRENCY``),
    then (with `floor_url`) a GET of that URL at concurrency 32 -- an endpoint
    that does no work, so its p99 is the floor this machine's scheduling puts
    under any server's -- and stops it."""
    print(f"  {name}: starting", flush=True)
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out: dict[str, Any] = {}
    try:
        _wait_http(url, proc, body.encode())
        run_oha(oha, url, body, 8, min(2.0, secs))  # warm-up
        for c in CONCURRENCY:
            cpu0 = _cpu_seconds(proc.pid)
            res = run_oha(oha, url, body, c, secs)
            res["server_cpu_s"] = _cpu_seconds(proc.pid) - cpu0
            res["seconds"] = secs
            out[str(c)] = res
            print(
                f"  {name:<28} c={c:<3} {res['rps']:9.0f} req/s  p50 {res['p50'] * 1e3:7.3f} ms  "
                f"p99 {res['p99'] * 1e3:7.3f} ms  server CPU {res['server_cpu_s']:.1f} s  ok {res['ok']:.3f}",
                flush=True,
            )
        if floor_url is not None:
            res = out["floor-32"] = run_oha(oha, floor_url, None, 32, secs)
            print(
                f"  {name:<28} floor: GET /v2/health/live c=32 {res['rps']:9.0f} req/s  "
                f"p50 {res['p50'] * 1e3:7.3f} ms  p99 {res['p99'] * 1e3:7.3f} ms",
                flush=True,
            )
    except Exception as e:
        print(f"  {name}: failed ({e})")
        out["error"] = str(e)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return out


def bench_ferrokit_serve(
    label: str, model: Path, route: str, oha: str, body: str, secs: float, floor: bool = False
) -> dict[str, Any]:
    """ferrokit-serve serving the model file ``model`` as ``route``; with
    ``floor``, also the no-work ``GET /v2/health/live`` at concurrency 32."""
    from ferrokit._serve import server_binary

    port = _free_port()
    return bench_server(
        label,
        [str(server_binary()), str(model), "--port", str(port), "--log-level", "warn"],
        {},
        f"http://127.0.0.1:{port}/v2/models/{route}/infer",
        oha,
        body,
        secs,
        floor_url=f"http://127.0.0.1:{port}/v2/health/live" if floor else None,
    )


def bench_fastapi(
    label: str, python: Path, work: Path, model: Path, route: str, oha: str, body: str, secs: float
) -> dict[str, Any]:
    """FastAPI + uvicorn with 2 workers (each with one BLAS/OpenMP thread)
    running ``work/fastapi_app.py`` (:data:`FASTAPI_APP`) over the joblib file
    ``model``, asked at ``/v2/models/<route>/infer``."""
    port = _free_port()
    app = ["-m", "uvicorn", "fastapi_app:app", "--app-dir", str(work), "--port", str(port)]
    return bench_server(
        label,
        [str(python), *app, "--workers", "2", "--no-access-log", "--log-level", "warning"],
        {"BENCH_MODEL": str(model), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        f"http://127.0.0.1:{port}/v2/models/{route}/infer",
        oha,
        body,
        secs,
    )


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    """Runs the serve suite, prints its table and goals, writes serve.json."""
    import sklearn

    secs = QUICK_DURATION if quick else DURATION
    oha = ensure_oha()
    work = Path(tempfile.mkdtemp(prefix="ferrokit-bench-serve-"))
    _pipe, row, fk_file = make_pipeline(work)
    body = json.dumps(
        {
            "inputs": [
                {"name": "input-0", "shape": [1, N_FEATURES], "datatype": "FP64", "data": row.tolist()}
            ],
            "outputs": [{"name": "predict_proba"}],
        }
    )
    sk_version = sklearn.__version__
    results: dict[str, Any] = {}
    notes: list[str] = []
    if fk_file.endswith(".fkmlp"):
        notes.append("fk.export not available: ferrokit served the MLP with the scaler folded into layer 1")

    results["ferrokit-serve"] = bench_ferrokit_serve(
        "ferrokit-serve", work / fk_file, "model", oha, body, secs, floor=True
    )

    fast_py = ensure_venv(
        "fastapi", ["fastapi", "uvicorn[standard]", f"scikit-learn=={sk_version}", "joblib"]
    )
    if fast_py is not None:
        (work / "fastapi_app.py").write_text(FASTAPI_APP)
        results["FastAPI+uvicorn, 2 workers"] = bench_fastapi(
            "FastAPI+uvicorn, 2 workers", fast_py, work, work / "model.joblib", "model", oha, body, secs
        )
    else:
        notes.append("FastAPI reference could not be installed")

    ml_py = ensure_venv(
        "mlserver",
        ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22", f"scikit-learn=={sk_version}"],
    )
    if ml_py is not None:
        mdir = work / "mlserver" / "model"
        mdir.mkdir(parents=True)
        shutil.copy(work / "model.joblib", mdir / "model.joblib")
        port, gport, mport = _free_port(), _free_port(), _free_port()
        (work / "mlserver" / "settings.json").write_text(
            json.dumps({"http_port": port, "grpc_port": gport, "metrics_port": mport, "host": "127.0.0.1"})
        )
        (mdir / "model-settings.json").write_text(
            json.dumps(
                {
                    "name": "model",
                    "implementation": "mlserver_sklearn.SKLearnModel",
                    "parameters": {"uri": "./model.joblib"},
                }
            )
        )
        url = f"http://127.0.0.1:{port}/v2/models/model/infer"
        results["MLServer 1.7.1, defaults"] = bench_server(
            "MLServer 1.7.1, defaults",
            [str(ml_py.parent / "mlserver"), "start", str(work / "mlserver")],
            {"OMP_NUM_THREADS": "1"},
            url,
            oha,
            body,
            secs,
        )
    else:
        notes.append("MLServer 1.7.1 + mlserver-sklearn could not be installed")

    text = bench_text(work, oha, secs, fast_py)
    goals = _goals(results) + _text_goals(text)
    meta = {"cpu": cpu_model(), "cores": os.cpu_count(), "seconds per run": secs, "quick": quick,
            "load average": os.getloadavg(), "scikit-learn": sk_version, "model file": fk_file,
            "text case": f"Pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression), {TEXT_WORDS} "
                         f"words, {TEXT_CLASSES} classes, one short document per request"}  # fmt: skip
    print("\ngoals:")
    for g in goals:
        print(
            f"  {g['goal']:<55} {g['ratio']:10.3f}   goal {g['required']}: {'met' if g['met'] else 'NOT met'}"
        )
    for n in notes:
        print(f"  note: {n}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve.json").write_text(
        json.dumps({"meta": meta, "results": results, "text": text, "goals": goals, "notes": notes}, indent=2)
    )
    print(f"\nwrote {out / 'serve.json'}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def bench_text(work: Path, oha: str, secs: float, fast_py: Path | None) -> dict[str, Any]:
    """The text case: ferrokit-serve and FastAPI (2 workers) serving the same
    TfidfVectorizer + LogisticRegression pipeline, one short document per
    request, at every concurrency."""
    _pipe, doc = make_text_pipeline(work)
    body = json.dumps(
        {
            "inputs": [{"name": "input-0", "shape": [1], "datatype": "BYTES", "data": [doc]}],
            "outputs": [{"name": "predict_proba"}],
        }
    )
    out: dict[str, Any] = {}
    out["ferrokit-serve"] = bench_ferrokit_serve(
        "ferrokit-serve (text)", work / "text.fk", "text", oha, body, secs
    )
    if fast_py is not None:
        out["FastAPI+uvicorn, 2 workers"] = bench_fastapi(
            "FastAPI+uvicorn, 2 workers (text)", fast_py, work, work / "text.joblib", "text", oha, body, secs
        )
    return out


def _text_goals(text: dict[str, Any]) -> list[dict[str, Any]]:
    fk = text.get("ferrokit-serve", {})
    fa = text.get("FastAPI+uvicorn, 2 workers", {})
    goals = []
    for c in ("32", "1"):
        if c in fk and c in fa:
            r = fk[c]["rps"] / fa[c]["rps"]
            goal = {"goal": f"text c={c} req/s vs FastAPI 2 workers", "ratio": r, "required": ">= 10"}
            goals.append({**goal, "met": r >= 10})
    return goals


def _goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    fk = results.get("ferrokit-serve", {})
    fa = results.get("FastAPI+uvicorn, 2 workers", {})
    goals: list[dict[str, Any]] = []
    if "32" in fk and "32" in fa:
        r = fk["32"]["rps"] / fa["32"]["rps"]
        goals.append(
            {"goal": "c=32 req/s vs FastAPI 2 workers", "ratio": r, "required": ">= 8", "met": r >= 8}
        )
    if "32" in fk:
        p99 = fk["32"]["p99"] * 1e3
        goals.append({"goal": "c=32 p99 (ms)", "ratio": p99, "required": "<= 5", "met": p99 <= 5})
    if "1" in fk:
        p50 = fk["1"]["p50"] * 1e6
        goals.append({"goal": "c=1 p50 (us)", "ratio": p50, "required": "<= 100", "met": p50 <= 100})
    return goals


def readme_lines(data: dict[str, Any]) -> list[str]:
    """The README table of ``serve.json``."""
    m = data["meta"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores shared by server and load generator (oha), "
        f"{m['seconds per run']:g} s per run, one row of 64 features per request, `predict_proba` "
        "of Pipeline(StandardScaler, MLPClassifier(256, 128)).",
        "",
        "| server | concurrency | req/s | p50 | p99 | server CPU s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = list(data["results"].items())
    rows += [(f"{name} (text)", res) for name, res in data.get("text", {}).items()]
    for name, res in rows:
        for c in ("1", "32"):
            if c in res:
                r = res[c]
                lines.append(
                    f"| {name} | {c} | {r['rps']:.0f} | {r['p50'] * 1e3:.3f} ms | {r['p99'] * 1e3:.3f} ms | "
                    f"{r['server_cpu_s']:.1f} |"
                )
    floor = data["results"].get("ferrokit-serve", {}).get("floor-32")
    if floor:
        lines += [
            "",
            f"Floor: `GET /v2/health/live` (no work) on ferrokit-serve at concurrency 32, same machine: "
            f"{floor['rps']:.0f} req/s, p50 {floor['p50'] * 1e3:.3f} ms, p99 {floor['p99'] * 1e3:.3f} ms "
            "(the latency the shared cores' scheduling puts under any server).",
        ]
    if data.get("text"):
        lines += ["", f"Text rows: {m.get('text case', 'Pipeline(TfidfVectorizer, LogisticRegression)')}."]
    return lines


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]], str]:
    """The chart of ``serve.json``: per model and concurrency, the time per
    request (1 / requests per second: the bar ratio is the throughput ratio)
    and the p99 latency of every server."""
    m = data["meta"]
    groups: list[tuple[str, dict[str, float]]] = []
    for model, res in (("MLP", data["results"]), ("text", data.get("text", {}))):
        for c in ("1", "32"):
            runs = {name: r[c] for name, r in res.items() if c in r and r[c].get("rps")}
            if not runs:
                continue
            short = {name: name.replace("+uvicorn", "").replace(", defaults", "") for name in runs}
            conn = "1 connection" if c == "1" else f"{c} connections"
            groups.append(
                (f"{model}, {conn}\n1 / throughput", {short[n]: 1 / r["rps"] for n, r in runs.items()})
            )
            groups.append((f"{model}, {conn}\np99 latency", {short[n]: r["p99"] for n, r in runs.items()}))
    load = m.get("load average")
    if isinstance(load, list):
        load = " ".join(f"{v:.2f}" for v in load)
    sub = f"{m['cpu']}, servers on all {m['cores']} cores (shared with the load generator)"
    if load:
        sub += f", load average {load}"
    xlabel = (
        "seconds per request (1 / req/s) or p99 latency (log scale; shorter is better); "
        "(Nx) = reference / ferrokit"
    )
    return sub, groups, xlabel
