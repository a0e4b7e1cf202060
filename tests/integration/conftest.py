"""Helpers for the storage tests: a snapshot of everything a refused command must leave alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine, text

from pathway import services
from pathway.domain.model import Patient
from pathway.services import Deps

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
    view = services.status(deps, mrn)
    events = services.history(deps, mrn).events
    return Snapshot(event_rows=count, version=view.patient.version, states=view.states,
                    history=[(e.id, e.type) for e in events])


@pytest.fixture
def patient(deps: Deps) -> Patient:
    """MRN-1, enrolled 2026-02-20 with a baseline neurological exam (clock: 2026-03-02)."""
    services.enroll(deps, "MRN-1", histology="sts", on=date(2026, 2, 20))
    services.record_event(deps, "MRN-1", "neuro_exam", {"finding": "baseline"},
                          on=date(2026, 2, 21), actor=ACTOR)
    return services.status(deps, "MRN-1").patient
