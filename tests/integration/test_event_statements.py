"""How many statements recording one event sends to the database, counted at the driver: a guard
against the event path growing more of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, event

from pathway.ports import Deps
from pathway.services import patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, ENROLLED_ON, TO_SURVEILLANCE, morning

# statements per event beyond BEGIN and COMMIT, today: lock and read the patient with its states,
# read the history (with the last chain hash), save the patient, the event, the follow-ups of the
# rules in scope and their writes, the alerts and their writes (an alert's audit head is known
# from its INSERT or its UPDATE … RETURNING, not read again), the audit row. The target
# is 3 round trips on PostgreSQL; this bound only keeps the count from growing unnoticed.
MOST = 18  # measured: 10-18 for the enrolment steps (22 before an event's alert audit rows went in one
# write; 26 before the head and chain reads went)

EXAM = 15  # the examination below (17 before; 14 before care-team routes and the audit chain)
# PostgreSQL reads the history, follow-ups, alerts and care-team target and reserves the event id
# together with the lock, in one round trip (db.prefetch), even where SQLite would skip a read:
# a few more statements, far fewer round trips (tests/integration/test_pipeline.py counts those)
MOST_PG, EXAM_PG = 20, 17


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_recording_an_event_sends_a_bounded_number_of_statements(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 5, 2))
    patients.enroll(deps, "MRN-1", histology="sts", on=ENROLLED_ON)
    counts = []
    for day, kind, fields in TO_SURVEILLANCE:
        with counted(engine) as seen:
            patients.record_event(deps, "MRN-1", kind, fields, on=day, actor=ACTOR)
        statements = [s for s in seen if s not in ("BEGIN", "COMMIT")]
        counts.append(len(statements))
    # an examination without a pain score the same day opens an info alert (A18) with its
    # audit row and notification: the most writes a plain event makes
    with counted(engine) as seen:
        patients.record_event(deps, "MRN-1", "exam_done", {}, actor=ACTOR)
    exam = [s for s in seen if s not in ("BEGIN", "COMMIT")]
    assert "INSERT" in exam  # the event itself, the alert and its outbox row were written
    most, most_exam = (MOST_PG, EXAM_PG) if engine.dialect.name == "postgresql" else (MOST, EXAM)
    assert max(counts) <= most, counts
    assert len(exam) <= most_exam, (len(exam), exam)
