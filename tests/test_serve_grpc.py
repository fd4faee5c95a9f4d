"""ferrokit-serve's gRPC service (inference.GRPCInferenceService): every
method, typed contents and raw_input_contents / raw_output_contents,
predictions equal to scikit-learn, errors as gRPC status codes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import Server, make_models

pytest.importorskip("sklearn")
grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")

PROTO = Path(__file__).resolve().parent.parent / "rustlib" / "serve" / "proto" / "grpc_predict_v2.proto"
Models = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def pb(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The Python messages and stub generated from the server's .proto."""
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("pb")
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


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    folder = tmp_path_factory.mktemp("models")
    return folder, make_models(folder)


@pytest.fixture(scope="module")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(models[0], "--grpc-port", "0", log=tmp_path_factory.mktemp("log") / "serve.log")
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def stub(server: Server, pb: Any) -> Iterator[Any]:
    port = next(int(e["grpc_address"].rsplit(":", 1)[1]) for e in server.logs() if "grpc_address" in e)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
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
