"""The FHIR Bundle over the API and the calendar feed over HTTP (its secret URL is the credential)."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from icalendar import Calendar

from pathway.bootstrap import App
from pathway.services import interop as interop_service
from tests.web.conftest import TestClient, bearer


def test_a_patient_as_a_fhir_bundle(client: TestClient, tokens: dict[str, str], demo: App) -> None:
    response = client.get("/api/v1/patients/DEMO-006/fhir", headers=bearer(tokens["viewer"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(response.text)
    kinds = {e.resource.get_resource_type() for e in bundle.entry or []}
    assert {"Patient", "CarePlan", "Task", "Procedure", "Observation"} <= kinds
    patient = next(e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].system == demo.settings.fhir_mrn_system
    assert patient.identifier[0].value == "DEMO-006"
    missing = client.get("/api/v1/patients/NOPE-1/fhir", headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404 and "NOPE-1" in missing.json()["error"]


def test_the_calendar_feed_answers_its_link_until_revoked(client: TestClient, demo: App) -> None:
    _, token = interop_service.calendar_link(demo.deps, "viewer.one")
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert events and not any("DEMO-" in str(e["summary"]) for e in events)
    interop_service.revoke_calendar(demo.deps, "viewer.one")
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    for wrong in ("x" * 43, "short", "a" * 300, "..%2F..%2Fetc"):
        assert client.get(f"/calendar/{wrong}.ics").status_code == 404, wrong
