"""Recording an event on PostgreSQL under pipeline mode (db.pipeline, db.prefetch): round trips
counted at the wire protocol, deferred compare-and-sets that miss, errors of queued statements,
SQLAlchemy's own statements in between, and the connection after a refusal."""

from __future__ import annotations

import statistics
from datetime import date

import pytest
from sqlalchemy import Engine, text

from bench.replay import round_trips
from db.repository import _FAST_EVENT_INSERT_AS, connection
from pathway.domain.errors import Conflict, EventNotAllowed
from pathway.domain.records import FollowUpChange
from pathway.ports import Deps
from pathway.services import patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, ENROLLED_ON, TO_SURVEILLANCE, morning

pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture
def postgresql_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")


@pytest.fixture
def enrolled(deps: Deps, clock: FixedClock) -> None:
    """MRN-1 enrolled on ENROLLED_ON, the clock the next morning."""
    clock.current = morning(date(2026, 3, 3))
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)


def test_an_event_waits_for_the_server_a_few_times(deps: Deps, clock: FixedClock, engine: Engine) -> None:
    """BEGIN and COMMIT aside, an event waits for: the lock with every read (one wait); the
    writes up to the first whose result is needed (new follow-ups' ids, or the alerts it
    resolves); each alert it opens (its id); the rest, sent together before the commit.
    Measured on the enrolment walk: 3-5, median 4 (11-18 statements, each a wait, before)."""
    clock.current = morning(date(2026, 5, 2))
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)
    counts = []
    for day, kind, fields in [*TO_SURVEILLANCE, (None, "exam_done", {})]:
        counts.append(
            round_trips(
                engine,
                lambda day=day, kind=kind, fields=fields: patients.record_event(  # type: ignore[misc]
                    deps, "MRN-1", kind, fields, on=day, actor=ACTOR
                ),
            )
        )
    assert min(counts) == 3, counts  # a step done, its alert resolved: lock+reads, writes, the rest
    assert statistics.median(counts) <= 4, counts
    assert max(counts) <= 5, counts
    view = patients.status(deps, "MRN-1")
    assert view.states and patients.history(deps, "MRN-1").events[-1].type == "exam_done"


@pytest.mark.usefixtures("enrolled")
def test_a_deferred_compare_and_set_that_misses_rolls_everything_back(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    with engine.connect() as conn:
        fid, status = conn.execute(text("SELECT id, status FROM follow_up ORDER BY id LIMIT 1")).one()
    with pytest.raises(Conflict, match=f"follow-up {fid} changed meanwhile"), deps.uow() as uow:
        found = uow.patients.by_mrn_with_states("MRN-1", lock=True)
        assert found is not None
        patient, states = found
        # sent, not waited for: True now, checked when the next result comes back
        change = FollowUpChange(status="cancelled", updated_at=clock.current)
        assert uow.follow_ups.update(fid, "not-" + status, change)
        uow.patients.save(patient, states, clock.current, old=states)
        uow.commit()
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT status FROM follow_up WHERE id = :i"), {"i": fid}).scalar_one()
            == status
        )
        assert (
            conn.execute(text("SELECT version FROM patient WHERE mrn = 'MRN-1'")).scalar_one()
            == patient.version
        )
    # the pooled connection is usable afterwards
    patients.record_event(
        deps, "MRN-1", "neuro_exam", {"finding": "baseline"}, on=date(2026, 3, 3), actor=ACTOR
    )


@pytest.mark.usefixtures("enrolled")
def test_an_error_of_a_queued_statement_is_a_conflict_and_writes_nothing(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    patients.record_event(
        deps, "MRN-1", "neuro_exam", {"finding": "baseline"}, on=date(2026, 3, 3), actor=ACTOR
    )
    first = patients.history(deps, "MRN-1").events[0]
    with pytest.raises(Conflict), deps.uow() as uow:
        found = uow.patients.by_mrn_with_states("MRN-1", lock=True)
        assert found is not None
        conn = connection(uow.session)  # type: ignore[attr-defined]
        row = {
            "id": first.id,  # taken: the unique key fails on the server, after the send
            "patient_id": found[0].id,
            "type": "pain_score",
            "occurred_at": clock.current,
            "recorded_at": clock.current,
            "actor": ACTOR,
            "reason": None,
            "data": {},
            "changes": {},
            "source_ref": None,
            "chain": "x",
        }
        _FAST_EVENT_INSERT_AS.run_many(conn, [row])
        uow.patients.save(found[0], {}, clock.current)
        uow.commit()
    assert [e.type for e in patients.history(deps, "MRN-1").events] == ["neuro_exam"]
    patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "2"}, on=date(2026, 3, 3), actor=ACTOR)


@pytest.mark.usefixtures("enrolled")
def test_statements_of_sqlalchemy_in_between_see_the_queued_writes(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    with deps.uow() as uow:
        found = uow.patients.by_mrn_with_states("MRN-1", lock=True)
        assert found is not None
        saved = uow.patients.save(found[0], {}, clock.current)  # queued
        again = uow.patients.by_id(found[0].id)  # SQLAlchemy: leaves pipeline mode first
        assert again is not None and again.version == saved.version
        uow.patients.save(saved, {}, clock.current)  # back in pipeline mode
        uow.commit()
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version FROM patient WHERE mrn = 'MRN-1'")).scalar_one()
            == saved.version + 1
        )


@pytest.mark.usefixtures("enrolled")
def test_a_refused_event_leaves_the_connection_clean(deps: Deps, clock: FixedClock, engine: Engine) -> None:
    for _ in range(3):  # more than the pool hands out, so a dirty connection would come back
        with pytest.raises(EventNotAllowed):
            patients.record_event(deps, "MRN-1", "rt_completed", {}, on=date(2026, 3, 3), actor=ACTOR)
    patients.record_event(
        deps, "MRN-1", "neuro_exam", {"finding": "baseline"}, on=date(2026, 3, 3), actor=ACTOR
    )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event")).scalar_one() == 1
