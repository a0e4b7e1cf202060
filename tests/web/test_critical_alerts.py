"""Critical alerts through the web app (session) and the API (bearer token), SQLite and PostgreSQL.

DEMO-006's A10 is critical on the demo's day (2026-03-02); its A16 is a warning.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import TestClient, bearer
from tests.web.test_api import alert_id
from tests.web.test_pages import alert_on, flash, post_form


def status_of(client: TestClient, token: str, alert: int) -> str:
    rows = client.get("/api/v1/alerts?status=all&mrn=DEMO-006", headers=bearer(token)).json()
    return str(next(a["status"] for a in rows if a["id"] == alert))


@pytest.mark.parametrize("role", ["coordinator", "clinician", "admin"])
def test_nobody_snoozes_a_critical_alert_by_bearer_token(
    client: TestClient, tokens: dict[str, str], role: str
) -> None:
    a10 = alert_id(client, tokens, "DEMO-006", "A10", "critical")
    response = client.post(
        f"/api/v1/alerts/{a10}/snooze",
        headers=bearer(tokens[role]),
        json={"until": "2026-03-05", "note": "x"},
    )
    assert response.status_code == 422 and "cannot be snoozed" in response.json()["error"]
    assert status_of(client, tokens[role], a10) == "open"


def test_a_coordinator_by_bearer_token_cannot_override_but_acknowledging_keeps_it_live(
    client: TestClient, tokens: dict[str, str]
) -> None:
    a10 = alert_id(client, tokens, "DEMO-006", "A10", "critical")
    h = bearer(tokens["coordinator"])
    override = client.post(
        f"/api/v1/alerts/{a10}/override", headers=h, json={"reason": "data_error", "note": "x"}
    )
    assert override.status_code == 403 and "only a clinician or admin" in override.json()["error"]
    acked = client.post(f"/api/v1/alerts/{a10}/acknowledge", headers=h, json={"handling": "dr.lee"})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    live = client.get("/api/v1/alerts?mrn=DEMO-006", headers=h).json()
    assert a10 in [a["id"] for a in live]
    snooze = client.post(f"/api/v1/alerts/{a10}/snooze", headers=h, json={"until": "2026-03-05", "note": "x"})
    assert snooze.status_code == 422
    clinician = client.post(
        f"/api/v1/alerts/{a10}/override",
        headers=bearer(tokens["clinician"]),
        json={"reason": "clinical_judgement", "note": "CT done at the referring hospital"},
    )
    assert clinician.status_code == 200 and clinician.json()["status"] == "overridden"


@pytest.mark.parametrize(("until", "status"), [("2026-03-16", 200), ("2026-03-17", 422)])
def test_a_warning_is_snoozed_for_at_most_fourteen_days(
    client: TestClient, tokens: dict[str, str], until: str, status: int
) -> None:
    a16 = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    response = client.post(
        f"/api/v1/alerts/{a16}/snooze",
        headers=bearer(tokens["coordinator"]),
        json={"until": until, "note": "patient abroad"},
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert "at most 14 days (until 2026-03-16)" in response.json()["error"]


def test_a_coordinator_in_the_web_app_gets_no_snooze_or_override_button_on_a_critical_alert(
    client: TestClient, signed_in: str
) -> None:
    page = client.get("/alerts").text
    critical = alert_on(page, "A10", "DEMO-006")
    row = page.split(f'<tr id="alert-{critical}"')[1].split("</tr>")[0]
    assert "Snooze alert" not in row and "Override alert" not in row and "Acknowledge" in row
    assert "A critical alert cannot be snoozed" in row
    warning = page.split(f'<tr id="alert-{alert_on(page, "A16", "DEMO-006")}"')[1].split("</tr>")[0]
    assert 'max="2026-03-16"' in warning and "Snooze alert" in warning

    html = post_form(client, f"/alerts/{critical}/snooze", signed_in, "/alerts", until="2026-03-05", note="x")
    assert "cannot be snoozed" in flash(html)
    html = post_form(
        client, f"/alerts/{critical}/override", signed_in, "/alerts", reason="data_error", note="x"
    )
    assert "only a clinician" in flash(html)
    html = post_form(client, f"/alerts/{critical}/acknowledge", signed_in, "/alerts", note="seen")
    assert flash(html) == f"ok: Alert {critical} acknowledged."
    row = html.split(f'<tr id="alert-{critical}"')[1].split("</tr>")[0]
    assert "acknowledged" in row and "Snooze alert" not in row
