"""History is the truth: the stored track states always equal a replay of the event log."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from db import migrate
from pathway.bootstrap import build
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import FieldSpec
from pathway.domain.errors import PathwayError
from pathway.domain.history import replay
from pathway.domain.machine import Pathway
from pathway.ports import Deps
from pathway.services import patients
from pathway.services.demo import COHORT, load_demo
from tests.fakes import FixedClock, utc


def test_the_demo_cohort_replays_to_its_stored_states(deps: Deps, pathway: Pathway) -> None:
    created = load_demo(deps)

    assert len(created) == len(COHORT) == 12
    assert patients.verify_replay(deps) == []
    with deps.uow() as uow:
        for patient, stored in uow.patients.listing(None, None):
            assert replay(pathway, uow.events.for_patient(patient.id)) == stored, patient.mrn


def test_loading_the_demo_cohort_twice_adds_nobody_the_second_time(deps: Deps) -> None:
    load_demo(deps)
    assert load_demo(deps) == []
    assert len(patients.list_patients(deps)) == 12


# --- property: any sequence of attempted events keeps replay == stored ------------------------


@pytest.fixture(scope="module")
def sqlite_deps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deps, FixedClock]]:
    """One SQLite database for every example; each example enrols its own patient."""
    url = f"sqlite:///{tmp_path_factory.mktemp('replay') / 'pathway.db'}"
    app = build({"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"})
    migrate.upgrade(app.engine)
    clock = FixedClock(utc(2026, 3, 2, 9))
    yield Deps(uow=app.deps.uow, clock=clock, pathway=app.deps.pathway, zone=app.deps.zone), clock
    app.engine.dispose()


_mrns = itertools.count(1)


def field_value(spec: FieldSpec, event_ids: list[int]) -> st.SearchStrategy[Any]:
    if spec.type == "choice":
        return st.sampled_from(spec.values) if spec.values else st.just("unknown")
    if spec.type == "int":
        low, high = int(spec.min if spec.min is not None else 0), int(spec.max or 10)
        return st.integers(low, high).map(str)
    if spec.type == "number":
        low, high = spec.min if spec.min is not None else 0.0, spec.max or 10.0
        return st.floats(low, high).map(lambda x: f"{x:.1f}")
    if spec.type == "bool":
        return st.sampled_from(["yes", "no"])
    if spec.type == "event_ref":
        return st.sampled_from(event_ids).map(str) if event_ids else st.just("1")  # refused: none yet
    if spec.type == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.sampled_from(["note", "doxorubicin", "9370/3"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_replaying_any_sequence_of_recorded_events_gives_the_stored_states(
    sqlite_deps: tuple[Deps, FixedClock], data: st.DataObject
) -> None:
    deps, clock = sqlite_deps
    definition = deps.pathway.definition
    mrn = f"PROP-{next(_mrns)}"
    patients.enroll(deps, mrn, on=local_date(clock.now(), deps.zone))

    for _ in range(data.draw(st.integers(1, 15), label="steps")):
        clock.advance(days=1)
        view = patients.status(deps, mrn)
        event_ids = [e.id for e in patients.history(deps, mrn).events]
        choices = [e for e in view.allowed_events if event_ids or not definition.events[e].retracts]
        name = data.draw(st.sampled_from(choices), label="event")
        fields = {
            f: data.draw(field_value(spec, event_ids), label=f"{name}.{f}")
            for f, spec in definition.events[name].fields.items()
            if spec.required or data.draw(st.booleans(), label=f"give {f}")
        }
        days_back = data.draw(st.integers(0, 3), label="days back")
        on = local_date(clock.now(), deps.zone) - timedelta(days=days_back)
        try:
            patients.record_event(deps, mrn, name, fields, on=on, reason="property test", actor="hypothesis")
            event("accepted")
        except PathwayError as refused:
            event(f"refused: {type(refused).__name__}")  # refusals write nothing

    patient = patients.status(deps, mrn)
    events = patients.history(deps, mrn).events
    assert replay(deps.pathway, events) == patient.states
    assert patient.patient.version == 1 + len(events)
