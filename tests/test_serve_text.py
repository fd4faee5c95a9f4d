"""ferrokit-serve answers exported scikit-learn text pipelines (a vectorizer
first; ``fk.export``) as scikit-learn does, one document per row (BYTES,
shape [n] or [n, 1]) over REST JSON, REST binary tensor data and gRPC (typed
bytes_contents and raw_input_contents); bytes that are not UTF-8 answer 400 or
are decoded as the vectorizer's ``decode_error`` says."""

from __future__ import annotations

import json
import struct
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_support import (
    Server,
    bytes_payload,
    export_all,
    grpc_modules,
    grpc_port,
    methods_of,
    parse_binary_response,
    post_text_binary,
    serve_with_grpc,
)

pytest.importorskip("sklearn")
grpc = pytest.importorskip("grpc")
pytest.importorskip("grpc_tools")


Pipelines = dict[str, Any]

WORDS = "good bad great awful fine movie film plot actor scene boring brilliant dull".split()
DOCS = [
    "Good movie, GREAT plot!",
    "awful film; boring and dull",
    "",
    "   ",
    "Café crème brûlée — naïve résumé",
    "映画 は 良い 😀 emoji",
    "fine fine fine FINE",
    "a",
    "the actor's scene was brilliant brilliant",
    "ΣΊΣΥΦΟΣ ß ǅ İstanbul",
]


def corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    docs = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)))) for _ in range(n)]
    docs += DOCS
    score = np.array([sum(w in d for w in ("good", "great", "fine", "brilliant")) for d in docs])
    return docs, score


def _fit() -> Pipelines:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    docs, score = corpus(300, 5)
    labels3 = np.array(["neg", "mixed", "pos"])[np.minimum(score, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "tfidf_lr": make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(
                docs, labels3
            ),
            "count_bin": make_pipeline(
                CountVectorizer(ngram_range=(1, 2), strip_accents="unicode"),
                LogisticRegression(max_iter=1000),
            ).fit(docs, score > 0),
            "hash_svc": make_pipeline(HashingVectorizer(n_features=2**10), LinearSVC()).fit(docs, score),
            "char_ridge": make_pipeline(
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True), Ridge()
            ).fit(docs, score * 1.5),
            "tfidf_mlp": make_pipeline(
                TfidfVectorizer(decode_error="replace"),
                MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
            ).fit(docs, labels3),
            # float32 vectorizers before float32 weights: scikit-learn answers float32.
            "tfidf32_ridge": make_pipeline(TfidfVectorizer(dtype=np.float32), Ridge()).fit(docs, score * 1.5),
            "count32_mlp": make_pipeline(
                CountVectorizer(dtype=np.float32),
                MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
            ).fit(docs, labels3),
        }


@pytest.fixture(scope="module")
def pipes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pipelines]:
    return export_all(_fit(), tmp_path_factory.mktemp("text_models"))


@pytest.fixture(scope="module")
def server(pipes: tuple[Path, Pipelines], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_with_grpc(pipes[0], tmp_path_factory.mktemp("log"))


@pytest.fixture(scope="module")
def stub(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pb = grpc_modules(tmp_path_factory.mktemp("pb"))
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as ch:
        yield pb[0], pb[1].GRPCInferenceServiceStub(ch)


def queries() -> list[str]:
    docs, _ = corpus(7, 99)
    return docs


DATATYPE = {np.dtype(np.float64): "FP64", np.dtype(np.float32): "FP32"}


def check(pipe: Any, method: str, got: Any, docs: list[Any], datatype: str | None = None) -> None:
    """`got` equals scikit-learn's `method` on `docs` (labels exactly, floats
    within 1e-12 relative, 1e-6 when scikit-learn answers float32) and, when
    given, the answer's `datatype` is the one of scikit-learn's dtype."""
    want = getattr(pipe, method)(docs)
    got = np.asarray(got).reshape(want.shape)
    if method == "predict" and hasattr(pipe, "classes_"):
        assert got.tolist() == want.tolist(), method
    else:
        if datatype is not None:
            assert datatype == DATATYPE[want.dtype], (method, datatype, want.dtype)
        f32 = want.dtype == np.float32
        scale = float(np.max(np.abs(want), initial=1.0))
        np.testing.assert_allclose(
            got, want, rtol=1e-6 if f32 else 1e-12, atol=(1e-6 if f32 else 1e-15) * scale, err_msg=method
        )


def test_metadata_shows_the_bytes_input(server: Server, pipes: tuple[Path, Pipelines]) -> None:
    for name, pipe in pipes[1].items():
        st, meta = server.get(f"/v2/models/{name}")
        assert st == 200, meta
        assert meta["inputs"] == [{"name": "input-0", "datatype": "BYTES", "shape": [-1]}]
        assert [o["name"] for o in meta["outputs"]] == methods_of(pipe)


@pytest.mark.parametrize("nested", [False, True], ids=["shape-n", "shape-n-1"])
def test_rest_json_equals_sklearn(server: Server, pipes: tuple[Path, Pipelines], nested: bool) -> None:
    docs = queries()
    for name, pipe in pipes[1].items():
        methods = methods_of(pipe)
        data: Any = [[d] for d in docs] if nested else docs
        shape = [len(docs), 1] if nested else [len(docs)]
        payload = {
            "inputs": [{"name": "text", "shape": shape, "datatype": "BYTES", "data": data}],
            "outputs": [{"name": m} for m in methods],
        }
        st, r = server.infer(name, payload)
        assert st == 200, (name, r)
        assert [o["name"] for o in r["outputs"]] == methods
        for o in r["outputs"]:
            assert o["shape"] == list(getattr(pipe, o["name"])(docs).shape)
            check(pipe, o["name"], o["data"], docs, o["datatype"])
    # One document, default output.
    st, r = server.infer(
        "tfidf_lr", {"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": ["good"]}]}
    )
    assert st == 200 and r["outputs"][0]["data"] == pipes[1]["tfidf_lr"].predict(["good"]).tolist()


@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_rest_binary_equals_sklearn(server: Server, pipes: tuple[Path, Pipelines], binary_out: bool) -> None:
    docs = queries()
    for name, pipe in pipes[1].items():
        methods = methods_of(pipe)
        st, h, data = post_text_binary(server, name, "text", docs, methods, binary_out)
        assert st == 200, (name, data[:300])
        got = parse_binary_response(
            data, int(h["inference-header-content-length"]) if binary_out else len(data)
        )
        for m in methods:
            if isinstance(got[m], np.ndarray) and got[m].dtype.kind == "f" and binary_out:
                check(pipe, m, got[m], docs, DATATYPE[got[m].dtype])
            else:
                check(pipe, m, got[m], docs)


@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
def test_grpc_equals_sklearn(stub: Any, pipes: tuple[Path, Pipelines], raw: bool) -> None:
    m, svc = stub
    docs = queries()
    for name, pipe in pipes[1].items():
        methods = methods_of(pipe)
        t = m.ModelInferRequest.InferInputTensor(name="text", datatype="BYTES", shape=[len(docs)])
        req = m.ModelInferRequest(model_name=name, inputs=[t])
        for o in methods:
            req.outputs.add(name=o)
        if raw:
            req.raw_input_contents.append(bytes_payload([d.encode() for d in docs]))
        else:
            req.inputs[0].contents.bytes_contents.extend(d.encode() for d in docs)
        r = svc.ModelInfer(req)
        assert [o.name for o in r.outputs] == methods
        for i, o in enumerate(r.outputs):
            if raw:
                chunk = r.raw_output_contents[i]
                if o.datatype == "BYTES":
                    vals, k = [], 0
                    while k < len(chunk):
                        (n,) = struct.unpack_from("<I", chunk, k)
                        vals.append(chunk[k + 4 : k + 4 + n].decode())
                        k += 4 + n
                else:
                    vals = np.frombuffer(
                        chunk,
                        dtype={"FP64": np.float64, "FP32": np.float32, "INT64": np.int64, "BOOL": np.bool_}[
                            o.datatype
                        ],
                    )
            elif o.datatype == "BYTES":
                vals = [b.decode() for b in o.contents.bytes_contents]
            else:
                field = {
                    "FP64": "fp64_contents",
                    "FP32": "fp32_contents",
                    "INT64": "int64_contents",
                    "BOOL": "bool_contents",
                }[o.datatype]
                vals = list(getattr(o.contents, field))
            check(pipe, o.name, vals, docs, None if o.datatype in ("BYTES", "INT64", "BOOL") else o.datatype)


def test_invalid_utf8(server: Server, stub: Any, pipes: tuple[Path, Pipelines]) -> None:
    bad = [b"good \xff movie", b"fine", b"\xe2\x82 truncated \xed\xa0\x80 surrogate \xc0\xaf overlong"]
    raw = bytes_payload(bad)
    head = json.dumps({"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": len(raw)}}],
                       "outputs": [{"name": "predict_proba"}]}).encode()  # fmt: skip
    hdr = {"Inference-Header-Content-Length": str(len(head))}
    # decode_error='strict' (scikit-learn's default): 400 naming the element.
    st, _, data = server.request("POST", "/v2/models/tfidf_lr/infer", head + raw, hdr)
    assert st == 400
    assert "element 0 is not valid UTF-8" in json.loads(data)["error"]
    m, svc = stub
    t = m.ModelInferRequest.InferInputTensor(name="text", datatype="BYTES", shape=[3])
    t.contents.bytes_contents.extend(bad)
    with pytest.raises(grpc.RpcError) as e:
        svc.ModelInfer(m.ModelInferRequest(model_name="tfidf_lr", inputs=[t]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "UTF-8" in e.value.details()
    # decode_error='replace': decoded as scikit-learn decodes bytes documents.
    st, _, data = server.request("POST", "/v2/models/tfidf_mlp/infer", head + raw, hdr)
    assert st == 200, data
    got = json.loads(data)["outputs"][0]["data"]
    check(pipes[1]["tfidf_mlp"], "predict_proba", got, bad)
    assert server.alive()


def test_bad_text_requests(server: Server) -> None:
    cases = [
        ({"name": "t", "shape": [2], "datatype": "FP64", "data": [0.0, 1.0]}, "takes text (BYTES)"),
        (
            {"name": "t", "shape": [2, 2], "datatype": "BYTES", "data": ["a", "b", "c", "d"]},
            "one document per row",
        ),
        ({"name": "t", "shape": [3], "datatype": "BYTES", "data": ["a", "b"]}, "3 elements but data has 2"),
        ({"name": "t", "shape": [2], "datatype": "BYTES", "data": ["a", 5]}, ""),
        ({"name": "t", "shape": [10**12], "datatype": "BYTES", "data": ["a"]}, ""),
    ]
    for inp, needle in cases:
        st, r = server.infer("tfidf_lr", {"inputs": [inp]})
        assert st == 400, (inp, r)
        assert needle in r["error"], r
    # Zero documents answer empty outputs.
    empty = {"name": "t", "shape": [0], "datatype": "BYTES", "data": []}
    st, r = server.infer("tfidf_lr", {"inputs": [empty], "outputs": [{"name": "predict_proba"}]})
    assert st == 200 and r["outputs"][0]["shape"] == [0, 3]


def test_batching_gives_the_unbatched_answers(pipes: tuple[Path, Pipelines], tmp_path: Path) -> None:
    pipe = pipes[1]["tfidf_lr"]
    s = Server(pipes[0], "--max-batch-size", "16", "--max-batch-delay-ms", "20", log=tmp_path / "serve.log")
    docs = queries()
    errors: list[str] = []

    def client(i: int) -> None:
        c = s.conn()
        for k in range(6):
            d = docs[(i + k) % len(docs) :][:2]
            body = {"inputs": [{"name": "t", "shape": [len(d)], "datatype": "BYTES", "data": d}],
                    "outputs": [{"name": "predict_proba"}, {"name": "predict"}]}  # fmt: skip
            c.request("POST", "/v2/models/tfidf_lr/infer", json.dumps(body))
            r = json.loads(c.getresponse().read())
            try:
                check(pipe, "predict_proba", r["outputs"][0]["data"], d)
                check(pipe, "predict", r["outputs"][1]["data"], d)
            except AssertionError as e:
                errors.append(str(e))
        c.close()

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        batches = s.request("GET", "/metrics")[2].decode()
    finally:
        assert s.stop() == 0
    assert errors == []
    value = {
        line.split()[0]: float(line.split()[1])
        for line in batches.splitlines()
        if line.startswith("ferrokit")
    }
    batched = value['ferrokit_serve_batched_requests_total{model="tfidf_lr"}']
    calls = value['ferrokit_serve_batch_rows_count{model="tfidf_lr"}']
    assert batched == 48 and 0 < calls < batched, "no two concurrent requests shared a kernel call"
