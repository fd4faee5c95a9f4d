"""ferrokit.dask text vectorizers on a 2-process LocalCluster, against scikit-learn."""

from __future__ import annotations

import logging

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
sk = pytest.importorskip("sklearn.feature_extraction.text")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from ferrokit import dask as fkd  # noqa: E402

DOCS = [f"Doc {i} ΟΔΟΣ w{i % 7} w{i % 13} common x² İx" for i in range(300)] + ["", "only only"] * 5


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _same(x, y) -> None:
    x, y = sp.csr_matrix(x), sp.csr_matrix(y)
    assert x.shape == y.shape and x.dtype == y.dtype
    np.testing.assert_array_equal(x.indptr, y.indptr)
    np.testing.assert_array_equal(x.indices, y.indices)
    assert x.data.tobytes() == y.data.tobytes()


@pytest.mark.parametrize("kind", ["bag", "series"])
def test_hashing_vectorizer_sparse_chunks(client, kind):
    coll = (
        db.from_sequence(DOCS, npartitions=7)
        if kind == "bag"
        else dd.from_pandas(pd.Series(DOCS), npartitions=5)
    )
    X = fkd.HashingVectorizer(n_features=64, ngram_range=(1, 2)).transform(coll)
    assert X.ndim == 2 and X.shape[1] == 64
    got = X.compute()
    assert sp.issparse(got)
    _same(got, sk.HashingVectorizer(n_features=64, ngram_range=(1, 2)).transform(DOCS))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 2)},
        {"min_df": 2, "max_df": 0.5},
        {"max_features": 5},
        {"binary": True, "max_features": 7},
    ],
)
@pytest.mark.parametrize("kind", ["bag", "series"])
def test_count_vectorizer_distributed_fit_equals_sklearn(client, kind, params):
    coll = (
        db.from_sequence(DOCS, npartitions=6)
        if kind == "bag"
        else dd.from_pandas(pd.Series(DOCS), npartitions=4)
    )
    ours = fkd.CountVectorizer(**params).fit(coll)
    ref = sk.CountVectorizer(**params).fit(DOCS)
    assert list(ours.vocabulary_.items()) == list(ref.vocabulary_.items())
    assert [type(v) for v in ours.vocabulary_.values()] == [type(v) for v in ref.vocabulary_.values()]
    _same(ours.transform(coll).compute(), ref.transform(DOCS))
    _same(ours.transform(DOCS), ref.transform(DOCS))


def test_count_vectorizer_errors_like_sklearn(client):
    coll = db.from_sequence(["a b", "c"], npartitions=2)
    with pytest.raises(ValueError, match="empty vocabulary"):
        fkd.CountVectorizer().fit(coll)
    coll = db.from_sequence(DOCS, npartitions=3)
    with pytest.raises(ValueError, match="max_df corresponds to < documents than min_df"):
        fkd.CountVectorizer(min_df=5, max_df=2).fit(coll)
    with pytest.raises(TypeError, match=r"dask\.bag\.Bag"):
        fkd.HashingVectorizer().transform(dask.array.from_array(np.array(["a"]), chunks=1))


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "large_string[pyarrow]", "object"])
def test_series_partitions_arrow_backed_or_not(client, dtype):
    pytest.importorskip("pyarrow")
    from ferrokit._dask_text import _series_docs
    from ferrokit._text_arrow import is_arrow

    s = pd.Series(DOCS, dtype=dtype)
    part = _series_docs(s)
    # Arrow-backed partitions reach ferrokit.text as they are (zero-copy), others as lists.
    assert (part is s) == is_arrow(s) == (dtype != "object")
    coll = dd.from_pandas(s, npartitions=3)
    ref = sk.CountVectorizer(ngram_range=(1, 2)).fit(DOCS)
    ours = fkd.CountVectorizer(ngram_range=(1, 2)).fit(coll)
    assert list(ours.vocabulary_.items()) == list(ref.vocabulary_.items())
    _same(ours.transform(coll).compute(), ref.transform(DOCS))
    _same(
        fkd.HashingVectorizer(n_features=32).transform(coll).compute(),
        sk.HashingVectorizer(n_features=32).transform(DOCS),
    )
    with_null = dd.from_pandas(pd.Series(["a b", None, "c d"], dtype=dtype), npartitions=2)
    if dtype != "object":
        # scikit-learn's exception for pd.NA (lowercase: AttributeError), with its position
        with pytest.raises(
            AttributeError, match=r"'NAType' object has no attribute 'lower' \(document 1 is missing\)"
        ):
            fkd.HashingVectorizer().transform(with_null).compute()
