"""The native side of :mod:`ferrokit.text`: character tables, string packing, calls.

- :func:`char_tables` builds the word/space/lowercase tables from the running
  Python (``re`` and ``str.lower``), once per process, so tokens match
  scikit-learn's for any Python version.
- :class:`Packer` turns a list/tuple of ``str``/``bytes`` into one UTF-8
  buffer plus offsets (Arrow layout): Rust transcodes the strings' own
  storage on the pool (``fk_text_utf8_pack``), or one C loop encodes them
  (``fkpy_pack_strs``, for other encodings and items that do not convert).
- :class:`NativeAnalyzer` and :class:`NativeCounter` own ``fk_text_analyzer`` /
  ``fk_count_vectorizer`` handles; results come back as CSR arrays.

Every native call releases the GIL (cffi) and runs on the library pool.
"""

from __future__ import annotations

import codecs
import re
import threading
from typing import Any

import numpy as np

from ferrokit._errors import raise_for_status
from ferrokit._handle import NativeHandle
from ferrokit._native import ffi, lib

INT32_MAX = 2**31 - 1
#: Documents in a batch before :class:`Packer` hands the transcoding to the pool.
VIEW_MIN_DOCS = 64
_FAST_DATA = {
    np.dtype(np.float64): "f64",
    np.dtype(np.float32): "f32",
    np.dtype(np.int64): "i64",
    np.dtype(np.int32): "i32",
}
KIND = {"word": lib.FK_TEXT_WORD, "char": lib.FK_TEXT_CHAR, "char_wb": lib.FK_TEXT_CHAR_WB}

_tables_lock = threading.Lock()
_tables: NativeHandle | None = None
#: A :class:`Packer`'s buffer of up to this many bytes is kept for the next
#: Packer made on the same thread (a fresh buffer is fresh pages, faulted in
#: while it is filled: about as long as the filling itself).
KEEP_BUFFER_BYTES = 64 << 20
_kept = threading.local()


def _ranges(pattern: str, text: str) -> np.ndarray:
    spans = [(m.start(), m.end() - 1) for m in re.finditer(pattern, text)]
    return np.asarray(spans, dtype=np.uint32).reshape(-1, 2)


def _sigma_context(chars: np.ndarray, before: int) -> np.ndarray:
    """For each code point c: does ``before + c + 'Σ' + ' '`` lowercase to a final sigma?"""
    n = len(chars)
    units = np.empty((n, 4), dtype=np.uint32)
    units[:, 0] = before
    units[:, 1] = chars
    units[:, 2] = 0x3A3
    units[:, 3] = 0x20
    low = units.tobytes().decode("utf-32-le", "surrogatepass").lower()
    out = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    sig = out[(out == 0x3C2) | (out == 0x3C3)]
    assert len(sig) == n, "unexpected lowercase of the sigma probes"
    return sig == 0x3C2


def python_tables() -> dict[str, Any]:
    """The character tables of the running Python, as arrays.

    ``word``/``space``: inclusive code point ranges of ``\\w`` and ``\\s``;
    ``case_ignorable``/``cased``: the sets CPython's final-sigma rule uses
    (probed through ``str.lower`` itself); ``lower``: every ``(c, c.lower())``
    that differs (U+03A3 is left to the final-sigma rule).

    >>> t = python_tables()
    >>> [int(x) for x in t["word"][0]]  # '0'..'9'
    [48, 57]
    """
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    word = _ranges(r"(?u)\w+", every)
    space = _ranges(r"(?u)\s+", every)
    lower: list[tuple[int, str]] = []
    for i in range(0, 0x110000, 4096):
        big = every[i : i + 4096]
        if big.lower() == big:
            continue
        for j in range(0, 4096, 128):
            chunk = big[j : j + 128]
            if chunk.lower() != chunk:
                lower.extend((ord(c), c.lower()) for c in chunk if c != "\u03a3" and c.lower() != c)
    cps = np.arange(0x110000, dtype=np.uint32)
    cps = cps[(cps != 0x3A3) & (cps != 0x3C3) & (cps != 0x3C2)]
    after_cased = _sigma_context(cps, ord("A"))  # ignorable or cased
    after_space = _sigma_context(cps, ord(" "))  # cased and not ignorable
    ignorable = after_cased & ~after_space
    cased = np.zeros(0x110000, dtype=bool)
    cased[cps[after_space]] = True
    cased[[0x3A3, 0x3C3, 0x3C2]] = True
    ign = np.zeros(0x110000, dtype=bool)
    ign[cps[ignorable]] = True
    return {
        "word": word,
        "space": space,
        "case_ignorable": _bool_ranges(ign),
        "cased": _bool_ranges(cased),
        "lower": lower,
    }


def _bool_ranges(mask: np.ndarray) -> np.ndarray:
    d = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return np.stack([starts, ends], axis=1).astype(np.uint32).reshape(-1, 2)


def _u32(a: np.ndarray) -> Any:
    a = np.ascontiguousarray(a, dtype=np.uint32)
    return ffi.from_buffer("uint32_t[]", a), a


def char_tables() -> NativeHandle:
    """The process-wide ``fk_text_tables`` handle built from this Python (built on first use)."""
    global _tables
    with _tables_lock:
        if _tables is None:
            t = python_tables()
            lower_buf, lower_off = pack_list([s for _, s in t["lower"]])
            cps = np.asarray([c for c, _ in t["lower"]], dtype=np.uint32)
            keep = []
            args = []
            for key in ("word", "space", "case_ignorable", "cased"):
                p, a = _u32(t[key])
                keep.append(a)
                args += [p, len(a)]
            pc, cps = _u32(cps)
            out = ffi.new("fk_text_tables **")
            st = lib.fk_text_tables_new(
                *args,
                pc,
                len(cps),
                ffi.from_buffer("uint8_t[]", lower_buf),
                len(lower_buf),
                ffi.from_buffer("uint64_t[]", lower_off),
                len(lower_off),
                out,
            )
            if st:
                raise_for_status(st)
            _tables = NativeHandle(out[0], lib.fk_text_tables_free, "CharTables")
        return _tables


def release_packing_buffer() -> None:
    """Frees this thread's kept packing buffer (the next :class:`Packer` starts
    a new one). A fit calls it once its documents are counted, so the buffer
    (as large as the packed text) is not resident while the result is built.

    >>> with Packer() as p:
    ...     _ = p.pack(["abc"], 0, 1)
    >>> release_packing_buffer()
    >>> getattr(_kept, "buf", None) is None
    True
    """
    _kept.buf = None


class Packer:
    """Packs items of a list/tuple into a reusable UTF-8 buffer plus offsets.

    Use it as a context manager (or call :meth:`close`) so the buffer goes
    back to this thread's cache for the next Packer.

    >>> with Packer() as p:
    ...     buf, off = p.pack(["ab", b"c"], 0, 2)
    ...     bytes(buf), off.tolist()
    (b'abc', [0, 2, 3])
    """

    def __init__(self, encoding: str | None = "utf-8", errors: str = "strict") -> None:
        # This thread's kept buffer, if no other live Packer has it (each
        # buffer belongs to one Packer at a time; :meth:`close` gives it back).
        kept = getattr(_kept, "buf", None)
        _kept.buf = None
        self.buf = kept if kept is not None else np.empty(0, dtype=np.uint8)
        self._enc = ffi.NULL if encoding is None else ffi.new("char[]", encoding.encode())
        self._err = ffi.new("char[]", errors.encode())
        self._state = ffi.new("size_t[2]")
        # bytes items may go to Rust as they are when they decode as UTF-8
        # (invalid ones make the pack fail and the C loop below decides).
        self._utf8_bytes = encoding is not None and _is_utf8(encoding)
        self._views: tuple[Any, Any, Any] | None = None
        self._out = ffi.new("size_t[2]")

    def __enter__(self) -> Packer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Gives the buffer to the next Packer of this thread (if at most
        :data:`KEEP_BUFFER_BYTES`); views returned by :meth:`pack` must not be
        used afterwards."""
        buf, self.buf = self.buf, np.empty(0, dtype=np.uint8)
        kept = getattr(_kept, "buf", None)
        if 0 < len(buf) <= KEEP_BUFFER_BYTES and (kept is None or len(kept) < len(buf)):
            _kept.buf = buf

    def pack(self, seq: list | tuple, start: int, n: int) -> tuple[np.ndarray, np.ndarray] | int:
        """``(buf, offsets)`` of ``seq[start:start + n]``, or the index (from
        ``start``) of the first item that is not ``str``/``bytes`` or does not
        convert. ``buf`` is a view of the reusable buffer: valid until the next call.

        With more than one pool thread, a batch of ``str`` (and UTF-8
        ``bytes``) is transcoded by Rust on the pool straight from each
        string's storage (:meth:`_pack_views`; on one thread that is no faster
        than CPython's own encoder). Otherwise, and for anything else (other
        encodings, lone surrogates, invalid bytes, other types), one C loop
        encodes every item once (when the buffer is full, it grows, keeping
        what is packed, and packing resumes)."""
        if n >= VIEW_MIN_DOCS and lib.fk_get_num_threads() > 1:
            r = self._pack_views(seq, start, n)
            if r is not None:
                return r
        off = np.empty(n + 1, dtype=np.uint64)
        state = self._state
        state[0] = 0
        while True:
            rc = lib.fkpy_pack_strs(
                ffi.cast("void *", id(seq)),
                start,
                n,
                self._enc,
                self._err,
                ffi.from_buffer("uint64_t[]", off),
                ffi.from_buffer("char[]", self.buf),
                len(self.buf),
                state,
            )
            if rc == -1:
                return self.buf[: int(off[-1])], off
            if rc == -2:
                used = int(off[state[0]]) if state[0] else 0
                need = int(state[1])
                # A first estimate counts characters: room for 3 bytes each
                # (pages never written are never resident); later, grow by half.
                size = 3 * need + 64 if not used else max(need + need // 2, 2 * len(self.buf))
                grown = np.empty(size, dtype=np.uint8)
                grown[:used] = self.buf[:used]
                self.buf = grown
                continue
            if rc == -3:  # pragma: no cover - callers pass lists/tuples of the right length
                raise TypeError("internal: pack expects a list or tuple")
            return int(rc)

    def _pack_views(self, seq: list | tuple, start: int, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``fk_text_utf8_pack`` over views of the items' storage, or None when
        an item is not ``str``/UTF-8 ``bytes`` or does not convert."""
        if n == 0:
            return None
        # A new list (or the same tuple) holding every item while the GIL is
        # released: another thread may change `seq` meanwhile.
        items = seq[start : start + n]
        views = self._views
        if views is None or len(views[1]) < n:
            views = self._views = (ffi.new("void *[]", n), ffi.new("size_t[]", n), ffi.new("uint8_t[]", n))
        ptrs, lens, kinds = views
        out = self._out
        rc = lib.fkpy_str_views(ffi.cast("void *", id(items)), n, self._utf8_bytes, ptrs, lens, kinds, out)
        if rc != -1:
            return None
        if len(self.buf) < out[0]:
            self.buf = np.empty(max(int(out[0]), len(self.buf) + len(self.buf) // 2), dtype=np.uint8)
        off = np.empty(n + 1, dtype=np.uint64)
        st = lib.fk_text_utf8_pack(
            ptrs,
            lens,
            kinds,
            n,
            ffi.from_buffer("uint8_t[]", self.buf),
            len(self.buf),
            ffi.from_buffer("uint64_t[]", off),
            n + 1,
            out + 1,
        )
        del items
        if st:
            return None
        return self.buf[: int(out[1])], off


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def pack_list(items: list) -> tuple[np.ndarray, np.ndarray]:
    """One buffer plus offsets of a list of ``str`` (a copy; raises TypeError otherwise)."""
    with Packer(None) as p:
        r = p.pack(items, 0, len(items))
        if isinstance(r, int):
            raise TypeError(f"expected str items, item {r} is {type(items[r]).__name__}")
        buf, off = r
        return buf.copy(), off


def _sbuf(buf: np.ndarray, off: np.ndarray) -> tuple[Any, int, Any, int]:
    return (
        ffi.from_buffer("uint8_t[]", buf),
        len(buf),
        ffi.from_buffer("uint64_t[]", off),
        len(off),
    )


class NativeAnalyzer:
    """An ``fk_text_analyzer``: a built-in scikit-learn analyzer run in Rust.

    >>> a = NativeAnalyzer("word", (1, 1), True, None)
    >>> a.kind
    'word'
    """

    def __init__(self, kind: str, ngram_range: tuple[int, int], lowercase: bool, stop_words: Any) -> None:
        self.kind = kind
        tables = char_tables()
        if stop_words is None:
            sb, so = np.empty(0, np.uint8), np.empty(0, np.uint64)
        else:
            sb, so = pack_list(sorted(w for w in stop_words if isinstance(w, str)))
        out = ffi.new("fk_text_analyzer **")
        with tables.borrow("analyzer") as t:
            st = lib.fk_text_analyzer_new(
                t, KIND[kind], ngram_range[0], ngram_range[1], int(bool(lowercase)), *_sbuf(sb, so), out
            )
        if st:
            raise_for_status(st)
        self.own = NativeHandle(out[0], lib.fk_text_analyzer_free, "TextAnalyzer")


def take_csr(ptr: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Copies a ``fk_csr`` result into numpy arrays ``(data, indices, indptr, shape)``
    (int32 indices unless nnz or columns need int64) and frees it."""
    try:
        dims = ffi.new("size_t[3]")
        st = lib.fk_csr_shape(ptr, dims, dims + 1, dims + 2)
        if st:
            raise_for_status(st)
        n_rows, n_cols, nnz = int(dims[0]), int(dims[1]), int(dims[2])
        big = nnz > INT32_MAX or n_cols > INT32_MAX
        it = np.int64 if big else np.int32
        sfx = "i64" if big else "i32"
        indptr = np.empty(n_rows + 1, dtype=it)
        indices = np.empty(nnz, dtype=it)
        ct = "int64_t[]" if big else "int32_t[]"
        for fn, arr in (("fk_csr_indptr_", indptr), ("fk_csr_indices_", indices)):
            st = getattr(lib, fn + sfx)(ptr, ffi.from_buffer(ct, arr), len(arr))
            if st:
                raise_for_status(st)
        dt = np.dtype(dtype)
        sfx = _FAST_DATA.get(dt, "i64")
        data = np.empty(nnz, dtype=dt if dt in _FAST_DATA else np.int64)
        ctype = {"f64": "double[]", "f32": "float[]", "i64": "int64_t[]", "i32": "int32_t[]"}[sfx]
        st = getattr(lib, "fk_csr_data_" + sfx)(ptr, ffi.from_buffer(ctype, data), nnz)
        if st:
            raise_for_status(st)
        if data.dtype != dt:
            data = data.astype(dt)
        return data, indices, indptr, (n_rows, n_cols)
    finally:
        lib.fk_csr_free(ptr)


def hash_text(
    analyzer: NativeAnalyzer,
    buf: np.ndarray,
    off: np.ndarray,
    n_features: int,
    alternate_sign: bool,
    dtype: Any,
) -> tuple:
    """``fk_text_hash`` of one batch, as CSR arrays."""
    out = ffi.new("fk_csr **")
    with analyzer.own.borrow("hash") as a:
        st = lib.fk_text_hash(a, *_sbuf(buf, off), n_features, int(alternate_sign), out)
    if st:
        raise_for_status(st)
    return take_csr(out[0], dtype)


def hash_features(
    buf: np.ndarray, off: np.ndarray, doc_ptr: np.ndarray, n_features: int, alternate_sign: bool, dtype: Any
) -> tuple:
    """``fk_text_hash_features`` of one batch, as CSR arrays."""
    out = ffi.new("fk_csr **")
    dp = ffi.from_buffer("uint64_t[]", doc_ptr)
    st = lib.fk_text_hash_features(*_sbuf(buf, off), dp, len(doc_ptr), n_features, int(alternate_sign), out)
    if st:
        raise_for_status(st)
    return take_csr(out[0], dtype)


class NativeCounter:
    """An ``fk_count_vectorizer``: streaming fit, vocabulary, transform.

    >>> c = NativeCounter(NativeAnalyzer("word", (1, 1), True, None))
    >>> buf, off = pack_list(["bb aa bb"])
    >>> c.fit_add(buf, off)
    >>> c.fit_size()
    (1, 2)
    """

    def __init__(self, analyzer: NativeAnalyzer | None) -> None:
        out = ffi.new("fk_count_vectorizer **")
        if analyzer is None:
            st = lib.fk_count_vectorizer_new(ffi.NULL, out)
        else:
            with analyzer.own.borrow("counter") as a:
                st = lib.fk_count_vectorizer_new(a, out)
        if st:
            raise_for_status(st)
        self.own = NativeHandle(out[0], lib.fk_count_vectorizer_free, "CountVectorizer")

    def fit_add(self, buf: np.ndarray, off: np.ndarray) -> None:
        """Counts a batch of documents into the fit in progress."""
        with self.own.borrow("fit") as h:
            st = lib.fk_count_vectorizer_fit_add(h, *_sbuf(buf, off))
        if st:
            raise_for_status(st)

    def fit_add_features(self, buf: np.ndarray, off: np.ndarray, doc_ptr: np.ndarray) -> None:
        """Counts a batch of pre-analyzed documents into the fit in progress."""
        with self.own.borrow("fit") as h:
            st = lib.fk_count_vectorizer_fit_add_features(
                h, *_sbuf(buf, off), ffi.from_buffer("uint64_t[]", doc_ptr), len(doc_ptr)
            )
        if st:
            raise_for_status(st)

    def fit_size(self) -> tuple[int, int]:
        """(documents, distinct terms) of the fit in progress."""
        o = ffi.new("size_t[2]")
        with self.own.borrow("fit_size") as h:
            st = lib.fk_count_vectorizer_fit_size(h, o, o + 1)
        if st:
            raise_for_status(st)
        return int(o[0]), int(o[1])

    def fit_finish(self, high: float, low: float, sort_features: bool, dtype: Any) -> tuple:
        """Ends the fit; the counts as CSR arrays."""
        out = ffi.new("fk_csr **")
        with self.own.borrow("fit_finish") as h:
            st = lib.fk_count_vectorizer_fit_finish(h, float(high), float(low), int(sort_features), out)
        if st:
            raise_for_status(st)
        return take_csr(out[0], dtype)

    def set_vocabulary(self, terms: list, ids: np.ndarray, n_cols: int) -> None:
        """Makes ``terms[i] -> ids[i]`` the fitted vocabulary (str terms)."""
        buf, off = pack_list(terms)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        with self.own.borrow("set_vocabulary") as h:
            st = lib.fk_count_vectorizer_set_vocabulary(
                h, *_sbuf(buf, off), ffi.from_buffer("int64_t[]", ids), len(ids), n_cols
            )
        if st:
            raise_for_status(st)

    def vocabulary(self) -> dict[str, int]:
        """The fitted vocabulary as a dict (first-occurrence order, int values)."""
        out = ffi.new("fk_vocabulary **")
        with self.own.borrow("vocabulary") as h:
            st = lib.fk_count_vectorizer_vocabulary(h, out)
        if st:
            raise_for_status(st)
        v = out[0]
        try:
            o = ffi.new("size_t[2]")
            st = lib.fk_vocabulary_size(v, o, o + 1)
            if st:
                raise_for_status(st)
            n, nb = int(o[0]), int(o[1])
            buf = np.empty(nb, dtype=np.uint8)
            off = np.empty(n + 1, dtype=np.uint64)
            ids = np.empty(n, dtype=np.int64)
            st = lib.fk_vocabulary_terms(v, *_sbuf(buf, off)) or lib.fk_vocabulary_ids_i64(
                v, ffi.from_buffer("int64_t[]", ids), n
            )
            if st:
                raise_for_status(st)
        finally:
            lib.fk_vocabulary_free(v)
        d: dict[str, int] = {}
        if lib.fkpy_fill_dict(
            ffi.cast("void *", id(d)),
            ffi.from_buffer("char[]", buf),
            ffi.from_buffer("uint64_t[]", off),
            ffi.from_buffer("int64_t[]", ids),
            n,
        ):  # pragma: no cover - terms are valid UTF-8 (surrogatepass)
            raise RuntimeError("internal: a vocabulary term does not decode")
        return d

    def transform(self, buf: np.ndarray, off: np.ndarray, dtype: Any) -> tuple:
        """Counts of the vocabulary's terms in a batch of documents."""
        out = ffi.new("fk_csr **")
        with self.own.borrow("transform") as h:
            st = lib.fk_count_vectorizer_transform(h, *_sbuf(buf, off), out)
        if st:
            raise_for_status(st)
        return take_csr(out[0], dtype)

    def transform_features(self, buf: np.ndarray, off: np.ndarray, doc_ptr: np.ndarray, dtype: Any) -> tuple:
        """As :meth:`transform` for pre-analyzed documents."""
        out = ffi.new("fk_csr **")
        with self.own.borrow("transform") as h:
            st = lib.fk_count_vectorizer_transform_features(
                h, *_sbuf(buf, off), ffi.from_buffer("uint64_t[]", doc_ptr), len(doc_ptr), out
            )
        if st:
            raise_for_status(st)
        return take_csr(out[0], dtype)
