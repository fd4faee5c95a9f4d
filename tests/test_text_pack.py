"""Packing documents for the Rust vectorizers: the transcoding of ``str``
storage on the pool (``fk_text_utf8_pack`` over ``fkpy_str_views``) against
the C encoding loop and Python's own ``str.encode``."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ferrokit as fk
from ferrokit import _text_native as tn
from ferrokit._errors import FerrokitError, raise_for_status
from ferrokit._native import ffi, lib

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SAMPLES = ["", "a", "ascii only", "café", "ÿ\x80", "Σίσυφος", "日本語のテキスト", "emoji 😀 x"]
SAMPLES += ["\U0010ffff", "mixed é 中 😀"]


class _Str(str):
    """A str subclass (stored apart from the object in CPython)."""


def _views(items: list, allow_bytes: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    return tn.Packer("utf-8" if allow_bytes else None)._pack_views(items, 0, len(items))


def _expect(items: list) -> tuple[bytes, list[int]]:
    enc = [s.encode() if isinstance(s, str) else s for s in items]
    return b"".join(enc), [0, *np.cumsum([len(e) for e in enc]).tolist()]


@pytest.mark.parametrize("n", [1, 2, 7, 64, 1001, 5000])
def test_views_equal_utf8_for_every_kind(n, rng, threads):
    pick = rng.integers(0, len(SAMPLES), size=n)
    items = [SAMPLES[i] * int(rng.integers(0, 5)) for i in pick]
    buf, off = _views(items)
    assert (bytes(buf), off.tolist()) == _expect(items)
    assert off.dtype == np.uint64


def test_views_take_str_subclasses_and_utf8_bytes():
    items = [_Str("sub é"), b"bytes \xc3\xa9", "plain", b""]
    buf, off = _views(items)
    assert (bytes(buf), off.tolist()) == _expect(items)


@pytest.mark.parametrize(
    "items",
    [
        ["ok", None],
        ["ok", 3],
        ["ok", ["nested"]],
        ["ok", b"\xff bad utf-8"],
        ["ok", "lone \ud800 surrogate"],
        ["ok", "astral then lone \U0001f600\udfff"],
    ],
    ids=["none", "int", "nested", "bad-bytes", "surrogate-ucs2", "surrogate-ucs4"],
)
def test_views_decline_what_the_c_loop_decides(items):
    assert _views(items) is None
    r = tn.Packer("utf-8").pack(items, 0, len(items))
    assert r == 1  # the index of the item only scikit-learn's path can handle


def test_bytes_are_declined_without_a_utf8_encoding():
    assert _views(["a", b"b"], allow_bytes=False) is None
    assert tn.Packer("latin-1")._utf8_bytes is False
    assert tn.Packer("UTF8")._utf8_bytes is True
    assert tn.Packer("no-such-codec")._utf8_bytes is False


def test_pack_uses_views_only_with_more_than_one_thread(monkeypatch):
    calls = []
    real = tn.Packer._pack_views
    monkeypatch.setattr(tn.Packer, "_pack_views", lambda self, *a: calls.append(a) or real(self, *a))
    docs = ["é x"] * 100
    for n_threads, used in ((1, 0), (2, 1)):
        with fk.threads(n_threads):
            buf, _ = tn.Packer().pack(docs, 0, len(docs))
        assert bytes(buf) == "".join(docs).encode() and len(calls) == used
    with fk.threads(2):  # a small batch stays in the C loop
        tn.Packer().pack(docs, 0, tn.VIEW_MIN_DOCS - 1)
    assert len(calls) == 1


def test_views_of_a_slice_and_a_tuple(threads):
    docs = tuple(f"doc {i} é" for i in range(300))
    p = tn.Packer()
    buf, off = p._pack_views(docs, 100, 50)
    assert (bytes(buf), off.tolist()) == _expect(list(docs[100:150]))
    buf, off = p._pack_views(list(docs), 0, 0) or (None, None)
    assert buf is None  # nothing to pack: the C loop's trivial path


def test_views_survive_another_thread_emptying_the_list():
    docs = ["x é 中" * 50 for _ in range(20000)]
    expect = "".join(docs).encode()
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            docs[:] = [d[::-1][::-1] for d in docs[:100]] + docs[100:]

    t = threading.Thread(target=churn)
    t.start()
    try:
        with fk.threads(2):
            for _ in range(5):
                snapshot = list(docs)
                r = tn.Packer()._pack_views(snapshot, 0, len(snapshot))
                assert bytes(r[0]) == expect
    finally:
        stop.set()
        t.join()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=("Cs",))), max_size=40))
def test_views_equal_encode_hypothesis(items):
    with fk.threads(2):
        r = _views(items)
    if not items:
        assert r is None
    else:
        assert (bytes(r[0]), r[1].tolist()) == _expect(items)


def _raw_pack(kinds: list[int], data: list[bytes], buf_len: int, n_off: int) -> int:
    keep = [ffi.from_buffer("char[]", bytearray(d) or bytearray(1)) for d in data]
    unit = {0: 1, 1: 1, 2: 2, 4: 4}
    ptrs = ffi.new("void *[]", [ffi.cast("void *", k) for k in keep])
    lens = ffi.new("size_t[]", [len(d) // unit.get(k, 1) for k, d in zip(kinds, data, strict=True)])
    kk = ffi.new("uint8_t[]", kinds)
    buf = ffi.new("uint8_t[]", max(buf_len, 1))
    off = ffi.new("uint64_t[]", max(n_off, 1))
    used = ffi.new("size_t *")
    return lib.fk_text_utf8_pack(ptrs, lens, kk, len(kinds), buf, buf_len, off, n_off, used)


@pytest.mark.parametrize(
    "kinds,data,buf_len,n_off,exc,msg",
    [
        ([3], [b"ab"], 8, 2, ValueError, "kinds[0] is 3"),
        ([1], [b"abc"], 2, 2, ValueError, "buf has 2 bytes"),
        ([1], [b"abc"], 8, 3, ValueError, "offsets has 3 elements"),
        ([2], ["\ud800".encode("utf-16-le", "surrogatepass")], 8, 2, ValueError, "string 0"),
        ([0, 0], [b"ok", b"\xc3"], 8, 3, ValueError, "string 1 is not valid UTF-8"),
    ],
)
def test_c_pack_rejects_bad_input(kinds, data, buf_len, n_off, exc, msg):
    st_ = _raw_pack(kinds, data, buf_len, n_off)
    assert st_ != 0
    with pytest.raises(FerrokitError, match="fk_text_utf8_pack") as ei:
        raise_for_status(st_)
    assert isinstance(ei.value, exc) and msg in str(ei.value)


def test_c_pack_null_strings_with_a_length():
    used = ffi.new("size_t *")
    off = ffi.new("uint64_t[]", 2)
    st_ = lib.fk_text_utf8_pack(ffi.NULL, ffi.NULL, ffi.NULL, 1, ffi.NULL, 0, off, 2, used)
    assert st_ != 0
    st_ = lib.fk_text_utf8_pack(ffi.NULL, ffi.NULL, ffi.NULL, 0, ffi.NULL, 0, off, 1, used)
    assert st_ == 0 and used[0] == 0 and off[0] == 0


def test_vectorizers_equal_on_both_packing_paths(monkeypatch):
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    from ferrokit import text as ft

    docs = [SAMPLES[i % len(SAMPLES)] + f" w{i % 13} é{i % 7}" for i in range(3000)]
    ref_h = sk.HashingVectorizer().transform(docs)
    ref_c = sk.CountVectorizer().fit_transform(docs)
    for views in (True, False):
        if not views:
            monkeypatch.setattr(tn.Packer, "_pack_views", lambda self, *a: None)
        with fk.threads(2):
            h = ft.HashingVectorizer().transform(docs)
            c = ft.CountVectorizer().fit_transform(docs)
        for a, b in ((h, ref_h), (c, ref_c)):
            assert type(a) is type(b)
            for k in ("data", "indices", "indptr"):
                x, y = getattr(a, k), getattr(b, k)
                assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


def test_packer_buffer_goes_to_the_next_packer_of_the_thread_only_after_close():
    docs = ["héllo wörld"] * 200
    a = tn.Packer()
    ra = a.pack(docs, 0, len(docs))
    a.close()
    b = tn.Packer()
    c = tn.Packer()  # b holds the kept buffer: c gets its own
    rb = b.pack(docs, 0, len(docs))
    rc = c.pack(["x" * 5000] * 100, 0, 100)
    assert not np.shares_memory(b.buf, c.buf)
    assert bytes(rb[0]) == bytes(ra[0]) == "".join(docs).encode()
    assert bytes(rc[0]) == b"x" * 500_000
    b.close()
    c.close()  # the larger one is kept
    d = tn.Packer()
    assert len(d.buf) >= 500_000
    d.close()
    old = tn.KEEP_BUFFER_BYTES
    tn.KEEP_BUFFER_BYTES = 10
    try:
        e = tn.Packer()
        e.close()  # too large to keep
        assert len(tn.Packer().buf) == 0
    finally:
        tn.KEEP_BUFFER_BYTES = old


def test_count_fit_releases_the_packing_buffer_hashing_keeps_it():
    docs = ["héllo wörld and more words"] * 300
    fk.text.HashingVectorizer().transform(docs)
    assert len(getattr(tn._kept, "buf", None)) > 0
    X = fk.text.CountVectorizer().fit_transform(docs)
    assert getattr(tn._kept, "buf", None) is None  # freed before the result was built
    assert X.shape == (300, 5)
    tn.release_packing_buffer()  # nothing kept: no error
    assert len(tn.Packer().buf) == 0
