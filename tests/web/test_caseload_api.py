"""The API for care teams and bookings: assignment (If-Match, audited, clear refusals), the
worklist's mine/team filters, and booking an open follow-up."""

from __future__ import annotations

from pathway.ports import Deps
from pathway.services import caseload
from tests.web.conftest import TestClient, bearer

PROBLEM = "application/problem+json"


def _team(deps: Deps) -> None:
    caseload.add_team(deps, "team-a", None, None, by="admin.one")
    caseload.join(deps, "coordinator.one", "team-a", by="admin.one")


def test_assignment_through_the_api_filters_the_worklist_and_refuses_bad_input(
    client: TestClient, tokens: dict[str, str], deps: Deps
) -> None:
    _team(deps)
    me = bearer(tokens["coordinator"])
    url = "/api/v1/patients/DEMO-006/assignment"
    assert client.get(url, headers=me).json() is None
    etag = client.get("/api/v1/patients/DEMO-006", headers=me).headers["etag"]
    done = client.post(
        url, headers={**me, "If-Match": etag}, json={"team": "team-a", "coordinator": "coordinator.one"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["coordinator"] == "coordinator.one" and done.json()["assigned_by"] == "coordinator.one"
    assert client.get(url, headers=me).json()["team"] == "team-a"

    mine = client.get("/api/v1/worklist?mine=true", headers=me).json()["items"]
    assert mine and {i["mrn"] for i in mine} == {"DEMO-006"}
    team = client.get("/api/v1/worklist?team=team-a", headers=me).json()["items"]
    assert {i["mrn"] for i in team} == {"DEMO-006"}
    everyone = client.get("/api/v1/worklist", headers=me).json()["items"]
    assert len({i["mrn"] for i in everyone}) > 1

    for body, says in (
        ({"team": "team-z"}, "no team 'team-z'"),
        ({"team": "team-a", "coordinator": "ghost"}, "no user 'ghost'"),
        ({"team": "team-a", "coordinator": "viewer.one"}, "viewer.one is not in team team-a"),
    ):
        refused = client.post("/api/v1/patients/DEMO-007/assignment", headers=me, json=body)
        assert refused.status_code in (400, 404, 422), refused.text
        assert refused.headers["content-type"].startswith(PROBLEM) and says in refused.text
    assert client.get("/api/v1/patients/DEMO-007/assignment", headers=me).json() is None
    stale = client.post(url, headers={**me, "If-Match": 'W/"999"'}, json={"team": "team-a"})
    assert stale.status_code == 412
    viewer = client.post(url, headers=bearer(tokens["viewer"]), json={"team": "team-a"})
    assert viewer.status_code == 403


def test_a_booking_through_the_api_shows_on_the_worklist(client: TestClient, tokens: dict[str, str]) -> None:
    me = bearer(tokens["coordinator"])
    items = client.get("/api/v1/worklist", headers=me).json()["items"]
    [step, *_] = [i for i in items if i["kind"] in ("due", "overdue") and i["alert_id"] is None]
    region = step["step"].rsplit("(", 1)[1].rstrip(")") if step["step"].endswith(")") else None
    answer = client.post(
        f"/api/v1/patients/{step['mrn']}/bookings",
        headers=me,
        json={"rule": step["rule"], "region": region, "on": "2026-03-04", "note": "slot 2"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["event"]["event"] == "step_booked" and answer.json()["on"] == "2026-03-04"
    after = client.get("/api/v1/worklist", headers=me).json()["items"]
    [line] = [
        i for i in after if (i["mrn"], i["rule"], i["step"]) == (step["mrn"], step["rule"], step["step"])
    ]
    assert (line["kind"], line["booking"]) == ("booked", "booked for 4 Mar")
    bad = client.post(
        f"/api/v1/patients/{step['mrn']}/bookings", headers=me, json={"rule": "T999", "on": "2026-03-04"}
    )
    assert bad.status_code == 404 and "no follow-up rule" in bad.text
