"""Bulk work freezes the heap that existed before it and always gives it back to the collector."""

from __future__ import annotations

import gc
import threading

import pytest

from pathway.services.heap import YOUNG_THRESHOLD, bulk_work


def test_the_heap_is_frozen_while_bulk_work_runs_and_unfrozen_after() -> None:
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    with bulk_work():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), *before[1:])
        with bulk_work():
            assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_unfrozen_after_a_failure() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("batch failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_nested_and_concurrent_bulk_work_unfreeze_only_when_the_last_ends() -> None:
    inner_started, inner_may_end = threading.Event(), threading.Event()

    def other() -> None:
        with bulk_work():
            inner_started.set()
            inner_may_end.wait(5)

    with bulk_work():
        with bulk_work():
            pass
        assert gc.get_freeze_count() > 0  # the nested one ended, the outer still runs
        thread = threading.Thread(target=other)
        thread.start()
        inner_started.wait(5)
    assert gc.get_freeze_count() > 0  # the other thread's bulk work still runs
    inner_may_end.set()
    thread.join(5)
    assert gc.get_freeze_count() == 0


def test_garbage_cycles_made_during_bulk_work_are_collected_afterwards() -> None:
    class Node:
        other: object

    with bulk_work():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 2
