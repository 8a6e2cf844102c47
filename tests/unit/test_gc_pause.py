"""The collector paused for a parse, or for work in several threads at once, and resumed after."""

from __future__ import annotations

import gc
import threading

import pytest

from tools.gc_pause import gc_paused, gc_paused_together, run_froze_heap

pytestmark = pytest.mark.unit


def test_a_pause_shared_by_threads_ends_when_the_last_one_leaves_in_any_order() -> None:
    inside = threading.Barrier(3, timeout=10)
    leave = [threading.Event() for _ in range(3)]
    seen: list[tuple[int, bool]] = []

    def work(index: int) -> None:
        with gc_paused_together():
            inside.wait()
            leave[index].wait(timeout=10)
            seen.append((index, gc.isenabled()))

    assert gc.isenabled()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for index in (1, 0, 2):  # the first to enter is not the last to leave
        leave[index].set()
        threads[index].join(timeout=10)
        assert gc.isenabled() == (index == 2)
    assert sorted(seen) == [(0, False), (1, False), (2, False)]


def test_a_shared_pause_leaves_a_collector_that_was_off_off_and_an_error_resumes_it() -> None:
    gc.disable()
    try:
        with gc_paused_together():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused_together():
        raise RuntimeError("a check failed")
    assert gc.isenabled()
    with gc_paused_together(), gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


class _Marker:
    """A container the collector tracks, to find in its generations."""


def _generation_of(obj: object) -> int | None:
    return next((g for g in range(3) if any(o is obj for o in gc.get_objects(generation=g))), None)


def test_what_a_pause_built_goes_to_the_oldest_generation() -> None:
    assert gc.get_freeze_count() == 0
    with gc_paused():
        built = _Marker()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert _generation_of(built) == 2  # no young collection scans it


def test_with_the_run_s_heap_frozen_what_a_pause_built_is_frozen_with_it_until_given_back() -> None:
    """A run with a cluster freezes its heap (``RunContext.inventory``, which says so with
    ``run_froze_heap``); unfreezing to file a pause's objects would give the run's back too, so they
    join the frozen ones instead, nested pauses and shared ones alike."""
    before = _Marker()
    gc.freeze()
    run_froze_heap(True)
    try:
        frozen = gc.get_freeze_count()
        built = []
        for pause in (gc_paused, gc_paused_together):
            with pause(), gc_paused():
                built.append(_Marker())
            assert gc.isenabled()
            assert _generation_of(built[-1]) is None and gc.get_freeze_count() > frozen
        assert _generation_of(before) is None
    finally:
        run_froze_heap(False)
        gc.unfreeze()
    assert [_generation_of(b) for b in (before, *built)] == [2, 2, 2]


def test_objects_frozen_by_anything_else_leave_the_collector_as_it_was_found() -> None:
    """Frozen objects the run did not freeze (a program embedding the audit, a test): a pause neither
    unfreezes them nor freezes what it built, which the collector keeps looking at."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            built = _Marker()
        assert gc.isenabled() and gc.get_freeze_count() == frozen
        assert _generation_of(built) in (0, 1, 2)  # tracked, not frozen
    finally:
        gc.unfreeze()
