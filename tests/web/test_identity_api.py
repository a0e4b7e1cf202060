"""Issue 15 items 1, 3 and 4 through the API and the pages: one patient identity, an unknown
patient is a 404, a required choice is refused when left empty."""

from __future__ import annotations

from tests.web.conftest import TestClient, bearer


def test_an_mrn_in_another_letter_case_is_the_same_patient(
    client: TestClient, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["coordinator"])
    response = client.post("/api/v1/patients", headers=auth, json={"mrn": "demo-001"})
    assert response.status_code == 409 and "DEMO-001" in response.json()["error"]
    assert client.get("/api/v1/patients/demo-001", headers=auth).json()["mrn"] == "DEMO-001"
    created = client.post("/api/v1/patients", headers=auth, json={"mrn": " new-7 "})
    assert created.status_code == 201 and created.headers["Location"].endswith("/NEW-7")


def test_the_same_name_and_birth_date_needs_confirm_new(client: TestClient, tokens: dict[str, str]) -> None:
    auth = bearer(tokens["coordinator"])
    ada = {"name": "Ada Lovelace", "birth_date": "1960-12-10", "enrolled_on": "2026-03-01"}
    assert client.post("/api/v1/patients", headers=auth, json={"mrn": "MRN-A", **ada}).status_code == 201
    twin = client.post("/api/v1/patients", headers=auth, json={"mrn": "MRN-B", **ada})
    assert twin.status_code == 409 and "MRN-A" in twin.json()["error"]
    confirmed = client.post(
        "/api/v1/patients", headers=auth, json={"mrn": "MRN-B", **ada, "confirm_new": True}
    )
    assert confirmed.status_code == 201


def test_alerts_of_an_unknown_patient_are_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    auth = bearer(tokens["viewer"])
    assert client.get("/api/v1/alerts?mrn=MRN-9999", headers=auth).status_code == 404
    assert client.get("/api/v1/alerts?mrn=demo-009", headers=auth).json()[0]["rule"] == "A02"


def test_the_record_form_offers_required_choices_empty_and_refuses_them_empty(
    client: TestClient, signed_in: str
) -> None:
    html = client.get("/patients/DEMO-006?event=imaging_done").text
    assert (
        '<option value="">choose…</option>' in html
        and "selected" not in html.split('name="f_region"')[1][:200]
    )
    response = client.post(
        "/patients/DEMO-006/events",
        data={"csrf_token": signed_in, "event": "imaging_done", "f_modality": "CT", "f_region": ""},
        follow_redirects=True,
    )
    assert "needs field &#39;region&#39;" in response.text or "needs field 'region'" in response.text


def test_enrolment_records_the_staging_and_the_prior_anthracycline_or_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["coordinator"])
    prior = {"drug": "doxorubicin", "cumulative_dose": 120, "unit": "mg/m2", "cardiac_region_rt": False}
    body = {"mrn": "MRN-P", "staging": {"sites": ["ilium", "si_joint"]}, "prior_treatment": prior}
    assert client.post("/api/v1/patients", headers=auth, json=body).status_code == 201
    events = client.get("/api/v1/patients/MRN-P/events", headers=auth).json()
    assert [e["event"] for e in events] == ["staging_recorded", "prior_treatment"]
    assert events[0]["data"]["sites"] == ["ilium", "si_joint"]
    bad = {**body, "mrn": "MRN-Q", "prior_treatment": {**prior, "cumulative_dose": 99999}}
    refused = client.post("/api/v1/patients", headers=auth, json=bad)
    assert refused.status_code == 422 and "cumulative_dose" in refused.text
    assert client.get("/api/v1/patients/MRN-Q", headers=auth).status_code == 404
