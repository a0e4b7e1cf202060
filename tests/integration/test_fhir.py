"""FHIR R4 export and import on SQLite and PostgreSQL: every resource validated with the R4B models,
a cohort carried from one database to another, idempotency and all-or-nothing."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from db import migrate
from db.tables import EventRow
from pathway.bootstrap import build
from pathway.domain.errors import EventNotAllowed, InvalidInput
from pathway.interop.fhir_common import Site, stable_id
from pathway.interop.fhir_export import LIVE_ALERTS, TASK_STATUS
from pathway.ports import Deps
from pathway.services import alerting, patients
from pathway.services.demo import load_demo
from pathway.services.interop import export_patient, import_bundle
from tests.fakes import FixedClock

SITE = Site(mrn_system="https://clinic.example/fhir/mrn")


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def unretracted(deps: Deps, mrn: str) -> list[Any]:
    h = patients.history(deps, mrn)
    retractions = {n for n, s in deps.pathway.definition.events.items() if s.retracts}
    return [e for e in h.events if e.id not in h.retracted and e.type not in retractions]


@pytest.fixture
def source(tmp_path: Path, clock: FixedClock) -> Deps:
    """Another database (SQLite) holding the demo cohort, as of the same clock."""
    application = build(
        {"PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'source.db'}", "PATHWAY_TIMEZONE": "Europe/London"}
    )
    migrate.upgrade(application.engine)
    deps = dataclasses.replace(application.deps, clock=clock)
    load_demo(deps)
    return deps


def test_every_exported_resource_validates_and_follows_the_record(deps: Deps) -> None:
    load_demo(deps)
    definition = deps.pathway.definition
    pain = definition.codes.events["pain_score"].code
    assert pain is not None
    for patient, states in patients.list_patients(deps):
        exported = export_patient(deps, SITE, patient.mrn)
        text = json.dumps(exported)
        assert Bundle.model_validate_json(text).model_dump(mode="json", exclude_none=True) == exported
        for r in resources(exported):
            get_fhir_model_class(r["resourceType"]).model_validate(r)
        (p,) = resources(exported, "Patient")
        assert p["identifier"][0] == {**p["identifier"][0], "system": SITE.mrn_system, "value": patient.mrn}
        plans = resources(exported, "CarePlan")
        assert sorted(c["category"][0]["coding"][0]["code"] for c in plans) == sorted(states)
        follow_ups, alerts = alerting.follow_ups_of(deps, patient.mrn)
        tasks = {t["id"]: t for t in resources(exported, "Task")}
        assert len(tasks) == len(follow_ups)
        for fu in follow_ups:
            task = tasks[stable_id(SITE, patient.mrn, "follow-up", fu.id)]
            assert task["reasonCode"]["coding"][0]["code"] == fu.rule
            assert task["restriction"]["period"]["start"] == fu.opens_at.isoformat().replace("+00:00", "Z")
            assert task["status"] == TASK_STATUS[fu.status]
            assert task["restriction"]["period"]["end"] == fu.closes_at.isoformat().replace("+00:00", "Z")
            assert ("executionPeriod" in task) == (fu.status == "done")
        flags = resources(exported, "Flag")
        assert sorted(f["category"][0]["coding"][0]["code"] for f in flags) == sorted(
            a.severity for a in alerts if a.status in LIVE_ALERTS
        )
        events = unretracted(deps, patient.mrn)
        observations = resources(exported, "Observation")
        scores = [e for e in events if e.type == "pain_score"]
        assert [o["valueQuantity"]["value"] for o in observations] == [e.data["nrs"] for e in scores]
        assert all(o["code"]["coding"][0]["code"] == pain.code for o in observations)
        coded = [e for e in events if e.type in definition.codes.events]
        assert len(
            resources(exported, "Procedure") + resources(exported, "MedicationAdministration") + observations
        ) == len(coded)


def test_a_cohort_exported_from_one_database_and_imported_into_another_reproduces_its_events(
    source: Deps, deps: Deps
) -> None:
    """Events the codes block does not cover (decisions) are recorded by hand in between imports."""
    coded = set(deps.pathway.definition.codes.events)
    for patient, _ in patients.list_patients(source):
        exported = export_patient(source, SITE, patient.mrn)
        patients.enroll(deps, patient.mrn, histology=patient.histology, on=patient.enrolled_on)
        pending: list[dict[str, Any]] = []
        for e in unretracted(source, patient.mrn):
            if e.type in coded:
                stamp = e.occurred_at.isoformat().replace("+00:00", "Z")
                pending += [
                    r
                    for r in resources(exported)
                    if (r.get("effectiveDateTime") or r.get("performedDateTime")) == stamp
                    and r not in pending
                ]
                continue
            _import(deps, exported, pending)
            pending = []
            fields = {k: str(v) for k, v in e.data.items()}
            patients.record_event(
                deps, patient.mrn, e.type, fields, at=e.occurred_at, actor="test", reason=e.reason
            )
        _import(deps, exported, pending)
        want = [(e.type, e.occurred_at, e.data) for e in unretracted(source, patient.mrn)]
        got = [(e.type, e.occurred_at, e.data) for e in unretracted(deps, patient.mrn)]
        assert sorted(got, key=repr) == sorted(want, key=repr), patient.mrn
        assert patients.status(deps, patient.mrn).states == patients.status(source, patient.mrn).states


def _import(deps: Deps, exported: dict[str, Any], pending: list[dict[str, Any]]) -> None:
    if not pending:
        return
    part = {**exported, "entry": [{"resource": r} for r in resources(exported, "Patient") + pending]}
    result = import_bundle(deps, SITE, part, "importer")
    assert len(result.recorded) == len(pending) and not result.unmapped


def _bundle(*entries: dict[str, Any], mrn: str = "FHIR-1") -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": SITE.mrn_system, "value": mrn}],
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *entries)],
    }


def _pain(rid: str, nrs: Any, when: str = "2026-03-01T10:00:00Z", code: str = "72514-3") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": nrs},
    }


def _events(deps: Deps) -> int:
    with deps.read() as uow:
        patient = uow.patients.by_mrn("FHIR-1")
        return len(uow.events.for_patient(patient.id)) if patient else 0


@pytest.fixture
def enrolled(deps: Deps, clock: FixedClock) -> Deps:
    patients.enroll(deps, "FHIR-1", on=(clock.now() - timedelta(days=20)).date())
    return deps


def test_importing_the_same_bundle_twice_records_nothing_twice(enrolled: Deps) -> None:
    bundle = _bundle(_pain("o1", 6), _pain("o2", 2, "2026-03-02T08:00:00Z"))
    first = import_bundle(enrolled, SITE, bundle, "importer")
    assert [r.event for r in first.recorded] == ["pain_score", "pain_score"] and not first.already
    second = import_bundle(enrolled, SITE, bundle, "importer")
    assert not second.recorded and sorted(second.already) == ["Observation/o1", "Observation/o2"]
    assert _events(enrolled) == 2
    events = patients.history(enrolled, "FHIR-1").events
    assert [e.actor for e in events] == ["importer", "importer"]
    assert [e.data["nrs"] for e in events] == [6, 2]


def test_a_dry_run_lists_what_it_would_record_and_records_nothing(enrolled: Deps) -> None:
    result = import_bundle(enrolled, SITE, _bundle(_pain("o1", 6)), "importer", dry_run=True)
    assert [(r.event, r.event_id) for r in result.recorded] == [("pain_score", None)]
    assert _events(enrolled) == 0


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (_pain("o9", 11), InvalidInput),  # outside the validated 0-10 range
        (
            {
                "resourceType": "Procedure",
                "id": "rt",
                "status": "in-progress",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "108290001"}]},
                "subject": {"reference": "Patient/p1"},
                "performedDateTime": "2026-03-01T12:00:00Z",
            },
            EventNotAllowed,  # RT cannot start before the MDT decision
        ),
        (_pain("o9", 5, "2026-03-05T10:00:00Z"), InvalidInput),  # in the future
    ],
)
def test_one_refused_resource_refuses_the_whole_bundle(
    enrolled: Deps, bad: dict[str, Any], error: type
) -> None:
    with pytest.raises(error, match=f"{bad['resourceType']}/{bad['id']}.*nothing was imported"):
        import_bundle(enrolled, SITE, _bundle(_pain("o1", 4), bad), "importer")
    assert _events(enrolled) == 0


def test_resources_that_cannot_be_mapped_are_listed_and_the_rest_recorded(enrolled: Deps) -> None:
    no_time = _pain("o4", 3)
    del no_time["effectiveDateTime"]
    other_patient = _pain("o5", 3)
    other_patient["subject"] = {"identifier": {"system": SITE.mrn_system, "value": "NOT-ENROLLED"}}
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "18748-4"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-03-01T09:00:00Z",
    }
    study = {
        "resourceType": "ImagingStudy",
        "id": "is1",
        "status": "available",
        "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "MR"}],
        "series": [
            {
                "uid": "1.2.3",
                "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "MR"},
                "bodySite": {"system": "http://snomed.info/sct", "code": "54735007"},
            }
        ],
        "subject": {"reference": "Patient/p1"},
        "started": "2026-03-01T09:30:00Z",
    }
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
    bundle = _bundle(
        _pain("o1", 2), _pain("o3", 2, code="8867-4"), no_time, other_patient, report, study, condition
    )
    result = import_bundle(enrolled, SITE, bundle, "importer")
    assert sorted((r.what, r.event) for r in result.recorded) == [
        ("ImagingStudy/is1", "imaging_done"),
        ("Observation/o1", "pain_score"),
    ]
    reasons = {u.what: u.reason for u in result.unmapped}
    assert set(reasons) == {
        "Observation/o3",
        "Observation/o4",
        "Observation/o5",
        "DiagnosticReport/dr1",
        "Condition/c1",
    }
    assert "8867-4" in reasons["Observation/o3"]
    assert "time" in reasons["Observation/o4"]
    assert "NOT-ENROLLED" in reasons["Observation/o5"]
    assert "region" in reasons["DiagnosticReport/dr1"]
    imaging = [e for e in patients.history(enrolled, "FHIR-1").events if e.type == "imaging_done"]
    assert [e.data for e in imaging] == [{"region": "pelvis_sacrum", "modality": "MRI"}]


def test_a_file_that_is_not_a_bundle_is_refused(enrolled: Deps) -> None:
    with pytest.raises(InvalidInput, match="not a FHIR Bundle"):
        import_bundle(enrolled, SITE, {"resourceType": "Patient"}, "importer")
    bad_time = _pain("o1", 3, when="yesterday")
    with pytest.raises(InvalidInput, match="effectiveDateTime"):
        import_bundle(enrolled, SITE, _bundle(bad_time), "importer")
    assert _events(enrolled) == 0


def test_the_source_reference_is_unique_in_the_database(enrolled: Deps) -> None:
    import_bundle(enrolled, SITE, _bundle(_pain("o1", 6)), "importer")
    with enrolled.read() as uow:
        session = uow.session  # type: ignore[attr-defined]
        refs = session.execute(select(EventRow.source_ref, func.count()).group_by(EventRow.source_ref)).all()
    assert refs == [("Observation/o1", 1)]
