"""Text pipelines in the model file: exported scikit-learn (and ferrokit)
vectorizer pipelines predict exactly like scikit-learn, from Python."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sk_text = pytest.importorskip("sklearn.feature_extraction.text")
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import ferrokit as fk  # noqa: E402
import ferrokit.text as fkt  # noqa: E402

WORDS = (
    "the cat sat on mat dog ran far away café naïve résumé ΟΔΟΣ Σοφία straße "
    "東京 tokyo déjà vu a b c x1 y_2 don't stop THE Cat İstanbul ﬁle ½ x\u0301"
).split()


def corpus(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(n):
        k = int(rng.integers(0, 12))
        sep = rng.choice([" ", "  ", ", ", "\n", "\t"])
        docs.append(sep.join(rng.choice(WORDS, size=k)))
    return docs


TRAIN = corpus(120, 1)
Y2 = np.array(["spam" if ("cat" in d or "café" in d) else "ham" for d in TRAIN])
Y3 = np.array([len(d) % 3 for d in TRAIN])
TEST = [*corpus(40, 2), "", "   ", "Ω", "ΟΔΟΣ ΣΑ", "CAFÉ Café cafe\u0301", "\u00a0\u2003x y"]

VECTORIZERS = [
    lambda: sk_text.TfidfVectorizer(),
    lambda: sk_text.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english"),
    lambda: sk_text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), norm="l1", smooth_idf=False),
    lambda: sk_text.TfidfVectorizer(analyzer="char", ngram_range=(1, 3), use_idf=False, lowercase=False),
    lambda: sk_text.TfidfVectorizer(strip_accents="unicode", stop_words=["the", "on"]),
    lambda: sk_text.TfidfVectorizer(strip_accents="ascii", binary=True, dtype=np.float32),
    lambda: sk_text.CountVectorizer(ngram_range=(1, 3)),
    lambda: sk_text.HashingVectorizer(n_features=2**10),
    lambda: sk_text.HashingVectorizer(n_features=37, alternate_sign=False, norm=None, binary=True),
    lambda: fkt.TfidfVectorizer(ngram_range=(1, 2)),
    lambda: fkt.HashingVectorizer(n_features=64, analyzer="char", ngram_range=(2, 2)),
]


def close(a: np.ndarray, b: np.ndarray, rtol: float) -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("vec", range(len(VECTORIZERS)))
def test_logistic_pipelines_equal_sklearn(vec: int) -> None:
    for y in (Y2, Y3):
        pipe = make_pipeline(VECTORIZERS[vec](), LogisticRegression(max_iter=300)).fit(TRAIN, y)
        m = fk.load_model(fk.export(pipe))
        assert m.input_kind == "text"
        f32 = np.dtype(pipe[0].dtype) == np.float32
        rtol = 1e-6 if f32 else 1e-12
        np.testing.assert_array_equal(m.predict(TEST), pipe.predict(TEST))
        close(m.predict_proba(TEST), pipe.predict_proba(TEST), rtol)
        close(m.decision_function(TEST), pipe.decision_function(TEST), rtol)
        assert m.predict(TEST).dtype == pipe.predict(TEST).dtype
        assert m.predict_proba(TEST).dtype == pipe.predict_proba(TEST).dtype
        assert m.decision_function(TEST).dtype == pipe.decision_function(TEST).dtype


@pytest.mark.parametrize(
    "final",
    [
        lambda: LinearSVC(),
        lambda: SGDClassifier(loss="modified_huber", random_state=0),
        lambda: LogisticRegression(C=10.0),
        lambda: MLPClassifier(hidden_layer_sizes=(9,), max_iter=50, random_state=0),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_other_final_estimators(final) -> None:
    pipe = make_pipeline(
        sk_text.CountVectorizer(),
        sk_text.TfidfTransformer(sublinear_tf=True),
        MaxAbsScaler(),
        Normalizer(norm="max"),
        final(),
    ).fit(TRAIN, Y3)
    m = fk.load_model(fk.export(pipe))
    np.testing.assert_array_equal(m.predict(TEST), pipe.predict(TEST))
    for out in ("predict_proba", "decision_function"):
        if hasattr(pipe, out):
            close(getattr(m, out)(TEST), getattr(pipe, out)(TEST), 1e-12)


def test_regressor_and_standard_scaler_without_mean() -> None:
    y = np.array([len(d) / 7.0 for d in TRAIN])
    pipe = make_pipeline(sk_text.HashingVectorizer(n_features=256), StandardScaler(with_mean=False), Ridge())
    pipe.fit(TRAIN, y)
    m = fk.load_model(fk.export(pipe))
    close(m.predict(TEST), pipe.predict(TEST), 1e-12)
    pipe32 = make_pipeline(sk_text.TfidfVectorizer(dtype=np.float32), MaxAbsScaler(), Ridge()).fit(TRAIN, y)
    m32 = fk.load_model(fk.export(pipe32))
    assert m32.predict(TEST).dtype == pipe32.predict(TEST).dtype == np.float32
    close(m32.predict(TEST), pipe32.predict(TEST), 1e-6)


@pytest.mark.parametrize("vec", [0, 2, 5, 7, 8])
def test_transform_only(vec: int) -> None:
    v = VECTORIZERS[vec]().fit(TRAIN)
    m = fk.load_model(fk.export(v))
    assert m.task == "transformer"
    got, want = m.transform(TEST), v.transform(TEST)
    assert got.shape == want.shape and got.dtype == want.dtype
    close(got.toarray(), want.toarray(), 1e-6 if want.dtype == np.float32 else 1e-15)
    # Entry for entry: same structure (explicit zeros of cancelling hashed signs too).
    want.sort_indices()
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    assert type(got) is type(want)


@pytest.mark.parametrize("n", [1, 2, 7, 501])
def test_document_counts(n: int) -> None:
    pipe = make_pipeline(sk_text.TfidfVectorizer(), LogisticRegression()).fit(TRAIN, Y3)
    m = fk.load_model(fk.export(pipe))
    docs = corpus(n, 7 + n)
    close(m.predict_proba(docs), pipe.predict_proba(docs), 1e-12)
    # list, tuple, ndarray of str/object, pandas Series, bytes, a generator
    close(m.predict_proba(tuple(docs)), pipe.predict_proba(docs), 1e-12)
    close(m.predict_proba(np.array(docs)), pipe.predict_proba(docs), 1e-12)
    close(m.predict_proba(np.array(docs, dtype=object)), pipe.predict_proba(docs), 1e-12)
    close(m.predict_proba([d.encode() for d in docs]), pipe.predict_proba(docs), 1e-12)
    close(m.predict_proba(d for d in docs), pipe.predict_proba(docs), 1e-12)
    pd = pytest.importorskip("pandas")
    close(m.predict_proba(pd.Series(docs)), pipe.predict_proba(docs), 1e-12)


def test_zero_documents_raise_like_sklearn_and_transform_gives_no_rows() -> None:
    pipe = make_pipeline(sk_text.TfidfVectorizer(), LogisticRegression()).fit(TRAIN, Y2)
    m = fk.load_model(fk.export(pipe))
    with pytest.raises(ValueError, match="0 sample"):
        pipe.predict_proba([])
    with pytest.raises(ValueError, match="0 sample"):
        m.predict_proba([])
    with pytest.raises(ValueError, match="0 sample"):
        m.predict([])
    with pytest.raises(ValueError, match="0 sample"):
        pipe[0].transform([])
    with pytest.raises(ValueError, match="0 sample"):
        fk.load_model(fk.export(pipe[0])).transform([])
    cv = sk_text.CountVectorizer().fit(TRAIN)
    got = fk.load_model(fk.export(cv)).transform([])
    assert got.shape == cv.transform([]).shape == (0, len(cv.vocabulary_))
    assert got.dtype == cv.transform([]).dtype


def test_latin1_bytes_and_decode_errors() -> None:
    v = sk_text.CountVectorizer(encoding="latin-1")
    pipe = make_pipeline(v, LogisticRegression()).fit(TRAIN, Y2)
    m = fk.load_model(fk.export(pipe))
    docs = [d.encode("latin-1", "replace") for d in TEST]
    np.testing.assert_array_equal(m.predict(docs), pipe.predict(docs))
    strict = make_pipeline(sk_text.CountVectorizer(), LogisticRegression()).fit(TRAIN, Y2)
    ms = fk.load_model(fk.export(strict))
    with pytest.raises(UnicodeDecodeError):
        strict.predict([b"\xff\xfe"])
    with pytest.raises(UnicodeDecodeError):
        ms.predict([b"\xff\xfe"])


def test_bad_input_is_a_clear_error() -> None:
    pipe = make_pipeline(sk_text.TfidfVectorizer(), LogisticRegression()).fit(TRAIN, Y2)
    m = fk.load_model(fk.export(pipe))
    with pytest.raises(ValueError, match="string object received"):
        m.predict("one document")
    with pytest.raises(TypeError, match="document 1 is NoneType"):
        m.predict(["a", None])
    with pytest.raises(TypeError, match="document 0 is int"):
        m.predict_proba([3, 4])
    with pytest.raises(TypeError, match="takes a 1-D sequence"):
        m.predict_proba(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="takes a 1-D sequence"):
        m.predict_proba(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="sequence of str"):
        m.predict(5)
    with pytest.raises(ValueError, match=r"np\.nan"):
        m.predict(["a", float("nan")])
    with pytest.raises(AttributeError):
        m.transform(["a"])
    with pytest.raises(AttributeError):
        m.kneighbors(["a"])


def test_pickle_repr_and_info() -> None:
    pipe = make_pipeline(sk_text.TfidfVectorizer(), LogisticRegression()).fit(TRAIN, Y3)
    m = fk.load_model(fk.export(pipe))
    m2 = pickle.loads(pickle.dumps(m))
    close(m2.predict_proba(TEST), m.predict_proba(TEST), 0.0)
    assert "text" in repr(m) and len(m.steps) == 4
    assert fk.export(pipe)[8:12] == (2).to_bytes(4, "little")


def test_unsupported_text_pipelines_name_the_step() -> None:
    with pytest.raises(TypeError, match="callable analyzer"):
        fk.export(sk_text.CountVectorizer(analyzer=str.split).fit(TRAIN))
    with pytest.raises(TypeError, match="callable tokenizer"):
        fk.export(sk_text.CountVectorizer(tokenizer=str.split, token_pattern=None).fit(TRAIN))
    with pytest.raises(ValueError, match="token_pattern"):
        fk.export(sk_text.CountVectorizer(token_pattern=r"\w+").fit(TRAIN))
    from sklearn.preprocessing import MinMaxScaler

    dense = make_pipeline(sk_text.CountVectorizer().fit(TRAIN), MinMaxScaler())
    with pytest.raises(TypeError, match="not supported in a text pipeline"):
        fk.export(dense)
    pipe = make_pipeline(sk_text.TfidfVectorizer(), sk_text.TfidfTransformer()).fit(TRAIN)
    with pytest.raises(ValueError, match="must directly follow"):
        fk.export(pipe)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        fk.export(sk_text.CountVectorizer())


def test_c_example_classifies_like_scikit_learn(tmp_path, build_c) -> None:
    import pathlib
    import subprocess

    exe = build_c(pathlib.Path(__file__).resolve().parent.parent / "examples" / "c" / "model_text_predict.c")
    docs = [d.replace("\n", " ") for d in TEST]
    (tmp_path / "docs.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")
    for final in (LogisticRegression(), LinearSVC()):
        pipe = make_pipeline(sk_text.TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode"), final)
        pipe.fit(TRAIN, Y3)
        fk.export(pipe, tmp_path / "m.fk")
        r = subprocess.run(
            [str(exe), str(tmp_path / "m.fk"), str(tmp_path / "docs.txt")], capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "model: classifier text steps=4"
        assert [ln.split("\t")[0] for ln in lines[1:]] == [str(v) for v in pipe.predict(docs)]
        vals = np.array([[float(v) for v in ln.split("\t")[1].split()] for ln in lines[1:]])
        want = pipe.predict_proba(docs) if hasattr(pipe, "predict_proba") else pipe.decision_function(docs)
        close(vals, want, 1e-12)
    (tmp_path / "bad.fk").write_bytes((tmp_path / "m.fk").read_bytes()[:-3])
    r = subprocess.run(
        [str(exe), str(tmp_path / "bad.fk"), str(tmp_path / "docs.txt")], capture_output=True, text=True
    )
    assert r.returncode == 1 and "FK_ERR_INVALID_FORMAT" in r.stderr


_FITTED: dict[int, tuple] = {}


def _fitted(i: int) -> tuple:
    if i not in _FITTED:
        pipe = make_pipeline(VECTORIZERS[i](), LogisticRegression(max_iter=300)).fit(TRAIN, Y3)
        _FITTED[i] = (pipe, fk.load_model(fk.export(pipe)))
    return _FITTED[i]


@settings(max_examples=40, deadline=None)
@given(
    i=st.integers(0, len(VECTORIZERS) - 1),
    docs=st.lists(
        st.one_of(
            st.text(max_size=40),
            st.lists(
                st.sampled_from([*WORDS, " ", "Σ", "ς", "ǅ", "\u0345", "\x1c", "ß", "\u2028"]), max_size=12
            ).map("".join),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_any_unicode_text_tokenizes_like_sklearn(i: int, docs: list[str]) -> None:
    docs = [d.encode("utf-8", "replace").decode("utf-8") for d in docs]  # no lone surrogates
    pipe, m = _fitted(i)
    rtol = 1e-6 if np.dtype(pipe[0].dtype) == np.float32 else 1e-12
    np.testing.assert_array_equal(m.predict(docs), pipe.predict(docs))
    close(m.decision_function(docs), pipe.decision_function(docs), rtol)


def test_transform_keeps_explicit_zeros_and_int_counts() -> None:
    hv = sk_text.HashingVectorizer(n_features=3, norm=None)
    docs = [" ".join(WORDS[i : i + 9]) for i in range(0, len(WORDS), 3)]
    want = hv.transform(docs)
    assert (want.data == 0).any()  # signs cancel somewhere: explicit zeros
    got = fk.load_model(fk.export(hv)).transform(docs)
    assert got.nnz == want.nnz and got.dtype == want.dtype
    np.testing.assert_array_equal(got.data, want.data)
    for v in (
        sk_text.HashingVectorizer(n_features=50, dtype=np.int64),
        sk_text.CountVectorizer(dtype=np.int64),
    ):
        pipe = make_pipeline(v, sk_text.TfidfTransformer()).fit(TRAIN)
        got, want = fk.load_model(fk.export(pipe)).transform(TEST), pipe.transform(TEST)
        assert got.dtype == want.dtype == np.float64
        close(got.toarray(), want.toarray(), 1e-15)
    cv = sk_text.CountVectorizer(dtype=np.int32).fit(TRAIN)
    got, want = fk.load_model(fk.export(cv)).transform(TEST), cv.transform(TEST)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got.toarray(), want.toarray())


def _transform_csr(m: fk.Model, docs: list[str]) -> object:
    """The ``fk_csr *`` of ``fk_model_transform_text_csr`` on ``docs`` (the caller frees it)."""
    from ferrokit._native import ffi, lib
    from ferrokit._text_native import Packer

    res = ffi.new("fk_csr **")
    with Packer() as p, m._own.borrow("test") as h:
        buf, off = p.pack(docs, 0, len(docs))
        st = lib.fk_model_transform_text_csr(
            h, ffi.from_buffer("uint8_t[]", buf), len(buf), ffi.from_buffer("uint64_t[]", off), len(off), res
        )
    assert st == 0
    return res[0]


def test_float_csr_result_refuses_integer_output() -> None:
    from ferrokit._text_native import take_csr

    tv = sk_text.TfidfVectorizer().fit(TRAIN)
    csr = _transform_csr(fk.load_model(fk.export(tv)), TEST)
    with pytest.raises(fk.FerrokitError, match="does not fit"):
        take_csr(csr, np.int64)  # tf-idf weights are not integers (and the result is freed)


INT_OUTS = [("i32", "int32_t[]", np.int32), ("i64", "int64_t[]", np.int64)]


@pytest.mark.parametrize("sfx, ctype, dtype", INT_OUTS)
@pytest.mark.parametrize("n_docs", [1, 3, 300_001])
def test_refused_int_output_leaves_buffer_untouched(n_docs: int, sfx: str, ctype: str, dtype: type) -> None:
    # sublinear tf without idf or norm: 1 + log(1) = 1.0 for "aa" (an integer),
    # 1 + log(2) for the last document's "bb bb": the failure comes after many
    # values that do fit (past the parallel copy's threshold for 300 001).
    from ferrokit._native import ffi, lib

    tv = sk_text.TfidfVectorizer(use_idf=False, norm=None, sublinear_tf=True).fit(["aa bb"])
    csr = _transform_csr(fk.load_model(fk.export(tv)), ["aa"] * (n_docs - 1) + ["bb bb"])
    try:
        out = np.full(n_docs, -7, dtype=dtype)
        st = getattr(lib, "fk_csr_data_" + sfx)(csr, ffi.from_buffer(ctype, out), n_docs)
        assert st == lib.FK_ERR_OVERFLOW
        assert (out == -7).all(), "the C contract: outputs are written only on success"
    finally:
        lib.fk_csr_free(csr)


@pytest.mark.parametrize("fn", ["predict", "predict_proba", "transform"])
def test_text_calls_give_the_packing_buffer_back_to_the_thread_cache(fn: str) -> None:
    # Each text call packs with a Packer; closing it returns the (reusable)
    # buffer to this thread's cache, so the next call does not allocate anew.
    from ferrokit import _text_native as tn

    est = (
        sk_text.CountVectorizer()
        if fn == "transform"
        else make_pipeline(sk_text.CountVectorizer(), LogisticRegression())
    )
    m = fk.load_model(fk.export(est.fit(TRAIN, Y2)))
    with tn.Packer() as warm:
        warm.pack(TEST, 0, len(TEST))
        kept = warm.buf
    assert tn._kept.buf is kept
    getattr(m, fn)(TEST)
    assert tn._kept.buf is kept, "the model's Packer kept the thread's buffer"
    with pytest.raises(TypeError, match="document 1 is int"):
        getattr(m, fn)(["a", 3])
    assert tn._kept.buf is kept, "a failed call kept the thread's buffer"
