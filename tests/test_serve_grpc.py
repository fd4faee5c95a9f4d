"""ferrokit-serve's gRPC service (inference.GRPCInferenceService): every
method, typed contents and raw_input_contents / raw_output_contents,
predictions equal to scikit-learn, errors as gRPC status codes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import Server, grpc_modules, grpc_port, make_models

pytest.importorskip("sklearn")
grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")
psutil = pytest.importorskip("psutil")

MAX_BODY = 4 << 20

Models = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def pb(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The Python messages and stub generated from the server's .proto."""
    return grpc_modules(tmp_path_factory.mktemp("pb"))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    folder = tmp_path_factory.mktemp("models")
    return folder, make_models(folder)


@pytest.fixture(scope="module")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(
        models[0],
        "--grpc-port",
        "0",
        "--max-body-bytes",
        str(MAX_BODY),
        log=tmp_path_factory.mktemp("log") / "serve.log",
    )
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def stub(server: Server, pb: Any) -> Iterator[Any]:
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as ch:
        yield pb[1].GRPCInferenceServiceStub(ch)


def test_health_and_metadata(stub: Any, pb: Any) -> None:
    m = pb[0]
    assert stub.ServerLive(m.ServerLiveRequest()).live
    assert stub.ServerReady(m.ServerReadyRequest()).ready
    meta = stub.ServerMetadata(m.ServerMetadataRequest())
    assert meta.name == "ferrokit-serve" and "model_repository" in meta.extensions
    assert stub.ModelReady(m.ModelReadyRequest(name="clf")).ready
    md = stub.ModelMetadata(m.ModelMetadataRequest(name="clf", version="1"))
    assert md.versions == ["1"]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("input-0", "FP64", [-1, 8])]
    assert [t.name for t in md.outputs] == ["predict", "predict_proba"]
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelMetadata(m.ModelMetadataRequest(name="nope"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def infer_request(m: Any, X: np.ndarray, datatype: str, field: str, outputs: list[str], raw: bool) -> Any:
    t = m.ModelInferRequest.InferInputTensor(name="input-0", datatype=datatype, shape=list(X.shape))
    req = m.ModelInferRequest(model_name="clf", id="g1", inputs=[t])
    for o in outputs:
        req.outputs.add(name=o)
    if raw:
        req.raw_input_contents.append(np.ascontiguousarray(X).tobytes())
    else:
        getattr(req.inputs[0].contents, field).extend(X.ravel().tolist())
    return req


@pytest.mark.parametrize(
    ("datatype", "np_type", "field"),
    [
        ("FP64", np.float64, "fp64_contents"),
        ("FP32", np.float32, "fp32_contents"),
        ("INT32", np.int32, "int_contents"),
        ("INT64", np.int64, "int64_contents"),
        ("UINT8", np.uint8, "uint_contents"),
        ("UINT64", np.uint64, "uint64_contents"),
        ("BOOL", np.bool_, "bool_contents"),
    ],
)
@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
def test_infer_equals_sklearn(
    stub: Any, pb: Any, models: Models, datatype: str, np_type: Any, field: str, raw: bool
) -> None:
    rng = np.random.default_rng(2)
    X = (rng.normal(size=(4, 8)) if datatype.startswith("FP") else rng.integers(0, 2, size=(4, 8))).astype(
        np_type
    )
    sk = models[1]["clf"]
    r = stub.ModelInfer(infer_request(pb[0], X, datatype, field, ["predict_proba", "predict"], raw))
    assert r.model_name == "clf" and r.id == "g1"
    proba, pred = r.outputs
    assert list(proba.shape) == [4, 3] and list(pred.shape) == [4]
    if raw:
        assert len(r.raw_output_contents) == 2
        p = np.frombuffer(r.raw_output_contents[0], dtype=np.float64).reshape(4, 3)
        labels = np.frombuffer(r.raw_output_contents[1], dtype=np.int64)
    else:
        p = np.reshape(proba.contents.fp64_contents, (4, 3))
        labels = np.asarray(pred.contents.int64_contents)
    tol = 1e-12 if datatype != "FP32" else 1e-6
    np.testing.assert_allclose(p, sk.predict_proba(X.astype(np.float64)), rtol=tol, atol=tol)
    assert labels.tolist() == sk.predict(X.astype(np.float64)).tolist()


def test_text_labels_and_parameters(stub: Any, pb: Any, models: Models) -> None:
    m = pb[0]
    X = np.random.default_rng(4).normal(size=(3, 8))
    req = infer_request(m, X, "FP64", "fp64_contents", [], False)
    req.model_name = "binary"
    req.parameters["trace"].string_param = "abc"
    r = stub.ModelInfer(req)
    assert [b.decode() for b in r.outputs[0].contents.bytes_contents] == models[1]["binary"].predict(
        X
    ).tolist()
    assert r.parameters["trace"].string_param == "abc"


def test_errors_are_grpc_status_codes(stub: Any, pb: Any) -> None:
    m = pb[0]
    bad = infer_request(m, np.ones((1, 5)), "FP64", "fp64_contents", [], False)
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(bad)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "features" in e.value.details()
    short = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", [], True)
    short.raw_input_contents[0] = short.raw_input_contents[0][:-1]
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(short)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    missing = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", [], False)
    missing.model_name = "nope"
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(missing)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    wrong_out = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", ["decision_function"], False)
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(wrong_out)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "decision_function" in e.value.details()


def test_repository(stub: Any, pb: Any) -> None:
    m = pb[0]
    idx = stub.RepositoryIndex(m.RepositoryIndexRequest())
    assert {x.name for x in idx.models} == {"clf", "clf32", "binary", "reg"}
    stub.RepositoryModelUnload(m.RepositoryModelUnloadRequest(model_name="reg"))
    assert not stub.ModelReady(m.ModelReadyRequest(name="reg")).ready
    stub.RepositoryModelLoad(m.RepositoryModelLoadRequest(model_name="reg"))
    assert stub.ModelReady(m.ModelReadyRequest(name="reg")).ready


def test_hostile_messages(server: Server, stub: Any, pb: Any) -> None:
    """Shape claims far larger than the data, raw/typed mismatches, garbage and
    truncated protobuf, unknown fields, a message over the body limit, stalled
    connections: the right status codes, and the server keeps serving."""
    m = pb[0]
    proc = psutil.Process(server.proc.pid)
    rss0 = proc.memory_info().rss

    def code(req: Any) -> Any:
        with pytest.raises(grpc.RpcError) as e:
            stub.ModelInfer(req)
        return e.value.code()

    for shape in ([10**9, 8], [2**62, 2**62], [2**31] * 16, [-1, 8]):
        for raw in (False, True):
            req = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", [], raw)
            del req.inputs[0].shape[:]
            req.inputs[0].shape.extend(shape)
            assert code(req) == grpc.StatusCode.INVALID_ARGUMENT, (shape, raw)
    two_raw = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", [], True)
    two_raw.raw_input_contents.append(b"\0" * 64)
    assert code(two_raw) == grpc.StatusCode.INVALID_ARGUMENT
    both = infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", [], True)
    both.inputs[0].contents.fp64_contents.extend([1.0] * 8)
    assert code(both) == grpc.StatusCode.INVALID_ARGUMENT
    contents = m.InferTensorContents(bytes_contents=[b"\xff\xfe"])
    t = m.ModelInferRequest.InferInputTensor(name="x", datatype="BYTES", shape=[1], contents=contents)
    text = m.ModelInferRequest(model_name="clf", inputs=[t])
    assert code(text) == grpc.StatusCode.INVALID_ARGUMENT

    # Raw protobuf bytes through a generic channel: garbage, truncated, and a
    # valid request with unknown fields (ignored, as protobuf says).
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as ch:
        call = ch.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        good = infer_request(m, np.ones((2, 8)), "FP64", "fp64_contents", ["predict_proba"], True)
        wire = good.SerializeToString()
        for bad in (b"\xff" * 40, wire[: len(wire) // 2], b"\x0a\xff\xff\xff\xff\x0f"):
            with pytest.raises(grpc.RpcError) as e:
                call(bad)
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        unknown = wire + b"\x98\x06\x01" + b"\xa2\x06\x03abc"  # fields 99 (varint) and 100 (bytes)
        r = m.ModelInferResponse.FromString(call(unknown))
        assert r.model_name == "clf" and len(r.raw_output_contents) == 1
        # Over --max-body-bytes: RESOURCE_EXHAUSTED.
        with pytest.raises(grpc.RpcError) as e:
            call(b"\x0a\x05" + b"x" * (MAX_BODY + 10))
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Connections that stall in the HTTP/2 preface or send garbage.
    socks = []
    for i in range(30):
        s = socket.create_connection(("127.0.0.1", grpc_port(server)), timeout=10)
        s.sendall(b"PRI * HTTP/2.0\r\n"[: i % 16] if i % 2 else b"\x00" * 100)
        socks.append(s)
    r = stub.ModelInfer(infer_request(m, np.ones((1, 8)), "FP64", "fp64_contents", ["predict"], False))
    assert list(r.outputs[0].shape) == [1]
    for s in socks:
        s.close()
    assert stub.ServerLive(m.ServerLiveRequest()).live
    assert proc.memory_info().rss < rss0 + (64 << 20)
