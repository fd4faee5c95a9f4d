"""scikit-learn's text vectorizers, tokenized, hashed and counted in Rust.

``HashingVectorizer``, ``CountVectorizer``, ``TfidfVectorizer`` and
``TfidfTransformer`` are scikit-learn 1.9.1's classes (same constructor
parameters, attributes, methods, validation, warnings and exceptions) whose
hot paths run in Rust on ferrokit's thread pool with the GIL released. The
output is identical to scikit-learn's: sparse type, index and data dtypes,
the column order inside each row (``fit_transform`` rows follow first
occurrence, as scikit-learn's do; ``transform`` rows are sorted), the data
bits, explicit zeros where hashed signs cancel, ``vocabulary_`` (values and
dict order), ``idf_`` and ``get_feature_names_out()``.

How documents are processed:

- built-in analyzers (``'word'`` with the default ``token_pattern`` and no
  ``tokenizer``, ``'char'``, ``'char_wb'``), ``lowercase``, ``stop_words``,
  ``ngram_range``, ``input='content'`` with ``str`` or ``bytes``
  (``encoding``/``decode_error``): entirely in Rust. Word characters,
  whitespace and lowercasing come from the running Python's ``re`` and
  ``str.lower`` (tables built once per process on first use), so tokens match
  scikit-learn's for any Python version;
- ``strip_accents``, a callable ``preprocessor`` or ``input='file'`` /
  ``'filename'``: Python preprocesses each document, Rust tokenizes and counts;
- a callable ``analyzer`` or ``tokenizer``, or another ``token_pattern``:
  Python produces the tokens, Rust counts or hashes them.

Any iterable of documents is processed in batches (bounded memory for
iterators; a list is converted to one UTF-8 buffer per batch in one C loop).
pyarrow ``string``/``large_string``/``binary`` arrays (also chunked, sliced,
``string_view`` or dictionary-encoded) and Arrow-backed pandas Series
(``"string[pyarrow]"``, ``pd.ArrowDtype(pa.string())``, pandas 3's ``str``)
go to Rust without copying their text (:mod:`ferrokit._text_arrow`). A null
in a pyarrow array raises ``ValueError``; a missing value in a pandas Series
raises what scikit-learn's analyzer raises for it (``AttributeError`` for
``pd.NA`` under the default ``lowercase``, ``ValueError`` for ``np.nan``),
its message naming the position.
A document that is neither ``str`` nor ``bytes`` goes through scikit-learn's
own analyzer, which raises exactly what scikit-learn raises. Results do not
depend on the number of threads (:func:`ferrokit.set_num_threads`).

``idf_``, ``sublinear_tf``, ``norm`` and ``max_features`` ties are computed by
scikit-learn's own numpy code on the counts (same bits by construction).

Needs scikit-learn (``pip install 'ferrokit[sklearn]'``).

>>> from ferrokit.text import CountVectorizer
>>> cv = CountVectorizer()
>>> X = cv.fit_transform(["the cat sat", "the dog"])
>>> cv.vocabulary_
{'the': 3, 'cat': 0, 'sat': 2, 'dog': 1}
>>> X.toarray()
array([[1, 0, 1, 1],
       [0, 1, 0, 1]])
>>> import pyarrow as pa  # zero-copy input (optional)
>>> (cv.transform(pa.array(["the dog", "a cat"])) != cv.transform(["the dog", "a cat"])).nnz
0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice
from numbers import Integral
from typing import Any

import numpy as np

try:
    import scipy.sparse as sp
    from sklearn.base import _fit_context
    from sklearn.feature_extraction import text as _sk
    from sklearn.preprocessing import normalize as _normalize
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l1, inplace_csr_row_normalize_l2
except ImportError as exc:  # pragma: no cover - exercised without scikit-learn
    raise ImportError(
        "ferrokit.text needs scikit-learn (an optional extra): pip install 'ferrokit[sklearn]'"
    ) from exc

from ferrokit._errors import FerrokitError
from ferrokit._text_arrow import ArrowBatch, ArrowDocs, as_docs
from ferrokit._text_native import (
    INT32_MAX,
    NativeAnalyzer,
    NativeCounter,
    Packer,
    hash_features,
    hash_text,
    release_packing_buffer,
)

__all__ = [
    "ENGLISH_STOP_WORDS",
    "CountVectorizer",
    "HashingVectorizer",
    "TfidfTransformer",
    "TfidfVectorizer",
    "strip_accents_ascii",
    "strip_accents_unicode",
    "strip_tags",
]

ENGLISH_STOP_WORDS = _sk.ENGLISH_STOP_WORDS
strip_accents_ascii = _sk.strip_accents_ascii
strip_accents_unicode = _sk.strip_accents_unicode
strip_tags = _sk.strip_tags
_align = _sk._align_api_if_sparse

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_STRING_MSG = "Iterable over raw text documents expected, string object received."
#: Documents per batch: enough for every pool thread, small enough to bound memory.
BATCH_DOCS = 1 << 16
#: Documents per batch of a list or tuple.
LIST_BATCH_DOCS = 1 << 20


class _Fallback(Exception):
    """Raised inside a batch loop when only scikit-learn's own code can continue."""


def _fast_dtype(dtype: Any) -> np.dtype | None:
    try:
        return np.dtype(dtype)
    except TypeError:
        return None


def _chunks(X: Any) -> Iterator[tuple[Any, int, int]]:
    """``(seq, start, n)``: batches of documents as slices of a list or tuple,
    or ``(ArrowBatch, 0, n)`` slices of Arrow documents (no copy)."""
    if isinstance(X, ArrowDocs):
        for b in X.batches(LIST_BATCH_DOCS):
            yield b, 0, len(b)
        return
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
        X = X.tolist()
    if type(X) is list or type(X) is tuple:
        # Already in memory: larger batches (fewer pieces to concatenate); the
        # UTF-8 copy of a batch is about the size of its documents.
        step = LIST_BATCH_DOCS
        for s in range(0, len(X), step):
            yield X, s, min(step, len(X) - s)
        return
    it = iter(X)
    while True:
        chunk = list(islice(it, BATCH_DOCS))
        if not chunk:
            return
        yield chunk, 0, len(chunk)


def _stack(parts: list[tuple], n_cols: int, dtype: Any, sorted_rows: bool) -> Any:
    """One ``csr_array`` from per-batch ``(data, indices, indptr, shape)``."""
    if len(parts) == 1:
        data, indices, indptr, (n_rows, _) = parts[0]
    else:
        nnz = sum(len(p[1]) for p in parts)
        it = np.int64 if nnz > INT32_MAX or n_cols > INT32_MAX else np.int32
        n_rows = sum(p[3][0] for p in parts)
        data = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype)
        indices = np.concatenate([p[1] for p in parts]).astype(it, copy=False)
        indptr = np.empty(n_rows + 1, dtype=it)
        indptr[0] = 0
        pos, base = 1, 0
        for p in parts:
            k = p[3][0]
            indptr[pos : pos + k] = p[2][1:].astype(np.int64) + base
            base += len(p[1])
            pos += k
    X = sp.csr_array((data, indices, indptr), shape=(n_rows, n_cols), copy=False)
    if sorted_rows:
        X.has_sorted_indices = True
    return X


class _TextMixin:
    """What the ferrokit vectorizers share: choosing the path, batching documents."""

    def _fk_mode(self) -> str:
        """'rust' (all in Rust), 'preprocess' (Python preprocesses) or 'features'."""
        an = self.analyzer
        if callable(an) or an not in ("word", "char", "char_wb"):
            return "features"
        if an == "word" and (self.tokenizer is not None or self.token_pattern != DEFAULT_TOKEN_PATTERN):
            return "features"
        if self.preprocessor is not None or self.strip_accents or self.input != "content":
            return "preprocess"
        return "rust"

    def _fk_analyzer(self, mode: str) -> NativeAnalyzer | None:
        if mode == "features":
            return None
        stop = self.get_stop_words() if self.analyzer == "word" else None
        lower = bool(self.lowercase) if mode == "rust" else False
        return NativeAnalyzer(self.analyzer, tuple(self.ngram_range), lower, stop)

    def _fk_batches(self, X: Any, analyze: Any, mode: str, feature_encoding: str | None) -> Iterator[tuple]:
        """Prepared batches: ``('text', buf, off)`` or ``('features', buf, off, doc_ptr)``."""
        packer = Packer(self.encoding, self.decode_error) if mode == "rust" else Packer(None)
        fpacker = Packer(feature_encoding)
        preprocess = self.build_preprocessor() if mode == "preprocess" else None
        try:
            yield from self._fk_packed(X, analyze, mode, packer, fpacker, preprocess)
        finally:
            fpacker.close()
            packer.close()

    def _fk_packed(
        self, X: Any, analyze: Any, mode: str, packer: Packer, fpacker: Packer, preprocess: Any
    ) -> Iterator[tuple]:
        """The batches of :meth:`_fk_batches` (which closes the packers after them)."""
        for seq, start, n in _chunks(X):
            if isinstance(seq, ArrowBatch):
                if mode == "rust":
                    r = seq.utf8(self.encoding)
                    if r is not None:  # the Arrow buffers themselves
                        yield ("text", *r)
                        continue
                seq, start = seq.tolist(), 0
            if mode == "rust":
                r = packer.pack(seq, start, n)
                if not isinstance(r, int):
                    yield ("text", *r)
                    continue
            elif mode == "preprocess":
                docs = [preprocess(self.decode(d)) for d in seq[start : start + n]]
                r = packer.pack(docs, 0, n)
                if not isinstance(r, int):
                    yield ("text", *r)
                    continue
            # scikit-learn's analyzer for the whole batch: raises what it raises.
            feats = [analyze(d) for d in seq[start : start + n]]
            lens = np.fromiter((len(f) for f in feats), dtype=np.uint64, count=n)
            doc_ptr = np.zeros(n + 1, dtype=np.uint64)
            np.cumsum(lens, out=doc_ptr[1:])
            flat = list(chain.from_iterable(feats))
            r = fpacker.pack(flat, 0, len(flat))
            if isinstance(r, int):
                raise _Fallback
            yield ("features", *r, doc_ptr)

    @staticmethod
    def _fk_replayable(X: Any, mode: str) -> Any:
        # Only Python-produced features can force a fallback mid-way (a callable
        # analyzer returning non-strings); keep an iterator's documents then.
        if mode == "features" and not isinstance(X, (list, tuple, np.ndarray, ArrowDocs)):
            return list(X)
        return X

    def __getstate__(self) -> dict:
        if "_fk_lazy_vocab" in self.__dict__:
            self.vocabulary_  # noqa: B018 - builds the dict, which is pickled
        state = super().__getstate__()
        return {k: v for k, v in state.items() if not k.startswith("_fk_")}


class HashingVectorizer(_TextMixin, _sk.HashingVectorizer, auto_wrap_output_keys=None):
    """scikit-learn's ``HashingVectorizer`` with tokenizing and hashing in Rust.

    Same parameters and output as ``sklearn.feature_extraction.text.HashingVectorizer``
    (MurmurHash3 x86_32 of each feature's UTF-8, seed 0; rows sorted, duplicate
    columns summed, entries whose signs cancel kept as explicit zeros). Any
    iterable is streamed in batches of :data:`BATCH_DOCS` documents.

    >>> X = HashingVectorizer(n_features=8, norm=None).transform(["a bb bb", "cc"])
    >>> X.shape, X.nnz
    ((2, 8), 2)
    """

    def transform(self, X: Any) -> Any:
        """Transforms documents to a hashed document-term matrix (see scikit-learn)."""
        if isinstance(X, str):
            raise ValueError(_STRING_MSG)
        self._validate_ngram_range()
        analyze = self.build_analyzer()
        X = as_docs(X, lambda: analyze)
        dt = _fast_dtype(self.dtype)
        nf = self.n_features
        if (
            dt is None
            or dt.kind not in "fi"
            or dt.itemsize < 4
            or not isinstance(nf, Integral)
            or not 1 <= nf <= INT32_MAX
            or self.alternate_sign not in (True, False)
        ):
            return super().transform(X)
        mode = self._fk_mode()
        X = self._fk_replayable(X, mode)
        native = self._fk_analyzer(mode)
        alt = bool(self.alternate_sign)
        parts = []
        try:
            for b in self._fk_batches(X, analyze, mode, "utf-8"):
                if b[0] == "text":
                    parts.append(hash_text(native, b[1], b[2], int(nf), alt, dt))
                else:
                    parts.append(hash_features(b[1], b[2], b[3], int(nf), alt, dt))
        except _Fallback:
            return super().transform(X)
        if sum(p[3][0] for p in parts) == 0:
            return super().transform([])  # scikit-learn's error for no documents
        Xs = _stack(parts, int(nf), dt, sorted_rows=True)
        Xs.has_canonical_format = True
        if self.binary:
            Xs.data.fill(1)
        if dt.kind == "f" and self.norm in ("l1", "l2"):
            # What normalize(Xs, norm, copy=False) runs on float CSR data,
            # without its input validation (finite floats, made here).
            (inplace_csr_row_normalize_l1 if self.norm == "l1" else inplace_csr_row_normalize_l2)(Xs)
        elif self.norm is not None:
            Xs = _normalize(Xs, norm=self.norm, copy=False)
        return _align(Xs)


class CountVectorizer(_TextMixin, _sk.CountVectorizer):
    """scikit-learn's ``CountVectorizer`` with tokenizing, counting and the
    vocabulary in Rust.

    Same parameters, attributes and output as
    ``sklearn.feature_extraction.text.CountVectorizer``. ``fit_transform``
    with ``max_features=None`` and no fixed ``vocabulary`` runs entirely in
    Rust (count, document-frequency limits, sorting the vocabulary); otherwise
    scikit-learn's own code finishes on Rust's counts.

    >>> cv = CountVectorizer(ngram_range=(1, 2)).fit(["bb aa", "aa"])
    >>> cv.get_feature_names_out().tolist()
    ['aa', 'bb', 'bb aa']
    """

    @property
    def vocabulary_(self) -> dict:
        """The fitted ``{term: column}`` dict, in scikit-learn's order.

        After a ``fit``/``fit_transform`` that ran in Rust, the dict is built
        from the native vocabulary on first access (building a dict of a
        large vocabulary costs as much as the whole count); ``transform`` and
        pickling work either way. Assigning or deleting it works as on
        scikit-learn's class.
        """
        d = self.__dict__
        if "vocabulary_" in d:
            return d["vocabulary_"]
        lazy = d.get("_fk_lazy_vocab")
        if lazy is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'vocabulary_'")
        counter = lazy[0]
        voc = counter.vocabulary()
        d["vocabulary_"] = voc
        d["_fk_vocab"] = (voc, len(voc), counter)
        d.pop("_fk_lazy_vocab", None)
        return voc

    @vocabulary_.setter
    def vocabulary_(self, value: dict) -> None:
        self.__dict__.pop("_fk_lazy_vocab", None)
        self.__dict__["vocabulary_"] = value

    @vocabulary_.deleter
    def vocabulary_(self) -> None:
        lazy = self.__dict__.pop("_fk_lazy_vocab", None)
        if self.__dict__.pop("vocabulary_", None) is None and lazy is None:
            raise AttributeError("vocabulary_")

    def _check_vocabulary(self) -> None:
        if "_fk_lazy_vocab" not in self.__dict__:  # else fitted and not empty
            super()._check_vocabulary()

    def fit_transform(self, raw_documents: Iterable, y: Any = None) -> Any:
        """Learns the vocabulary and returns the document-term matrix (see scikit-learn)."""
        if self.max_features is not None or self.vocabulary is not None or _fast_dtype(self.dtype) is None:
            return super().fit_transform(raw_documents, y)
        return self._fk_fit_transform(raw_documents)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fk_fit_transform(self, raw_documents: Iterable) -> Any:
        if isinstance(raw_documents, str):
            raise ValueError(_STRING_MSG)
        self._validate_ngram_range()
        self._warn_for_unused_params()
        self._validate_vocabulary()
        raw_documents = as_docs(raw_documents, self.build_analyzer)
        raw_documents = self._fk_replayable(raw_documents, self._fk_mode())
        counter = self._fk_count(raw_documents)
        if counter is None:
            vocabulary, X = _sk.CountVectorizer._count_vocab(self, raw_documents, False)
            return self._fk_finish_python(X, vocabulary)
        n_doc, n_terms = counter.fit_size()
        if n_terms == 0:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        max_df, min_df = self.max_df, self.min_df
        high = max_df if isinstance(max_df, Integral) else max_df * n_doc
        low = min_df if isinstance(min_df, Integral) else min_df * n_doc
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        data, indices, indptr, shape = counter.fit_finish(high, low, True, self.dtype)
        if shape[1] == 0:
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        X = sp.csr_array((data, indices, indptr), shape=shape, copy=False)
        if self.binary:
            X.data.fill(1)
        # vocabulary_ becomes a dict on first use (see the vocabulary_ property).
        self.__dict__.pop("vocabulary_", None)
        self.__dict__.pop("_fk_vocab", None)
        self._fk_lazy_vocab = (counter, shape[1])
        return _align(X)

    def _fk_finish_python(self, X: Any, vocabulary: dict) -> Any:
        # scikit-learn's fit_transform tail, for counts scikit-learn itself produced.
        if self.binary:
            X.data.fill(1)
        n_doc = X.shape[0]
        max_df, min_df = self.max_df, self.min_df
        high = max_df if isinstance(max_df, Integral) else max_df * n_doc
        low = min_df if isinstance(min_df, Integral) else min_df * n_doc
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        X = self._limit_features(X, vocabulary, high, low, None)
        X = self._sort_features(X, vocabulary)
        self.vocabulary_ = vocabulary
        return _align(X)

    def _fk_count(self, raw_documents: Any) -> NativeCounter | None:
        """Counts every document into a new native fit; None if only
        scikit-learn's code can (features that are not strings)."""
        mode = self._fk_mode()
        raw_documents = self._fk_replayable(raw_documents, mode)
        analyze = self.build_analyzer()
        counter = NativeCounter(self._fk_analyzer(mode))
        try:
            for b in self._fk_batches(raw_documents, analyze, mode, None):
                if b[0] == "text":
                    counter.fit_add(b[1], b[2])
                else:
                    counter.fit_add_features(b[1], b[2], b[3])
        except _Fallback:
            return None
        # The fit's result (built next) and the packed text need not be
        # resident together: CountVectorizer (1,2) fit_transform's peak over
        # the bench corpus 200 -> 178 MB (scikit-learn's: 423 MB).
        release_packing_buffer()
        return counter

    def _fk_vocab_counter(self) -> NativeCounter | None:
        """A native counter holding ``vocabulary_`` (cached while the same dict
        object of the same size is the vocabulary), or None if it has terms
        that are not strings or ids outside ``[0, len)``."""
        lazy = self.__dict__.get("_fk_lazy_vocab")
        if lazy is not None:
            return lazy[0]
        voc = self.vocabulary_
        cached = getattr(self, "_fk_vocab", None)
        if cached is not None and cached[0] is voc and cached[1] == len(voc):
            return cached[2]
        terms = list(voc.keys())
        if not all(type(t) is str for t in terms):
            return None
        try:
            ids = np.fromiter(voc.values(), dtype=np.int64, count=len(voc))
        except (TypeError, ValueError, OverflowError):
            return None
        counter = NativeCounter(self._fk_analyzer(self._fk_mode()))
        try:
            counter.set_vocabulary(terms, ids, len(voc))
        except FerrokitError:
            return None
        self._fk_vocab = (voc, len(voc), counter)
        return counter

    def _count_vocab(self, raw_documents: Iterable, fixed_vocab: bool) -> tuple[dict, Any]:
        """scikit-learn's ``_count_vocab`` (same vocabulary and matrix), in Rust."""
        raw_documents = as_docs(raw_documents, self.build_analyzer)
        dt = _fast_dtype(self.dtype)
        if dt is None:
            return super()._count_vocab(raw_documents, fixed_vocab)
        if not fixed_vocab:
            raw_documents = self._fk_replayable(raw_documents, self._fk_mode())
            counter = self._fk_count(raw_documents)
            if counter is None:
                return super()._count_vocab(raw_documents, fixed_vocab)
            if counter.fit_size()[1] == 0:
                raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
            data, indices, indptr, shape = counter.fit_finish(0.0, 0.0, False, dt)
            X = sp.csr_array((data, indices, indptr), shape=shape, copy=False)
            X.has_sorted_indices = True
            return counter.vocabulary(), _align(X)
        counter = self._fk_vocab_counter()
        mode = self._fk_mode()
        raw_documents = self._fk_replayable(raw_documents, mode)
        if counter is None:
            return super()._count_vocab(raw_documents, fixed_vocab)
        analyze = self.build_analyzer()
        parts = []
        try:
            for b in self._fk_batches(raw_documents, analyze, mode, None):
                if b[0] == "text":
                    parts.append(counter.transform(b[1], b[2], dt))
                else:
                    parts.append(counter.transform_features(b[1], b[2], b[3], dt))
        except _Fallback:
            return super()._count_vocab(raw_documents, fixed_vocab)
        lazy = self.__dict__.get("_fk_lazy_vocab")
        n_cols = lazy[1] if lazy is not None else len(self.vocabulary_)
        if not parts:
            it = np.int32
            X = sp.csr_array(
                (np.empty(0, dt), np.empty(0, it), np.zeros(1, it)), shape=(0, n_cols), copy=False
            )
        else:
            X = _stack(parts, n_cols, dt, sorted_rows=True)
        if lazy is not None:
            # A vocabulary still held natively is fitted, so scikit-learn's
            # caller here is transform, which discards the dict: not built.
            return None, _align(X)
        return self.vocabulary_, _align(X)


class TfidfTransformer(_sk.TfidfTransformer, auto_wrap_output_keys=None):
    """scikit-learn's ``TfidfTransformer`` (numpy code: ``idf_`` and the weights
    are scikit-learn's bits by construction).

    >>> import numpy as np
    >>> TfidfTransformer().fit(np.array([[1, 0], [1, 1]])).idf_.round(3).tolist()
    [1.0, 1.405]
    """


class TfidfVectorizer(_sk.TfidfVectorizer, CountVectorizer):
    """scikit-learn's ``TfidfVectorizer`` whose counting is ferrokit's
    :class:`CountVectorizer` (tokenizing, counting, vocabulary in Rust); the
    tf-idf weighting is scikit-learn's own numpy code.

    >>> tv = TfidfVectorizer().fit(["a cat", "a dog cat"])
    >>> tv.get_feature_names_out().tolist()
    ['cat', 'dog']
    """
