"""The service rules on the in-memory unit of work (tests/memory.py): milliseconds, no database.

The same use cases run against SQLite and PostgreSQL in tests/integration; here they run on
plain Python, so a rule of the services can be checked without storage in the way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from pathway.domain.errors import Conflict, EventNotAllowed, InvalidInput, NotFound, PathwayError
from pathway.domain.machine import Pathway
from pathway.ports import Deps
from pathway.services import alerting, patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, ENROLLED_ON, TO_SURVEILLANCE, morning
from tests.memory import MemoryStore, MemoryUnitOfWorkFactory

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(morning(ENROLLED_ON))


@pytest.fixture
def deps(store: MemoryStore, clock: FixedClock, pathway: Pathway) -> Deps:
    return Deps(uow=MemoryUnitOfWorkFactory(store), clock=clock, pathway=pathway, zone=LONDON)


def to_surveillance(deps: Deps, clock: FixedClock, mrn: str = "MRN-1") -> None:
    patients.enroll(deps, mrn, histology="sts", on=ENROLLED_ON)
    for day, event, fields in TO_SURVEILLANCE:
        clock.current = morning(day)
        patients.record_event(deps, mrn, event, fields, on=day, actor=ACTOR)


def statuses(deps: Deps, mrn: str = "MRN-1") -> dict[tuple[str, str], str]:
    """The status (as of now) of the latest follow-up of each (rule, region)."""
    follow_ups, _ = alerting.follow_ups_of(deps, mrn)
    return {(f.rule, f.region): str(f.status) for f in sorted(follow_ups, key=lambda f: f.anchor_at)}


def live(deps: Deps) -> list[tuple[str, str, str]]:
    return sorted((a.rule, a.severity, a.status) for a, _ in alerting.list_alerts(deps, "live"))


def refused(store: MemoryStore, call: Callable[[], object], error: type[PathwayError]) -> None:
    """`call` raises `error` and leaves every row and the commit count as they were."""
    rows, commits = store.rows(), store.commits
    with pytest.raises(error):
        call()
    assert (store.rows(), store.commits) == (rows, commits)


def test_enrolment_stores_the_patient_its_states_and_its_first_follow_ups(
    deps: Deps, store: MemoryStore
) -> None:
    patient = patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)

    view = patients.status(deps, "MRN-1")
    assert (view.patient, view.states) == (patient, deps.pathway.definition.initial_states())
    assert statuses(deps)  # enrolment anchors follow-ups (e.g. the baseline steps)
    assert {r["status"] for r in store.follow_ups.values()} == {"open"}  # stored: what happened
    refused(store, lambda: patients.enroll(deps, "MRN-1", on=ENROLLED_ON), Conflict)


def test_recording_moves_the_tracks_bumps_the_version_and_completes_the_step(
    deps: Deps, clock: FixedClock
) -> None:
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)
    before = statuses(deps)
    day, event, fields = TO_SURVEILLANCE[0]  # the baseline neurological exam
    clock.current = morning(day)

    recorded = patients.record_event(deps, "MRN-1", event, fields, on=day, actor=ACTOR)

    assert recorded.patient.version == 2
    assert patients.history(deps, "MRN-1").events[-1].type == event
    done = {k for k, s in statuses(deps).items() if s == "done"}
    assert done and all(before[k] != "done" for k in done)


def test_refused_input_writes_nothing(deps: Deps, store: MemoryStore, clock: FixedClock) -> None:
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)

    refused(store, lambda: patients.record_event(deps, "MRN-1", "no_such_event", {}, actor=ACTOR), NotFound)
    refused(
        store,
        lambda: patients.record_event(deps, "MRN-9", "neuro_exam", {"finding": "baseline"}, actor=ACTOR),
        NotFound,
    )
    refused(
        store,
        lambda: patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "eleven"}, actor=ACTOR),
        InvalidInput,
    )
    refused(
        store,
        lambda: patients.record_event(
            deps, "MRN-1", "neuro_exam", {"finding": "baseline"}, on=date(2026, 3, 9), actor=ACTOR
        ),
        InvalidInput,
    )  # a date in the future
    refused(
        store, lambda: patients.record_event(deps, "MRN-1", "rt_completed", {}, actor=ACTOR), EventNotAllowed
    )


def test_a_stale_version_is_a_conflict_and_writes_nothing(deps: Deps, store: MemoryStore) -> None:
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)
    patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "2"}, actor=ACTOR, expected_version=1)

    refused(
        store,
        lambda: patients.record_event(
            deps, "MRN-1", "pain_score", {"nrs": "3"}, actor=ACTOR, expected_version=1
        ),
        Conflict,
    )


def test_a_retraction_takes_the_event_back_and_needs_a_reason(
    deps: Deps, store: MemoryStore, clock: FixedClock
) -> None:
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)
    initial = patients.status(deps, "MRN-1").states
    decision = patients.record_event(
        deps, "MRN-1", "mdt_decision", dict(TO_SURVEILLANCE[4][2]), actor=ACTOR
    ).event
    assert patients.status(deps, "MRN-1").states != initial

    retract = {"event_id": str(decision.id)}
    refused(
        store, lambda: patients.record_event(deps, "MRN-1", "retraction", retract, actor=ACTOR), InvalidInput
    )
    patients.record_event(deps, "MRN-1", "retraction", retract, reason="wrong patient", actor=ACTOR)

    assert patients.status(deps, "MRN-1").states == initial
    assert patients.history(deps, "MRN-1").retracted == {decision.id}
    refused(
        store,
        lambda: patients.record_event(deps, "MRN-1", "retraction", retract, reason="again", actor=ACTOR),
        Conflict,
    )


def test_time_makes_steps_due_then_overdue_and_the_sweep_raises_then_the_record_resolves(
    deps: Deps, store: MemoryStore, clock: FixedClock
) -> None:
    to_surveillance(deps, clock)
    exam = ("T10", "")
    assert statuses(deps)[exam] == "upcoming"

    clock.current = morning(date(2026, 6, 15))
    assert statuses(deps)[exam] == "due"  # derived: no sweep needed, nothing rewritten
    assert alerting.sweep(deps).follow_ups_changed == 0

    clock.current = morning(date(2026, 7, 25))
    changes = alerting.sweep(deps)
    assert statuses(deps)[exam] == "overdue" and changes.alerts_opened == 3
    assert ("A16", "warning", "open") in live(deps)
    assert alerting.worklist_counts(deps)["overdue"] == 5  # with T11 (neuro exam) and T17 (palliative visit)

    patients.record_event(deps, "MRN-1", "exam_done", {}, actor=ACTOR)

    assert ("A16", "warning", "open") not in live(deps)
    assert [s for k, s in statuses(deps).items() if k == exam] == ["upcoming"]  # re-anchored
    assert alerting.sweep(deps).alerts_opened == 0  # idempotent


def test_acknowledge_and_snooze_move_an_alert_and_a_snooze_runs_out(
    deps: Deps, store: MemoryStore, clock: FixedClock
) -> None:
    to_surveillance(deps, clock)
    clock.current = morning(date(2026, 7, 25))
    alerting.sweep(deps)
    a16 = next(a for a, _ in alerting.list_alerts(deps, "live") if a.rule == "A16")

    acknowledged = alerting.acknowledge(deps, a16.id, "j.smith", "calling the patient")
    assert (acknowledged.status, acknowledged.acted_by) == ("acknowledged", "j.smith")
    with pytest.raises(Conflict):
        alerting.acknowledge(deps, a16.id, "j.smith")

    snoozed = alerting.snooze(deps, a16.id, date(2026, 7, 28), "j.smith", "clinic on the 28th")
    assert snoozed.status == "snoozed"
    past = date(2026, 7, 20)
    refused(store, lambda: alerting.snooze(deps, a16.id, past, "j.smith", "past"), InvalidInput)

    clock.current = morning(date(2026, 7, 29))
    alerting.sweep(deps)
    assert next(a for a, _ in alerting.list_alerts(deps, "live") if a.id == a16.id).status == "open"
