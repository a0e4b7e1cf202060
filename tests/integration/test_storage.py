"""Storage behaviour on SQLite and PostgreSQL, through the real services and unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from db import migrate
from pathway.domain.errors import Conflict, EventNotAllowed, GuardRefused, InvalidInput, NotFound
from pathway.domain.model import Patient
from pathway.ports import Deps
from pathway.services import patients
from tests.fakes import FixedClock, utc
from tests.integration.conftest import ACTOR, snapshot

MDT_RT = {"resectability": "unresectable", "plan": "definitive_rt"}


def record(
    deps: Deps, event: str, fields: dict[str, Any] | None = None, mrn: str = "MRN-1", **kwargs: Any
) -> patients.Recorded:
    return patients.record_event(deps, mrn, event, fields or {}, actor=ACTOR, **kwargs)


# --- clinical time ------------------------------------------------------------------------------


def test_a_timezone_survives_a_round_trip_as_the_same_aware_utc_instant(deps: Deps) -> None:
    patients.enroll(deps, "MRN-1", on=date(2026, 3, 1))
    at = datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    record(deps, "exam_done", at=at)

    stored = patients.history(deps, "MRN-1").events[-1].occurred_at
    assert stored.utcoffset() == timedelta(0)
    assert stored == at
    assert stored == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


def test_on_date_means_the_start_of_the_clinic_day_in_winter(deps: Deps) -> None:
    patients.enroll(deps, "MRN-1", on=date(2026, 2, 1))
    record(deps, "exam_done", on=date(2026, 3, 1))

    stored = patients.history(deps, "MRN-1").events[-1].occurred_at
    assert stored == utc(2026, 3, 1, 0, 0)
    assert stored.utcoffset() == timedelta(0)


def test_on_date_means_the_start_of_the_clinic_day_in_summer(deps: Deps, clock: FixedClock) -> None:
    clock.current = utc(2026, 7, 2, 9)
    patients.enroll(deps, "MRN-1", on=date(2026, 6, 30))
    record(deps, "exam_done", on=date(2026, 7, 1))

    assert patients.history(deps, "MRN-1").events[-1].occurred_at == utc(2026, 6, 30, 23, 0)


# --- append-only history ------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE event SET actor = 'tamperer'", "DELETE FROM event"])
def test_the_history_is_append_only_for_raw_sql(
    deps: Deps, engine: Engine, patient: Patient, statement: str
) -> None:
    before = patients.history(deps, "MRN-1").events
    with pytest.raises(SQLAlchemyError), engine.begin() as conn:
        conn.execute(text(statement))
    assert patients.history(deps, "MRN-1").events == before


# --- concurrency --------------------------------------------------------------------------------


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(
    deps: Deps, engine: Engine, patient: Patient
) -> None:
    record(deps, "exam_done")
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(Conflict):
        record(deps, "pain_score", {"nrs": "5"}, expected_version=patient.version)
    assert snapshot(deps, engine, "MRN-1") == before


def test_saving_a_patient_loaded_before_someone_else_saved_is_a_conflict(
    deps: Deps, clock: FixedClock, patient: Patient
) -> None:
    with deps.uow() as uow:
        stale = uow.patients.by_mrn("MRN-1")
        assert stale is not None
        stale_states = uow.patients.states(stale.id)
    with deps.uow() as uow:
        fresh = uow.patients.by_mrn("MRN-1")
        assert fresh is not None and fresh.version == stale.version
        uow.patients.save(fresh, {**stale_states, "pain": "controlled"}, clock.now())
        uow.commit()
    with deps.uow() as uow, pytest.raises(Conflict):
        uow.patients.save(stale, {**stale_states, "pain": "uncontrolled"}, clock.now())

    view = patients.status(deps, "MRN-1")
    assert view.patient.version == stale.version + 1
    assert view.states["pain"] == "controlled"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_open_transactions_on_postgresql_cannot_both_save_the_same_version(
    deps: Deps, clock: FixedClock, patient: Patient
) -> None:
    """SQLite serialises writers with BEGIN IMMEDIATE, so only PostgreSQL can interleave them."""
    with deps.uow() as first, deps.uow() as second:
        a, b = first.patients.by_mrn("MRN-1"), second.patients.by_mrn("MRN-1")
        assert a is not None and b is not None and a.version == b.version
        states = first.patients.states(a.id)
        first.patients.save(a, {**states, "pain": "controlled"}, clock.now())
        first.commit()
        with pytest.raises(Conflict):
            second.patients.save(b, {**states, "pain": "uncontrolled"}, clock.now())
    assert patients.status(deps, "MRN-1").states["pain"] == "controlled"


def test_a_reader_in_the_middle_of_a_list_does_not_hold_up_recording(
    deps: Deps, engine: Engine, patient: Patient
) -> None:
    """Lists and reports read in their own transaction without the write lock: an event recorded
    meanwhile is written at once (with the lock, SQLite would make it wait for the reader)."""
    with deps.read() as reading:
        assert reading.patients.by_mrn("MRN-1") is not None  # the read transaction is open
        patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "2"}, actor=ACTOR)
        with pytest.raises(RuntimeError, match="read-only"):
            reading.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event WHERE type = 'pain_score'")).scalar() == 1


def test_a_read_only_unit_of_work_cannot_write_on_postgresql(
    deps: Deps, engine: Engine, patient: Patient
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no read-only transactions; commit() refuses instead")
    with deps.read() as reading, pytest.raises(SQLAlchemyError, match="read-only"):
        reading.session.execute(text("UPDATE patient SET version = version + 1"))


# --- refusals write nothing ---------------------------------------------------------------------

REFUSALS = [
    pytest.param("MRN-404", "exam_done", {}, {}, NotFound, id="unknown MRN"),
    pytest.param("MRN-1", "teleport", {}, {}, NotFound, id="unknown event"),
    pytest.param("MRN-1", "rt_started", {}, {}, EventNotAllowed, id="rt_started in assessment"),
    pytest.param("MRN-1", "pain_score", {"nrs": "11"}, {}, InvalidInput, id="nrs 11"),
    pytest.param("MRN-1", "exam_done", {}, {"on": date(2026, 3, 3)}, InvalidInput, id="future date"),
    pytest.param("MRN-1", "exam_done", {}, {"on": date(2026, 2, 19)}, InvalidInput, id="before enrolment"),
    pytest.param(
        "MRN-1",
        "mdt_decision",
        {"resectability": "unresectable", "plan": "next_line"},
        {},
        GuardRefused,
        id="mdt guard refused",
    ),
]


@pytest.mark.parametrize(("mrn", "event", "fields", "when", "error"), REFUSALS)
def test_a_refused_event_leaves_nothing_behind(
    deps: Deps,
    engine: Engine,
    patient: Patient,
    mrn: str,
    event: str,
    fields: dict[str, Any],
    when: dict[str, Any],
    error: type[Exception],
) -> None:
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(error) as refused:
        record(deps, event, fields, mrn=mrn, **when)
    assert refused.type is error
    assert snapshot(deps, engine, "MRN-1") == before


def test_enrolling_a_known_mrn_again_is_a_conflict(deps: Deps, patient: Patient) -> None:
    with pytest.raises(Conflict):
        patients.enroll(deps, "MRN-1")
    assert [p.mrn for p, _ in patients.list_patients(deps)] == ["MRN-1"]


@pytest.mark.parametrize("mrn", ["", "-starts-with-dash", "has space", "x" * 65])
def test_enrolling_an_invalid_mrn_is_invalid_input(deps: Deps, mrn: str) -> None:
    with pytest.raises(InvalidInput):
        patients.enroll(deps, mrn)
    assert patients.list_patients(deps) == []


# --- retraction ---------------------------------------------------------------------------------


def retract(
    deps: Deps, event_id: int, reason: str | None = "entered on the wrong patient"
) -> patients.Recorded:
    return record(deps, "retraction", {"event_id": str(event_id)}, reason=reason)


def test_retracting_an_event_rolls_its_states_back_and_keeps_it_in_the_history(
    deps: Deps, patient: Patient
) -> None:
    wrong = record(deps, "pain_score", {"nrs": "8"})
    assert wrong.states["pain"] == "uncontrolled"

    undone = retract(deps, wrong.event.id)

    assert undone.states["pain"] == "unassessed"
    assert patients.status(deps, "MRN-1").states["pain"] == "unassessed"
    h = patients.history(deps, "MRN-1")
    assert wrong.event.id in [e.id for e in h.events]
    assert h.retracted == {wrong.event.id}
    assert h.events[-1].reason == "entered on the wrong patient"


def test_a_retraction_without_a_reason_is_invalid_input(deps: Deps, engine: Engine, patient: Patient) -> None:
    wrong = record(deps, "pain_score", {"nrs": "8"})
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(InvalidInput):
        retract(deps, wrong.event.id, reason=None)
    assert snapshot(deps, engine, "MRN-1") == before


def test_retracting_an_event_later_events_depend_on_is_refused(
    deps: Deps, engine: Engine, patient: Patient
) -> None:
    mdt = record(deps, "mdt_decision", MDT_RT)
    record(deps, "rt_started")
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(EventNotAllowed):
        retract(deps, mdt.event.id)
    assert snapshot(deps, engine, "MRN-1") == before
    assert before.states["main"] == "rt_active"


def test_retracting_the_same_event_twice_is_a_conflict(deps: Deps, engine: Engine, patient: Patient) -> None:
    wrong = record(deps, "pain_score", {"nrs": "8"})
    retract(deps, wrong.event.id)
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(Conflict):
        retract(deps, wrong.event.id)
    assert snapshot(deps, engine, "MRN-1") == before


# --- clinical order -----------------------------------------------------------------------------


def test_a_state_change_dated_before_the_tracks_last_change_is_refused(
    deps: Deps, engine: Engine, patient: Patient
) -> None:
    record(deps, "mdt_decision", MDT_RT, on=date(2026, 2, 23))
    record(deps, "rt_started", on=date(2026, 2, 26))
    before = snapshot(deps, engine, "MRN-1")
    with pytest.raises(InvalidInput):
        record(deps, "rt_completed", on=date(2026, 2, 25))
    assert snapshot(deps, engine, "MRN-1") == before


def test_an_observation_back_dated_before_an_earlier_state_change_is_accepted(
    deps: Deps, patient: Patient
) -> None:
    record(deps, "mdt_decision", MDT_RT, on=date(2026, 2, 25))
    done = record(deps, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"}, on=date(2026, 2, 22))
    assert done.changes == {}
    assert patients.history(deps, "MRN-1").events[-1].type == "imaging_done"


# --- migrations ---------------------------------------------------------------------------------


def test_upgrading_twice_is_safe_and_the_database_is_at_head(engine: Engine) -> None:
    head = migrate.head()
    assert migrate.upgrade(engine) == (head, head)
    assert migrate.upgrade(engine) == (head, head)
    assert migrate.current(engine) == head
