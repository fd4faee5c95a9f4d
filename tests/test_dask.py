"""ferrokit.dask on a real dask.distributed cluster (2 worker processes).

One LocalCluster per module. Fitted attributes are compared with
scikit-learn on the same data in memory (1e-12 relative, float64).
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import signal
import sys
import time
import warnings

import cloudpickle
import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from sklearn import preprocessing as skp
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

import ferrokit as fk
import ferrokit.dask as fkd

# Helpers defined here run on the workers, which cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SCALERS = ["StandardScaler", "MinMaxScaler", "MaxAbsScaler"]
RTOL = 1e-12


@pytest.fixture(scope="module")
def client():
    # FERROKIT_NUM_THREADS=2 on the workers: the tests see it replaced by nthreads (1).
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env={"FERROKIT_NUM_THREADS": "2"},
    )
    c = Client(cluster)
    c.threads_before_fit = c.run(fk.get_num_threads)  # type: ignore[attr-defined]
    yield c
    c.close()
    cluster.close()


def _data(seed: int = 0, n_chunks: int = 200, rows: int = 500, d: int = 8, dtype=np.float64):
    """Unequal row chunks (mean ``rows``, some of 1 and 0 rows), NaNs, a constant
    column, a column that is all-NaN in whole chunks, large offsets."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 2 * rows, n_chunks)
    sizes[min(3, n_chunks - 1)] = 1
    if n_chunks > 10:
        sizes[10] = 0
    n = int(sizes.sum())
    x = rng.normal(size=(n, d)) * rng.uniform(0.1, 100, d) + rng.uniform(-1e3, 1e3, d)
    x[rng.random(x.shape) < 0.03] = np.nan
    x[:, 1] = 4.25  # constant
    x[: int(sizes[:5].sum()), 2] = np.nan  # whole chunks all-NaN in a column
    x = x.astype(dtype)
    return x, da.from_array(x, chunks=(tuple(int(s) for s in sizes), (d,)))


def _sk(name: str, x: np.ndarray, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return getattr(skp, name)(**kw).fit(x)


def _assert_same_fit(ours, ref, rtol: float = RTOL) -> None:
    names = sorted(k for k in vars(ref) if k.endswith("_") and not k.startswith("_"))
    assert names == sorted(k for k in vars(ours) if k.endswith("_") and not k.startswith("_"))
    for k in names:
        a, b = getattr(ours, k), getattr(ref, k)
        if b is None:
            assert a is None, k
            continue
        assert type(a) is type(b), (k, type(a), type(b))
        assert np.asarray(a).dtype == np.asarray(b).dtype, (k, np.asarray(a).dtype, np.asarray(b).dtype)
        if np.asarray(b).dtype.kind in "OU":
            assert np.array_equal(a, b), k
        elif k == "var_":
            # a constant column's variance is 0 up to rounding noise of order eps * mean**2
            floor = 1e-12 * np.asarray(ours.mean_, dtype=float) ** 2
            bad = ~((np.abs(a - b) <= rtol * np.abs(b) + floor) | (np.isnan(a) & np.isnan(b)))
            assert not bad.any(), (k, a[bad], b[bad])
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True, err_msg=k)


def _assert_close_transform(got, want, x) -> None:
    """Transformed values: 1e-12 relative, absolute to the data's magnitude
    (``x - mean_`` cancels digits that the 1e-12-relative mean_ does not have)."""
    atol = 1e-12 * max(1.0, float(np.nanmax(np.abs(np.asarray(x, dtype=float)))))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=atol, equal_nan=True)


def _boom(block):
    raise AssertionError("this graph must not run")


def _slow(block, marks: str, block_info=None):
    """Sleeps, then leaves a file named after the chunk and the worker process."""
    time.sleep(0.02)
    i = block_info[0]["chunk-location"][0]
    with open(os.path.join(marks, f"{i}-{os.getpid()}"), "w"):
        pass
    return block


# ---------------------------------------------------------------- against scikit-learn


@pytest.mark.parametrize("name", SCALERS)
def test_fit_transform_many_chunks_matches_sklearn(client, name, monkeypatch) -> None:
    x, dx = _data()
    assert dx.numblocks[0] == 200
    calls = []
    real = dask.compute
    monkeypatch.setattr(dask, "compute", lambda *a, **k: calls.append(1) or real(*a, **k))
    ours = getattr(fkd, name)().fit(dx)
    assert len(calls) == 1  # the whole fit is one compute
    monkeypatch.undo()
    ref = _sk(name, x)
    _assert_same_fit(ours, ref)

    t = ours.transform(dx)
    assert isinstance(t, da.Array) and t.chunks == dx.chunks and t.dtype == np.float64
    _assert_close_transform(t.compute(), ref.transform(x), x)
    back = ours.inverse_transform(t).compute()
    np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize(
    "kw", [{"with_mean": False}, {"with_std": False}, {"with_mean": False, "with_std": False}]
)
def test_standard_scaler_options(client, kw) -> None:
    x, dx = _data(seed=3, n_chunks=30)
    ours = fkd.StandardScaler(**kw).fit(dx)
    ref = _sk("StandardScaler", x, **kw)
    _assert_same_fit(ours, ref)
    _assert_close_transform(ours.transform(dx).compute(), ref.transform(x), x)


def test_standard_scaler_sample_weight(client) -> None:
    x, dx = _data(seed=15, n_chunks=40)
    w = np.random.default_rng(15).uniform(0, 3, x.shape[0])
    for kw in [{}, {"with_mean": False, "with_std": False}]:
        ref = skp.StandardScaler(**kw).fit(x, sample_weight=w)
        for sw in (w, da.from_array(w, chunks=1000)):  # numpy split like X; dask rechunked like X
            _assert_same_fit(fkd.StandardScaler(**kw).fit(dx, sample_weight=sw), ref)
    _assert_same_fit(
        fkd.StandardScaler().fit(dx, sample_weight=2.5), skp.StandardScaler().fit(x, sample_weight=2.5)
    )
    x32, dx32 = x.astype(np.float32), dx.astype(np.float32)
    for kw in [{}, {"with_mean": False, "with_std": False}]:
        ref = skp.StandardScaler(**kw).fit(x32, sample_weight=w)
        _assert_same_fit(fkd.StandardScaler(**kw).fit(dx32, sample_weight=w), ref, rtol=1e-9)
    pdf, ddf = _frame()
    ws = pd.Series(np.linspace(0, 2, len(pdf)), index=pdf.index)
    parts = [ws.iloc[0:7], ws.iloc[7:1500], ws.iloc[1500:1501], ws.iloc[1501:]]
    dws = dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])
    ours = fkd.StandardScaler().fit(ddf.clear_divisions(), sample_weight=dws.clear_divisions())
    _assert_same_fit(ours, skp.StandardScaler().fit(pdf, sample_weight=ws.to_numpy()))


def test_minmax_options(client) -> None:
    x, dx = _data(seed=4, n_chunks=20)
    ours = fkd.MinMaxScaler(feature_range=(-2, 3), clip=True).fit(dx)
    ref = _sk("MinMaxScaler", x, feature_range=(-2, 3), clip=True)
    _assert_same_fit(ours, ref)
    y = dx * 1.5
    np.testing.assert_allclose(
        ours.transform(y).compute(), ref.transform(y.compute()), rtol=RTOL, equal_nan=True
    )


@pytest.mark.parametrize("name", SCALERS)
def test_float32_and_integers(client, name) -> None:
    x, dx = _data(seed=5, n_chunks=25, dtype=np.float32)
    ours = getattr(fkd, name)().fit(dx)
    ref = _sk(name, x)
    _assert_same_fit(ours, ref, rtol=1e-6 if name != "StandardScaler" else 1e-9)
    t = ours.transform(dx)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t.compute(), ref.transform(x), rtol=1e-5, atol=1e-5, equal_nan=True)

    xi = np.arange(600, dtype=np.int64).reshape(200, 3) % 17
    ours = getattr(fkd, name)().fit(da.from_array(xi, chunks=(33, 3)))
    _assert_same_fit(ours, getattr(skp, name)().fit(xi))
    assert ours.transform(da.from_array(xi, chunks=50)).dtype == np.float64


def test_all_nan_column_and_single_row(client) -> None:
    x = np.array([[1.0, np.nan], [3.0, np.nan], [2.0, np.nan]])
    for name in SCALERS:
        _assert_same_fit(getattr(fkd, name)().fit(da.from_array(x, chunks=(1, 2))), _sk(name, x))
        _assert_same_fit(getattr(fkd, name)().fit(da.from_array(x[:1], chunks=1)), _sk(name, x[:1]))


def test_result_independent_of_chunking(client) -> None:
    _, dx = _data(seed=6, n_chunks=40)
    a = fkd.StandardScaler().fit(dx)
    b = fkd.StandardScaler().fit(dx.rechunk((997, 8)), split_every=2)
    np.testing.assert_allclose(a.var_, b.var_, rtol=1e-13, equal_nan=True)
    c = fkd.StandardScaler().fit(dx)
    assert np.array_equal(a.var_, c.var_, equal_nan=True)  # same chunks: bit-identical


def test_pipeline_with_dask_ml(client) -> None:
    from dask_ml.preprocessing import MinMaxScaler as DaskMLMinMax

    x, dx = _data(seed=7, n_chunks=10)  # no empty chunk: dask's own min/max cannot take one
    x = np.nan_to_num(x)
    dx = da.from_array(x, chunks=dx.chunks)
    pipe = make_pipeline(fkd.StandardScaler(), DaskMLMinMax())
    out = pipe.fit_transform(dx)
    assert isinstance(out, da.Array)
    ref = make_pipeline(skp.StandardScaler(), skp.MinMaxScaler()).fit_transform(x)
    np.testing.assert_allclose(out.compute(), ref, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- dataframes


def _frame(seed: int = 8):
    rng = np.random.default_rng(seed)
    n = 3000
    pdf = pd.DataFrame(
        {
            "a": rng.normal(size=n) * 5 + 1,
            "b": rng.normal(size=n),
            "i": rng.integers(-50, 50, n),
            "c": rng.uniform(-1, 1, n),
        },
        index=pd.RangeIndex(100, 100 + n),
    )
    pdf.loc[pdf.index[::11], "b"] = np.nan
    # unequal partitions
    parts = [pdf.iloc[0:7], pdf.iloc[7:1500], pdf.iloc[1500:1501], pdf.iloc[1501:]]
    return pdf, dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])


@pytest.mark.parametrize("name", SCALERS)
@pytest.mark.parametrize("divisions", ["known", "unknown"])
def test_dataframe(client, name, divisions) -> None:
    pdf, ddf = _frame()
    if divisions == "unknown":
        ddf = ddf.clear_divisions()
        assert not ddf.known_divisions
    ours = getattr(fkd, name)().fit(ddf)
    ref = _sk(name, pdf)
    _assert_same_fit(ours, ref)
    t = ours.transform(ddf)
    assert isinstance(t, dd.DataFrame) and list(t.columns) == list(pdf.columns)
    tc = t.compute()
    assert tc.index.equals(pdf.index)
    _assert_close_transform(tc.to_numpy(), ref.transform(pdf), pdf)
    back = ours.inverse_transform(t).compute()
    np.testing.assert_allclose(
        back.to_numpy(), pdf.to_numpy(dtype=float), rtol=1e-9, atol=1e-9, equal_nan=True
    )


def test_dataframe_unknown_chunk_sizes_as_array(client) -> None:
    pdf, ddf = _frame()
    dx = ddf.clear_divisions().to_dask_array()
    assert all(math.isnan(c) for c in dx.chunks[0])
    ours = fkd.StandardScaler().fit(dx)
    ref = _sk("StandardScaler", pdf.to_numpy(dtype=float))
    _assert_same_fit(ours, ref)
    _assert_close_transform(ours.transform(dx).compute(), ref.transform(pdf.to_numpy(dtype=float)), pdf)
    # boolean indexing also gives unknown row chunks
    x, dx = _data(seed=9, n_chunks=30)
    sel = dx[dx[:, 0] > np.nanmedian(x[:, 0])]
    _assert_same_fit(fkd.MinMaxScaler().fit(sel), _sk("MinMaxScaler", x[x[:, 0] > np.nanmedian(x[:, 0])]))


def test_dataframe_float32_and_feature_names(client) -> None:
    pdf = pd.DataFrame({"p": np.arange(50, dtype=np.float32), "q": np.ones(50, dtype=np.float32)})
    ddf = dd.from_pandas(pdf, npartitions=3)
    ours = fkd.MaxAbsScaler().fit(ddf)
    _assert_same_fit(ours, skp.MaxAbsScaler().fit(pdf))
    assert ours.transform(ddf).dtypes.tolist() == [np.float32, np.float32]
    with pytest.raises(ValueError, match="feature names should match"):
        ours.transform(ddf.rename(columns={"p": "z"}))


# ---------------------------------------------------------------- numpy fallback


@pytest.mark.parametrize("name", SCALERS)
def test_numpy_fallback_same_object(client, name) -> None:
    x, dx = _data(seed=10, n_chunks=10)
    est = getattr(fkd, name)()
    assert isinstance(est, getattr(fk.preprocessing, name))
    est.fit(x)
    ref = _sk(name, x)
    _assert_same_fit(est, ref)
    _assert_close_transform(est.transform(x), ref.transform(x), x)
    # fitted on numpy, transforms dask (lazily) and back
    t = est.transform(dx)
    assert isinstance(t, da.Array)
    _assert_close_transform(t.compute(), ref.transform(x), x)
    # fitted on dask, transforms numpy
    est.fit(dx)
    _assert_close_transform(est.transform(x), ref.transform(x), x)
    est.partial_fit(x[:10])  # in-memory partial_fit still works


def test_module_attribute() -> None:
    assert fk.dask is fkd and fkd.StandardScaler.__module__ == "ferrokit.dask"
    assert dask.__name__ == "dask" and "ferrokit" not in dask.__file__  # no shadowing


@pytest.mark.parametrize("name", SCALERS)
def test_check_estimator_numpy_path(name) -> None:
    with dask.config.set(scheduler="sync"):
        check_estimator(getattr(fkd, name)())


# ---------------------------------------------------------------- normalize


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalize_matches_ferrokit_normalize(client, dtype) -> None:
    x, dx = _data(seed=11, n_chunks=50, dtype=dtype)
    out = fkd.normalize(dx)
    assert isinstance(out, da.Array) and out.dtype == dtype and out.chunks == dx.chunks
    assert np.array_equal(out.compute(), fk.normalize(x), equal_nan=True)  # bit-identical


def test_normalize_edge_cases(client) -> None:
    cube = np.arange(60, dtype=np.int32).reshape(3, 4, 5)
    res = fkd.normalize(da.from_array(cube, chunks=2)).compute()
    assert res.dtype == np.float64 and np.array_equal(res, fk.normalize(cube))
    assert np.array_equal(fkd.normalize(da.full((7, 3), 5.0, chunks=2)).compute(), np.zeros((7, 3)))
    nan = fkd.normalize(da.full((4,), np.nan, chunks=3)).compute()
    assert np.isnan(nan).all()
    big = np.array([-1e308, 0.0, 1e308])
    assert np.array_equal(fkd.normalize(da.from_array(big, chunks=1)).compute(), fk.normalize(big))
    with pytest.raises(ValueError, match="infinity"):
        fkd.normalize(da.from_array(np.array([1.0, np.inf, 2.0]), chunks=1)).compute()
    with pytest.raises(TypeError, match=r"dask\.array\.Array or an in-memory array, got Bag"):
        fkd.normalize(db.from_sequence([1.0, 2.0]))
    with pytest.raises(ValueError, match="split_every must be >= 2"):
        fkd.normalize(np.ones(3), split_every=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (5, 3), (2, 3, 4), (100_003,)])
def test_normalize_in_memory_input_like_the_scalers(shape, dtype) -> None:
    # numpy input is scaled in memory (as the Dask scalers fit numpy input):
    # the result of ferrokit.normalize, same dtype rules, bit for bit.
    x = (np.random.default_rng(5).normal(size=shape) * 100).astype(dtype)
    got = fkd.normalize(x)
    want = fk.normalize(x)
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == x.shape
    assert np.array_equal(got, want, equal_nan=True)
    if x.size:
        assert np.array_equal(fkd.normalize(x.tolist()), fk.normalize(x.tolist()), equal_nan=True)
    if x.ndim == 1 and 1 < x.size < 100:
        assert np.array_equal(fkd.normalize(da.from_array(x, chunks=3)).compute(), want, equal_nan=True)


def test_normalize_in_memory_bad_input() -> None:
    with pytest.raises(ValueError, match="infinity"):
        fkd.normalize(np.array([1.0, np.inf]))
    with pytest.raises(TypeError, match="real numbers"):  # as ferrokit.normalize
        fkd.normalize(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="real numbers"):
        fkd.normalize(da.from_array(np.array(["a", "b"]), chunks=1))


def test_lazy(client) -> None:
    x = da.ones((100, 3), chunks=10).map_blocks(_boom, dtype=float)
    fkd.normalize(x)  # builds a graph, runs nothing
    est = fkd.StandardScaler().fit(da.ones((10, 3), chunks=5))
    est.transform(x)
    est.inverse_transform(x)


# ---------------------------------------------------------------- workers


def test_worker_threads_follow_nthreads(client) -> None:
    assert set(client.threads_before_fit.values()) == {2}  # FERROKIT_NUM_THREADS on the workers
    _, dx = _data(seed=12, n_chunks=20)
    fkd.MinMaxScaler().fit(dx)
    nthreads = client.nthreads()
    got = client.run(fk.get_num_threads)
    assert got == nthreads and set(got.values()) == {1}
    client.run(fk.set_num_threads, 2)
    fkd.register_worker_plugin(client)
    assert client.run(fk.get_num_threads) == nthreads


def test_worker_killed_during_fit(client, tmp_path) -> None:
    x, dx = _data(seed=13, n_chunks=200)
    expected = fkd.StandardScaler().fit(dx)
    marks = str(tmp_path)
    slow = dx.map_blocks(_slow, marks, dtype=dx.dtype)  # 200 x 20 ms over 2 workers
    pids = client.run(os.getpid)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(fkd.StandardScaler().fit, slow)
        deadline = time.monotonic() + 30
        while len(os.listdir(marks)) < 40:  # a fifth of the chunks done
            assert time.monotonic() < deadline and not fut.done()
            time.sleep(0.01)
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        assert not fut.done()  # killed while fit was running
        got = fut.result(timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()
    done = [name.split("-") for name in os.listdir(marks)]
    chunks_run = [int(i) for i, _ in done]
    assert set(chunks_run) == set(range(200))
    assert len(chunks_run) > 200  # chunks whose results died with the worker were computed again
    for k in ("mean_", "var_", "scale_", "n_samples_seen_"):
        assert np.array_equal(getattr(got, k), getattr(expected, k), equal_nan=True), k
    _assert_same_fit(got, _sk("StandardScaler", x))
    # The nanny restarts the killed worker. Whether the new process gets any of
    # the recomputed chunks is the scheduler's timing (on a loaded machine the
    # surviving worker often finishes them all first), so only the restart is
    # checked, not who recomputed.
    client.wait_for_workers(2, timeout=60)
    assert set(client.run(os.getpid).values()) - set(pids.values())


# ---------------------------------------------------------------- bad input (errors at call time)


def test_column_chunks_are_rechunked(client) -> None:
    x, dx = _data(seed=14, n_chunks=12)
    cols = dx.rechunk({1: 3})
    assert len(cols.chunks[1]) == 3
    est = fkd.StandardScaler().fit(cols)
    _assert_same_fit(est, _sk("StandardScaler", x))
    t = est.transform(cols)
    assert t.chunks[0] == cols.chunks[0] and len(t.chunks[1]) == 1


def test_bad_input_errors_at_call_time(client) -> None:
    boom = da.ones((100, 4), chunks=(10, 4)).map_blocks(_boom, dtype=float)
    fitted = fkd.StandardScaler().fit(da.ones((10, 3), chunks=5))
    # feature count mismatch: raised before anything runs
    with pytest.raises(ValueError, match="X has 4 features, but StandardScaler is expecting 3"):
        fitted.transform(boom)
    with pytest.raises(ValueError, match="X has 4 features"):
        fitted.inverse_transform(boom)
    pdf = pd.DataFrame(np.ones((6, 4)), columns=list("abcd"))
    with pytest.raises(ValueError, match="X has 4 features"):
        fitted.transform(dd.from_pandas(pdf, npartitions=2))
    # column-chunked with unknown row sizes
    unknown = boom[boom[:, 0] > 0].rechunk({1: 2})
    with pytest.raises(ValueError, match="unknown row chunk sizes"):
        fkd.MinMaxScaler().fit(unknown)
    # unknown number of columns
    nocols = da.from_delayed(dask.delayed(np.ones)((3, 3)), shape=(math.nan, math.nan), dtype=float)
    with pytest.raises(ValueError, match="unknown number of columns"):
        fkd.MaxAbsScaler().fit(nocols)
    # non-numeric dataframe columns
    mixed = pdf.assign(name=["x"] * 6, when=pd.Timestamp("2020-01-01"), obj=pd.Series([object()] * 6))
    with pytest.raises(ValueError, match=r"non-numeric columns: 'name' .*'when' .*'obj'"):
        fkd.StandardScaler().fit(dd.from_pandas(mixed, npartitions=2))
    dfit = fkd.StandardScaler().fit(dd.from_pandas(pdf, npartitions=2))
    with pytest.raises(ValueError, match="non-numeric columns: 'd'"):
        dfit.transform(dd.from_pandas(pdf.assign(d="s"), npartitions=2))
    # dimensions, dtypes, collection types
    with pytest.raises(ValueError, match="expected a 2-D dask array"):
        fkd.StandardScaler().fit(da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="expected a 2-D dask array"):
        fkd.StandardScaler().fit(da.ones((2, 2, 2), chunks=1))
    with pytest.raises(ValueError, match="real numbers"):
        fkd.StandardScaler().fit(da.from_array(np.array([["a"], ["b"]]), chunks=1))
    with pytest.raises(ValueError, match="real numbers"):
        fkd.StandardScaler().fit(da.ones((3, 2), dtype=complex, chunks=1))
    with pytest.raises(ValueError, match="0 features"):
        fkd.StandardScaler().fit(da.ones((3, 0), chunks=1))
    with pytest.raises(ValueError, match="dask Series"):
        fkd.StandardScaler().fit(dd.from_pandas(pdf, npartitions=2)["a"])
    with pytest.raises(TypeError, match=r"dask\.array\.Array or dask\.dataframe\.DataFrame"):
        fkd.StandardScaler().fit(db.from_sequence([1, 2]))
    with pytest.raises(TypeError, match="call fit on the whole dask collection"):
        fkd.StandardScaler().partial_fit(da.ones((3, 2), chunks=1))
    with pytest.raises(ValueError, match="sample_weight has 4 values, X has 3 rows"):
        fkd.StandardScaler().fit(da.ones((3, 2), chunks=1), sample_weight=np.ones(4))
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        fkd.StandardScaler().fit(da.ones((3, 2), chunks=1), sample_weight=np.ones((3, 1)))
    with pytest.raises(ValueError, match="unknown chunk sizes, so an in-memory sample_weight"):
        fkd.StandardScaler().fit(unknown.rechunk({1: -1}), sample_weight=np.ones(100))
    with pytest.raises(ValueError, match="sample_weight has 3 partitions, X has 2"):
        fkd.StandardScaler().fit(
            dd.from_pandas(pdf, npartitions=2), sample_weight=dd.from_pandas(pdf["a"], npartitions=3)
        )
    with pytest.raises(NotFittedError):
        fkd.MinMaxScaler().transform(da.ones((3, 2), chunks=1))
    with pytest.raises(ValueError, match="feature range"):
        fkd.MinMaxScaler(feature_range=(1, 0)).fit(boom)
    with pytest.raises(ValueError, match="split_every"):
        fkd.MinMaxScaler().fit(boom, split_every=1)


def test_data_errors_at_compute(client) -> None:
    x = np.ones((20, 2))
    x[13, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        fkd.StandardScaler().fit(da.from_array(x, chunks=4))
    with pytest.raises(ValueError, match="0 sample"):
        fkd.StandardScaler().fit(da.ones((0, 3), chunks=1))
    empty_rows = da.ones((10, 3), chunks=(2, 3))
    with pytest.raises(ValueError, match="0 sample"):
        fkd.MaxAbsScaler().fit(empty_rows[empty_rows[:, 0] > 5])
