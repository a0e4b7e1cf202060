"""The JSON API: every route, its answer, 401 without a token and 403 for each role that may not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.web.conftest import ROLES, TestClient, bearer

READ_ONLY = ("viewer",)
WRITERS = ("coordinator", "clinician", "admin")


def get(client: TestClient, tokens: dict[str, str], path: str, role: str = "viewer") -> Any:
    response = client.get(path, headers=bearer(tokens[role]))
    assert response.status_code == 200, response.text
    return response.json()


def alert_id(client: TestClient, tokens: dict[str, str], mrn: str, rule: str, severity: str) -> int:
    alerts = get(client, tokens, f"/api/v1/alerts?mrn={mrn}")
    return next(a["id"] for a in alerts if a["rule"] == rule and a["severity"] == severity)


# --- authentication -------------------------------------------------------------------------------


def test_without_a_token_the_api_answers_401_with_a_readable_error(client: TestClient) -> None:
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwdw==", "Bearer "])
def test_a_wrong_token_or_scheme_is_refused_with_401(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert set(response.json()) == {"type", "title", "status", "detail", "error"}


def test_the_openapi_document_is_for_signed_in_users(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/openapi.json").status_code == 401
    document = get(client, tokens, "/openapi.json")
    assert "/api/v1/patients/{mrn}/events" in document["paths"]
    assert client.get("/docs").status_code == 404  # no Swagger UI: it would need a CDN


def test_tokens_are_stored_only_as_a_hash(engine: Engine, tokens: dict[str, str]) -> None:
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM app_user")).scalars().all()
    assert len(stored) == len(ROLES)
    assert not set(stored) & set(tokens.values())
    assert all(len(h) == 64 for h in stored)


@pytest.mark.parametrize("role", ROLES)
def test_me_names_the_user_and_what_their_role_allows(
    client: TestClient, tokens: dict[str, str], role: str
) -> None:
    me = get(client, tokens, "/api/v1/me", role)
    assert me["name"] == f"{role}.one" and me["role"] == role
    assert ("record" in me["permissions"]) == (role in WRITERS)
    assert ("manage_users" in me["permissions"]) == (role == "admin")


# --- patients -------------------------------------------------------------------------------------


def test_patients_are_listed_with_their_tracks_and_filtered(
    client: TestClient, tokens: dict[str, str]
) -> None:
    everyone = get(client, tokens, "/api/v1/patients")
    assert len(everyone) == 12 and next(iter(everyone[0]["tracks"])) == "main"
    surveillance = get(client, tokens, "/api/v1/patients?track=main&state=surveillance")
    assert {p["mrn"] for p in surveillance} == {"DEMO-005", "DEMO-006", "DEMO-009"}
    response = client.get("/api/v1/patients?state=nowhere", headers=bearer(tokens["viewer"]))
    assert response.status_code == 422 and "unknown state 'nowhere'" in response.json()["error"]


@pytest.mark.parametrize("role", WRITERS)
def test_writers_enrol_a_patient(client: TestClient, tokens: dict[str, str], role: str) -> None:
    response = client.post(
        "/api/v1/patients",
        headers=bearer(tokens[role]),
        json={"mrn": f"NEW-{role}", "histology": "sts", "enrolled_on": "2026-03-01"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["tracks"]["main"] == "assessment"


def test_a_viewer_may_not_enrol(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/patients", headers=bearer(tokens["viewer"]), json={"mrn": "NEW-1"})
    assert response.status_code == 403
    assert "viewer" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"mrn": "DEMO-001"}, 409, "already enrolled"),
        ({"mrn": "bad mrn!"}, 422, "is not valid"),
        ({"mrn": "NEW-2", "enrolled_on": "2026-04-01"}, 422, "in the future"),
        ({"mrn": "NEW-2", "histology": "banana"}, 422, "not allowed"),
        ({"mrn": "NEW-2", "enrolled_on": "yesterday"}, 422, "field 'enrolled_on'"),
        ({"mrn": "NEW-2", "colour": "red"}, 422, "field 'colour'"),
        ({}, 422, "field 'mrn'"),
    ],
)
def test_enrolment_errors_are_4xx_with_a_message(
    client: TestClient, tokens: dict[str, str], body: dict[str, str], status: int, words: str
) -> None:
    response = client.post("/api/v1/patients", headers=bearer(tokens["coordinator"]), json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_a_body_that_is_not_json_is_a_422(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/patients",
        content=b"{not json",
        headers={**bearer(tokens["coordinator"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]


def test_a_patient_comes_with_tracks_follow_ups_alerts_and_allowed_events(
    client: TestClient, tokens: dict[str, str]
) -> None:
    p = get(client, tokens, "/api/v1/patients/DEMO-006")
    assert p["tracks"]["main"] == "surveillance"
    assert "imaging_done" in p["allowed_events"]
    chest = [f for f in p["follow_ups"] if f["rule"] == "T09" and f["region"] == "chest"]
    assert chest[-1]["status"] == "overdue"
    assert any(a["rule"] == "A10" and a["status"] == "open" for a in p["alerts"])


def test_an_unknown_patient_is_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    for path in (
        "/api/v1/patients/NOPE-1",
        "/api/v1/patients/NOPE-1/events",
        "/api/v1/patients/NOPE-1/why/T09",
    ):
        response = client.get(path, headers=bearer(tokens["viewer"]))
        assert response.status_code == 404 and "NOPE-1" in response.json()["error"]


def test_history_lists_every_event_with_its_actor(client: TestClient, tokens: dict[str, str]) -> None:
    events = get(client, tokens, "/api/v1/patients/DEMO-006/events")
    assert events[0]["event"] == "neuro_exam" and events[0]["actor"] == "demo"
    assert all(e["retracted"] is False for e in events)


def test_why_explains_a_follow_up(client: TestClient, tokens: dict[str, str]) -> None:
    why = get(client, tokens, "/api/v1/patients/DEMO-006/why/T09")
    assert {w["region"] for w in why} == {"pelvis_sacrum", "chest"}
    response = client.get("/api/v1/patients/DEMO-006/why/T99", headers=bearer(tokens["viewer"]))
    assert response.status_code == 404 and "unknown rule" in response.json()["error"]


# --- recording events -----------------------------------------------------------------------------

SCAN = {"event": "imaging_done", "fields": {"region": "chest", "modality": "CT"}, "on": "2026-03-02"}


@pytest.mark.parametrize("role", WRITERS)
def test_writers_record_an_event_under_their_own_name(
    client: TestClient, tokens: dict[str, str], role: str
) -> None:
    response = client.post("/api/v1/patients/DEMO-006/events", headers=bearer(tokens[role]), json=SCAN)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["event"]["actor"] == f"{role}.one" and body["version"] == 14
    assert body["event"]["data"] == {"region": "chest", "modality": "CT"}
    alerts = get(client, tokens, "/api/v1/alerts?mrn=DEMO-006")
    assert not any(a["rule"] == "A10" for a in alerts)  # the overdue chest scan resolved


def test_a_viewer_may_not_record(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/patients/DEMO-006/events", headers=bearer(tokens["viewer"]), json=SCAN)
    assert response.status_code == 403


MDT = {"event": "mdt_decision", "fields": {"resectability": "unresectable", "plan": "definitive_rt"}}


@pytest.mark.parametrize(("role", "status"), [("coordinator", 403), ("clinician", 201), ("admin", 201)])
def test_retracting_an_mdt_decision_needs_a_clinician_or_admin(
    client: TestClient, tokens: dict[str, str], role: str, status: int
) -> None:
    """Issue 17 item 1: a coordinator cannot undo a clinician's decision by retracting it."""
    path = "/api/v1/patients/DEMO-001/events"
    decided = client.post(path, headers=bearer(tokens["clinician"]), json=MDT)
    assert decided.status_code == 201, decided.text
    retraction = {
        "event": "retraction",
        "fields": {"event_id": str(decided.json()["event"]["id"])},
        "reason": "entered for the wrong patient",
    }
    response = client.post(path, headers=bearer(tokens[role]), json=retraction)
    assert response.status_code == status, response.text
    main = get(client, tokens, "/api/v1/patients/DEMO-001")["tracks"]["main"]
    assert main == ("rt_planning" if status == 403 else "assessment")
    if status == 403:
        assert "retracting mdt_decision needs the role clinician or admin" in response.json()["error"]


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 403), ("coordinator", 403), ("clinician", 201), ("admin", 201)]
)
def test_an_mdt_decision_needs_a_clinician_or_admin(
    client: TestClient, tokens: dict[str, str], role: str, status: int
) -> None:
    response = client.post("/api/v1/patients/DEMO-001/events", headers=bearer(tokens[role]), json=MDT)
    assert response.status_code == status, response.text
    if status == 403:
        assert "clinician" in response.json()["error"]
    else:
        assert response.json()["changes"] == {"main": ["assessment", "rt_planning"]}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**SCAN, "fields": {"region": "chest", "modality": "ultrasound"}}, 422, "not allowed"),
        ({**SCAN, "fields": {"region": "chest"}}, 422, "needs field 'modality'"),
        ({"event": "pain_score", "fields": {"nrs": 11}}, 422, "outside the validated range"),
        ({"event": "rt_started"}, 409, "not allowed in main state 'surveillance'"),
        ({"event": "teleport"}, 404, "unknown event"),
        ({**SCAN, "on": "2026-03-09"}, 422, "in the future"),
        ({**SCAN, "expected_version": 3}, 409, "not 3"),
        ({**SCAN, "on": "9999-12-31"}, 422, "field 'on'"),
        ({**SCAN, "fields": {"region": "chest\u0000"}}, 422, "NUL"),
        ({"event": "retraction", "fields": {"event_id": 1}}, 404, "has no event 1"),
        ({"event": "mscc_suspected", "on": "2026-03-02"}, 422, "needs field 'neuro_signs'"),
        ({"event": "neuro_exam", "fields": {"finding": "worsening"}, "on": "2026-03-02"}, 422, "`at`"),
        ({"event": "pain_score", "fields": {"nrs": 8}, "on": "2026-03-02"}, 422, "hour clock (A20)"),
        (
            {"event": "lab_result", "fields": {"test": "corrected_calcium", "value": 8.9, "unit": "mg/dL"}},
            422,
            "recorded in mmol/L, not 'mg/dL'",
        ),
        (
            {"event": "lab_result", "fields": {"test": "corrected_calcium", "value": 22, "unit": "mmol/L"}},
            422,
            "not a plausible albumin-corrected serum calcium",
        ),
        ({"event": "performance_status", "fields": {"ecog": 5}}, 422, "outside the validated range"),
    ],
)
def test_recording_errors_are_4xx_and_write_nothing(
    client: TestClient, tokens: dict[str, str], body: dict[str, Any], status: int, words: str
) -> None:
    before = len(get(client, tokens, "/api/v1/patients/DEMO-006/events"))
    response = client.post(
        "/api/v1/patients/DEMO-006/events", headers=bearer(tokens["coordinator"]), json=body
    )
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    assert len(get(client, tokens, "/api/v1/patients/DEMO-006/events")) == before


def test_a_guard_that_refuses_is_a_422(client: TestClient, tokens: dict[str, str]) -> None:
    body = {"event": "mdt_decision", "fields": {"resectability": "unresectable", "plan": "next_line"}}
    response = client.post("/api/v1/patients/DEMO-001/events", headers=bearer(tokens["clinician"]), json=body)
    assert response.status_code == 422 and "needs" in response.json()["error"]


# --- worklist and alerts --------------------------------------------------------------------------


def test_the_worklist_puts_the_most_urgent_first(client: TestClient, tokens: dict[str, str]) -> None:
    worklist = get(client, tokens, "/api/v1/worklist")
    assert worklist["items"][0]["severity"] == "critical"
    assert sum(worklist["counts"].values()) == len(worklist["items"])
    critical = get(client, tokens, "/api/v1/worklist?severity=critical")
    assert {i["severity"] for i in critical["items"]} == {"critical"}
    later = get(client, tokens, "/api/v1/worklist?as_of=2026-04-01&within=30")
    assert len(later["items"]) >= len(worklist["items"])


@pytest.mark.parametrize("query", ["severity=urgent", "within=400", "as_of=someday", "as_of=0001-01-01"])
def test_worklist_filters_are_validated(client: TestClient, tokens: dict[str, str], query: str) -> None:
    response = client.get(f"/api/v1/worklist?{query}", headers=bearer(tokens["viewer"]))
    assert response.status_code == 422
    assert "query parameter" in response.json()["error"]


def test_alerts_are_listed_by_status(client: TestClient, tokens: dict[str, str]) -> None:
    live = get(client, tokens, "/api/v1/alerts")
    assert live and {a["status"] for a in live} <= {"open", "acknowledged", "snoozed"}
    assert len(get(client, tokens, "/api/v1/alerts?status=all")) >= len(live)
    response = client.get("/api/v1/alerts?status=gone", headers=bearer(tokens["viewer"]))
    assert response.status_code == 422


@pytest.mark.parametrize("role", WRITERS)
def test_writers_acknowledge_and_snooze_alerts(client: TestClient, tokens: dict[str, str], role: str) -> None:
    a = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    h = bearer(tokens[role])
    acked = client.post(f"/api/v1/alerts/{a}/acknowledge", headers=h, json={"note": "booked"})
    assert acked.status_code == 200 and acked.json()["acted_by"] == f"{role}.one"
    again = client.post(f"/api/v1/alerts/{a}/acknowledge", headers=h)
    assert again.status_code == 409 and "acknowledged" in again.json()["error"]
    snoozed = client.post(
        f"/api/v1/alerts/{a}/snooze", headers=h, json={"until": "2026-03-10", "note": "patient abroad"}
    )
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"


@pytest.mark.parametrize("action", ["acknowledge", "snooze", "override"])
def test_a_viewer_may_not_act_on_alerts(client: TestClient, tokens: dict[str, str], action: str) -> None:
    a = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    body = {
        "acknowledge": {},
        "snooze": {"until": "2026-03-10", "note": "x"},
        "override": {"reason": "data_error", "note": "x"},
    }[action]
    response = client.post(f"/api/v1/alerts/{a}/{action}", headers=bearer(tokens["viewer"]), json=body)
    assert response.status_code == 403


def test_alert_actions_refuse_bad_input(client: TestClient, tokens: dict[str, str]) -> None:
    a = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    h = bearer(tokens["coordinator"])
    past = client.post(f"/api/v1/alerts/{a}/snooze", headers=h, json={"until": "2026-03-01", "note": "x"})
    assert past.status_code == 422 and "future" in past.json()["error"]
    blank = client.post(f"/api/v1/alerts/{a}/snooze", headers=h, json={"until": "2026-03-10", "note": ""})
    assert blank.status_code == 422 and "note" in blank.json()["error"]
    reason = client.post(f"/api/v1/alerts/{a}/override", headers=h, json={"reason": "bored", "note": "x"})
    assert reason.status_code == 422 and "reason" in reason.json()["error"]
    assert client.post("/api/v1/alerts/999999/acknowledge", headers=h).status_code == 404
    assert client.post("/api/v1/alerts/0/acknowledge", headers=h).status_code == 422
    assert client.post(f"/api/v1/alerts/{2**40}/acknowledge", headers=h).status_code == 422


@pytest.mark.parametrize(("role", "status"), [("coordinator", 403), ("clinician", 200), ("admin", 200)])
def test_only_clinicians_override_a_critical_alert(
    client: TestClient, tokens: dict[str, str], role: str, status: int
) -> None:
    a = alert_id(client, tokens, "DEMO-006", "A10", "critical")
    response = client.post(
        f"/api/v1/alerts/{a}/override",
        headers=bearer(tokens[role]),
        json={"reason": "clinical_judgement", "note": "scan elsewhere"},
    )
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["status"] == "overridden"
        assert response.json()["acted_by"] == f"{role}.one"


def test_a_coordinator_overrides_a_warning(client: TestClient, tokens: dict[str, str]) -> None:
    a = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    response = client.post(
        f"/api/v1/alerts/{a}/override",
        headers=bearer(tokens["coordinator"]),
        json={"reason": "patient_preference", "note": "declined", "until": "2026-04-01"},
    )
    assert response.status_code == 200 and response.json()["override_until"]


# --- report and pathway ---------------------------------------------------------------------------


def test_the_daily_report_as_json_and_as_html(client: TestClient, tokens: dict[str, str]) -> None:
    report = get(client, tokens, "/api/v1/report")
    assert report["date"] == "2026-03-02" and report["cohort"] == 12
    assert get(client, tokens, "/api/v1/report?as_of=2026-03-01")["date"] == "2026-03-01"
    html = client.get("/api/v1/report/html", headers=bearer(tokens["viewer"]))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Daily status report" in html.text
    assert "'sha256-" in html.headers["content-security-policy"]


def test_the_pathway_definition_and_its_diagrams(client: TestClient, tokens: dict[str, str]) -> None:
    definition = get(client, tokens, "/api/v1/pathway")
    assert set(definition["tracks"]) == {"main", "mscc", "pain", "palliative", "bone", "dexamethasone"}
    assert definition["events"]["imaging_done"]["fields"]["modality"]["values"]
    svg = client.get("/api/v1/pathway/diagram/main?mrn=DEMO-006", headers=bearer(tokens["viewer"]))
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and "current state surveillance" in svg.text
    missing = client.get("/api/v1/pathway/diagram/elbow", headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404 and "unknown track" in missing.json()["error"]


# --- users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "coordinator", "clinician"])
def test_only_admins_manage_users(client: TestClient, tokens: dict[str, str], role: str) -> None:
    h = bearer(tokens[role])
    assert client.get("/api/v1/users", headers=h).status_code == 403
    assert client.post("/api/v1/users", headers=h, json={"name": "x", "role": "viewer"}).status_code == 403
    assert client.post("/api/v1/users/viewer.one/revoke", headers=h).status_code == 403


def test_an_admin_adds_and_revokes_a_user(client: TestClient, tokens: dict[str, str]) -> None:
    h = bearer(tokens["admin"])
    added = client.post("/api/v1/users", headers=h, json={"name": "n.new", "role": "clinician"})
    assert added.status_code == 201
    token = added.json()["token"]
    assert get(client, {"new": token}, "/api/v1/me", "new")["role"] == "clinician"
    names = {u["name"] for u in get(client, tokens, "/api/v1/users", "admin")}
    assert {"n.new", "admin.one"} <= names
    duplicate = client.post("/api/v1/users", headers=h, json={"name": "n.new", "role": "viewer"})
    assert duplicate.status_code == 409
    revoked = client.post("/api/v1/users/n.new/revoke", headers=h)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.post("/api/v1/users/n.new/revoke", headers=h).status_code == 409
    assert client.post("/api/v1/users/nobody/revoke", headers=h).status_code == 404
    bad = client.post("/api/v1/users", headers=h, json={"name": "x", "role": "king"})
    assert bad.status_code == 422
    own = client.post("/api/v1/users/admin.one/revoke", headers=h)
    assert own.status_code == 409 and "own account" in own.text
    reset = client.post("/api/v1/users/n.new/reset-token", headers=h)
    assert reset.status_code == 200 and reset.json()["user"]["active"] is True
    assert get(client, {"new": reset.json()["token"]}, "/api/v1/me", "new")["role"] == "clinician"
    role = client.post("/api/v1/users/n.new/role", headers=h, json={"role": "viewer"})
    assert role.status_code == 200 and role.json()["role"] == "viewer"
    assert client.post("/api/v1/users/n.new/role", headers=h, json={"role": "king"}).status_code == 422
    not_admin = client.post(
        "/api/v1/users/n.new/role", headers=bearer(tokens["clinician"]), json={"role": "admin"}
    )
    assert not_admin.status_code == 403


# --- the session cookie on the API ----------------------------------------------------------------


def test_the_session_cookie_works_on_the_api_but_writes_need_the_csrf_header(
    client: TestClient, tokens: dict[str, str], signed_in: str
) -> None:
    assert client.get("/api/v1/me").json()["name"] == "coordinator.one"
    a = alert_id(client, tokens, "DEMO-006", "A16", "warning")
    refused = client.post(f"/api/v1/alerts/{a}/acknowledge")
    assert refused.status_code == 403 and "did not come from this site" in refused.json()["error"]
    done = client.post(f"/api/v1/alerts/{a}/acknowledge", headers={"X-CSRF-Token": signed_in})
    assert done.status_code == 200 and done.json()["acted_by"] == "coordinator.one"
