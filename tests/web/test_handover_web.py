"""The hand-over summary and a pause in force, through the API (bearer token) and the patient page."""

from __future__ import annotations

from tests.web.conftest import TestClient, bearer
from tests.web.test_api import get
from tests.web.test_pages import flash, post_form

TRANSFER = {"event": "transfer", "fields": {"to_org": "Regional Sarcoma Unit"}}


def test_a_transfer_through_the_api_says_where_its_hand_over_is_and_anyone_signed_in_reads_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    live = [a for a in get(client, tokens, "/api/v1/alerts?mrn=DEMO-006") if a["status"] == "open"]
    assert live  # DEMO-006 has an overdue scan
    response = client.post(
        "/api/v1/patients/DEMO-006/events", headers=bearer(tokens["coordinator"]), json=TRANSFER
    )
    assert response.status_code == 201, response.text
    assert response.json()["handover"] == "/api/v1/patients/DEMO-006/handover"

    summary = get(client, tokens, "/api/v1/patients/DEMO-006/handover", role="viewer")
    assert summary["exit"]["event"] == "transfer"
    assert summary["exit"]["details"] == {"to_org": "Regional Sarcoma Unit"}
    assert {a["id"] for a in summary["open_alerts"]} == {a["id"] for a in live}
    assert all(a["source"] for a in summary["open_alerts"])
    assert get(client, tokens, "/api/v1/alerts?mrn=DEMO-006") == []


def test_a_patient_who_did_not_leave_has_no_hand_over(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.get("/api/v1/patients/DEMO-001/handover", headers=bearer(tokens["viewer"]))
    assert response.status_code == 404
    assert "no hand-over summary" in response.json()["error"]
    assert client.get("/api/v1/patients/DEMO-001/handover").status_code == 401


def test_the_patient_page_shows_a_pause_in_force_and_then_the_hand_over(
    client: TestClient, signed_in: str
) -> None:
    html = post_form(
        client,
        "/patients/DEMO-001/events",
        signed_in,
        "/patients/DEMO-001",
        event="care_paused",
        on="2026-03-02",
        f_reason_code="hospital_admission",
        reason="",
    )
    assert flash(html).startswith("ok: Recorded care_paused")
    assert "Care paused since 2026-03-02" in html and "reason_code: hospital_admission" in html
    assert "Physical examination" in html.split('id="pause"')[1].split("</section>")[0]  # held

    html = post_form(
        client,
        "/patients/DEMO-001/events",
        signed_in,
        "/patients/DEMO-001",
        event="withdrawal",
        on="2026-03-02",
        reason="",
    )
    assert "hand-over summary is stored with it" in flash(html)
    section = html.split('id="handover"')[1].split("</section>")[0]
    assert "Hand-over summary: DEMO-001" in section and "withdrawal on 2026-03-02" in section
