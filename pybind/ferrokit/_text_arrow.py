"""Arrow string input for :mod:`ferrokit.text`, passed to Rust without a copy.

:func:`as_docs` recognises pyarrow arrays (``string``, ``large_string``,
``binary``, ``large_binary``, their ``*_view`` and dictionary-encoded forms),
``ChunkedArray`` of those, and pandas Series backed by Arrow
(``dtype="string[pyarrow]"``, pandas 3's ``str``, ``pd.ArrowDtype(...)``), and
wraps them in :class:`ArrowDocs`. Its batches (:class:`ArrowBatch`, slices of
at most a given number of documents) hand Rust the array's own UTF-8 value
buffer and offsets (Arrow layout): ``large_*`` offsets as they are, 32-bit
offsets widened to ``uint64`` (8 bytes per document; the text is never
copied). Offsets of a slice do not start at 0, and need not: the C ABI reads
string ``i`` at ``buf[offsets[i] .. offsets[i + 1]]``.

A null is not a document (it is never read as an empty string). In a
pandas Series, :func:`as_docs` given the estimator's analyzer raises what
scikit-learn's analyzer raises for the missing value the Series holds
(``AttributeError`` for ``pd.NA`` under the default ``lowercase``,
``ValueError`` for ``np.nan``, ...), of the same type, with the position
appended; otherwise (a pyarrow array, or no analyzer) ``ValueError`` naming
its position. ``binary`` documents are decoded like scikit-learn decodes
``bytes``: valid UTF-8 under a UTF-8 ``encoding`` goes to Rust as it is;
anything else (another encoding, invalid bytes under ``decode_error``
``'strict'``/``'ignore'``/``'replace'``) is converted to a list of ``bytes``
and takes the list path, so results and errors are those of the same list.

pyarrow is only imported when the input comes from it (it is optional).

>>> import pyarrow as pa
>>> docs = as_docs(pa.array(["a b", "c"]))
>>> len(docs), list(docs)
(2, ['a b', 'c'])
>>> buf, off = next(docs.batches(10)).utf8("utf-8")
>>> bytes(buf[int(off[0]) : int(off[-1])]), off.tolist()
(b'a bc', [0, 3, 4])
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ferrokit._text_native import _is_utf8

_EMPTY = np.zeros(0, dtype=np.uint8)
#: Chunks with fewer documents than this are joined with their neighbours
#: into one batch of up to about this many documents (a copy of those only).
SMALL_CHUNK_DOCS = 4096
#: Bytes of a run of small chunks above which it is joined with 64-bit offsets.
JOIN_MAX_BYTES = 2**31 - 1


def _pyarrow() -> Any:
    """The pyarrow module when it is already imported, else None."""
    return sys.modules.get("pyarrow")


def _arrow_of_series(X: Any) -> Any:
    """The Arrow (chunked) array behind an Arrow-backed pandas Series, else None."""
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(X, pd.Series):
        return None
    dt = X.dtype
    if isinstance(dt, pd.ArrowDtype) or getattr(dt, "storage", None) == "pyarrow":
        return X.array.__arrow_array__()
    return None


def is_arrow(X: Any) -> bool:
    """True for a pyarrow Array/ChunkedArray or an Arrow-backed pandas Series.

    >>> is_arrow(["a"])
    False
    """
    pa = _pyarrow()
    if pa is not None and isinstance(X, (pa.Array, pa.ChunkedArray)):
        return True
    return _arrow_of_series(X) is not None


def _kind(pa: Any, t: Any) -> str | None:
    """'str' / 'bytes' for the text types read without a copy, 'cast:str' /
    'cast:bytes' for those converted per batch by Arrow, None otherwise."""
    if pa.types.is_dictionary(t):
        k = _kind(pa, t.value_type)
        return None if k is None else "cast:" + k.split(":")[-1]
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytes"
    if _is(pa, "string_view", t):
        return "cast:str"
    if _is(pa, "binary_view", t):
        return "cast:bytes"
    return None


def _is(pa: Any, name: str, t: Any) -> bool:
    """``pa.types.is_<name>(t)``; False when this pyarrow has no such type."""
    f = getattr(pa.types, "is_" + name, None)
    return f is not None and f(t)


def _with_logical_nulls(pa: Any, c: Any) -> Any:
    """``c``, or for a dictionary array whose dictionary holds a null, ``c``
    decoded: Arrow's ``null_count`` of a dictionary array counts only null
    indices, and a valid index may point at a null value (decoded, that
    value would read as an empty string).

    >>> import pyarrow as pa
    >>> d = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a", None]))
    >>> d.null_count, _with_logical_nulls(pa, d).null_count
    (0, 1)
    """
    if pa.types.is_dictionary(c.type) and c.dictionary.null_count:
        return c.dictionary_decode()
    return c


def _first_null(chunks: list[Any]) -> int:
    base = 0
    for c in chunks:
        if c.null_count:
            valid = np.asarray(c.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            return base + int(np.argmin(valid))
        base += len(c)
    raise AssertionError("no null")  # pragma: no cover - called only when there is one


def _at_position(e: Exception, i: int) -> Exception:
    """An exception of ``e``'s type whose message ends with the document's
    position, or ``e`` itself when its type takes other arguments."""
    try:
        return type(e)(f"{e} (document {i} is missing)")
    except Exception:
        return e


def as_docs(X: Any, analyzer: Callable[[], Callable[[Any], Any]] | None = None) -> Any:
    """``X`` as documents: an :class:`ArrowDocs` for Arrow text, a list for
    other Arrow arrays (what ``to_pylist`` gives: same behaviour as that
    list), ``X`` itself for anything else.

    On a null in an Arrow-backed pandas Series, with ``analyzer`` (the
    estimator's ``build_analyzer``): the exception scikit-learn's analyzer
    raises for the Series' missing value (``pd.NA`` or ``np.nan``), of the
    same type, its message followed by ``(document i is missing)``; an
    analyzer that takes the missing value gives the Series as a list (what
    scikit-learn iterates). Otherwise a null raises ``ValueError`` naming its
    position (for a Series whose missing values are ``np.nan``,
    scikit-learn's message for ``np.nan`` followed by the position).

    >>> import pandas as pd
    >>> s = pd.Series(["a", None], dtype="string[pyarrow]")
    >>> as_docs(s, lambda: str.lower)
    Traceback (most recent call last):
    ...
    TypeError: descriptor 'lower' for 'str' objects doesn't apply to a 'NAType' object (document 1 is missing)

    >>> import pyarrow as pa
    >>> as_docs(pa.array(["a", None]))
    Traceback (most recent call last):
    ...
    ValueError: document 1 is null (missing): a null is an invalid document, expected byte or unicode string.
    >>> as_docs(("a",))
    ('a',)
    """
    pa = _pyarrow()
    if pa is None:
        return X
    arr = _arrow_of_series(X)
    if arr is None:
        if not isinstance(X, (pa.Array, pa.ChunkedArray)):
            return X
        arr = X
    chunks = list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]
    logical = [_with_logical_nulls(pa, c) for c in chunks]
    if any(c.null_count for c in logical):
        i = _first_null(logical)
        if arr is not X and analyzer is not None:
            missing = X.iloc[i]  # the value scikit-learn's analyzer sees
            try:
                analyzer()(missing)
            except Exception as e:
                raise _at_position(e, i) from e
            return X.tolist()
        if arr is not X and getattr(X.dtype, "na_value", None) is np.nan:
            # a Series whose missing values read as np.nan: scikit-learn's message
            raise ValueError(
                f"np.nan is an invalid document, expected byte or unicode string. (document {i} is missing)"
            )
        raise ValueError(
            f"document {i} is null (missing): a null is an invalid document, expected byte or unicode string."
        )
    kind = _kind(pa, arr.type)
    if kind is None:
        return arr.to_pylist()
    return ArrowDocs([c for c in chunks if len(c)], kind)


class ArrowBatch:
    """At most a batch's worth of documents of one Arrow array (no nulls).

    >>> import pyarrow as pa
    >>> b = ArrowBatch(pa.array([b"x", b"\\xff"]), "bytes")
    >>> b.utf8("utf-8") is None, b.tolist()
    (True, [b'x', b'\\xff'])
    """

    def __init__(self, arr: Any, kind: str) -> None:
        self.arr = arr
        self.kind = kind

    def __len__(self) -> int:
        return len(self.arr)

    def tolist(self) -> list:
        """The documents as a list of ``str`` / ``bytes``."""
        return self._plain().to_pylist()

    def _plain(self) -> Any:
        """The array as ``(large_)string`` / ``(large_)binary`` (a view or dictionary
        array is converted by Arrow)."""
        if not self.kind.startswith("cast:"):
            return self.arr
        pa = _pyarrow()
        a = self.arr
        if pa.types.is_dictionary(a.type):
            a = a.dictionary_decode()
        t = a.type
        if _is(pa, "string_view", t):
            a = a.cast(pa.large_string())
        elif _is(pa, "binary_view", t):
            a = a.cast(pa.large_binary())
        return a

    def utf8(self, encoding: str | None) -> tuple[np.ndarray, np.ndarray] | None:
        """``(buf, offsets)`` over the array's own buffers (Arrow layout; ``buf``
        is the whole value buffer, ``offsets`` are ``uint64`` and start where
        the array does), or None when the documents are ``bytes`` that do not
        decode as UTF-8 (invalid, or ``encoding`` is another codec): the caller
        decodes :meth:`tolist` then, as scikit-learn decodes ``bytes``.

        The arrays keep the Arrow buffers alive as long as they are referenced.
        """
        a = self._plain()
        pa = _pyarrow()
        if self.kind.endswith("bytes"):
            if encoding is None or not _is_utf8(encoding):
                return None
            try:
                a.view(pa.large_string() if pa.types.is_large_binary(a.type) else pa.string()).validate(
                    full=True
                )
            except pa.ArrowInvalid:
                return None
        n = len(a)
        bufs = a.buffers()
        large = pa.types.is_large_string(a.type) or pa.types.is_large_binary(a.type)
        width = 8 if large else 4
        ob, vb = bufs[1], bufs[2]
        start = a.offset * width
        if ob is None or ob.size < start + (n + 1) * width:  # pragma: no cover - malformed array
            raise ValueError(f"malformed Arrow array: offsets buffer too short for {n} strings")
        raw = np.frombuffer(ob, dtype=np.int64 if large else np.int32, count=n + 1, offset=start)
        if large and raw.ctypes.data % 8 == 0:
            off = raw.view(np.uint64)
        else:
            off = raw.astype(np.uint64)
        if int(raw[0]) < 0:
            raise ValueError(f"malformed Arrow array: negative offset {int(raw[0])}")
        buf = _EMPTY if vb is None else np.frombuffer(vb, dtype=np.uint8)
        return buf, off


class ArrowDocs(Sequence):
    """Documents held by Arrow arrays (no nulls): a sequence of ``str``/``bytes``
    (for code that iterates documents, such as scikit-learn's own paths) whose
    :meth:`batches` hand Rust the Arrow buffers.

    >>> import pyarrow as pa
    >>> d = as_docs(pa.chunked_array([["a"], [], ["b", "c"]]))
    >>> [len(b) for b in d.batches(2)], d[1:]
    ([1, 2], ['b', 'c'])
    """

    def __init__(self, chunks: list[Any], kind: str) -> None:
        self.chunks = chunks
        self.kind = kind
        self._n = sum(len(c) for c in chunks)

    def __len__(self) -> int:
        return self._n

    def batches(self, step: int) -> Iterator[ArrowBatch]:
        """Non-empty batches, in order: slices of at most ``step`` documents of
        the chunks (no copy); runs of small chunks (fewer than ``small =
        min(SMALL_CHUNK_DOCS, step)`` documents each, such as a stream's) are
        concatenated into batches of fewer than ``2 * small`` documents (a
        copy of those documents only, as a list's batch is copied), so a
        thousand one-document chunks are not a thousand native calls."""
        small = max(1, min(SMALL_CHUNK_DOCS, step))
        run: list[Any] = []
        n_run = 0
        for c in self.chunks:
            k = len(c)
            if k >= small:
                if run:
                    yield self._joined(run)
                    run, n_run = [], 0
                for s in range(0, k, step):
                    yield ArrowBatch(c.slice(s, step), self.kind)
                continue
            run.append(c)
            n_run += k
            if n_run >= small:
                yield self._joined(run)
                run, n_run = [], 0
        if run:
            yield self._joined(run)

    def _joined(self, run: list[Any]) -> ArrowBatch:
        if len(run) == 1:
            return ArrowBatch(run[0], self.kind)
        pa = _pyarrow()
        if self.kind.startswith("cast:"):
            run = [ArrowBatch(c, self.kind)._plain() for c in run]
        t = run[0].type
        if (pa.types.is_string(t) or pa.types.is_binary(t)) and sum(c.nbytes for c in run) > JOIN_MAX_BYTES:
            # 32-bit offsets cannot address the joined values: join as large_*.
            large = pa.large_string() if pa.types.is_string(t) else pa.large_binary()
            run = [c.cast(large) for c in run]
        return ArrowBatch(pa.concat_arrays(run), self.kind.split(":")[-1])

    def __iter__(self) -> Iterator[str | bytes]:
        for b in self.batches(1 << 14):
            yield from b.tolist()

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(self)[i]
        j = int(i) + (self._n if int(i) < 0 else 0)
        if not 0 <= j < self._n:
            raise IndexError("document index out of range")
        for c in self.chunks:
            if j < len(c):
                return ArrowBatch(c.slice(j, 1), self.kind).tolist()[0]
            j -= len(c)
        raise IndexError("document index out of range")  # pragma: no cover


def arrow_batches(X: Sequence[Any], step: int) -> Iterator[ArrowBatch] | None:
    """``X.batches(step)`` for :class:`ArrowDocs`, else None."""
    return X.batches(step) if isinstance(X, ArrowDocs) else None


__all__ = ["ArrowBatch", "ArrowDocs", "arrow_batches", "as_docs", "is_arrow"]
