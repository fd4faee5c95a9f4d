"""ferrokit-serve operations: adaptive batching, a full queue, timeouts,
graceful shutdown with requests in flight, SIGHUP reload under load, auth,
start-up failures."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import Server, make_models, rows_payload

pytest.importorskip("sklearn")

Models = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    folder = tmp_path_factory.mktemp("models")
    return folder, make_models(folder)


def metric(server: Server, name: str, labels: str = "") -> float:
    text = server.request("GET", "/metrics")[2].decode()
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def wait_for(cond: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def run_clients(n: int, fn: Any) -> list[Any]:
    """Runs fn(i) on n threads at once; returns their results in order."""
    out: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def go(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as e:
            out[i] = e

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_batching_gives_the_unbatched_answers(models: Models, tmp_path: Path) -> None:
    sk = models[1]["clf"]
    s = Server(models[0], "--max-batch-size", "64", "--max-batch-delay-ms", "20", log=tmp_path / "log")
    try:

        def client(i: int) -> bool:
            rng = np.random.default_rng(i)
            ok = True
            for _ in range(10):
                X = rng.normal(size=(int(rng.integers(1, 5)), 8))
                outs = ["predict", "predict_proba"] if i % 2 else ["predict_proba"]
                st, r = s.infer("clf", rows_payload(X, outputs=outs))
                got = {o["name"]: np.reshape(o["data"], o["shape"]) for o in r["outputs"]}
                ok &= st == 200 and np.allclose(got["predict_proba"], sk.predict_proba(X), rtol=1e-12, atol=0)
                if "predict" in got:
                    ok &= got["predict"].tolist() == sk.predict(X).tolist()
            return ok

        assert run_clients(8, client) == [True] * 8
        batched = metric(s, "ferrokit_serve_batched_requests_total", '{model="clf"}')
        calls = metric(s, "ferrokit_serve_batch_rows_count", '{model="clf"}')
        assert batched == 80
        assert 0 < calls < batched, "no two concurrent requests shared a kernel call"
        # float32 model and the error path go through the batcher too.
        _st, r = s.infer("clf32", rows_payload(np.ones((2, 8)), "FP32", ["predict_proba"]))
        np.testing.assert_allclose(
            np.reshape(r["outputs"][0]["data"], (2, 3)), sk.predict_proba(np.ones((2, 8))), atol=1e-5
        )
        assert s.infer("clf", rows_payload(np.ones((1, 3))))[0] == 400
    finally:
        assert s.stop() == 0


def test_full_queue_answers_503_with_retry_after(models: Models, tmp_path: Path) -> None:
    args = ["--max-batch-size", "1000", "--max-batch-delay-ms", "600", "--max-queue", "2"]
    s = Server(models[0], *args, log=tmp_path / "log")
    try:
        X = np.ones((1, 8))

        def client(i: int) -> tuple[int, str | None]:
            st, h, _body = s.request("POST", "/v2/models/clf/infer", json.dumps(rows_payload(X)))
            return st, h.get("retry-after")

        res = run_clients(6, client)
        statuses = sorted(st for st, _ in res)
        assert statuses == [200, 200, 503, 503, 503, 503], res
        assert all(ra == "1" for st, ra in res if st == 503)
        assert s.infer("clf", rows_payload(X))[0] == 200  # the queue drained
    finally:
        assert s.stop() == 0


def test_request_timeout_answers_504(models: Models, tmp_path: Path) -> None:
    args = ["--max-batch-size", "100", "--max-batch-delay-ms", "3000", "--request-timeout-ms", "200"]
    s = Server(models[0], *args, log=tmp_path / "log")
    try:
        t = time.monotonic()
        st, r = s.infer("clf", rows_payload(np.ones((1, 8))))
        assert st == 504 and "200 ms" in r["error"]
        assert time.monotonic() - t < 2.5
    finally:
        assert s.stop() == 0


def test_graceful_shutdown_finishes_requests_in_flight(models: Models, tmp_path: Path) -> None:
    sk = models[1]["clf"]
    s = Server(models[0], "--max-batch-size", "1000", "--max-batch-delay-ms", "700", log=tmp_path / "log")
    X = np.random.default_rng(0).normal(size=(6, 8))
    results: list[Any] = []

    def client(i: int) -> None:
        results.append(s.infer("clf", rows_payload(X[i : i + 1], outputs=["predict_proba"]), timeout=20))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    # All six are queued in the batcher (waiting for its 700 ms delay).
    wait_for(lambda: metric(s, "ferrokit_serve_queue_depth", '{model="clf"}') == 6)
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    with pytest.raises(OSError):
        s.request("GET", "/v2/health/live", timeout=2)  # no longer accepting
    for t in threads:
        t.join(20)
    assert s.proc.wait(10) == 0
    assert time.monotonic() - t0 < 5
    assert len(results) == 6
    for st, _r in results:
        assert st == 200
    got = sorted(tuple(r["outputs"][0]["data"]) for _, r in results)
    want = sorted(tuple(p) for p in sk.predict_proba(X))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    s.logf.close()
    assert any(e["msg"] == "stopped" for e in s.logs())


def test_shutdown_deadline_exits_with_requests_unfinished(models: Models, tmp_path: Path) -> None:
    args = ["--max-batch-size", "100", "--max-batch-delay-ms", "20000", "--shutdown-timeout-ms", "300"]
    s = Server(models[0], *args, log=tmp_path / "log")
    results: list[Any] = []

    def client() -> None:
        try:
            results.append(s.infer("clf", rows_payload(np.ones((1, 8))), timeout=30))
        except Exception as e:
            results.append(e)

    th = threading.Thread(target=client)
    th.start()
    wait_for(lambda: metric(s, "ferrokit_serve_queue_depth", '{model="clf"}') == 1)
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(10) == 0
    assert time.monotonic() - t0 < 3
    th.join(10)
    s.logf.close()
    assert any("deadline" in e["msg"] for e in s.logs())


def test_sighup_reload_under_load_drops_no_request(models: Models, tmp_path: Path) -> None:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    import ferrokit as fk

    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(models[0] / "clf.fkmlp", folder / "m.fkmlp")
    old = models[1]["clf"]
    rng = np.random.default_rng(11)
    Xt = rng.normal(size=(200, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        new = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=1).fit(Xt, Xt[:, 0] > 0)
    s = Server(folder, log=tmp_path / "log")
    X = rng.normal(size=(1, 8))
    stop = threading.Event()
    seen: list[str] = []
    errors: list[str] = []

    def client() -> None:
        c = s.conn()
        while not stop.is_set():
            c.request("POST", "/v2/models/m/infer", json.dumps(rows_payload(X, outputs=["predict_proba"])))
            resp = c.getresponse()
            r = json.loads(resp.read())
            if resp.status != 200:
                errors.append(f"{resp.status} {r}")
                continue
            p = np.asarray(r["outputs"][0]["data"])
            if p.shape == (3,) and np.allclose(p, old.predict_proba(X)[0], rtol=1e-12):
                seen.append("old")
            elif p.shape == (2,) and np.allclose(p, new.predict_proba(X)[0], rtol=1e-12):
                seen.append("new")
            else:
                errors.append(f"unexpected answer {p}")
        c.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(seen) > 20)
        fk.nn.MLP.from_sklearn(new).save(folder / "m.fkmlp")  # written to a temp file, renamed
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: seen[-1] == "new")
        n = len(seen)
        wait_for(lambda: len(seen) > n + 20)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert errors == []
    assert "old" in seen and seen[-1] == "new"
    assert s.alive()
    # A broken file on reload: the old version keeps serving, the error is logged.
    (folder / "m.fkmlp").write_bytes(b"FKMLP\x1a\r\n broken")
    s.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: any("not reloaded" in e["msg"] for e in s.logs()))
    assert s.infer("m", rows_payload(X))[0] == 200
    assert s.stop() == 0


def test_bearer_token(models: Models, tmp_path: Path) -> None:
    s = Server(models[0], env={"FERROKIT_SERVE_AUTH_TOKEN": "s3cret"}, log=tmp_path / "log")
    try:
        assert s.get("/v2/health/live")[0] == 200
        assert s.get("/v2/health/ready")[0] == 200
        st, h, body = s.request("GET", "/v2")
        assert st == 401 and h["www-authenticate"] == "Bearer" and "bearer token" in json.loads(body)["error"]
        assert s.request("GET", "/v2", headers={"Authorization": "Bearer wrong!"})[0] == 401
        assert s.request("GET", "/metrics")[0] == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert s.request("GET", "/v2", headers=ok)[0] == 200
        assert s.infer("clf", rows_payload(np.ones((1, 8))), headers=ok)[0] == 200
        assert s.infer("clf", rows_payload(np.ones((1, 8))))[0] == 401
    finally:
        assert s.stop() == 0
    assert "s3cret" not in (tmp_path / "log").read_text()


def test_startup_failures_exit_nonzero_promptly(models: Models, tmp_path: Path) -> None:
    s = Server(models[0], log=tmp_path / "log")
    try:
        t = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "ferrokit", "serve", str(models[0]), "--port", str(s.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert r.returncode == 1 and "cannot listen" in r.stderr
        assert time.monotonic() - t < 10
        assert s.alive()
    finally:
        assert s.stop() == 0
    r = subprocess.run(
        [sys.executable, "-m", "ferrokit", "serve", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "ferrokit", "serve", str(models[0]), "--log-level", "loud"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2 and "--log-level" in r.stderr


def test_env_vars_configure_the_server(models: Models, tmp_path: Path) -> None:
    env = {"FERROKIT_SERVE_MAX_BODY_BYTES": "100", "FERROKIT_SERVE_REQUEST_LOG_LEVEL": "debug"}
    s = Server(models[0] / "clf.fkmlp", env=env, log=tmp_path / "log")
    try:
        st, r = s.infer("clf", rows_payload(np.ones((1, 8))))
        assert st == 413 and "100 bytes" in r["error"]
        assert [e for e in s.logs() if e["msg"] == "request"] == []  # debug lines not written at info
        assert s.get("/v2/models/clf32")[0] == 404  # a single file: only that model
    finally:
        assert s.stop() == 0


def test_python_launcher_finds_the_binary() -> None:
    from ferrokit._serve import server_binary

    exe = server_binary()
    assert exe.is_file() and os.access(exe, os.X_OK)
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "ferrokit-serve" in r.stdout
