"""`pathway import` as a batch: all or nothing, only alerts open as of now, appends, idempotent rows,
and the same states, follow-ups and alerts as recording the same history event by event."""

from __future__ import annotations

import random
import re
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bench.cohort import history as generated_history
from pathway.domain.alert_status import LIVE
from pathway.domain.errors import InvalidInput
from pathway.ports import Deps
from pathway.services import alerting, handover, patients
from pathway.services.importing import Imported, import_cohort, read_rows
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, ENROLLED_ON, TO_SURVEILLANCE, morning

HEADER = "mrn,enrolled_on,histology,event,on,fields,row_id\n"
Row = tuple[date, str, dict[str, str]]
EVENT_ID = re.compile(r"event[ :]\d+")  # ids differ between the two patients, in messages and keys


def csv_of(cohort: dict[str, tuple[date, list[Row]]], row_ids: bool = True) -> str:
    lines = []
    for mrn, (enrolled_on, rows) in cohort.items():
        lines.append(f"{mrn},{enrolled_on},sts,,,,")
        for i, (day, event, fields) in enumerate(rows):
            packed = ";".join(f"{k}={v}" for k, v in fields.items())
            lines.append(f"{mrn},,,{event},{day},{packed},{f'{mrn}-{i}' if row_ids else ''}")
    return HEADER + "\n".join(lines) + "\n"


def run(deps: Deps, text_: str) -> Imported:
    return import_cohort(deps, read_rows(text_), ACTOR, batch=2)


def counts(engine: Engine) -> dict[str, int]:
    tables = ("patient", "event", "follow_up", "alert", "alert_action", "notification", "track_state")
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


REVIEWS = (date(2026, 4, 1), date(2026, 4, 30), date(2026, 5, 29), date(2026, 6, 27))


def on_time(n: int, until: date | None = None) -> dict[str, tuple[date, list[Row]]]:
    """Every step on time; with `until`, the monthly reviews up to then too (T11 neuro exam, T17
    palliative visit)."""
    steps = [(d, e, {k: str(v) for k, v in f.items()}) for d, e, f in TO_SURVEILLANCE]
    for day in (d for d in REVIEWS if until is not None and d <= until):
        steps += [(day, "neuro_exam", {"finding": "stable"}), (day, "palliative_visit", {})]
    rows = sorted(steps, key=lambda r: r[0])
    return {f"MRN-{i}": (ENROLLED_ON, rows) for i in range(n)}


def test_a_bad_last_row_writes_nothing(deps: Deps, clock: FixedClock, engine: Engine) -> None:
    clock.current = morning(date(2026, 5, 1))
    body = csv_of(on_time(3)) + "MRN-2,,,pain_score,2026-05-01,nrs=11,bad\n"
    with pytest.raises(InvalidInput, match=r"line 26: .*nrs"):
        run(deps, body)
    assert set(counts(engine).values()) == {0}


def test_a_cohort_with_every_step_on_time_raises_no_alert_and_queues_no_notification(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 5, 1))
    done = run(deps, csv_of(on_time(5, until=date(2026, 5, 1))))
    assert (done.patients, done.events, done.alerts) == (5, 5 * (7 + 4), 0)
    found = counts(engine)
    assert (found["alert"], found["alert_action"], found["notification"]) == (0, 0, 0)
    assert found["follow_up"] > 0
    assert patients.status(deps, "MRN-3").states["main"] == "surveillance"


def test_a_genuinely_overdue_step_is_the_one_alert_open_with_its_notification(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 7, 10))  # T10 examination closed 07-02: A16 from 07-03
    run(deps, csv_of(on_time(1, until=date(2026, 7, 10))))
    with engine.connect() as conn:
        alerts = conn.execute(text("SELECT id, rule, severity, status FROM alert")).all()
        outbox = conn.execute(text("SELECT alert_id, status FROM notification")).all()
        audit = conn.execute(text("SELECT alert_id, action FROM alert_action")).all()
    assert [(rule, status) for _, rule, _, status in alerts] == [("A16", "open")]
    assert outbox and {a for a, _ in outbox} == {alerts[0][0]}
    assert audit == [(alerts[0][0], "opened")]
    before = counts(engine)
    swept = alerting.sweep(deps)  # the stored alert plans agree with what the import raised
    assert (swept.alerts_opened, swept.alerts_resolved, counts(engine)) == (0, 0, before)


def test_importing_the_same_file_twice_duplicates_nothing(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 7, 10))
    body = csv_of(on_time(3))
    run(deps, body)
    before = counts(engine)
    again = run(deps, body)
    assert (again.patients, again.events, again.skipped) == (0, 0, 24)
    assert counts(engine) == before


def test_without_row_ids_an_identical_stored_event_is_skipped(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 5, 1))
    body = csv_of(on_time(2), row_ids=False)
    run(deps, body)
    before = counts(engine)
    assert run(deps, body).skipped == 16
    assert counts(engine) == before


def test_rows_for_enrolled_patients_append_to_their_history(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 7, 10))
    cohort = on_time(2)
    first = {m: (d, rows[:3]) for m, (d, rows) in cohort.items()}
    run(deps, csv_of(first))  # three events each: overdue steps raise alerts now
    assert counts(engine)["alert"] > 0
    whole = run(deps, csv_of(cohort))
    assert (whole.patients, whole.events, whole.skipped) == (0, 8, 8)
    patients.enroll(deps, "REF-1", histology="sts", on=ENROLLED_ON)
    for day, event, fields in cohort["MRN-0"][1]:
        patients.record_event(deps, "REF-1", event, fields, on=day, actor=ACTOR)
    same(view(deps, engine, "MRN-1"), view(deps, engine, "REF-1"))
    assert patients.status(deps, "MRN-1").patient.version == 8
    assert patients.verify_replay(deps) == []


def test_an_appended_row_before_the_stored_history_is_refused(deps: Deps, clock: FixedClock) -> None:
    clock.current = morning(date(2026, 5, 1))
    run(deps, csv_of(on_time(1)))
    with pytest.raises(InvalidInput, match="before the previous event"):
        run(deps, HEADER + "MRN-0,,,pain_score,2026-03-10,nrs=2,late\n")


def same(imported: dict[str, Any], recorded: dict[str, Any], mrn: str = "") -> None:
    for key, value in recorded.items():
        if isinstance(value, list):
            assert [x for x in imported[key] if x not in value] == [], (mrn, key, "imported only")
            assert [x for x in value if x not in imported[key]] == [], (mrn, key, "recorded only")
        assert imported[key] == value, (mrn, key)


def view(deps: Deps, engine: Engine, mrn: str) -> dict[str, Any]:
    """What `status` and `due` show of a patient, without ids."""
    status = patients.status(deps, mrn, recent=0)
    with deps.read() as uow:
        follow_ups = uow.follow_ups.for_patient(status.patient.id)
        alerts = uow.alerts.for_patient(status.patient.id)
    skip = {"id", "patient_id", "follow_up_id", "mrn", "alert_id", "done_event_id", "updated_at"}
    return {
        "states": status.states,
        "allowed": status.allowed_events,
        "histology": status.patient.histology,
        "events": [(e.type, e.occurred_at, e.data, e.changes) for e in status.recent],
        "follow_ups": sorted(
            tuple(sorted((k, EVENT_ID.sub("#", repr(v))) for k, v in asdict(f).items() if k not in skip))
            for f in follow_ups
        ),
        "alerts": sorted(
            (
                a.rule,
                EVENT_ID.sub("#", a.instance_key),
                a.severity,
                EVENT_ID.sub("#", a.message),
                a.held,
                a.opened_at,
            )
            for a in alerts
            if a.status in LIVE
        ),
        "due": sorted(
            (w.kind, w.rule, w.severity, EVENT_ID.sub("#", w.detail), w.opens, w.closes, w.days_late, w.held)
            for w in alerting.worklist(deps)
            if w.mrn == mrn
        ),
    }


def test_an_imported_cohort_equals_the_same_histories_recorded_event_by_event(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    now = morning(date(2026, 11, 2))
    clock.current = now
    rng = random.Random(14)
    cohort: dict[str, tuple[date, list[Row]]] = {}
    for i in range(12):
        days = rng.randint(30, 900)
        enrolled_on = (now - timedelta(days=days)).date()
        steps = [  # a severe pain score starts an hour clock: not importable with a date alone
            (o, e, {**f, "nrs": min(int(f["nrs"]), 6)} if e == "pain_score" else f)
            for o, e, f in generated_history(rng, days)
        ]
        cohort[f"IMP-{i}"] = (
            enrolled_on,
            [(enrolled_on + timedelta(days=o), e, {k: str(v) for k, v in f.items()}) for o, e, f in steps],
        )
    run(deps, csv_of(cohort))
    for mrn, (enrolled_on, rows) in cohort.items():
        twin = mrn.replace("IMP", "REC")
        patients.enroll(deps, twin, histology="sts", on=enrolled_on)
        for day, event, fields in rows:
            patients.record_event(deps, twin, event, fields, on=day, actor=ACTOR)
    exits = set(deps.pathway.definition.handover_exits)
    handed_over = [m for m, (_, rows) in cohort.items() if any(e in exits for _, e, _ in rows)]
    assert handed_over, "the generated cohort has a transfer or a loss to follow-up"
    for mrn in handed_over:
        imported, recorded = handover.find(deps, mrn), handover.find(deps, mrn.replace("IMP", "REC"))
        assert imported and recorded
        assert (
            imported["tracks"] == recorded["tracks"]
            and imported["exit"]["event"] == recorded["exit"]["event"]
        )
        # the open steps just before the exit (an `each` rule's region names its event); their
        # status is as of when the summary was written: the exit's day on import, today on the twin
        steps = [
            sorted(EVENT_ID.sub("#", repr({k: v for k, v in x.items() if k != "status"})) for x in s["steps"])
            for s in (imported, recorded)
        ]
        assert steps[0] == steps[1]
        strip = [
            [{k: v for k, v in i.items() if k != "event_id"} for i in s["last_imaging"]]
            for s in (imported, recorded)
        ]
        assert strip[0] == strip[1]
    assert patients.verify_replay(deps) == []  # states replay and the tamper-evident chains hold
    swept = alerting.sweep(deps)
    assert swept.alerts_opened == swept.alerts_escalated == 0, swept.lines
    for mrn in cohort:
        same(view(deps, engine, mrn), view(deps, engine, mrn.replace("IMP", "REC")), mrn)


def test_a_row_id_repeated_within_the_file_is_refused_and_nothing_is_written(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    clock.current = morning(date(2026, 5, 1))
    body = csv_of(on_time(3)) + "MRN-2,,,pain_score,2026-05-01,nrs=2,MRN-2-1\n"
    with pytest.raises(InvalidInput, match=r"line 26: row_id MRN-2-1 of MRN-2 repeats line 20"):
        run(deps, body)
    assert set(counts(engine).values()) == {0}
