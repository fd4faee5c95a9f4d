"""The owner of native handles (ferrokit._handle): use counting, deferred and
exactly-once free, one exception class after close."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import ferrokit as fk
from ferrokit._handle import NativeHandle, _GilHandle, _LockedHandle
from ferrokit._native import ffi

OWNERS = [_GilHandle, _LockedHandle]


class Free:
    """A fake native free that counts calls and checks nothing is used after it."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, ptr: object) -> None:
        with self.lock:
            self.calls += 1


def make(cls: type[_GilHandle], free: Free | None = None) -> tuple[_GilHandle, Free]:
    free = free or Free()
    return cls(ffi.new("int *", 42), free, "Thing"), free


def test_default_owner_matches_the_interpreter() -> None:
    assert NativeHandle in OWNERS


def test_closed_error_is_the_documented_class() -> None:
    assert issubclass(fk.ClosedError, fk.InvalidStateError)
    assert issubclass(fk.ClosedError, ValueError)
    assert issubclass(fk.ClosedError, RuntimeError)
    assert fk.ClosedError.status_name == "FK_ERR_INVALID_STATE"


@pytest.mark.parametrize("cls", OWNERS)
def test_close_frees_once(cls: type[_GilHandle]) -> None:
    own, free = make(cls)
    with own.borrow("get") as h:
        assert h[0] == 42
    assert free.calls == 0 and not own.closed
    own.close()
    assert free.calls == 1 and own.closed and own.freed
    own.close()
    assert free.calls == 1
    del own
    gc.collect()
    assert free.calls == 1


@pytest.mark.parametrize("cls", OWNERS)
def test_finalizer_is_the_backstop(cls: type[_GilHandle]) -> None:
    own, free = make(cls)
    del own
    gc.collect()
    assert free.calls == 1


@pytest.mark.parametrize("cls", OWNERS)
def test_close_during_a_call_defers_the_free(cls: type[_GilHandle]) -> None:
    own, free = make(cls)
    h1 = own.acquire("a")
    h2 = own.acquire("b")
    assert own.in_use == 2
    own.close()
    assert own.closed and free.calls == 0 and h1[0] == 42
    with pytest.raises(fk.ClosedError, match=r"Thing\.c: the Thing is closed"):
        own.acquire("c")
    assert own.in_use == 2  # the refused acquire left no count behind
    own.release()
    assert free.calls == 0 and h2[0] == 42
    own.release()
    assert free.calls == 1 and own.in_use == 0


@pytest.mark.parametrize("cls", OWNERS)
def test_close_inside_borrow_and_exceptions_release(cls: type[_GilHandle]) -> None:
    own, free = make(cls)
    with pytest.raises(KeyError):
        with own.borrow("x"):
            raise KeyError("boom")
    assert own.in_use == 0 and free.calls == 0
    with own.borrow("y"):
        own.close()
        assert free.calls == 0
    assert free.calls == 1


def test_null_pointer_is_refused() -> None:
    with pytest.raises(ValueError, match="NULL"):
        NativeHandle(ffi.NULL, lambda p: None, "Thing")


@pytest.mark.parametrize("cls", OWNERS)
def test_threads_race_close_against_calls(cls: type[_GilHandle]) -> None:
    """Many owners, 4 threads borrowing, one closing: never a use after the
    free, the free exactly once, every refused call a ClosedError."""
    n_owners = 300
    frees = [Free() for _ in range(n_owners)]
    owners = [cls(ffi.new("int *", i), frees[i], "Thing") for i in range(n_owners)]
    bad: list[str] = []
    start = threading.Barrier(5)

    def user() -> None:
        start.wait()
        for i, own in enumerate(owners):
            for _ in range(20):
                try:
                    with own.borrow("get") as h:
                        if frees[i].calls:
                            bad.append(f"owner {i} used after free")
                        if h[0] != i:
                            bad.append(f"owner {i} read {h[0]}")
                except fk.ClosedError:
                    break

    def closer() -> None:
        start.wait()
        for own in owners:
            own.close()

    threads = [threading.Thread(target=user) for _ in range(4)] + [threading.Thread(target=closer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not bad
    assert [f.calls for f in frees] == [1] * n_owners
    assert all(o.in_use == 0 for o in owners)


def test_mlp_and_knn_index_raise_the_same_class_after_close() -> None:
    index = fk.neighbors.KnnIndex(2, dtype=np.float64)
    index.add(np.zeros((3, 2)))
    index.close()
    z = np.zeros((1, 2))
    calls = (lambda: index.add(z), lambda: index.search(z, 1), lambda: len(index))
    for call in calls:
        with pytest.raises(fk.ClosedError, match=r"KnnIndex\.\w+: the KnnIndex is closed"):
            call()
    assert "closed" in repr(index)


def test_docstring_examples_run() -> None:
    import doctest

    import ferrokit._errors
    import ferrokit._handle

    for mod in (ferrokit._handle, ferrokit._errors):
        result = doctest.testmod(mod)
        assert result.attempted > 0 and result.failed == 0, mod.__name__
