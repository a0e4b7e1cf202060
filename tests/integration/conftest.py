"""Helpers for the storage tests: a snapshot of everything a refused command must leave alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

from pathway.domain.model import Patient
from pathway.ports import Deps
from pathway.services import patients
from tests.fakes import FixedClock

if TYPE_CHECKING:  # imported lazily below, so only the notification tests need aiosmtpd
    from tests.integration.notify_fixtures import SmtpSink, WebhookReceiver

ACTOR = "j.smith"


@dataclass(frozen=True)
class Snapshot:
    event_rows: int
    version: int
    states: dict[str, str]
    history: list[tuple[int, str]]


def snapshot(deps: Deps, engine: Engine, mrn: str) -> Snapshot:
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM event")).scalar_one()
    view = patients.status(deps, mrn)
    events = patients.history(deps, mrn).events
    return Snapshot(
        event_rows=count,
        version=view.patient.version,
        states=view.states,
        history=[(e.id, e.type) for e in events],
    )


@pytest.fixture
def patient(deps: Deps) -> Patient:
    """MRN-1, enrolled 2026-02-20 with a baseline neurological exam (clock: 2026-03-02)."""
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 2, 20))
    patients.record_event(
        deps, "MRN-1", "neuro_exam", {"finding": "baseline"}, on=date(2026, 2, 21), actor=ACTOR
    )
    return patients.status(deps, "MRN-1").patient


# --- follow-ups and alerts ----------------------------------------------------------------------

MDT_RT = {"resectability": "unresectable", "plan": "definitive_rt"}
ENROLLED_ON = date(2026, 3, 2)
RT_COMPLETED_ON = date(2026, 5, 1)
TO_SURVEILLANCE = [  # (clinic date, event, fields): every enrolment step done on time
    (date(2026, 3, 3), "neuro_exam", {"finding": "baseline"}),
    (date(2026, 3, 3), "pain_score", {"nrs": "1"}),
    (date(2026, 3, 4), "fracture_risk_assessed", {"sins": "4"}),
    (date(2026, 3, 4), "palliative_referral", {}),
    (date(2026, 3, 5), "mdt_decision", MDT_RT),
    (date(2026, 3, 20), "rt_started", {}),
    (RT_COMPLETED_ON, "rt_completed", {}),
]


def morning(day: date, hour: int = 9) -> datetime:
    """An instant on a clinic day (09:00 UTC is 09:00 or 10:00 in London)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def follow_to_surveillance(deps: Deps, clock: FixedClock, mrn: str = "MRN-1") -> None:
    """Enrol on 2026-03-02 and walk through definitive RT, each step recorded on its day.

    Afterwards (clock: 2026-05-01 09:00 UTC) T09 response imaging is upcoming for pelvis_sacrum
    and chest (window 2026-06-12 .. 2026-07-24, A10 warning from 07-25, critical from 08-22) and
    T10 physical examination is upcoming (window 2026-06-02 .. 2026-07-02, A16 from 07-03).
    """
    clock.current = morning(ENROLLED_ON)
    patients.enroll(deps, mrn, histology="sts", on=ENROLLED_ON)
    for day, event, fields in TO_SURVEILLANCE:
        clock.current = morning(day)
        patients.record_event(deps, mrn, event, fields, on=day, actor=ACTOR)


@pytest.fixture
def in_surveillance(deps: Deps, clock: FixedClock) -> Patient:
    follow_to_surveillance(deps, clock)
    return patients.status(deps, "MRN-1").patient


# --- notification receivers (see notify_fixtures.py) ----------------------------------------------


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on a free local port, not yet started (tests start and stop it)."""
    from tests.integration.notify_fixtures import SmtpSink, free_port

    sink = SmtpSink(free_port())
    yield sink
    sink.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A running local webhook endpoint; set `receiver.script` to the status codes to answer."""
    from tests.integration.notify_fixtures import WebhookReceiver

    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()
    gc.collect()  # finalise client sockets the test leaked while its warning filters still apply
