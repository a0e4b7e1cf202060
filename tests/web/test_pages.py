"""The coordinator pages through the test client: sign-in, CSRF, the forms and what they show."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import TestClient, csrf_of, sign_in


def post_form(client: TestClient, path: str, csrf: str, back: str, **fields: str) -> str:
    """Submit a form like the browser; follow the redirect; return the page's HTML."""
    response = client.post(path, data={"csrf_token": csrf, "back": back, **fields})
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


def flash(html: str) -> str:
    found = re.search(r'<p class="flash (\w+)"[^>]*>(.*?)</p>', html, re.S)
    assert found, "no message on the page"
    return f"{found.group(1)}: {found.group(2).strip()}"


# --- signing in and out ---------------------------------------------------------------------------


def test_pages_send_a_stranger_to_the_sign_in_page_and_back(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.get("/patients/DEMO-006?event=pain_score")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fpatients%2FDEMO-006%3Fevent%3Dpain_score"
    login = client.get(response.headers["location"])
    assert 'name="next" value="/patients/DEMO-006?event=pain_score"' in login.text
    signed = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(login.text),
            "token": tokens["viewer"],
            "next": "/patients/DEMO-006?event=pain_score",
        },
    )
    assert signed.headers["location"] == "/patients/DEMO-006?event=pain_score"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_wrong_token_shows_the_sign_in_page_again(client: TestClient) -> None:
    login = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_of(login.text), "token": "nope"})
    assert response.status_code == 401 and "not valid" in response.text


def test_signing_in_needs_the_form_from_this_site(client: TestClient, tokens: dict[str, str]) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"csrf_token": "forged", "token": tokens["viewer"], "back": "/login"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "expired" in flash(client.get("/login").text)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_next_page_after_sign_in_stays_on_this_site(
    client: TestClient, tokens: dict[str, str], target: str
) -> None:
    login = client.get("/login")
    response = client.post(
        "/login", data={"csrf_token": csrf_of(login.text), "token": tokens["viewer"], "next": target}
    )
    assert response.headers["location"] == "/"


def test_signing_out_clears_the_session(client: TestClient, signed_in: str) -> None:
    response = client.post("/logout", data={"csrf_token": signed_in})
    assert response.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_a_revoked_user_is_signed_out_at_the_next_request(
    client: TestClient, signed_in: str, deps: object
) -> None:
    from pathway.services import accounts

    accounts.revoke_user(deps, "coordinator.one")  # type: ignore[arg-type]
    assert client.get("/").headers["location"].startswith("/login")


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, signed_in: str) -> None:
    html = post_form(client, "/patients/DEMO-006/events", "forged", "/patients/DEMO-006", event="exam_done")
    assert "expired" in flash(html) and "exam done" not in html.split("History")[1][:400]


# --- worklist -------------------------------------------------------------------------------------


def test_the_worklist_shows_counts_and_the_most_urgent_first(client: TestClient, signed_in: str) -> None:
    html = client.get("/").text
    assert re.search(r"<b>\d+</b> overdue steps?</a>", html)
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    assert "badge critical" in first_row


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("severity=critical", "A10", "A21"),
        ("track=mscc", "Whole-spine MRI", "Response imaging"),
        ("state=suspected", "DEMO-009", "DEMO-006"),
        ("track=bone&state=on_bma", "DEMO-008", "DEMO-010"),
        ("kind=due", '<tr class="due">', '<tr class="overdue">'),
    ],
)
def test_the_worklist_filters(
    client: TestClient, signed_in: str, query: str, present: str, absent: str
) -> None:
    table = client.get(f"/?{query}").text.split("<tbody>")[1]
    assert present in table and absent not in table


def test_a_bad_worklist_filter_is_explained(client: TestClient, signed_in: str) -> None:
    response = client.get("/?state=nowhere")
    assert response.status_code == 422 and "unknown state" in response.text


# --- patient --------------------------------------------------------------------------------------


def test_the_patient_page_explains_each_follow_up(client: TestClient, signed_in: str) -> None:
    html = client.get("/patients/DEMO-006").text
    assert "<b>surveillance</b>" in html
    assert html.count('class="why"') >= 3 and "Anchored on rt_completed" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline"' in html
    assert 'id="alert-' in html and "Acknowledge" in html


def test_the_record_form_follows_the_event_schema(client: TestClient, signed_in: str) -> None:
    html = client.get("/patients/DEMO-006?event=rt_plan_approved").text
    assert 'value="rt_plan_approved"' not in html  # not allowed in surveillance: not offered
    assert "<h3>" not in html
    html = client.get("/patients/DEMO-006?event=pain_score").text
    assert re.search(r'<input id="f_nrs" type="number" name="f_nrs" step="1" min="0.0" max="10.0"', html)
    html = client.get("/patients/DEMO-006?event=imaging_done").text
    assert '<select id="f_region" name="f_region" required>' in html
    assert '<option value="chest">chest</option>' in html
    assert re.search(r'<input id="on" type="date" name="on" value="2026-03-02"', html)


def test_recording_through_the_form_resolves_the_alert(client: TestClient, signed_in: str) -> None:
    before = client.get("/").text.count("<tr class=")
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006",
        event="imaging_done",
        on="2026-03-02",
        f_region="chest",
        f_modality="CT",
        f_response="SD",
        expected_version="13",
        reason="",
    )
    assert flash(html).startswith("ok: Recorded imaging_done")
    assert "Response imaging (chest), target" not in html.split("Follow-ups")[0]
    assert "coordinator.one" in html.split("History")[1]
    assert client.get("/").text.count("<tr class=") == before - 1


def test_a_refused_event_comes_back_to_the_form_with_the_reason(client: TestClient, signed_in: str) -> None:
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006?event=pain_score",
        event="pain_score",
        on="2026-03-02",
        f_nrs="12",
    )
    assert flash(html).startswith("error: pain_score.nrs: 12")
    assert "<h3>pain score</h3>" in html  # the form is still open


def test_a_stale_page_cannot_overwrite_a_newer_change(client: TestClient, signed_in: str) -> None:
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006",
        event="exam_done",
        on="2026-03-02",
        expected_version="12",
    )
    assert "error: patient 6 is at version 13, not 12" in flash(html)


def test_a_coordinator_is_told_an_mdt_decision_needs_a_clinician(client: TestClient, signed_in: str) -> None:
    page = client.get("/patients/DEMO-001").text
    assert re.search(r'<option value="mdt_decision"\s+disabled>mdt decision \(clinician\)', page)
    html = post_form(
        client,
        "/patients/DEMO-001/events",
        signed_in,
        "/patients/DEMO-001",
        event="mdt_decision",
        f_resectability="resectable",
        f_plan="surgery",
    )
    assert "needs the role clinician or admin" in flash(html)


def test_a_viewer_sees_no_forms(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in(client, tokens["viewer"])
    html = client.get("/patients/DEMO-006").text
    assert "Record an event" not in html and "Acknowledge" not in html
    assert "Enrol a patient" not in client.get("/patients").text


def test_an_unknown_patient_page_is_a_404(client: TestClient, signed_in: str) -> None:
    response = client.get("/patients/NOPE-1")
    assert response.status_code == 404 and "NOPE-1" in response.text


# --- alerts ---------------------------------------------------------------------------------------


def alert_on(html: str, rule: str, mrn: str) -> str:
    row = next(r for r in html.split('<tr id="alert-')[1:] if rule in r and mrn in r)
    return row.split('"')[0]


def test_alerts_are_acknowledged_snoozed_and_overridden_from_the_page(
    client: TestClient, signed_in: str
) -> None:
    page = client.get("/alerts").text
    a16 = alert_on(page, "A16", "DEMO-006")
    html = post_form(client, f"/alerts/{a16}/acknowledge", signed_in, "/alerts", note="booked")
    assert flash(html) == f"ok: Alert {a16} acknowledged."
    html = post_form(client, f"/alerts/{a16}/snooze", signed_in, "/alerts", until="2026-03-09", note="away")
    assert "snoozed until 2026-03-09" in flash(html)
    a21 = alert_on(html, "A21", "DEMO-006")
    html = post_form(
        client,
        f"/alerts/{a21}/override",
        signed_in,
        "/patients/DEMO-006",
        reason="already_done_elsewhere",
        note="referred by GP",
        until="",
    )
    assert "overridden" in flash(html) and "<h1>DEMO-006" in html


def test_a_coordinator_cannot_override_a_critical_alert_from_the_page(
    client: TestClient, signed_in: str
) -> None:
    page = client.get("/alerts").text
    critical = alert_on(page, "A10", "DEMO-006")
    row = page.split(f'<tr id="alert-{critical}"')[1].split("</tr>")[0]
    assert "Only a clinician may override" in row and "Override alert" not in row
    html = post_form(
        client, f"/alerts/{critical}/override", signed_in, "/alerts", reason="data_error", note="x"
    )
    assert "only a clinician" in flash(html)


def test_the_alerts_page_filters_by_status_and_patient(client: TestClient, signed_in: str) -> None:
    html = client.get("/alerts?status=all&mrn=DEMO-009").text
    assert "DEMO-009" in html and "DEMO-006" not in html.split("<tbody>")[1]
    assert client.get("/alerts?mrn=not%20an%20mrn").status_code == 422


# --- patients, report, pathway --------------------------------------------------------------------


def test_patients_are_listed_and_enrolled_from_the_page(client: TestClient, signed_in: str) -> None:
    assert client.get("/patients?track=main&state=surveillance").text.count('href="/patients/') == 3
    html = post_form(
        client, "/patients", signed_in, "/patients", mrn="WEB-1", histology="sts", enrolled_on="2026-03-01"
    )
    assert "Enrolled WEB-1 on 2026-03-01" in flash(html) and "<h1>WEB-1" in html
    html = post_form(client, "/patients", signed_in, "/patients", mrn="WEB-1")
    assert "already enrolled" in flash(html)


def test_the_report_page_is_the_daily_report_with_its_own_styles(client: TestClient, signed_in: str) -> None:
    response = client.get("/report")
    assert "Daily status report — 2026-03-02" in response.text
    assert "style-src 'self' 'sha256-" in response.headers["content-security-policy"]
    assert '<a href="/">← Worklist</a>' in response.text


def test_the_pathway_page_highlights_a_patients_states(client: TestClient, signed_in: str) -> None:
    html = client.get("/pathway?mrn=DEMO-009").text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="diagram"') == 6  # one diagram per track
    assert "current state suspected" in html and "Current state: <b>suspected</b>" in html
    assert client.get("/pathway?mrn=NOPE-1").status_code == 404


# --- headers --------------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(client: TestClient, signed_in: str) -> None:
    for path in ("/", "/login", "/api/v1/me", "/static/app.css", "/nowhere", "/api/v1/nowhere"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'; img-src 'self' data:"), path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert (headers.get("cache-control") == "no-store") == (not path.startswith("/static"))


def test_an_unknown_api_route_is_a_json_404(client: TestClient, signed_in: str) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404 and response.json()["detail"] == "there is no such page or API route"


def test_a_time_makes_an_instant_and_today_without_one_means_now(client: TestClient, signed_in: str) -> None:
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006",
        event="pain_score",
        on="2026-03-01",
        time="14:30",
        f_nrs="2",
    )
    assert "2026-03-01 14:30" in html.split("History")[1]
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006",
        event="pain_score",
        on="2026-03-02",
        f_nrs="2",
    )
    assert "2026-03-02 09:00" in html.split("History")[1]  # the fixed clock's now (UTC = GMT)
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/patients/DEMO-006",
        event="pain_score",
        on="2026-03-01",
        time="25:00",
        f_nrs="2",
    )
    assert "is not a date and time" in flash(html)


def test_the_patient_page_shows_the_bone_agent_and_its_next_planned_dose(
    client: TestClient, signed_in: str
) -> None:
    """DEMO-008 started denosumab q4w with a dental exam but no calcium: A24 is outstanding."""
    html = client.get("/patients/DEMO-008").text
    assert "Bone-modifying agents" in html and "denosumab q4w (SRE prevention)" in html
    assert "next planned dose <b>" in html
    assert "before it: A24: no corrected_calcium result in the 14d up to" in html
    assert "Bone-modifying agents" not in client.get("/patients/DEMO-001").text


def test_the_patient_page_shows_the_cumulative_anthracycline_dose_last_lvef_and_next_dose(
    client: TestClient, signed_in: str
) -> None:
    page = "/patients/DEMO-001"
    assert 'id="doses"' not in client.get(page).text  # nothing about doses recorded: no panel
    for event, fields in (
        ("lvef_measured", {"f_lvef_percent": "61", "f_method": "echo"}),
        ("body_measured", {"f_height_cm": "180", "f_weight_kg": "80"}),
        (
            "prior_treatment",
            {
                "f_drug": "epirubicin",
                "f_cumulative_dose": "187.5",
                "f_unit": "mg/m2",
                "f_cardiac_region_rt": "no",
            },
        ),
        ("drug_given", {"f_drug": "doxorubicin", "f_dose": "75", "f_unit": "mg/m2", "f_cycle": "1"}),
    ):
        html = post_form(client, f"{page}/events", signed_in, page, event=event, **fields)
        assert flash(html).startswith("ok: Recorded"), flash(html)
    panel = html.split('id="doses"')[1].split("</section>")[0]
    assert "225 mg/m² doxorubicin-equivalent given (prior treatment 150)" in panel
    assert "61 % by echo" in panel
    assert "no planned dose" in panel  # no line plan recorded for this patient
