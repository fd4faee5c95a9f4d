"""ferrokit-serve's ``transform`` of exported text vectorizers answers the
dtype scikit-learn (and ``fk.Model``) answers: a bare integer-dtype
CountVectorizer / HashingVectorizer INT64 or INT32 counts, float32 FP32,
anything followed by tf-idf or a norm FP64 -- over REST JSON, REST binary
tensor data and gRPC (typed contents and raw_output_contents)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import (
    NP_OF,
    Server,
    export_all,
    grpc_modules,
    grpc_port,
    parse_binary_response,
    post_text_binary,
    serve_with_grpc,
)

pytest.importorskip("sklearn")
grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")

import ferrokit as fk  # noqa: E402

DOCS = ["good movie good plot", "awful film", "", "Café café CAFÉ", "the the the actor"]
DATATYPE = {"int64": "INT64", "int32": "INT32", "float32": "FP32", "float64": "FP64"}


def _fit() -> dict[str, Any]:
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer

    return {
        "count_i64": CountVectorizer().fit(DOCS),
        "count_i32": CountVectorizer(dtype=np.int32, ngram_range=(1, 2)).fit(DOCS),
        "hash_i32": HashingVectorizer(n_features=16, dtype=np.int32, norm=None).fit(DOCS),
        "hash_i64_l2": HashingVectorizer(n_features=16, dtype=np.int64),  # the norm makes float64
        "count_f32": CountVectorizer(dtype=np.float32).fit(DOCS),
        "tfidf_f64": TfidfVectorizer().fit(DOCS),
    }


@pytest.fixture(scope="module")
def vecs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return export_all(_fit(), tmp_path_factory.mktemp("text_vectorizers"))


@pytest.fixture(scope="module")
def server(vecs: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_with_grpc(vecs[0], tmp_path_factory.mktemp("log"))


def expected(folder: Path, name: str, vec: Any) -> tuple[str, np.ndarray]:
    """The datatype and dense values scikit-learn's transform answers; fk.Model agrees."""
    want = vec.transform(DOCS)
    ours = fk.load_model(folder / f"{name}.fk").transform(DOCS)
    assert ours.dtype == want.dtype and (ours != want).nnz == 0, name
    return DATATYPE[want.dtype.name], want.toarray()


def test_metadata_and_rest_json(server: Server, vecs: tuple[Path, dict[str, Any]]) -> None:
    for name, vec in vecs[1].items():
        dt, want = expected(vecs[0], name, vec)
        st, meta = server.get(f"/v2/models/{name}")
        assert st == 200, meta
        assert meta["outputs"] == [{"name": "transform", "datatype": dt, "shape": [-1, want.shape[1]]}], name
        payload = {"inputs": [{"name": "t", "shape": [len(DOCS)], "datatype": "BYTES", "data": DOCS}]}
        st, r = server.infer(name, payload)
        assert st == 200, (name, r)
        (o,) = r["outputs"]
        assert (o["name"], o["datatype"], o["shape"]) == ("transform", dt, list(want.shape)), name
        got = np.array(o["data"]).reshape(want.shape)
        if dt.startswith("INT"):
            assert all(type(v) is int for v in o["data"]), name  # JSON integers, not 1.0
            assert got.tolist() == want.tolist(), name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6 if dt == "FP32" else 1e-12, err_msg=name)


def test_rest_binary(server: Server, vecs: tuple[Path, dict[str, Any]]) -> None:
    for name, vec in vecs[1].items():
        dt, want = expected(vecs[0], name, vec)
        st, h, data = post_text_binary(server, name, "t", DOCS, ["transform"], True)
        assert st == 200, (name, data[:300])
        got = parse_binary_response(data, int(h["inference-header-content-length"]))["transform"]
        assert got.dtype == NP_OF[dt], name
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
        if dt.startswith("INT"):
            assert got.tolist() == want.tolist(), name


@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
def test_grpc(server: Server, vecs: tuple[Path, dict[str, Any]], raw: bool, tmp_path: Path) -> None:
    m, svc_mod = grpc_modules(tmp_path)
    field = {
        "INT64": "int64_contents",
        "INT32": "int_contents",
        "FP32": "fp32_contents",
        "FP64": "fp64_contents",
    }
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as ch:
        svc = svc_mod.GRPCInferenceServiceStub(ch)
        for name, vec in vecs[1].items():
            dt, want = expected(vecs[0], name, vec)
            t = m.ModelInferRequest.InferInputTensor(name="t", datatype="BYTES", shape=[len(DOCS)])
            req = m.ModelInferRequest(model_name=name, inputs=[t])
            req.outputs.add(name="transform")
            if raw:  # raw in, raw out
                req.raw_input_contents.append(
                    b"".join(len(d.encode()).to_bytes(4, "little") + d.encode() for d in DOCS)
                )
            else:
                req.inputs[0].contents.bytes_contents.extend(d.encode() for d in DOCS)
            r = svc.ModelInfer(req)
            (out,) = r.outputs
            assert (out.datatype, list(out.shape)) == (dt, list(want.shape)), name
            if raw:
                got = np.frombuffer(r.raw_output_contents[0], dtype=NP_OF[dt])
            else:
                assert not r.raw_output_contents
                got = np.array(getattr(out.contents, field[dt]), dtype=NP_OF[dt])
            np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-6, err_msg=name)
