"""ferrokit.text on pyarrow arrays and Arrow-backed pandas Series: the same
output bits as the same documents in a Python list (and as scikit-learn on
that list), the Arrow text buffer handed to Rust without a copy, nulls refused."""

from __future__ import annotations

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
sk = pytest.importorskip("sklearn.feature_extraction.text")

from test_text import assert_same, assert_same_outcome, outcome  # noqa: E402

import ferrokit  # noqa: E402
from ferrokit import text as fk  # noqa: E402
from ferrokit._text_arrow import ArrowDocs, as_docs, is_arrow  # noqa: E402

DOCS = [
    "The cat sat on the mat",
    "",
    "ΟΔΟΣ Σ naïve café x² İstanbul",
    "emoji \U0001f600\U0001f600 and \U0001d518\U0001d52b\U0001d526 (4-byte UTF-8) 中文 文本",
    "e\u0301t\u00e9 foo\x1cbar\xa0baz  tabs\tand\nlines",
    "the cat",
    "a",
    "mat mat mat the",
]

CONFIGS = [
    ("HashingVectorizer", {"n_features": 64}),
    ("HashingVectorizer", {"ngram_range": (1, 2), "n_features": 32, "norm": "l1", "dtype": np.float32}),
    ("HashingVectorizer", {"analyzer": "char_wb", "ngram_range": (2, 4), "n_features": 50, "binary": True}),
    ("HashingVectorizer", {"analyzer": "char", "ngram_range": (1, 3), "alternate_sign": False}),
    ("HashingVectorizer", {"n_features": 16, "norm": None, "dtype": np.int16}),  # scikit-learn's path
    ("HashingVectorizer", {"preprocessor": str.upper, "lowercase": False}),  # Python preprocesses
    ("CountVectorizer", {}),
    ("CountVectorizer", {"ngram_range": (1, 2)}),
    ("CountVectorizer", {"analyzer": "char", "ngram_range": (1, 3), "lowercase": False}),
    ("CountVectorizer", {"analyzer": "char_wb", "ngram_range": (2, 4)}),
    ("CountVectorizer", {"stop_words": "english", "ngram_range": (1, 2)}),
    ("CountVectorizer", {"strip_accents": "unicode"}),  # Python preprocesses
    ("CountVectorizer", {"tokenizer": str.split, "token_pattern": None}),  # Python tokenizes
    ("CountVectorizer", {"max_features": 4, "ngram_range": (1, 2)}),  # scikit-learn's tail
    ("CountVectorizer", {"dtype": np.float32, "min_df": 2}),
    ("TfidfVectorizer", {}),
    ("TfidfVectorizer", {"ngram_range": (1, 2), "sublinear_tf": True, "norm": "l1"}),
    ("TfidfVectorizer", {"analyzer": "char_wb", "ngram_range": (2, 3), "smooth_idf": False}),
]
IDS = [f"{c}-{p}" for c, p in CONFIGS]


def _views(docs: list[str]) -> dict:
    """Arrow forms of ``docs`` (all hold exactly these documents, in order)."""
    n = len(docs)
    pad = ["pad before", *docs, "pad after"]
    half = n // 2
    forms = {
        "string": pa.array(docs, pa.string()),
        "large_string": pa.array(docs, pa.large_string()),
        "sliced": pa.array(pad, pa.string()).slice(1, n),
        "sliced_large": pa.array(pad, pa.large_string()).slice(1, n),
        "chunked_with_empty_chunks": pa.chunked_array(
            [[], docs[:half], [], pa.array(pad, pa.string()).slice(1 + half, n - half), []], pa.string()
        ),
        "string_view": pa.array(docs, pa.string_view()),
        "dictionary": pa.array(docs, pa.string()).dictionary_encode(),
        "binary": pa.array([d.encode() for d in docs], pa.binary()),
        "large_binary_sliced": pa.array([d.encode() for d in pad], pa.large_binary()).slice(1, n),
        "series_string_pyarrow": pd.Series(docs, dtype="string[pyarrow]"),
        "series_arrowdtype": pd.Series(docs, dtype=pd.ArrowDtype(pa.string())),
        "series_large_string_sliced": pd.Series(pad, dtype=pd.ArrowDtype(pa.large_string())).iloc[1 : n + 1],
    }
    if docs:
        forms["chunked_empty_string_array"] = pa.chunked_array([pa.array(docs, pa.string())], pa.string())
    return forms


FORMS = sorted(_views(DOCS))


def check_same_as_list(cls_name: str, params: dict, arrow, docs: list) -> None:
    """fit_transform / transform of ``arrow`` equal ferrokit's and scikit-learn's on ``docs``."""
    a, b = getattr(fk, cls_name)(**params), getattr(fk, cls_name)(**params)
    c = getattr(sk, cls_name)(**params)
    ra = outcome(lambda: a.fit_transform(arrow))
    rb = outcome(lambda: b.fit_transform(docs))
    assert_same_outcome(ra, rb)
    assert_same_outcome(ra, outcome(lambda: c.fit_transform(docs)))
    if ra[0] != "ok":
        return
    if hasattr(c, "vocabulary_"):
        assert list(a.vocabulary_.items()) == list(b.vocabulary_.items()) == list(c.vocabulary_.items())
    if hasattr(c, "idf_"):
        assert a.idf_.tobytes() == b.idf_.tobytes() == c.idf_.tobytes()
    assert_same_outcome(outcome(lambda: a.transform(arrow)), outcome(lambda: b.transform(docs)))
    # a vocabulary fitted on a list, applied to Arrow input
    assert_same_outcome(outcome(lambda: b.transform(arrow)), outcome(lambda: c.transform(docs)))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("cls_name", "params"), CONFIGS, ids=IDS)
def test_every_form_equals_the_list(cls_name, params, form):
    check_same_as_list(cls_name, params, _views(DOCS)[form], DOCS)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 17])
@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
def test_edge_sizes(cls_name, size):
    docs = [DOCS[i % len(DOCS)] + f" w{i}" for i in range(size)]
    for name, arrow in _views(docs).items():
        if size == 0 and name.startswith("series"):
            continue  # below
        check_same_as_list(cls_name, {}, arrow, docs)
    check_same_as_list(cls_name, {}, pd.Series([], dtype="string[pyarrow]"), [])
    check_same_as_list(cls_name, {}, pa.array([]), [])  # an empty array of type null


@pytest.mark.parametrize("n_threads", [1, 2])
def test_batches_across_chunk_boundaries(monkeypatch, n_threads):
    monkeypatch.setattr(fk, "LIST_BATCH_DOCS", 3)
    docs = [f"doc {i} w{i % 5} w{i % 11} Σ ünï" for i in range(40)]
    arrow = pa.chunked_array([docs[:7], [], docs[7:8], docs[8:33], docs[33:]])
    old = ferrokit.get_num_threads()
    try:
        ferrokit.set_num_threads(n_threads)
        for cls_name, params in [
            ("CountVectorizer", {"ngram_range": (1, 2)}),
            ("HashingVectorizer", {}),
            ("TfidfVectorizer", {}),
        ]:
            check_same_as_list(cls_name, params, arrow, docs)
    finally:
        ferrokit.set_num_threads(old)


def test_text_buffer_goes_to_rust_without_a_copy(monkeypatch):
    docs = [f"document number {i} é" for i in range(1000)]
    arr = pa.array(["x", *docs], pa.string()).slice(1)
    seen = []
    real = fk.hash_text

    def spy(native, buf, off, *args):
        seen.append((buf.ctypes.data, len(buf), off.copy()))
        return real(native, buf, off, *args)

    monkeypatch.setattr(fk, "hash_text", spy)
    X = fk.HashingVectorizer().transform(arr)
    assert_same(X, sk.HashingVectorizer().transform(docs))
    ((addr, size, off),) = seen
    assert addr == arr.buffers()[2].address and size == arr.buffers()[2].size
    assert off[0] == 1 and off[-1] == size  # the slice's own offsets, not rebased

    # the same for a pandas Series backed by Arrow, and a large_string array
    for s, arrow in [
        (pd.Series(docs, dtype="string[pyarrow]"), None),
        (None, pa.array(docs, pa.large_string())),
    ]:
        seen.clear()
        fk.HashingVectorizer().transform(s if s is not None else arrow)
        src = s.array.__arrow_array__().chunk(0) if s is not None else arrow
        assert seen[0][0] == src.buffers()[2].address


def test_packer_is_not_used_for_arrow_text(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("Packer.pack called for Arrow text")

    monkeypatch.setattr(fk.Packer, "pack", boom)
    arr = pa.array(DOCS)
    cv = fk.CountVectorizer().fit(arr)
    cv.transform(arr)
    fk.HashingVectorizer().transform(pa.array([d.encode() for d in DOCS], pa.large_binary()))


@pytest.mark.parametrize("decode_error", ["strict", "replace", "ignore"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
def test_binary_decoded_like_sklearn_decodes_bytes(cls_name, encoding, decode_error):
    docs = [b"caf\xc3\xa9 ok", b"bad \xff\xfe \xc3 doc", b"\xed\xa0\x80 surrogate", b"", b"fine text"]
    params = {"encoding": encoding, "decode_error": decode_error}
    for t in (pa.binary(), pa.large_binary()):
        check_same_as_list(cls_name, params, pa.array(docs, t), docs)
        check_same_as_list(cls_name, params, pa.array([b"x", *docs], t).slice(1), docs)
    good = [d for d in docs if d != b"bad \xff\xfe \xc3 doc" and b"\xed" not in d]
    check_same_as_list(cls_name, params, pa.chunked_array([good[:1], [], good[1:]], pa.binary()), good)


NULLS = {
    "array": (pa.array(["a b", None, "c"]), 1),
    "large": (pa.array(["a b", "c", None], pa.large_string()), 2),
    "chunked": (pa.chunked_array([["a"], [], ["b", "c"], ["d", None]]), 4),
    "sliced": (pa.array([None, "a", "b", None]).slice(1), 2),
    "binary": (pa.array([b"a", None], pa.binary()), 1),
    "all_null": (pa.array([None, None]), 0),
    # a valid index pointing at a null dictionary value (Arrow's null_count is 0)
    "dictionary_null_value": (
        pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()), pa.array(["ab cd", None])),
        1,
    ),
    "chunked_dictionary_null_value": (
        pa.chunked_array(
            [
                pa.array(["ab"]).dictionary_encode(),
                pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["xy", None])),
            ]
        ),
        2,
    ),
}


@pytest.mark.parametrize("name", sorted(NULLS))
@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
def test_nulls_are_refused_with_their_position(cls_name, name):
    arrow, pos = NULLS[name]
    est = getattr(fk, cls_name)()
    with pytest.raises(ValueError, match=rf"document {pos} is null \(missing\).*invalid document"):
        est.fit_transform(arrow)
    if cls_name != "HashingVectorizer":
        est.fit(["ab cd"])
    with pytest.raises(ValueError, match=rf"document {pos} is null"):
        est.transform(arrow)


NA_SERIES = {
    "string[pyarrow]": lambda docs: pd.Series(docs, dtype="string[pyarrow]"),
    "ArrowDtype(string)": lambda docs: pd.Series(docs, dtype=pd.ArrowDtype(pa.string())),
    "ArrowDtype(large_binary)": lambda docs: pd.Series(
        [None if d is None else d.encode() for d in docs], dtype=pd.ArrowDtype(pa.large_binary())
    ),
    "ArrowDtype(dictionary)": lambda docs: pd.Series(
        pa.array(docs).dictionary_encode(), dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))
    ),
}
NA_PARAMS = [
    {},
    {"lowercase": False},
    {"analyzer": "char_wb", "ngram_range": (2, 3)},
    {"strip_accents": "unicode"},
    {"analyzer": lambda d: [] if d is pd.NA else d.split()},  # takes pd.NA: no error
]


@pytest.mark.parametrize("params", NA_PARAMS, ids=range(len(NA_PARAMS)))
@pytest.mark.parametrize("series", sorted(NA_SERIES))
@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
def test_na_in_an_arrow_series_raises_what_sklearn_raises(cls_name, series, params):
    docs = ["ab cd", "cd", None, "ef"]
    s = NA_SERIES[series](docs)
    assert s.tolist()[2] is pd.NA
    sk_est, fk_est = getattr(sk, cls_name)(**params), getattr(fk, cls_name)(**params)
    for fn, fitted in (("fit_transform", None), ("transform", ["ab cd ef"])):
        if fitted is not None and cls_name != "HashingVectorizer":
            sk_est.fit(fitted)
            fk_est.fit(fitted)
        try:
            ref = getattr(sk_est, fn)(s)
        except Exception as e:
            with pytest.raises(type(e)) as ours:
                getattr(fk_est, fn)(s)
            assert type(ours.value) is type(e)
            assert str(ours.value) == f"{e} (document 2 is missing)"
        else:
            got = getattr(fk_est, fn)(s)
            assert (got != ref).nnz == 0 and got.shape == ref.shape


@pytest.mark.parametrize("cls_name", ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"])
def test_nan_in_a_pyarrow_str_series_gives_sklearns_message(cls_name):
    s = pd.Series(["ab", "cd", None], dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    assert s.tolist()[2] is np.nan
    with pytest.raises(ValueError, match=r"np\.nan is an invalid document") as ref:
        getattr(sk, cls_name)().fit_transform(s)
    with pytest.raises(ValueError) as ours:
        getattr(fk, cls_name)().fit_transform(s)
    assert str(ours.value) == f"{ref.value} (document 2 is missing)"


def test_invalid_utf8_in_a_string_array_is_an_error_not_garbage():
    good = pa.array(["ok doc", "xx"])
    data = pa.py_buffer(b"ok doc\xff\xfe")
    bad = pa.StringArray.from_buffers(2, good.buffers()[1], data)
    for est in (fk.HashingVectorizer(), fk.CountVectorizer()):
        with pytest.raises(ValueError, match="document 1 is not valid UTF-8"):
            est.fit_transform(bad)


def test_misaligned_large_offsets_are_copied():
    docs = ["ab cd", "é x", ""]
    off = np.array([0, 5, 9, 9], dtype=np.int64).tobytes()
    raw = pa.py_buffer(b"\0" + off)
    arr = pa.LargeStringArray.from_buffers(3, raw.slice(1), pa.py_buffer("ab cdé x".encode()))
    assert arr.buffers()[1].address % 8 != 0
    check_same_as_list("CountVectorizer", {}, arr, docs)
    check_same_as_list("HashingVectorizer", {}, arr, docs)


def test_an_unused_null_dictionary_value_is_not_a_null_document():
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), pa.array(["ab cd", None]))
    check_same_as_list("CountVectorizer", {}, arr, ["ab cd", "ab cd"])
    check_same_as_list("HashingVectorizer", {}, arr, ["ab cd", "ab cd"])


def test_other_arrow_types_behave_like_their_list():
    for arrow in (pa.array([1, 2]), pa.array([["a", "b"]]), pa.array([{"x": "a"}])):
        for cls_name in ("HashingVectorizer", "CountVectorizer"):
            a, b = getattr(fk, cls_name)(), getattr(sk, cls_name)()
            ra = outcome(lambda a=a, x=arrow: a.fit_transform(x))
            rb = outcome(lambda b=b, x=arrow: b.fit_transform(x.to_pylist()))
            assert_same_outcome(ra, rb)


def test_arrow_docs_sequence_and_detection():
    d = as_docs(pa.chunked_array([["a", "b"], [], ["c"]]))
    assert isinstance(d, ArrowDocs)
    assert (len(d), list(d), d[2], d[-3], d[1:]) == (3, ["a", "b", "c"], "c", "a", ["b", "c"])
    with pytest.raises(IndexError):
        d[3]
    assert is_arrow(pa.array(["a"])) and is_arrow(pd.Series(["a"], dtype="string[pyarrow]"))
    assert not is_arrow(pd.Series(["a"], dtype=object)) and not is_arrow(["a"])
    assert as_docs(pd.Series(["a"], dtype=object)).tolist() == ["a"]  # not Arrow: unchanged


def test_iterator_of_arrow_documents_still_works():
    # A generator over an Arrow array yields StringScalar objects: scikit-learn's
    # path raises for those, and so does ferrokit (same outcome, no crash).
    arr = pa.array(["a b", "c"])
    for cls_name in ("HashingVectorizer", "CountVectorizer"):
        a, b = getattr(fk, cls_name)(), getattr(sk, cls_name)()
        ra = outcome(lambda a=a: a.fit_transform(iter(arr)))
        assert_same_outcome(ra, outcome(lambda b=b: b.fit_transform(iter(arr))))


def test_docstring_examples_run():
    import doctest

    import ferrokit._text_arrow as mod

    result = doctest.testmod(mod)
    assert result.attempted >= 8 and result.failed == 0


@pytest.mark.parametrize("t", [pa.string(), pa.large_binary(), pa.string_view(), "dictionary"])
def test_runs_of_small_chunks_are_joined_into_few_batches(monkeypatch, t):
    import ferrokit._text_arrow as ta

    monkeypatch.setattr(ta, "SMALL_CHUNK_DOCS", 16)
    docs = [f"doc {i} ΟΔΟΣ w{i % 7}" for i in range(300)]
    sizes = [1] * 40 + [0, 100] + [2] * 30 + [3, 97]
    assert sum(sizes) == len(docs)
    parts, pos = [], 0
    for k in sizes:
        part = docs[pos : pos + k]
        pos += k
        if t == "dictionary":
            parts.append(pa.array(part, pa.string()).dictionary_encode())
        elif t == pa.large_binary():
            parts.append(pa.array([d.encode() for d in part], t))
        else:
            parts.append(pa.array(part, t))
    arrow = pa.chunked_array(parts, parts[0].type if t != "dictionary" else None)
    batches = list(as_docs(arrow).batches(64))
    assert [len(b) for b in batches] == [16, 16, 8, 64, 36, 16, 16, 16, 15, 64, 33]
    assert [d for b in batches for d in b.tolist()] == (
        docs if t != pa.large_binary() else [d.encode() for d in docs]
    )
    ref = docs if t != pa.large_binary() else [d.encode() for d in docs]
    check_same_as_list("HashingVectorizer", {}, arrow, ref)
    check_same_as_list("CountVectorizer", {"ngram_range": (1, 2)}, arrow, ref)
    calls = []
    real = fk.hash_text
    monkeypatch.setattr(fk, "hash_text", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(fk, "LIST_BATCH_DOCS", 64)
    fk.HashingVectorizer().transform(arrow)
    assert len(calls) == len(batches)  # one native call per batch, not per chunk


@pytest.mark.parametrize("t", [pa.string(), pa.binary()])
def test_small_chunks_past_the_32_bit_limit_are_joined_with_64_bit_offsets(monkeypatch, t):
    # Joining 32-bit arrays whose values exceed INT32_MAX bytes fails in Arrow;
    # the limit is lowered here so the path runs on a few bytes.
    import ferrokit._text_arrow as ta

    monkeypatch.setattr(ta, "SMALL_CHUNK_DOCS", 8)
    monkeypatch.setattr(ta, "JOIN_MAX_BYTES", 40)
    docs = [f"doc {i} ΟΔΟΣ w{i % 5}" for i in range(30)]
    ref = docs if t == pa.string() else [d.encode() for d in docs]
    arrow = pa.chunked_array([pa.array(ref[i : i + 2], t) for i in range(0, 30, 2)], t)
    batches = list(as_docs(arrow).batches(64))
    large = pa.large_string() if t == pa.string() else pa.large_binary()
    assert [len(b) for b in batches] == [8, 8, 8, 6]
    assert {b.arr.type for b in batches} == {large}
    assert [d for b in batches for d in b.tolist()] == ref
    check_same_as_list("HashingVectorizer", {}, arrow, ref)
    check_same_as_list("CountVectorizer", {"ngram_range": (1, 2)}, arrow, ref)
