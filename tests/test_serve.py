"""ferrokit-serve speaks the Open Inference Protocol: every endpoint, every
datatype, JSON and binary, predictions equal to scikit-learn's."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import Server, binary_request, make_models, parse_binary_response, rows_payload

pytest.importorskip("sklearn")

Models = tuple[Path, dict[str, Any]]


def one(
    datatype: str = "FP64", shape: tuple[int, ...] = (1, 8), data: Any = None, **extra: Any
) -> dict[str, Any]:
    """A request with one input (zeros unless `data` is given)."""
    n = int(np.prod(shape))
    inp = {"name": "x", "shape": list(shape), "datatype": datatype, "data": [0] * n if data is None else data}
    return {"inputs": [inp], **extra}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("models")
    return folder, make_models(folder)


@pytest.fixture(scope="module")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(models[0], "--workers", "2", log=tmp_path_factory.mktemp("log") / "serve.log")
    yield s
    assert s.stop() == 0


@pytest.fixture
def X() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(5, 8))


def test_health_and_server_metadata(server: Server) -> None:
    assert server.get("/v2/health/live") == (200, {"live": True})
    assert server.get("/v2/health/ready") == (200, {"ready": True})
    st, meta = server.get("/v2")
    assert st == 200 and meta["name"] == "ferrokit-serve"
    assert {"binary_tensor_data", "model_repository"} <= set(meta["extensions"])


def test_model_metadata_has_real_inputs_and_outputs(server: Server) -> None:
    st, m = server.get("/v2/models/clf")
    assert st == 200
    assert m["name"] == "clf" and m["versions"] == ["1"]
    assert m["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 8]}]
    assert m["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]},
    ]
    assert server.get("/v2/models/clf/versions/1")[1] == m
    assert server.get("/v2/models/clf32")[1]["inputs"][0]["datatype"] == "FP32"
    assert server.get("/v2/models/binary")[1]["outputs"][0]["datatype"] == "BYTES"
    assert server.get("/v2/models/reg")[1]["outputs"] == [
        {"name": "predict", "datatype": "FP64", "shape": [-1, 2]}
    ]
    assert server.get("/v2/models/nope")[0] == 404
    assert server.get("/v2/models/clf/versions/2")[0] == 404
    assert server.get("/v2/models/README")[0] == 404


def test_model_ready(server: Server) -> None:
    assert server.get("/v2/models/clf/ready") == (200, {"name": "clf", "ready": True})
    assert server.get("/v2/models/clf/versions/1/ready")[0] == 200
    assert server.get("/v2/models/nope/ready")[0] == 404


def test_predictions_equal_sklearn(server: Server, models: Models, X: np.ndarray) -> None:
    sk = models[1]["clf"]
    st, r = server.infer("clf", rows_payload(X, outputs=["predict_proba", "predict"]))
    assert st == 200, r
    proba, pred = r["outputs"]
    assert proba["name"] == "predict_proba" and proba["shape"] == [5, 3] and proba["datatype"] == "FP64"
    np.testing.assert_allclose(np.reshape(proba["data"], (5, 3)), sk.predict_proba(X), rtol=1e-12, atol=1e-14)
    assert pred == {"name": "predict", "datatype": "INT64", "shape": [5], "data": sk.predict(X).tolist()}
    # Default output: predict.
    st, r = server.infer("clf", rows_payload(X))
    assert [o["name"] for o in r["outputs"]] == ["predict"]
    # float32 model, FP32 input.
    st, r = server.infer("clf32", rows_payload(X.astype(np.float32), "FP32", ["predict_proba"]))
    assert r["outputs"][0]["datatype"] == "FP32"
    np.testing.assert_allclose(np.reshape(r["outputs"][0]["data"], (5, 3)), sk.predict_proba(X), atol=1e-5)


def test_string_labels_and_regressor(server: Server, models: Models, X: np.ndarray) -> None:
    st, r = server.infer("binary", rows_payload(X, outputs=["predict", "predict_proba"]))
    assert st == 200
    assert r["outputs"][0]["datatype"] == "BYTES"
    assert r["outputs"][0]["data"] == models[1]["binary"].predict(X).tolist()
    assert r["outputs"][1]["shape"] == [5, 2]
    st, r = server.infer("reg", rows_payload(X))
    assert r["outputs"][0]["shape"] == [5, 2]
    np.testing.assert_allclose(
        np.reshape(r["outputs"][0]["data"], (5, 2)), models[1]["reg"].predict(X), rtol=1e-12
    )
    st, r = server.infer("reg", rows_payload(X, outputs=["predict_proba"]))
    assert st == 400 and "no output 'predict_proba'" in r["error"] and "predict" in r["error"]


def test_flat_data_one_row_and_zero_rows(server: Server, models: Models, X: np.ndarray) -> None:
    sk = models[1]["clf"]
    flat = {"inputs": [{"name": "x", "shape": [5, 8], "datatype": "FP64", "data": X.ravel().tolist()}]}
    assert server.infer("clf", flat)[1]["outputs"][0]["data"] == sk.predict(X).tolist()
    one = {"inputs": [{"name": "x", "shape": [8], "datatype": "FP64", "data": X[0].tolist()}]}
    r = server.infer("clf", one)[1]
    assert r["outputs"][0]["shape"] == [1] and r["outputs"][0]["data"] == sk.predict(X[:1]).tolist()
    zero = {"inputs": [{"name": "x", "shape": [0, 8], "datatype": "FP64", "data": []}]}
    st, r = server.infer("clf", {**zero, "outputs": [{"name": "predict_proba"}]})
    assert st == 200 and r["outputs"][0]["shape"] == [0, 3] and r["outputs"][0]["data"] == []
    odd = np.random.default_rng(1).normal(size=(37, 8))
    r = server.infer("clf", rows_payload(odd, outputs=["predict_proba"]))[1]
    np.testing.assert_allclose(
        np.reshape(r["outputs"][0]["data"], (37, 3)), sk.predict_proba(odd), rtol=1e-12
    )


@pytest.mark.parametrize(
    "datatype",
    ["INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "BOOL", "FP32", "FP64"],
)
def test_every_datatype(server: Server, models: Models, datatype: str) -> None:
    rng = np.random.default_rng(5)
    if datatype == "BOOL":
        X = rng.integers(0, 2, size=(3, 8)).astype(bool)
    else:
        X = rng.integers(0, 5, size=(3, 8))
    st, r = server.infer("clf", rows_payload(X, datatype, ["predict_proba"]))
    assert st == 200, r
    want = models[1]["clf"].predict_proba(X.astype(np.float64))
    np.testing.assert_allclose(np.reshape(r["outputs"][0]["data"], (3, 3)), want, rtol=1e-12)
    # The same through binary tensor data.
    np_type = {"BOOL": np.bool_, "FP32": np.float32, "FP64": np.float64}.get(datatype)
    if np_type is None:
        np_type = np.dtype(datatype.lower().replace("uint", "uint").replace("int", "int"))
    body, hl = binary_request(X.astype(np_type), datatype, ["predict_proba"], binary_out=True)
    st, h, data = server.request(
        "POST", "/v2/models/clf/infer", body, {"Inference-Header-Content-Length": str(hl)}
    )
    assert st == 200, data
    got = parse_binary_response(data, int(h["inference-header-content-length"]))
    np.testing.assert_allclose(got["predict_proba"], want, rtol=1e-12)


def test_binary_both_directions(server: Server, models: Models, X: np.ndarray) -> None:
    sk = models[1]["clf"]
    for out_binary in (True, False):
        body, hl = binary_request(X, "FP64", ["predict", "predict_proba"], out_binary)
        st, h, data = server.request(
            "POST", "/v2/models/clf/infer", body, {"Inference-Header-Content-Length": str(hl)}
        )
        assert st == 200, data
        if out_binary:
            assert h["content-type"] == "application/octet-stream"
            got = parse_binary_response(data, int(h["inference-header-content-length"]))
        else:
            assert "inference-header-content-length" not in h
            got = parse_binary_response(data, len(data))
        assert got["predict"].tolist() == sk.predict(X).tolist()
        np.testing.assert_allclose(got["predict_proba"], sk.predict_proba(X), rtol=1e-12)
    # binary_data_output for every output; text labels as BYTES.
    raw = X.tobytes()
    head = json.dumps(
        {
            "parameters": {"binary_data_output": True},
            "inputs": [
                {
                    "name": "x",
                    "shape": [5, 8],
                    "datatype": "FP64",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
        }
    ).encode()
    st, h, data = server.request(
        "POST", "/v2/models/binary/infer", head + raw, {"Inference-Header-Content-Length": str(len(head))}
    )
    assert st == 200
    got = parse_binary_response(data, int(h["inference-header-content-length"]))
    assert got["predict"] == models[1]["binary"].predict(X).tolist()


def test_id_and_parameters_echoed_unknown_fields_ignored(server: Server, X: np.ndarray) -> None:
    p = rows_payload(X[:1])
    p.update({"id": "req-42", "parameters": {"trace": "abc", "n": 3}, "future_field": [1, 2]})
    p["inputs"][0]["parameters"] = {"content_type": "np"}
    st, r = server.infer("clf", p)
    assert st == 200
    assert r["id"] == "req-42" and r["parameters"] == {"trace": "abc", "n": 3}
    assert r["model_name"] == "clf" and r["model_version"] == "1"
    st, r = server.infer("clf", {k: v for k, v in p.items() if k != "id"})
    assert "id" not in r
    assert server.request("POST", "/v2/models/clf/versions/1/infer", json.dumps(p))[0] == 200


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (one(shape=(1, 7)), "expects 8 features"),
        (one(shape=(2, 8), data=[0] * 8), "has 16 elements but data has 8"),
        (one("FLOAT"), "unknown datatype 'FLOAT'"),
        (one("BYTES", data=["a"] * 8), "not BYTES"),
        (one("UINT8", data=[300] * 8), "not a valid UINT8"),
        ({"inputs": one()["inputs"] * 2}, "takes 1 input"),
        (one(outputs=[{"name": "nope"}]), "no output 'nope'"),
        ({"inputs": []}, "no inputs"),
        ({"input": []}, "missing field `inputs`"),
        (one(id=5), "invalid type"),
    ],
)
def test_bad_requests_answer_400_naming_the_problem(
    server: Server, payload: dict[str, Any], needle: str
) -> None:
    st, r = server.infer("clf", payload)
    assert st == 400
    assert needle in r["error"], r


def test_unknown_model_and_route(server: Server, X: np.ndarray) -> None:
    st, r = server.infer("nope", rows_payload(X))
    assert st == 404 and "nope" in r["error"]
    assert server.request("GET", "/v3")[0] == 404
    assert server.request("GET", "/v2/models/clf/infer")[0] in (404, 405)
    assert server.request("DELETE", "/v2/health/live")[0] == 405


def test_concurrent_clients_get_their_own_answers(server: Server, models: Models) -> None:
    sk = models[1]["clf"]
    errors: list[str] = []

    def client(seed: int) -> None:
        rng = np.random.default_rng(seed)
        c = server.conn()
        for _ in range(25):
            X = rng.normal(size=(int(rng.integers(1, 4)), 8))
            c.request("POST", "/v2/models/clf/infer", json.dumps(rows_payload(X, outputs=["predict_proba"])))
            r = json.loads(c.getresponse().read())
            got = np.reshape(r["outputs"][0]["data"], (len(X), 3))
            if not np.allclose(got, sk.predict_proba(X), rtol=1e-12, atol=0):
                errors.append(f"client {seed}: wrong answer")
        c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_repository_index_load_unload(server: Server, X: np.ndarray) -> None:
    st, _, body = server.request("POST", "/v2/repository/index", "{}")
    idx = json.loads(body)
    assert st == 200
    assert {r["name"] for r in idx} == {"clf", "clf32", "binary", "reg"}
    assert all(r["state"] == "READY" and r["version"] == "1" for r in idx)
    assert server.request("POST", "/v2/repository/models/reg/unload")[0] == 200
    assert server.infer("reg", rows_payload(X))[0] == 404
    assert server.get("/v2/models/reg/ready")[0] == 503
    idx = json.loads(server.request("POST", "/v2/repository/index", "{}")[2])
    assert {"name": "reg", "version": "1", "state": "UNAVAILABLE", "reason": "unloaded"} in idx
    ready = json.loads(server.request("POST", "/v2/repository/index", '{"ready": true}')[2])
    assert "reg" not in {r["name"] for r in ready}
    assert server.request("POST", "/v2/repository/models/reg/load")[0] == 200
    assert server.infer("reg", rows_payload(X))[0] == 200
    assert server.request("POST", "/v2/repository/models/nope/load")[0] == 404
    assert server.request("POST", "/v2/repository/models/nope/unload")[0] == 404


def test_metrics(server: Server, X: np.ndarray) -> None:
    server.infer("clf", rows_payload(X))
    server.infer("clf", {"inputs": []})
    st, h, body = server.request("GET", "/metrics")
    text = body.decode()
    assert st == 200 and h["content-type"].startswith("text/plain")
    assert 'ferrokit_serve_requests_total{model="clf",status="200"}' in text
    assert 'ferrokit_serve_requests_total{model="clf",status="400"}' in text
    assert 'ferrokit_serve_request_duration_seconds_bucket{model="clf",le="+Inf"}' in text
    assert "ferrokit_serve_queue_depth" in text and "ferrokit_serve_inflight_requests" in text


def test_request_log_lines(server: Server) -> None:
    bad = {"id": "logme", "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}
    server.infer("clf", bad)
    lines = [entry for entry in server.logs() if entry.get("id") == "logme"]
    assert len(lines) == 1
    line = lines[0]
    assert line["msg"] == "request" and line["status"] == 400 and line["model"] == "clf"
    assert line["level"] == "info" and "features" in line["error"] and line["duration_us"] >= 0


def test_help_lists_every_flag_with_its_environment_variable() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ferrokit", "serve", "--help"], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0
    for env in ["HOST", "PORT", "MAX_BATCH_SIZE", "MAX_BATCH_DELAY_MS", "MAX_QUEUE", "MAX_BODY_BYTES",
                "REQUEST_TIMEOUT_MS", "SHUTDOWN_TIMEOUT_MS", "LOG_LEVEL", "AUTH_TOKEN"]:  # fmt: skip
        assert f"FERROKIT_SERVE_{env}" in r.stdout, env
    assert "127.0.0.1" in r.stdout
