"""Loading a model file in one streaming pass and writing it back from the
native model (``fk.Model`` keeps no copy of the file's bytes).

- ``to_bytes`` / ``save`` / pickle / copy / deepcopy give the exported bytes
  exactly (linear, MLP float32 and float64, k-NN, text, old MLP files), and
  load to the same predictions; sizes 1, odd, and larger than the reader's
  64 KiB chunk;
- a path loads natively (truncated, bit-flipped, missing, huge claimed
  lengths refused), ``fk_model_save_bytes`` follows the size-query-then-fill
  contract, a closed model refuses, and pickling from many threads at once
  agrees.
"""

from __future__ import annotations

import copy
import pathlib
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ferrokit as fk
from ferrokit import neighbors as fkn
from ferrokit._native import ffi, lib

RNG = np.random.default_rng(7)
X = RNG.normal(size=(60, 5))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
DOCS = ["the cat sat", "a dog ran far", "cats and dogs", "the end of it", "far away dogs", "a cat"]
DOC_Y = [0, 1, 1, 0, 1, 0]


def _quiet(fit):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


def _cases() -> dict[str, tuple[bytes, object]]:
    """Exported bytes and the input to predict with, per case."""
    x32 = X.astype(np.float32)
    mlp32 = _quiet(lambda: MLPClassifier(hidden_layer_sizes=(7,), max_iter=20, random_state=0).fit(x32, Y))
    net = MLPClassifier(hidden_layer_sizes=(9, 3), max_iter=20)
    mlp64 = _quiet(lambda: make_pipeline(StandardScaler(), net).fit(X, Y))
    big = RNG.normal(size=(3001, 7))  # fit_x of 168 KB: arrays straddle the reader's chunks
    cases = {
        "logreg": (fk.export(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)), X),
        "linreg_1_feature": (fk.export(LinearRegression().fit(X[:, :1], X[:, 1])), X[:, :1]),
        "mlp_f32": (fk.export(mlp32), x32),
        "mlp_f64": (fk.export(mlp64), X),
        "nn_1_row": (fk.export(fkn.NearestNeighbors(n_neighbors=1).fit(X[:1])), X),
        "knn_clf_odd": (fk.export(fkn.KNeighborsClassifier(n_neighbors=3).fit(X[:11], Y[:11])), X),
        "knn_odd_f32": (fk.export(fkn.KNeighborsRegressor(n_neighbors=3).fit(x32[:13], X[:13, 0])), x32),
        "nn_large": (fk.export(fkn.NearestNeighbors(n_neighbors=2).fit(big)), big[:5]),
        "text": (fk.export(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(DOCS, DOC_Y)), DOCS),
    }
    return cases


CASES = _cases()


def _outputs(m: fk.Model, x: object) -> list[np.ndarray]:
    if "predict_proba" in m.outputs:
        return [m.predict_proba(x)]
    if "kneighbors" in m.outputs:
        return list(m.kneighbors(x))
    return [m.predict(x)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_written_back_bytes_equal_the_exported_file(name: str, tmp_path: pathlib.Path) -> None:
    data, x = CASES[name]
    path = tmp_path / "m.fk"
    path.write_bytes(data)
    for m in (fk.load_model(data), fk.load_model(path), fk.load_model(str(path))):
        assert m.to_bytes() == data
        want = _outputs(m, x)
        for clone in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m)):
            assert clone is not m and clone.to_bytes() == data
            for a, b in zip(_outputs(clone, x), want, strict=True):
                np.testing.assert_array_equal(a, b)
        m.save(tmp_path / "again.fk")
        assert (tmp_path / "again.fk").read_bytes() == data


def test_old_mlp_files_write_back_as_loaded(tmp_path: pathlib.Path) -> None:
    for dtype in (np.float32, np.float64):
        xd = X.astype(dtype)
        sk = _quiet(lambda xd=xd: MLPClassifier(hidden_layer_sizes=(4,), max_iter=10).fit(xd, Y))
        net = fk.nn.MLP.from_sklearn(sk, dtype=dtype)
        data = net.to_bytes()
        (tmp_path / "old.fkmlp").write_bytes(data)
        m = fk.load_model(tmp_path / "old.fkmlp")
        assert m.to_bytes() == data
        np.testing.assert_allclose(m.predict_proba(X), sk.predict_proba(X), rtol=1e-6)


def test_native_save_bytes_contract() -> None:
    data, _ = CASES["logreg"]
    m = fk.load_model(data)
    n = len(data)
    size = ffi.new("size_t *")
    with m._own.borrow("test") as h:
        assert lib.fk_model_save_bytes(h, ffi.NULL, 0, size) == lib.FK_OK and size[0] == n
        buf = bytearray(b"\xaa" * (n + 3))
        size[0] = 0
        st = lib.fk_model_save_bytes(h, ffi.from_buffer("uint8_t[]", buf), n - 1, size)
        assert st == lib.FK_ERR_LENGTH_MISMATCH and size[0] == 0 and buf == b"\xaa" * (n + 3)
        assert lib.fk_model_save_bytes(h, ffi.from_buffer("uint8_t[]", buf), n + 3, size) == lib.FK_OK
        assert size[0] == n and bytes(buf[:n]) == data and buf[n:] == b"\xaa" * 3
        assert lib.fk_model_save_bytes(h, ffi.NULL, 0, ffi.NULL) == lib.FK_ERR_NULL_POINTER
    assert lib.fk_model_save_bytes(ffi.NULL, ffi.NULL, 0, size) == lib.FK_ERR_NULL_POINTER


def test_a_closed_model_refuses_to_write() -> None:
    m = fk.load_model(CASES["logreg"][0])
    m.close()
    for op in (m.to_bytes, lambda: pickle.dumps(m), lambda: copy.deepcopy(m)):
        with pytest.raises(fk.ClosedError):
            op()


def test_pickling_from_many_threads_agrees(in_threads) -> None:
    data, x = CASES["mlp_f64"]
    m = fk.load_model(data)
    want = m.predict_proba(x)

    def work() -> None:
        for _ in range(20):
            m2 = pickle.loads(pickle.dumps(m))
            assert m2.to_bytes() == data
            np.testing.assert_array_equal(m2.predict_proba(x), want)
            np.testing.assert_array_equal(m.predict_proba(x), want)

    in_threads(work)


@pytest.mark.parametrize("name", ["logreg", "nn_large"])
def test_bad_files_from_a_path_are_refused(name: str, tmp_path: pathlib.Path) -> None:
    data, _ = CASES[name]
    p = tmp_path / "bad.fk"
    n = len(data)
    for cut in sorted({0, 3, 12, 35, n // 2, n - 4, n - 1}):
        p.write_bytes(data[:cut])
        with pytest.raises(fk.InvalidFormatError, match=r"bad\.fk"):
            fk.load_model(p)
    for at in sorted({9, 20, 40, n // 2, n - 5, n - 1}):
        b = bytearray(data)
        b[at] ^= 0x10
        p.write_bytes(bytes(b))
        with pytest.raises((fk.InvalidFormatError, fk.UnsupportedVersionError)):
            fk.load_model(p)
    b = bytearray(data)
    b[n // 2] ^= 1
    p.write_bytes(bytes(b))
    with pytest.raises(fk.InvalidFormatError, match="checksum"):
        fk.load_model(p)
    p.write_bytes(data + b"\0")
    with pytest.raises(fk.InvalidFormatError, match="trailing"):
        fk.load_model(p)
    with pytest.raises(fk.FerrokitIOError):
        fk.load_model(tmp_path / "missing.fk")
    with pytest.raises(fk.FerrokitIOError):
        fk.load_model(tmp_path)  # a directory
    with pytest.raises(ValueError, match="NUL"):
        fk.load_model(str(p) + "\0x")


def test_a_100_byte_file_claiming_a_huge_array_allocates_nothing(tmp_path: pathlib.Path) -> None:
    import zlib

    head = b"FKMODEL\x1a" + (1).to_bytes(4, "little") + bytes(4) + (100).to_bytes(8, "little")
    head += (1).to_bytes(4, "little") + bytes(4)
    block = (0).to_bytes(4, "little") + (1).to_bytes(4, "little")
    field = bytes([1]) + b"x" + bytes([1]) + bytes(2) + (1 << 40).to_bytes(8, "little")
    body = head + block + field
    body += bytes(96 - len(body))
    data = body + zlib.crc32(body).to_bytes(4, "little")
    assert len(data) == 100
    for src in (data, tmp_path / "huge.fk"):
        (tmp_path / "huge.fk").write_bytes(data)
        with pytest.raises(fk.InvalidFormatError, match="truncated"):
            fk.load_model(src)


def _thp_madvise() -> bool:
    try:
        mode = pathlib.Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[madvise]" in mode


@pytest.mark.skipif(not _thp_madvise(), reason="needs Linux transparent huge pages in 'madvise' mode")
def test_a_large_array_loads_into_huge_pages(tmp_path: pathlib.Path) -> None:
    # The loader asks for huge pages for a large array before filling it:
    # loading a 41 MB k-NN index (above glibc's largest mmap threshold, so
    # not reused heap memory) takes far fewer first-touch page faults than
    # its 4 KiB pages (10 001 before; a few dozen 2 MiB pages now).
    import resource

    from ferrokit.neighbors import NearestNeighbors

    X = np.random.default_rng(3).normal(size=(80_000, 64))
    path = tmp_path / "big.fk"
    fk.export(NearestNeighbors(n_neighbors=2).fit(X), path)
    small_pages = path.stat().st_size // 4096
    fk.load_model(path).close()  # warm: page cache, allocator, pool
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    m = fk.load_model(path)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    try:
        assert faults < small_pages // 4, (faults, small_pages)
        np.testing.assert_array_equal(m.kneighbors(X[:3], 1, return_distance=False).ravel(), [0, 1, 2])
    finally:
        m.close()
