"""ferrokit-serve under hostile input: malformed and deeply nested JSON, shape
claims far larger than the data, huge bodies, slow clients, invalid UTF-8,
abandoned connections. Each gets the right status and the server keeps
serving with bounded memory."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from serve_support import Server, make_models, rows_payload

pytest.importorskip("sklearn")
psutil = pytest.importorskip("psutil")

MAX_BODY = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("models")
    make_models(folder)
    args = ["--max-body-bytes", str(MAX_BODY), "--read-timeout-ms", "1500", "--request-log-level", "debug"]
    s = Server(folder, *args, log=tmp_path_factory.mktemp("log") / "serve.log")
    yield s
    assert s.stop() == 0


@pytest.fixture(autouse=True)
def still_serving(server: Server) -> Iterator[None]:
    yield
    st, r = server.infer("clf", rows_payload(np.ones((1, 8))))
    assert st == 200, r


def post(server: Server, body: bytes | str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    st, _, data = server.request("POST", "/v2/models/clf/infer", body, headers)
    return st, json.loads(data)["error"] if st != 200 else ""


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'{"inputs": 5}',
        b"\xff\xfe\x00garbage",
        b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "BYTES", "data": ["\xff\xfe"]}]}',
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["\\ud800"]}]}',
        b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": [NaN]}]}',
        b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": [1e999]}]}',
        b'{"inputs": [{"name": "x", "shape": "1,8", "datatype": "FP64", "data": [1]}]}',
        b'{"inputs": [{"name": "x", "shape": [1.5], "datatype": "FP64", "data": [1]}]}',
        b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": [{"a": 1}]}]}',
        b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": [null]}]}',
        b'{"inputs": [], "inputs": []}',
    ],
)
def test_malformed_json_is_400(server: Server, body: bytes) -> None:
    st, err = post(server, body)
    assert st == 400 and err


def test_deeply_nested_json_is_400(server: Server) -> None:
    for depth in (40, 1000, 200_000):
        data = "[" * depth + "1" + "]" * depth
        body = f'{{"inputs": [{{"name": "x", "shape": [1], "datatype": "FP64", "data": {data}}}]}}'
        st, err = post(server, body[:MAX_BODY])
        assert st == 400, depth
        assert "nested" in err or "recursion" in err or "EOF" in err
    st, _ = post(server, '{"a":' * 100_000)
    assert st == 400


def test_shape_claims_far_larger_than_the_data(server: Server) -> None:
    rss0 = psutil.Process(server.proc.pid).memory_info().rss
    for shape in ([10**9, 8], [2**62, 2**62], [2**31] * 16, [0] * 20, [-5, 8]):
        body = {"inputs": [{"name": "x", "shape": shape, "datatype": "FP64", "data": [1.0] * 8}]}
        st, _ = post(server, json.dumps(body))
        assert st == 400, shape
    raw = np.ones(8).tobytes()
    for shape, size in (([10**9, 8], len(raw)), ([1, 8], 10**18), ([1, 8], 2**64 - 1)):
        inp = {"name": "x", "shape": shape, "datatype": "FP64", "parameters": {"binary_data_size": size}}
        head = json.dumps({"inputs": [inp]}).encode()
        st, _ = post(server, head + raw, {"Inference-Header-Content-Length": str(len(head))})
        assert st == 400, (shape, size)
    for bad_len in ("-1", "abc", str(10**30), "999999"):
        st, _err = post(server, b"{}", {"Inference-Header-Content-Length": bad_len})
        assert st == 400, bad_len
    assert psutil.Process(server.proc.pid).memory_info().rss < rss0 + (64 << 20)


def test_invalid_utf8_and_wrong_kinds_in_binary_bytes(server: Server) -> None:
    payload = b"\x02\x00\x00\x00\xff\xfe"
    head = json.dumps(
        {"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}]}
    ).encode()
    st, err = post(server, head + payload, {"Inference-Header-Content-Length": str(len(head))})
    assert st == 400 and err
    truncated = b"\xff\x00\x00\x00ab"
    st, err = post(server, head + truncated, {"Inference-Header-Content-Length": str(len(head))})
    assert st == 400


def test_huge_bodies_are_413(server: Server) -> None:
    # A claimed length over the limit is refused before anything is read.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST /v2/models/clf/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 413")
    s.close()
    # A chunked body that grows past the limit.
    c = server.conn()

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"[" * 65536

    try:
        c.request("POST", "/v2/models/clf/infer", body=chunks(), encode_chunked=True)
        r = c.getresponse()
        assert r.status == 413 and b"limit" in r.read()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close while the client is still sending
    finally:
        c.close()
    rss = psutil.Process(server.proc.pid).memory_info().rss
    assert rss < 512 << 20


def test_slow_clients(server: Server) -> None:
    body = json.dumps(rows_payload(np.ones((1, 8)))).encode()
    req = (
        b"POST /v2/models/clf/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    # One byte at a time, but within the read timeout: answered.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    step = max(1, len(req) // 60)
    for i in range(0, len(req), step):
        s.sendall(req[i : i + step])
        time.sleep(0.005)
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    s.close()
    # Stalled mid-body: 408 after the read timeout, while others are served.
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    stalled.sendall(req[: len(req) - 10])
    st, _ = server.infer("clf", rows_payload(np.ones((1, 8))))
    assert st == 200
    t = time.monotonic()
    got = stalled.recv(65536)
    assert got.startswith(b"HTTP/1.1 408"), got[:100]
    assert time.monotonic() - t < 5
    stalled.close()
    # Stalled in the headers: the connection is closed after the read timeout.
    h = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    h.sendall(b"POST /v2/models/clf/infer HTTP/1.1\r\nHo")
    t = time.monotonic()
    data = h.recv(65536)
    assert time.monotonic() - t < 5
    assert data == b"" or data.startswith(b"HTTP/1.1 408")
    h.close()


def test_abandoned_and_garbage_connections(server: Server) -> None:
    socks = []
    for i in range(100):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        if i % 3 == 0:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS hello
        elif i % 3 == 1:
            big = b"X-Big: " + b"a" * 200_000
            s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n\r\n")
        socks.append(s)
    for s in socks:
        s.close()
    st, _, _ = server.request("GET", "/v2/health/live")
    assert st == 200


def test_many_concurrent_bad_and_good_requests(server: Server) -> None:
    errors: list[str] = []
    short = b'{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": [1]}]}'

    def client(i: int) -> None:
        for k in range(20):
            if (i + k) % 2:
                st, _ = post(server, short)
                if st != 400:
                    errors.append(f"bad request got {st}")
            else:
                st, r = server.infer("clf", rows_payload(np.ones((1, 8))))
                if st != 200:
                    errors.append(f"good request got {st}: {r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_memory_stays_bounded(server: Server) -> None:
    proc = psutil.Process(server.proc.pid)
    body = json.dumps(rows_payload(np.random.default_rng(0).normal(size=(2000, 8))))
    c = server.conn()
    for _ in range(5):
        c.request("POST", "/v2/models/clf/infer", body)
        c.getresponse().read()
    rss0 = proc.memory_info().rss
    for _ in range(60):
        c.request("POST", "/v2/models/clf/infer", body)
        assert c.getresponse().read()
    c.close()
    assert proc.memory_info().rss < rss0 + (32 << 20)


def test_unknown_paths_and_methods(server: Server) -> None:
    for method, path in [
        ("GET", "/"),
        ("GET", "/v2/models"),
        ("PUT", "/v2/models/clf/infer"),
        ("GET", "/v2/models/clf/versions/1/extra/deep"),
        ("POST", "/v2/repository/models/../../etc/passwd/load"),
        ("GET", "/v2/models/%2e%2e"),
    ]:
        st, _, body = server.request(method, path)
        assert st in (404, 405), (method, path, st)
        assert "error" in json.loads(body)


def test_model_path_traversal_is_not_loaded(server: Server, tmp_path: Path) -> None:
    st, _, _ = server.request("POST", "/v2/repository/models/..%2F..%2Fetc%2Fpasswd/load")
    assert st == 404
