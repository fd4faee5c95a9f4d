"""ferrokit-serve answers exported scikit-learn pipelines (``fk.export``) as
scikit-learn does: labels equal, floats within 1e-12 relative (float64), over
REST JSON, REST binary tensor data (Triton extension) and gRPC (typed contents
and raw_input_contents / raw_output_contents)."""

from __future__ import annotations

import json
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import (
    Server,
    binary_request,
    export_all,
    grpc_modules,
    grpc_port,
    methods_of,
    parse_binary_response,
    rows_payload,
    serve_with_grpc,
)

pytest.importorskip("sklearn")
grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")


N_FEATURES = 6
Pipelines = dict[str, Any]


def _fit() -> Pipelines:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, N_FEATURES)) * [1, 2, 3, 0.5, 10, 1] + [0, 1, -2, 0, 5, 0]
    y4 = np.argmax(X[:, :4] * [1, 0.5, 0.33, 2], axis=1) * 10 - 5  # classes -5, 5, 15, 25
    text3 = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
    spam = np.where(X[:, 2] + X[:, 3] > -2, "spam", "ham")
    yr = X @ rng.normal(size=N_FEATURES) + 3
    yr2 = np.stack([yr, X[:, 0] - X[:, 5]], axis=1)
    Xnan = X.copy()
    Xnan[rng.random(X.shape) < 0.1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y4),
            "ridge": make_pipeline(SimpleImputer(), MinMaxScaler(), Ridge(alpha=0.5)).fit(Xnan, yr),
            "mlp": make_pipeline(
                StandardScaler(), MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=200, random_state=0)
            ).fit(X, text3),
            "spam": make_pipeline(MaxAbsScaler(), LogisticRegression()).fit(X, spam),
            "svc": make_pipeline(Normalizer(), LinearSVC()).fit(X, text3),
            "multireg": make_pipeline(SimpleImputer(strategy="median"), LinearRegression()).fit(Xnan, yr2),
        }


@pytest.fixture(scope="module")
def pipes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pipelines]:
    return export_all(_fit(), tmp_path_factory.mktemp("pipelines"))


@pytest.fixture(scope="module")
def server(pipes: tuple[Path, Pipelines], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_with_grpc(pipes[0], tmp_path_factory.mktemp("log"))


@pytest.fixture(scope="module")
def pb(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return grpc_modules(tmp_path_factory.mktemp("pb"))


@pytest.fixture(scope="module")
def stub(server: Server, pb: Any) -> Iterator[Any]:
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as ch:
        yield pb[1].GRPCInferenceServiceStub(ch)


def queries(name: str) -> np.ndarray:
    """7 rows (an odd count) like the training data; NaNs for imputer pipelines."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    X = rng.normal(size=(7, N_FEATURES)) * [1, 2, 3, 0.5, 10, 1] + [0, 1, -2, 0, 5, 0]
    if name in ("ridge", "multireg"):
        X[rng.random(X.shape) < 0.2] = np.nan
        X[3, 2] = np.nan
    return X


def check(pipe: Any, method: str, got: Any, X: np.ndarray, rtol: float = 1e-12) -> None:
    """`got` (an output's values) equals scikit-learn's `method` on `X`."""
    want = getattr(pipe, method)(X)
    got = np.asarray(got).reshape(want.shape)
    if want.dtype.kind in "OUSb" or (method == "predict" and hasattr(pipe, "classes_")):
        assert got.tolist() == want.tolist(), method
    else:
        scale = float(np.max(np.abs(want), initial=1.0))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3 * scale, err_msg=method)


# ------------------------------------------------------------------ metadata


def test_metadata_lists_each_pipelines_outputs(server: Server, pipes: tuple[Path, Pipelines]) -> None:
    for name, pipe in pipes[1].items():
        st, meta = server.get(f"/v2/models/{name}")
        assert st == 200, meta
        assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, N_FEATURES]}]
        outs = {o["name"]: o for o in meta["outputs"]}
        assert list(outs) == methods_of(pipe), name
        X = queries(name)
        for m, o in outs.items():
            want = getattr(pipe, m)(X)
            assert o["shape"] == [-1, *want.shape[1:]], (name, m)
        if "predict" in outs and hasattr(pipe, "classes_"):
            kind = pipe.classes_.dtype.kind
            assert outs["predict"]["datatype"] == {"U": "BYTES", "O": "BYTES", "i": "INT64"}[kind]


# ------------------------------------------------------------------ REST


def test_rest_json_equals_sklearn(server: Server, pipes: tuple[Path, Pipelines]) -> None:
    for name, pipe in pipes[1].items():
        # JSON has no NaN: imputer pipelines get complete rows here (NaNs go
        # through the binary and gRPC tests).
        X = np.nan_to_num(queries(name), nan=0.25)
        methods = methods_of(pipe)
        st, r = server.infer(name, rows_payload(X, outputs=methods))
        assert st == 200, (name, r)
        assert [o["name"] for o in r["outputs"]] == methods
        for o in r["outputs"]:
            check(pipe, o["name"], o["data"], X)
            assert o["shape"][0] == len(X)
        # One row, flat data, default output (predict).
        st, r = server.infer(name, {"inputs": [{"name": "x", "shape": [N_FEATURES], "datatype": "FP64",
                                                "data": X[0].tolist()}]})  # fmt: skip
        assert st == 200 and [o["name"] for o in r["outputs"]] == ["predict"]
        check(pipe, "predict", r["outputs"][0]["data"], X[:1])


@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_rest_binary_equals_sklearn(server: Server, pipes: tuple[Path, Pipelines], binary_out: bool) -> None:
    for name, pipe in pipes[1].items():
        X = queries(name)
        methods = methods_of(pipe)
        body, hl = binary_request(X, "FP64", methods, binary_out=binary_out)
        st, h, data = server.request(
            "POST", f"/v2/models/{name}/infer", body, {"Inference-Header-Content-Length": str(hl)}
        )
        assert st == 200, (name, data[:300])
        head = int(h["inference-header-content-length"]) if binary_out else len(data)
        got = parse_binary_response(data, head)
        assert list(got) == methods
        for m in methods:
            check(pipe, m, got[m], X)


def test_rest_fp32_computes_in_float32(server: Server, pipes: tuple[Path, Pipelines]) -> None:
    pipe = pipes[1]["logreg"]
    X = queries("logreg").astype(np.float32)
    body, hl = binary_request(X, "FP32", ["predict_proba", "predict"], binary_out=True)
    st, h, data = server.request(
        "POST", "/v2/models/logreg/infer", body, {"Inference-Header-Content-Length": str(hl)}
    )
    assert st == 200
    got = parse_binary_response(data, int(h["inference-header-content-length"]))
    assert got["predict_proba"].dtype == np.float32
    np.testing.assert_allclose(got["predict_proba"], pipe.predict_proba(X), rtol=1e-4, atol=1e-6)
    assert got["predict"].tolist() == pipe.predict(X).tolist()


def test_rest_zero_rows(server: Server, pipes: tuple[Path, Pipelines]) -> None:
    for name, pipe in pipes[1].items():
        empty = {"inputs": [{"name": "x", "shape": [0, N_FEATURES], "datatype": "FP64", "data": []}],
                 "outputs": [{"name": m} for m in methods_of(pipe)]}  # fmt: skip
        st, r = server.infer(name, empty)
        assert st == 200, (name, r)
        assert all(o["shape"][0] == 0 and o["data"] == [] for o in r["outputs"])


def test_rest_nan_where_no_imputer_is_400(server: Server) -> None:
    X = queries("logreg")
    X[1, 1] = np.nan
    body, hl = binary_request(X, "FP64", ["predict"], binary_out=False)
    st, _, data = server.request(
        "POST", "/v2/models/logreg/infer", body, {"Inference-Header-Content-Length": str(hl)}
    )
    assert st == 400 and json.loads(data)["error"]


# ------------------------------------------------------------------ gRPC

CONTENTS = {
    "FP64": "fp64_contents",
    "FP32": "fp32_contents",
    "INT64": "int64_contents",
    "BYTES": "bytes_contents",
}
NP = {"FP64": np.float64, "FP32": np.float32, "INT64": np.int64}


def grpc_values(out: Any, raw: bytes | None) -> Any:
    """An output tensor's values (typed contents, or its raw_output_contents)."""
    if raw is None:
        vals = list(getattr(out.contents, CONTENTS[out.datatype]))
        return [v.decode() for v in vals] if out.datatype == "BYTES" else vals
    if out.datatype != "BYTES":
        return np.frombuffer(raw, dtype=NP[out.datatype])
    items, i = [], 0
    while i < len(raw):
        (k,) = struct.unpack_from("<I", raw, i)
        items.append(raw[i + 4 : i + 4 + k].decode())
        i += 4 + k
    return items


@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
def test_grpc_equals_sklearn(stub: Any, pb: Any, pipes: tuple[Path, Pipelines], raw: bool) -> None:
    m = pb[0]
    for name, pipe in pipes[1].items():
        X = queries(name)
        methods = methods_of(pipe)
        t = m.ModelInferRequest.InferInputTensor(name="input-0", datatype="FP64", shape=list(X.shape))
        req = m.ModelInferRequest(model_name=name, id=f"id-{name}", inputs=[t])
        for o in methods:
            req.outputs.add(name=o)
        if raw:
            req.raw_input_contents.append(X.tobytes())
        else:
            req.inputs[0].contents.fp64_contents.extend(X.ravel().tolist())
        r = stub.ModelInfer(req)
        assert r.model_name == name and r.id == f"id-{name}"
        assert [o.name for o in r.outputs] == methods
        assert len(r.raw_output_contents) == (len(methods) if raw else 0)
        for i, o in enumerate(r.outputs):
            vals = grpc_values(o, r.raw_output_contents[i] if raw else None)
            assert list(o.shape) == list(getattr(pipe, o.name)(X).shape)
            check(pipe, o.name, vals, X)
