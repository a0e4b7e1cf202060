"""Issue 15 item 7 at the page level: the worklist's row actions, search and CSV download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from starlette.testclient import TestClient

from pathway.ports import Deps
from pathway.services import alerting, patients
from pathway.web.views_worklist import safe_cell
from tests.web.conftest import sign_in
from tests.web.test_pages import flash, post_form

SEVERITY = '<td data-label="Severity"><span class="badge {}">'


def rows(html: str) -> list[str]:
    return html.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]


def test_each_line_offers_the_actions_the_alert_status_table_allows(
    client: TestClient, signed_in: str
) -> None:
    table = rows(client.get("/").text)
    critical = [r for r in table if SEVERITY.format("critical") in r and "/acknowledge" in r]
    warning = [r for r in table if SEVERITY.format("warning") in r and "/acknowledge" in r]
    assert critical and warning
    assert all("/snooze" not in r and "cannot be snoozed" in r for r in critical)
    assert all("/snooze" in r for r in warning)
    assert all("Open DEMO-" in r for r in table)
    steps = [r for r in table if 'class="kind overdue"' in r or 'class="kind due"' in r]
    assert any("Record done" in r for r in steps)
    mdt = [r for r in steps if "T01 · main" in r]  # mdt_decision: a clinician's event
    assert mdt and not any("Record done" in r for r in mdt)
    assert all(f'name="csrf_token" value="{signed_in}"' in r for r in critical + warning + steps)


def test_a_clinician_may_record_the_mdt_decision_from_its_line(
    client: TestClient, tokens: dict[str, str]
) -> None:
    sign_in(client, tokens["clinician"])
    mdt = [r for r in rows(client.get("/").text) if "T01 · main" in r]
    assert mdt and all('name="event" value="mdt_decision"' in r for r in mdt)


def test_a_viewer_sees_no_forms_on_the_worklist(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in(client, tokens["viewer"])
    html = client.get("/").text
    body = html.split("<tbody>")[1]
    assert "/acknowledge" not in body and "/snooze" not in body and "Record done" not in body
    assert "Open DEMO-" in body


def test_the_record_form_of_a_line_starts_with_empty_required_choices(
    client: TestClient, signed_in: str
) -> None:
    line = next(r for r in rows(client.get("/").text) if "DEMO-006" in r and "Response imaging (chest)" in r)
    form = line.split('<details class="done">')[1].split("</details>")[0]
    assert 'name="event" value="imaging_done"' in form
    for select in re.findall(r"<select[^>]*required>(.*?)</select>", form, re.S):
        assert re.match(r'\s*<option value="">choose…</option>', select)


def test_recording_done_from_a_line_comes_back_to_the_worklist(client: TestClient, signed_in: str) -> None:
    before = rows(client.get("/").text)
    assert any("DEMO-006" in r and "Response imaging (chest)" in r for r in before)
    html = post_form(
        client,
        "/patients/DEMO-006/events",
        signed_in,
        "/",
        event="imaging_done",
        from_worklist="1",
        on="2026-03-02",
        f_region="chest",
        f_modality="CT",
        f_response="SD",
    )
    assert "Recorded imaging_done for DEMO-006" in flash(html)
    assert "<h1>Worklist</h1>" in html
    assert not any("DEMO-006" in r and "Response imaging (chest)" in r for r in rows(html))


def test_acknowledging_from_a_line_comes_back_to_the_worklist(
    client: TestClient, signed_in: str, deps: Deps
) -> None:
    line = next(
        r for r in rows(client.get("/").text) if SEVERITY.format("warning") in r and "/acknowledge" in r
    )
    alert_id = int(re.search(r"/alerts/(\d+)/acknowledge", line).group(1))  # type: ignore[union-attr]
    html = post_form(client, f"/alerts/{alert_id}/acknowledge", signed_in, "/?kind=due")
    assert f"Alert {alert_id} acknowledged" in flash(html) and "<h1>Worklist</h1>" in html
    assert f"/alerts/{alert_id}/acknowledge" not in html


def test_a_forged_row_action_is_refused(client: TestClient, signed_in: str) -> None:
    line = next(r for r in rows(client.get("/").text) if "/acknowledge" in r)
    alert_id = re.search(r"/alerts/(\d+)/acknowledge", line).group(1)  # type: ignore[union-attr]
    html = post_form(client, f"/alerts/{alert_id}/acknowledge", "forged", "/")
    assert "expired" in flash(html)


def name(deps: Deps, mrn: str, text: str) -> None:
    patients.record_event(
        deps, mrn, "demographics_corrected", {"name": text}, reason="spelling", actor="c.jones"
    )


@pytest.mark.parametrize("query", ["demo-009", "DEMO-00", "Harper", "harper", "nobody"])
def test_the_search_finds_patients_by_mrn_or_name(
    client: TestClient, signed_in: str, deps: Deps, query: str
) -> None:
    name(deps, "DEMO-006", "Ada Harper")
    on_list = {i.mrn for i in alerting.worklist(deps)}
    needle = query.casefold()
    expected = {m for m in on_list if needle in m.casefold() or (needle in "ada harper" and m == "DEMO-006")}
    html = client.get(f"/?q={query}").text
    if not expected:
        assert "Nothing to act on with these filters" in html
        return
    shown = set(re.findall(r'data-label="Patient"><a href="/patients/([^"#?]+)">', html))
    assert shown == expected
    assert f'value="{query}"' in html


def test_the_csv_holds_the_lines_shown_with_the_same_filters(client: TestClient, signed_in: str) -> None:
    html = client.get("/?severity=warning").text
    response = client.get("/worklist.csv?severity=warning")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert re.match(
        r'attachment; filename="worklist-2026-03-02\.csv"', response.headers["content-disposition"]
    )
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == [
        "Severity",
        "Patient",
        "Name",
        "What",
        "Step",
        "Rule",
        "Track",
        "Window",
        "Late",
        "Alert",
    ]
    assert [r[1] for r in table[1:]] == re.findall(
        r'<td class="nowrap" data-label="Patient"><a href="/patients/([^"]+)"', html
    )
    assert all(r[0] in ("warning", "critical") for r in table[1:])


def test_the_csv_needs_a_session(client: TestClient) -> None:
    assert client.get("/worklist.csv").status_code in (303, 401)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("DEMO-1", "DEMO-1"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_defused(cell: str, written: str) -> None:
    assert safe_cell(cell) == written


def test_a_name_that_looks_like_a_formula_is_written_as_text(
    client: TestClient, signed_in: str, deps: Deps
) -> None:
    name(deps, "DEMO-006", '=HYPERLINK("http://x")')
    table = list(csv.reader(io.StringIO(client.get("/worklist.csv?q=DEMO-006").text)))
    assert len(table) > 1 and all(r[2] == '\'=HYPERLINK("http://x")' for r in table[1:])
