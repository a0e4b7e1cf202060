"""The audit trail records writes, views and sign-ins with who and from where (issue 17 item 10)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from pathway.ports import Deps
from pathway.services import audit
from tests.web.conftest import bearer, csrf_of, sign_in


def rows(deps: Deps, **filters: Any) -> list[dict[str, Any]]:
    return [audit.as_json(e) for e in audit.find(deps, **filters)]


def test_an_enrolment_a_record_and_a_view_are_audited_with_who_and_from_where(
    client: TestClient, tokens: dict[str, str], deps: Deps
) -> None:
    head = bearer(tokens["coordinator"])
    assert (
        client.post("/api/v1/patients", json={"mrn": "AUD-1", "histology": "sts"}, headers=head).status_code
        == 201
    )
    recorded = client.post(
        "/api/v1/patients/AUD-1/events", json={"event": "pain_score", "fields": {"nrs": "3"}}, headers=head
    )
    assert recorded.status_code == 201, recorded.text
    assert client.get("/api/v1/patients/AUD-1", headers=head).status_code == 200
    sign_in(client, tokens["viewer"])
    assert client.get("/patients/AUD-1").status_code == 200
    trail = rows(deps, mrn="AUD-1")
    assert [(r["action"], r["actor"]) for r in reversed(trail)] == [
        ("enrol", "coordinator.one"),
        ("record", "coordinator.one"),
        ("view", "coordinator.one"),
        ("view", "viewer.one"),
    ]
    assert {r["origin"] for r in trail} == {"testclient"}
    assert trail[-2]["detail"]["event"] == "pain_score"
    assert client.get("/api/v1/patients/NOBODY-1", headers=head).status_code == 404
    assert rows(deps, mrn="NOBODY-1") == [], "a failed read is not a view"


def test_sign_ins_and_failures_are_audited(client: TestClient, tokens: dict[str, str], deps: Deps) -> None:
    form = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_of(form.text), "token": "wrong"})
    assert client.get("/api/v1/alerts", headers=bearer("also-wrong")).status_code == 401
    sign_in(client, tokens["clinician"])
    actions = [(r["action"], r["actor"], r["detail"].get("via")) for r in rows(deps)][:3]
    assert actions == [
        ("sign_in", "clinician.one", None),
        ("sign_in_failed", "?", "/api/v1/alerts"),
        ("sign_in_failed", "?", "/login"),
    ]


def test_a_refused_write_leaves_no_audit_row(client: TestClient, tokens: dict[str, str], deps: Deps) -> None:
    before = len(rows(deps))
    refused = client.post(
        "/api/v1/patients/DEMO-001/events",
        json={"event": "pain_score", "fields": {"nrs": "99"}},
        headers=bearer(tokens["coordinator"]),
    )
    assert refused.status_code == 422
    assert len(rows(deps)) == before


def test_only_admins_read_the_audit_trail(client: TestClient, tokens: dict[str, str]) -> None:
    client.get("/api/v1/patients/DEMO-001", headers=bearer(tokens["viewer"]))
    assert client.get("/api/v1/audit", headers=bearer(tokens["coordinator"])).status_code == 403
    listed = client.get("/api/v1/audit?mrn=DEMO-001&user=viewer.one", headers=bearer(tokens["admin"]))
    assert listed.status_code == 200
    assert [r["action"] for r in listed.json()] == ["view"]
    sign_in(client, tokens["admin"])
    page = client.get("/admin/audit?mrn=DEMO-001")
    assert page.status_code == 200 and "viewer.one" in page.text and 'href="/admin/audit"' in page.text
    sign_in(client, tokens["clinician"])
    assert client.get("/admin/audit").status_code == 403
