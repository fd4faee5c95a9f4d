"""ferrokit.text against scikit-learn: every output array bit for bit."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.feature_extraction.text")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ferrokit  # noqa: E402
from ferrokit import text as fk  # noqa: E402

# Characters that decide tokens and lowercasing: marks, No digits, dotted I,
# sigmas, information separators (whitespace in Python), NBSP, CJK, emoji.
SPECIAL = [
    *"aAbBzZ019_ -.,'\n\t\r\x0b\x0c",
    "\u0301",  # combining acute (Mn: not \w in Python)
    "\u00b2",  # superscript two (No: \w in Python)
    "\u00bd",
    "\u2460",
    "\u24b6",  # circled A (So, lowercases)
    "\u0130",  # I with dot above (lowercases to 2 chars)
    "\u03a3",
    "\u03c3",
    "\u03c2",
    "\u0345",  # ypogegrammeni (case-ignorable, cased)
    "\u00ad",  # soft hyphen (Cf, case-ignorable)
    "\u001c",
    "\u001d",
    "\u001e",
    "\u001f",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\u4e2d",
    "\u6587",
    "\U0001f600",
    "\u00e9",
    "e\u0301",
    "\u1e9e",  # capital sharp s
    "\u212a",  # Kelvin sign
    "\u0049",
    "\u0131",
    "\u01c5",  # titlecase Dz
    "\u10a0",  # Georgian capital
]

WORDS = ["the", "The", "cat", "ΟΔΟΣ", "Σ", "\u0131i", "x²", "naïve", "  "]
texts = st.lists(
    st.one_of(
        st.lists(st.sampled_from(SPECIAL), max_size=30).map("".join),
        st.text(max_size=30),
        st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
    ),
    min_size=1,
    max_size=12,
)


def assert_same(x, y) -> None:
    """Same sparse class, dtypes, shape, indices (order within rows), data bits."""
    assert type(x) is type(y)
    assert x.shape == y.shape
    assert x.dtype == y.dtype
    assert x.indices.dtype == y.indices.dtype and x.indptr.dtype == y.indptr.dtype
    np.testing.assert_array_equal(x.indptr, y.indptr)
    np.testing.assert_array_equal(x.indices, y.indices)
    assert x.data.tobytes() == y.data.tobytes()
    assert x.has_sorted_indices == y.has_sorted_indices


def outcome(fn):
    """``('ok', value)`` or ``('err', type, message)`` of calling fn."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = ("ok", fn())
        except Exception as e:
            r = ("err", type(e), str(e))
    return (*r, sorted(str(x.message) for x in w))


def assert_same_outcome(a, b) -> None:
    assert a[0] == b[0], (a, b)
    if a[0] == "err":
        assert a[1:] == b[1:]
    else:
        assert a[2] == b[2]  # warnings
        if hasattr(a[1], "indices"):
            assert_same(a[1], b[1])


def check_pair(cls_name: str, params: dict, docs, transform_docs=None) -> None:
    a = getattr(fk, cls_name)(**params)
    b = getattr(sk, cls_name)(**params)
    ra = outcome(lambda: a.fit_transform(docs))
    rb = outcome(lambda: b.fit_transform(docs))
    assert_same_outcome(ra, rb)
    if ra[0] != "ok":
        return
    if hasattr(b, "vocabulary_"):
        assert list(a.vocabulary_.items()) == list(b.vocabulary_.items())
        assert [type(v) for v in a.vocabulary_.values()] == [type(v) for v in b.vocabulary_.values()]
        np.testing.assert_array_equal(a.get_feature_names_out(), b.get_feature_names_out())
    if hasattr(b, "idf_"):
        assert a.idf_.tobytes() == b.idf_.tobytes()
    td = docs if transform_docs is None else transform_docs
    assert_same_outcome(outcome(lambda: a.transform(td)), outcome(lambda: b.transform(td)))


CONFIGS = [
    ("HashingVectorizer", {}),
    ("HashingVectorizer", {"n_features": 7, "norm": None}),
    ("HashingVectorizer", {"n_features": 3, "norm": None, "alternate_sign": True}),
    ("HashingVectorizer", {"ngram_range": (1, 2), "n_features": 64, "norm": "l1", "dtype": np.float32}),
    ("HashingVectorizer", {"analyzer": "char_wb", "ngram_range": (2, 4), "n_features": 50, "binary": True}),
    ("HashingVectorizer", {"analyzer": "char", "ngram_range": (1, 3), "alternate_sign": False}),
    ("CountVectorizer", {}),
    ("CountVectorizer", {"ngram_range": (1, 2)}),
    ("CountVectorizer", {"ngram_range": (2, 3), "lowercase": False}),
    ("CountVectorizer", {"analyzer": "char", "ngram_range": (1, 3)}),
    ("CountVectorizer", {"analyzer": "char_wb", "ngram_range": (2, 4), "binary": True}),
    ("CountVectorizer", {"stop_words": "english", "ngram_range": (1, 2)}),
    ("CountVectorizer", {"strip_accents": "unicode", "dtype": np.float32}),
    ("CountVectorizer", {"strip_accents": "ascii", "analyzer": "char_wb"}),
    ("CountVectorizer", {"min_df": 2, "max_df": 0.9}),
    ("CountVectorizer", {"max_features": 3, "ngram_range": (1, 2)}),
    ("CountVectorizer", {"token_pattern": r"(?u)\b\w+\b"}),
    ("CountVectorizer", {"tokenizer": str.split, "token_pattern": None}),
    ("CountVectorizer", {"analyzer": lambda d: d.split()}),
    ("TfidfVectorizer", {}),
    ("TfidfVectorizer", {"ngram_range": (1, 2), "sublinear_tf": True, "norm": "l1"}),
    ("TfidfVectorizer", {"use_idf": False, "norm": None}),
    ("TfidfVectorizer", {"smooth_idf": False, "analyzer": "char_wb", "ngram_range": (2, 3)}),
]


@pytest.mark.parametrize(("cls_name", "params"), CONFIGS, ids=[f"{c}-{p}" for c, p in CONFIGS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=texts)
def test_random_unicode_equals_sklearn(cls_name, params, docs):
    check_pair(cls_name, params, docs, transform_docs=docs[::-1])


def test_final_sigma_and_special_characters():
    docs = ["ΟΔΟΣ ΣΑ Σ", "İstanbul \u0131i x² ½ Ⓐb", "e\u0301t\u00e9 foo\x1cbar\xa0baz", "AΣ\u0345 A\u00adΣ"]
    for cls_name, params in CONFIGS:
        check_pair(cls_name, params, docs)


BAD_INPUTS = {
    "none": [None],
    "none_later": ["a cat", None],
    "ints": [1, 2],
    "nan": ["ab", np.nan],
    "nested": [["a", "b"]],
    "bare_string": "a bare string",
    "empty_strings": ["", ""],
    "empty_corpus": [],
    "bytes_bad_utf8": [b"ok doc", b"bad \xff\xfe doc"],
    "generator": (d for d in ["x y", "y z"]),
    "tuple": ("ab cd", "cd"),
    "ndarray": np.array(["ab cd", "cd ef"]),
    "ndarray_2d": np.array([["ab cd"], ["cd ef"]]),
    "dict": {"ab cd": 1},
}


@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_like_sklearn(cls_name, name):
    def fresh():
        v = BAD_INPUTS[name]
        return (d for d in ["x y", "y z"]) if name == "generator" else v

    a, b = getattr(fk, cls_name)(), getattr(sk, cls_name)()
    ra, rb = outcome(lambda: a.fit_transform(fresh())), outcome(lambda: b.fit_transform(fresh()))
    assert_same_outcome(ra, rb)
    if cls_name != "HashingVectorizer":
        a.fit(["fitted vocabulary ab cd"])
        b.fit(["fitted vocabulary ab cd"])
    assert_same_outcome(outcome(lambda: a.transform(fresh())), outcome(lambda: b.transform(fresh())))


@pytest.mark.parametrize("decode_error", ["strict", "replace", "ignore"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "no-such-codec"])
def test_bytes_encoding_decode_error(encoding, decode_error):
    docs = [b"caf\xc3\xa9 ok", b"bad \xff\xfe \xc3 doc", "str doc", b"\xed\xa0\x80 surrogate"]
    for cls_name in ("HashingVectorizer", "CountVectorizer"):
        check_pair(cls_name, {"encoding": encoding, "decode_error": decode_error}, docs)


def test_ten_megabyte_document():
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "Beta", "γάμμα", "ΔΈΛΤΑ", "x²", "e\u0301"])
    doc = " ".join(rng.choice(words, 1_500_000))
    assert len(doc.encode()) > 10_000_000
    for cls_name, params in [("HashingVectorizer", {}), ("CountVectorizer", {"ngram_range": (1, 2)})]:
        check_pair(cls_name, params, [doc, "short one"])


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_bit_identical_for_any_thread_count(n_threads):
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(3000)] + ["ΟΔΟΣ", "é", "x²"]
    docs = [" ".join(rng.choice(vocab, rng.integers(0, 60))) for _ in range(6000)]
    old = ferrokit.get_num_threads()
    try:
        ferrokit.set_num_threads(n_threads)
        check_pair("CountVectorizer", {"ngram_range": (1, 2)}, docs)
        check_pair("HashingVectorizer", {"n_features": 1000}, docs)
    finally:
        ferrokit.set_num_threads(old)


def test_batches_of_an_iterator_equal_one_list(monkeypatch):
    monkeypatch.setattr(fk, "BATCH_DOCS", 7)
    monkeypatch.setattr(fk, "LIST_BATCH_DOCS", 5)
    docs = [f"doc {i} w{i % 5} w{i % 11} Σ" for i in range(100)]
    a = fk.CountVectorizer(ngram_range=(1, 2))
    xa = a.fit_transform(iter(docs))
    b = sk.CountVectorizer(ngram_range=(1, 2))
    xb = b.fit_transform(docs)
    assert_same(xa, xb)
    assert list(a.vocabulary_.items()) == list(b.vocabulary_.items())
    assert_same(a.transform(iter(docs)), b.transform(docs))
    assert_same(fk.HashingVectorizer().transform(iter(docs)), sk.HashingVectorizer().transform(docs))
    assert_same(fk.HashingVectorizer().transform(docs), sk.HashingVectorizer().transform(docs))
    c = fk.CountVectorizer(ngram_range=(1, 2))
    assert_same(c.fit_transform(docs), xb)


def test_callable_analyzer_with_non_string_features_falls_back():
    docs = ["a b", "b c"]

    def analyzer(d):
        return [(w,) for w in d.split()]

    a, b = fk.CountVectorizer(analyzer=analyzer), sk.CountVectorizer(analyzer=analyzer)
    assert_same(a.fit_transform(iter(docs)), b.fit_transform(docs))
    assert a.vocabulary_ == b.vocabulary_
    assert_same(a.transform(docs), b.transform(docs))


def test_pickle_clone_and_params():
    from sklearn.base import clone

    cv = fk.TfidfVectorizer(ngram_range=(1, 2)).fit(["a cat sat", "the dog"])
    cv2 = pickle.loads(pickle.dumps(cv))
    assert_same(cv.transform(["cat dog"]), cv2.transform(["cat dog"]))
    assert isinstance(clone(cv), fk.TfidfVectorizer)
    assert cv.get_params() == sk.TfidfVectorizer(ngram_range=(1, 2)).get_params()
    assert isinstance(cv, fk.CountVectorizer)


def test_vocabulary_changed_after_fit_is_used():
    cv = fk.CountVectorizer().fit(["ab cd ef"])
    cv.vocabulary_ = {"ef": 0, "ab": 1}
    ref = sk.CountVectorizer().fit(["ab cd ef"])
    ref.vocabulary_ = {"ef": 0, "ab": 1}
    assert_same(cv.transform(["ab ef ef"]), ref.transform(["ab ef ef"]))


def test_fast_paths_do_not_call_sklearn_counting(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("scikit-learn's counting was called")

    monkeypatch.setattr(sk.CountVectorizer, "_count_vocab", boom)
    monkeypatch.setattr(sk.HashingVectorizer, "transform", boom)
    monkeypatch.setattr(sk.CountVectorizer, "_limit_features", boom)
    docs = ["The cat ΟΔΟΣ", "a dog x²", b"bytes doc"]
    for params in ({}, {"analyzer": "char_wb", "ngram_range": (2, 4)}, {"strip_accents": "unicode"}):
        fk.CountVectorizer(**params).fit(docs).transform(docs)
        fk.TfidfVectorizer(**params).fit_transform(docs)
        fk.HashingVectorizer(**params).transform(docs)
    fk.CountVectorizer(analyzer=str.split).fit_transform(["a b"])


def test_packer_grows_once_per_overflow_and_keeps_what_is_packed():
    from ferrokit._text_native import Packer

    p = Packer()
    # Characters estimate 1 byte each; CJK needs 3: the buffer overflows mid-way.
    items = ["x" * 100_000, "\u4e2d" * 70_000, b"bytes", "", "\u00e9" * 3]
    buf, off = p.pack(items, 0, len(items))
    want = [s.encode() if isinstance(s, str) else s for s in items]
    assert off.tolist() == np.cumsum([0] + [len(w) for w in want]).tolist()
    assert bytes(buf) == b"".join(want)
    # A slice of the list, then a bad item after the buffer has grown.
    buf, off = p.pack(items, 1, 2)
    assert bytes(buf) == want[1] + want[2]
    assert p.pack(["\u4e2d" * 300_000, "ok", 3, "x"], 0, 4) == 2
    assert p.pack([], 0, 0)[1].tolist() == [0]


def test_vocabulary_dict_is_built_on_first_use():
    docs = ["The cat ΟΔΟΣ sat", "a dog x² sat", "cat dog"]
    ref = sk.CountVectorizer(ngram_range=(1, 2)).fit(docs)
    cv = fk.CountVectorizer(ngram_range=(1, 2))
    assert not hasattr(cv, "vocabulary_")
    cv.fit_transform(docs)
    assert "vocabulary_" not in vars(cv)
    # transform uses the native vocabulary without building the dict
    assert_same(cv.transform(docs[::-1]), ref.transform(docs[::-1]))
    assert "vocabulary_" not in vars(cv)
    cv2 = pickle.loads(pickle.dumps(cv))
    assert list(cv2.__dict__["vocabulary_"].items()) == list(ref.vocabulary_.items())
    assert list(cv.vocabulary_.items()) == list(ref.vocabulary_.items())
    assert cv.vocabulary_ is cv.__dict__["vocabulary_"]
    assert cv.get_feature_names_out().tolist() == ref.get_feature_names_out().tolist()
    # assignment and deletion as on scikit-learn's class, lazy or not
    cv.fit(docs)
    cv.vocabulary_ = {"sat": 0}
    assert cv.vocabulary_ == {"sat": 0}
    assert cv.transform(["sat sat"]).toarray().tolist() == [[2]]
    cv.fit(docs)
    del cv.vocabulary_
    assert not hasattr(cv, "vocabulary_")
    with pytest.raises(AttributeError):
        del cv.vocabulary_
    tv = fk.TfidfVectorizer().fit(docs)
    assert list(tv.vocabulary_.items()) == list(sk.TfidfVectorizer().fit(docs).vocabulary_.items())
