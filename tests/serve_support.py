"""Helpers for the ferrokit-serve tests: start the real server on a free port,
talk HTTP to it (stdlib only), build models, encode Triton binary requests."""

from __future__ import annotations

import http.client
import importlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import ferrokit as fk

PROTO = Path(__file__).resolve().parent.parent / "rustlib" / "serve" / "proto" / "grpc_predict_v2.proto"


def grpc_modules(out: Path) -> tuple[Any, Any]:
    """The Python messages and stub generated (grpc_tools.protoc) from the
    server's .proto into `out`: (grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc)."""
    from grpc_tools import protoc

    rc = protoc.main(
        ["protoc", f"-I{PROTO.parent}", f"--python_out={out}", f"--grpc_python_out={out}", str(PROTO)]
    )
    assert rc == 0
    sys.path.insert(0, str(out))
    try:
        msgs = importlib.import_module("grpc_predict_v2_pb2")
        svc = importlib.import_module("grpc_predict_v2_pb2_grpc")
    finally:
        sys.path.remove(str(out))
    return msgs, svc


def grpc_port(server: Server) -> int:
    """The gRPC port a server started with ``--grpc-port 0`` logged."""
    return next(int(e["grpc_address"].rsplit(":", 1)[1]) for e in server.logs() if "grpc_address" in e)


METHODS = ("predict", "predict_proba", "decision_function")


def methods_of(pipe: Any) -> list[str]:
    """The prediction methods of ``pipe`` that ferrokit-serve offers as outputs, in order."""
    return [m for m in METHODS if hasattr(pipe, m)]


def export_all(pipes: dict[str, Any], folder: Path) -> tuple[Path, dict[str, Any]]:
    """Writes every fitted pipeline to ``folder/<name>.fk`` (``fk.export``);
    returns ``(folder, pipes)`` for a server over that folder."""
    for name, p in pipes.items():
        fk.export(p, folder / f"{name}.fk")
    return folder, pipes


def serve_with_grpc(folder: Path, log_dir: Path) -> Iterator[Server]:
    """A module fixture's body: a server over every model in ``folder`` with
    a gRPC port, logging to ``log_dir/serve.log``; checks it exits cleanly."""
    s = Server(folder, "--grpc-port", "0", log=log_dir / "serve.log")
    yield s
    assert s.stop() == 0


def make_models(folder: Path) -> dict[str, Any]:
    """Trains small scikit-learn MLPs, saves them in `folder`, returns {name: estimator}."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 8))
    y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    ys = np.where(X[:, 2] > 0, "cat", "dog")
    yr = np.stack([X[:, 0] + 2 * X[:, 1], X[:, 3] - X[:, 4]], axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=100, random_state=0).fit(X, y3)
        binary = MLPClassifier(hidden_layer_sizes=(12,), max_iter=100, random_state=0).fit(X, ys)
        reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0).fit(X, yr)
    fk.nn.MLP.from_sklearn(clf).save(folder / "clf.fkmlp")
    fk.nn.MLP.from_sklearn(clf, dtype=np.float32).save(folder / "clf32.fkmlp")
    fk.nn.MLP.from_sklearn(binary).save(folder / "binary.fkmlp")
    fk.nn.MLP.from_sklearn(reg).save(folder / "reg.fkmlp")
    (folder / "README.txt").write_text("not a model: skipped (extension)\n")
    return {"clf": clf, "clf32": clf, "binary": binary, "reg": reg}


class Server:
    """A running ``python -m ferrokit serve`` process on a free port."""

    def __init__(self, path: Path, *args: str, env: dict[str, str] | None = None, log: Path) -> None:
        self.log_path = log
        self.logf = open(log, "wb")  # closed in stop()
        cmd = [sys.executable, "-m", "ferrokit", "serve", str(path), "--port", "0", *args]
        self.proc = subprocess.Popen(
            cmd, stdout=self.logf, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        self.port = self._wait_listening()

    def _wait_listening(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if '"listening"' in line:
                    return int(json.loads(line)["address"].rsplit(":", 1)[1])
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log_path.read_text()}")
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def conn(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        c = self.conn(timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        st, _, body = self.request("GET", path, **kw)
        return st, json.loads(body) if body.startswith((b"{", b"[")) else body

    def infer(self, model: str, payload: dict[str, Any], **kw: Any) -> tuple[int, Any]:
        st, _, body = self.request("POST", f"/v2/models/{model}/infer", json.dumps(payload), **kw)
        return st, json.loads(body)

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None and self.get("/v2/health/live")[0] == 200


def rows_payload(X: np.ndarray, datatype: str = "FP64", outputs: list[str] | None = None) -> dict[str, Any]:
    """A JSON inference request for the rows of `X` (nested data)."""
    p: dict[str, Any] = {
        "inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": datatype, "data": X.tolist()}]
    }
    if outputs is not None:
        p["outputs"] = [{"name": o} for o in outputs]
    return p


def bytes_payload(items: list[bytes]) -> bytes:
    """Triton's binary BYTES layout: each element a little-endian u32 length, then its bytes."""
    return b"".join(len(b).to_bytes(4, "little") + b for b in items)


def post_text_binary(
    server: Server, model: str, input_name: str, docs: list[str], outputs: list[str], binary_out: bool
) -> tuple[int, dict[str, str], bytes]:
    """POSTs ``docs`` to ``model`` as one binary-data BYTES input: (status, headers, body)."""
    raw = bytes_payload([d.encode() for d in docs])
    head = json.dumps({
        "inputs": [{"name": input_name, "shape": [len(docs)], "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(raw)}}],
        "outputs": [{"name": o, "parameters": {"binary_data": binary_out}} for o in outputs],
    }).encode()  # fmt: skip
    return server.request(
        "POST", f"/v2/models/{model}/infer", head + raw, {"Inference-Header-Content-Length": str(len(head))}
    )


def binary_request(X: np.ndarray, datatype: str, outputs: list[str], binary_out: bool) -> tuple[bytes, int]:
    """A Triton binary-data request: (body, Inference-Header-Content-Length)."""
    raw = np.ascontiguousarray(X).tobytes()
    header = {
        "inputs": [
            {
                "name": "input-0",
                "shape": list(X.shape),
                "datatype": datatype,
                "parameters": {"binary_data_size": len(raw)},
            }
        ],
        "outputs": [{"name": o, "parameters": {"binary_data": binary_out}} for o in outputs],
    }
    h = json.dumps(header).encode()
    return h + raw, len(h)


NP_OF = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64, "BOOL": np.bool_}


def parse_binary_response(body: bytes, header_len: int) -> dict[str, np.ndarray]:
    """Outputs of a binary response by name (BYTES as a list of str)."""
    head = json.loads(body[:header_len])
    pos = header_len
    out: dict[str, Any] = {}
    for o in head["outputs"]:
        if "data" in o:
            out[o["name"]] = np.array(o["data"]).reshape(o["shape"])
            continue
        n = o["parameters"]["binary_data_size"]
        chunk = body[pos : pos + n]
        pos += n
        if o["datatype"] == "BYTES":
            items, i = [], 0
            while i < len(chunk):
                (k,) = struct.unpack_from("<I", chunk, i)
                items.append(chunk[i + 4 : i + 4 + k].decode())
                i += 4 + k
            out[o["name"]] = items
        else:
            out[o["name"]] = np.frombuffer(chunk, dtype=NP_OF[o["datatype"]]).reshape(o["shape"])
    assert pos == len(body)
    return out
