"""ferrokit's text vectorizers over Dask collections (re-exported by :mod:`ferrokit.dask`).

- :class:`HashingVectorizer` transforms a ``dask.bag`` of documents or a dask
  dataframe string column (``Series``) lazily into a dask array of
  ``scipy.sparse`` CSR chunks, one per partition (as dask-ml does); each chunk
  is hashed by :class:`ferrokit.text.HashingVectorizer` (Rust, the worker's
  threads). In-memory input gives what ``ferrokit.text`` gives. A series
  partition backed by Arrow (``string[pyarrow]``, dask's default string
  conversion) reaches Rust without copying its text.
- :class:`CountVectorizer` fits on a bag or series with one ``compute``: every
  partition counts its terms (first-occurrence order, document and total
  frequencies) in Rust, and the per-partition vocabularies are merged in
  partition order, so ``vocabulary_`` (values and dict order) equals
  scikit-learn's ``fit`` on all documents in order; ``min_df``/``max_df``/
  ``max_features`` are applied to the merged frequencies with scikit-learn's own
  numpy operations. ``transform`` of a dask collection is lazy (sparse chunks).

>>> import dask.bag as db
>>> from ferrokit.dask import CountVectorizer
>>> cv = CountVectorizer().fit(db.from_sequence(["b a b", "cc dd", "dd ee"], npartitions=2))
>>> cv.vocabulary_
{'cc': 0, 'dd': 1, 'ee': 2}
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
    import dask.bag as db
    import scipy.sparse as sp
except ImportError as exc:  # pragma: no cover - exercised without dask
    raise ImportError("ferrokit.dask needs dask: pip install 'ferrokit[dask]'") from exc

from ferrokit import text as _text
from ferrokit._text_arrow import is_arrow

__all__ = ["CountVectorizer", "HashingVectorizer"]


def _is_series(X: Any) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dataframe extra missing
        return False
    return isinstance(X, dd.Series)


def _series_docs(s: Any) -> Any:
    """A partition's documents: an Arrow-backed Series as it is (its buffers go
    to Rust without a copy), any other as a list."""
    return s if is_arrow(s) else s.tolist()


def _delayed_parts(X: Any) -> list[Any]:
    """One delayed sequence of documents per partition of a bag or series."""
    if isinstance(X, db.Bag):
        return X.map_partitions(list).to_delayed()
    if _is_series(X):
        return [dask.delayed(_series_docs)(p) for p in X.to_delayed()]
    raise TypeError(
        f"expected a dask.bag.Bag or a dask dataframe Series of documents, got {type(X).__name__}"
    )


def _sparse_chunks(est: Any, X: Any, method: str, n_cols: int, dtype: Any) -> Any:
    """A dask array of CSR chunks: ``est.<method>`` of each partition."""

    def one(docs: Any) -> Any:
        if len(docs) == 0:
            return sp.csr_matrix((0, n_cols), dtype=dtype)
        return sp.csr_matrix(getattr(est, method)(docs))

    meta = sp.csr_matrix((0, n_cols), dtype=dtype)
    parts = [dask.delayed(one)(p) for p in _delayed_parts(X)]
    arrs = [da.from_delayed(p, shape=(np.nan, n_cols), dtype=dtype, meta=meta) for p in parts]
    return da.concatenate(arrs, axis=0, allow_unknown_chunksizes=True)


class HashingVectorizer(_text.HashingVectorizer):
    """:class:`ferrokit.text.HashingVectorizer` that also takes Dask collections.

    >>> import dask.bag as db
    >>> X = HashingVectorizer(n_features=8).transform(db.from_sequence(["a bb", "cc"], npartitions=2))
    >>> X.compute().shape
    (2, 8)
    """

    def transform(self, X: Any) -> Any:
        """Lazy sparse chunks for a bag/series; as ``ferrokit.text`` otherwise."""
        if not dask.is_dask_collection(X):
            return super().transform(X)
        mem = _text.HashingVectorizer(**self.get_params())
        return _sparse_chunks(mem, X, "transform", int(self.n_features), np.dtype(self.dtype))


def _partition_counts(docs: Any, params: dict) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """Terms of one partition in first-occurrence order, their document and
    total frequencies, and the number of documents."""
    if len(docs) == 0:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    cv = _text.CountVectorizer(**params)
    try:
        vocabulary, X = cv._count_vocab(docs, False)
    except ValueError as e:
        if "empty vocabulary" not in str(e):
            raise
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64), len(docs)
    X = sp.csr_matrix(X)
    df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64)
    tf = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
    return list(vocabulary), df, tf, X.shape[0]


def _merge(parts: list[tuple]) -> tuple[dict[str, int], np.ndarray, np.ndarray, int]:
    """Per-partition counts merged in partition order (first occurrence kept)."""
    vocab: dict[str, int] = {}
    dfs: list[int] = []
    tfs: list[int] = []
    n_doc = 0
    for terms, df, tf, n in parts:
        n_doc += n
        for t, d, f in zip(terms, df.tolist(), tf.tolist(), strict=True):
            i = vocab.setdefault(t, len(vocab))
            if i == len(dfs):
                dfs.append(d)
                tfs.append(f)
            else:
                dfs[i] += d
                tfs[i] += f
    return vocab, np.asarray(dfs, dtype=np.int64), np.asarray(tfs, dtype=np.int64), n_doc


class CountVectorizer(_text.CountVectorizer):
    """:class:`ferrokit.text.CountVectorizer` with a distributed ``fit`` on Dask collections.

    ``fit_transform`` of a Dask collection is ``fit`` then a lazy ``transform``.
    A fixed ``vocabulary`` is used as given (no counting pass).
    """

    def fit(self, raw_documents: Any, y: Any = None) -> CountVectorizer:
        """Learns the vocabulary; Dask collections are counted per partition and merged."""
        if not dask.is_dask_collection(raw_documents):
            return super().fit(raw_documents, y)
        self._validate_params()
        self._validate_ngram_range()
        self._warn_for_unused_params()
        self._validate_vocabulary()
        if self.fixed_vocabulary_:
            return self
        params = self.get_params()
        counted = [dask.delayed(_partition_counts)(p, params) for p in _delayed_parts(raw_documents)]
        (parts,) = dask.compute(counted)
        vocab, dfs, tfs, n_doc = _merge(parts)
        if self.binary:
            tfs = dfs  # scikit-learn sets counts to 1 before limiting
        if not vocab:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        self.vocabulary_ = self._limit_and_sort(vocab, dfs, tfs, n_doc)
        return self

    def _limit_and_sort(self, vocab: dict[str, int], dfs: np.ndarray, tfs: np.ndarray, n_doc: int) -> dict:
        """scikit-learn's ``_sort_features`` / ``_limit_features`` on merged frequencies."""
        max_df, min_df, limit = self.max_df, self.min_df, self.max_features
        high = max_df if isinstance(max_df, Integral) else max_df * n_doc
        low = min_df if isinstance(min_df, Integral) else min_df * n_doc
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        terms = list(vocab)
        if limit is not None:
            # scikit-learn sorts first, then limits on columns in term order.
            order = sorted(range(len(terms)), key=terms.__getitem__)
            rank = np.empty(len(terms), dtype=np.int64)
            rank[order] = np.arange(len(terms))
            dfs_s, tfs_s = dfs[order], tfs[order]
            mask = (dfs_s <= high) & (dfs_s >= low)
            if mask.sum() > limit:
                mask_inds = (-tfs_s[mask]).argsort()[:limit]
                new_mask = np.zeros(len(dfs_s), dtype=bool)
                new_mask[np.where(mask)[0][mask_inds]] = True
                mask = new_mask
            if not mask.any():
                raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
            new_indices = np.cumsum(mask) - 1
            return {t: new_indices[rank[i]] for i, t in enumerate(terms) if mask[rank[i]]}
        mask = (dfs <= high) & (dfs >= low)
        if not mask.any():
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        kept = [t for t, m in zip(terms, mask.tolist(), strict=True) if m]
        rank = {t: i for i, t in enumerate(sorted(kept))}
        return {t: rank[t] for t in kept}

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        """``fit`` then ``transform`` (lazy sparse chunks for Dask collections)."""
        if not dask.is_dask_collection(raw_documents):
            return super().fit_transform(raw_documents, y)
        return self.fit(raw_documents).transform(raw_documents)

    def transform(self, raw_documents: Any) -> Any:
        """Counts of the fitted terms; lazy sparse chunks for Dask collections."""
        if not dask.is_dask_collection(raw_documents):
            return super().transform(raw_documents)
        self._check_vocabulary()
        mem = _text.CountVectorizer(**self.get_params())
        mem.vocabulary_ = self.vocabulary_
        mem.fixed_vocabulary_ = self.fixed_vocabulary_
        n_cols = len(self.vocabulary_)
        return _sparse_chunks(mem, raw_documents, "transform", n_cols, np.dtype(self.dtype))
