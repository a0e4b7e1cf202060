"""The sweep, the import and a full refresh run with the heap that existed before them frozen, and
give it back to the garbage collector when they end (pathway/services/heap.py)."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from pathway.domain.errors import InvalidInput
from pathway.ports import Deps
from pathway.services import alerting
from pathway.services.importing import import_cohort, read_rows
from tests.fakes import FixedClock
from tests.integration.conftest import follow_to_surveillance, morning
from tests.integration.test_import_batch import ACTOR, csv_of, on_time


def watching(deps: Deps, seen: list[int]) -> Deps:
    """Deps whose every unit of work notes how many objects were frozen when it began."""

    def uow(read_only: bool = False) -> Any:
        seen.append(gc.get_freeze_count())
        return deps.uow(read_only)

    return replace(deps, uow=uow)


def test_the_sweep_and_a_refresh_freeze_the_heap_while_they_run(deps: Deps, clock: FixedClock) -> None:
    follow_to_surveillance(deps, clock)
    clock.current += timedelta(days=120)  # levels fall due
    for run in (alerting.sweep, alerting.refresh_all):
        seen: list[int] = []
        changes = run(watching(deps, seen))
        assert seen and all(count > 0 for count in seen), run.__name__
        assert gc.get_freeze_count() == 0
        assert changes.patients >= 1 or run is alerting.sweep


def test_the_import_freezes_the_heap_and_gives_it_back_even_when_refused(
    deps: Deps, clock: FixedClock
) -> None:
    clock.current = morning(date(2026, 7, 1))
    seen: list[int] = []
    done = import_cohort(watching(deps, seen), read_rows(csv_of(on_time(2))), ACTOR, batch=1)
    assert done.patients == 2
    assert seen and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0
    bad = csv_of(on_time(1)) + "MRN-0,,,no_such_event,2026-04-01,,bad-row\n"
    with pytest.raises(InvalidInput):
        import_cohort(deps, read_rows(bad), ACTOR)
    assert gc.get_freeze_count() == 0
