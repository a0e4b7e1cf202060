"""Care teams, assignment, my caseload, caseload hand-over, team notification routes and
bookings through the real CLI (SQLite and PostgreSQL, freezegun)."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


def _token(cli: Cli, name: str, role: str, admin: dict[str, str] | None = None) -> dict[str, str]:
    issued = as_json(cli("users", "add", name, "--role", role, "--json", env=admin or {}))
    return {"PATHWAY_TOKEN": issued["token"]}


@pytest.fixture
def site(cli: Cli) -> dict[str, Any]:
    """Two teams, three coordinators, four patients: MRN-1 named to c.one, MRN-2 shared by team a,
    MRN-3 named to c.two in team b, MRN-4 in no team."""
    ok(cli("init"))
    for mrn in ("MRN-1", "MRN-2", "MRN-3", "MRN-4"):
        ok(cli("enroll", mrn, "--on", "2026-02-02", "--histology", "sts"))
    admin = _token(cli, "lead", "admin")
    env = {"admin": admin} | {n: _token(cli, n, "coordinator", admin) for n in ("c.one", "c.two", "c.three")}
    ok(cli("teams", "add", "team-a", "--notify-email", "team-a@hospital.example", env=admin))
    ok(cli("teams", "add", "team-b", env=admin))
    for user, team in (
        ("c.one", "team-a"),
        ("c.two", "team-b"),
        ("c.three", "team-a"),
        ("c.three", "team-b"),
    ):
        ok(cli("users", "join", user, team, env=admin))
    ok(cli("assign", "MRN-1", "--team", "team-a", "--coordinator", "c.one", env=env["c.one"]))
    ok(cli("assign", "MRN-2", "--team", "team-a", env=env["c.one"]))
    ok(cli("assign", "MRN-3", "--team", "team-b", "--coordinator", "c.two", env=env["c.two"]))
    return env


def _mrns(cli: Cli, *args: str, env: dict[str, str]) -> set[str]:
    return {i["mrn"] for i in as_json(cli("due", "--json", "--limit", "0", *args, env=env))}


def test_my_caseload_is_my_named_patients_and_my_teams_shared_ones(cli: Cli, site: dict[str, Any]) -> None:
    everyone = _mrns(cli, env=site["admin"])
    assert everyone == {"MRN-1", "MRN-2", "MRN-3", "MRN-4"}
    assert _mrns(cli, "--mine", env=site["c.one"]) == {"MRN-1", "MRN-2"}
    assert _mrns(cli, "--mine", env=site["c.two"]) == {"MRN-3"}
    assert _mrns(cli, "--mine", env=site["c.three"]) == {"MRN-2"}  # shared in team a, nothing named
    assert _mrns(cli, "--team", "team-a", env=site["c.two"]) == {"MRN-1", "MRN-2"}
    assert _mrns(cli, "--mine", "--team", "team-b", env=site["c.one"]) == set()
    assert _mrns(cli, "--mine", env=site["admin"]) == set()  # in no team
    assert "PATHWAY_TOKEN" in refused(cli("due", "--mine"))
    assert "no team 'team-z'" in refused(cli("due", "--team", "team-z", env=site["admin"]))


def test_assignment_refuses_unknown_teams_users_and_outsiders_and_writes_nothing(
    cli: Cli, site: dict[str, Any]
) -> None:
    c_one = site["c.one"]
    before = as_json(cli("audit", "--mrn", "MRN-4", "--json", env=site["admin"]))
    assert "no team 'team-z'" in refused(cli("assign", "MRN-4", "--team", "team-z", env=c_one))
    assert "no user 'ghost'" in refused(
        cli("assign", "MRN-4", "--team", "team-a", "--coordinator", "ghost", env=c_one)
    )
    assert "c.two is not in team team-a" in refused(
        cli("assign", "MRN-4", "--team", "team-a", "--coordinator", "c.two", env=c_one)
    )
    assert "MRN-404" in refused(cli("assign", "MRN-404", "--team", "team-a", env=c_one))
    assert as_json(cli("audit", "--mrn", "MRN-4", "--json", env=site["admin"])) == before
    assert _mrns(cli, "--team", "team-a", env=c_one) == {"MRN-1", "MRN-2"}
    # a viewer may not assign; only an admin manages teams and membership
    viewer = _token(cli, "v.one", "viewer", site["admin"])
    assert cli("assign", "MRN-4", "--team", "team-a", env=viewer).exit_code == 2
    assert cli("users", "join", "c.two", "team-a", env=c_one).exit_code == 2
    assert cli("teams", "add", "team-c", env=c_one).exit_code == 2
    assert "already exists" in cli("teams", "add", "team-a", env=site["admin"]).stderr


def test_an_assignment_change_is_recorded_with_who_and_what_it_was(cli: Cli, site: dict[str, Any]) -> None:
    ok(cli("assign", "MRN-1", "--team", "team-a", "--coordinator", "c.three", env=site["c.one"]))
    [latest, *_] = as_json(cli("audit", "--mrn", "MRN-1", "--json", env=site["admin"]))
    assert (latest["action"], latest["actor"]) == ("assign", "c.one")
    assert latest["detail"]["coordinator"] == "c.three" and latest["detail"]["was_coordinator"] == "c.one"
    teams = {t["name"]: t for t in as_json(cli("teams", "list", "--json"))}
    assert teams["team-a"]["members"] == ["c.one", "c.three"]
    assert teams["team-a"]["notify"] == {
        "channel": "email",
        "to": "team-a@hospital.example",
        "from": "warning",
    }


def test_a_caseload_hand_over_moves_every_named_patient_in_one_recorded_act(
    cli: Cli, site: dict[str, Any]
) -> None:
    admin = site["admin"]
    ok(cli("assign", "MRN-4", "--team", "team-b", "--coordinator", "c.two", env=admin))
    # c.one is not in team b: the whole hand-over is refused, nothing moves
    assert "c.one is not in team team-b" in refused(
        cli("handover", "--from", "c.two", "--to", "c.one", env=admin)
    )
    assert _mrns(cli, "--mine", env=site["c.two"]) == {"MRN-3", "MRN-4"}
    out = ok(cli("handover", "--from", "c.two", "--to", "c.three", env=site["c.two"])).stdout
    assert "2 patient(s) handed over from c.two to c.three: MRN-3, MRN-4" in out
    assert _mrns(cli, "--mine", env=site["c.two"]) == set()
    assert _mrns(cli, "--mine", env=site["c.three"]) == {"MRN-2", "MRN-3", "MRN-4"}
    trail = as_json(cli("audit", "--json", env=admin))
    [act] = [e for e in trail if e["action"] == "caseload_handover"]
    assert act["detail"] == {"from": "c.two", "to": "c.three", "mrns": ["MRN-3", "MRN-4"]}
    assert act["actor"] == "c.two"
    assert "nothing to hand over" in refused(cli("handover", "--from", "c.two", "--to", "c.one", env=admin))
    # a member who still coordinates patients cannot leave the team
    assert "hand them over first" in cli("users", "leave", "c.three", "team-b", env=admin).stderr
    ok(cli("users", "leave", "c.two", "team-b", env=admin))
    # the exit summary form is still there
    assert "no hand-over summary" in refused(cli("handover", "MRN-1", env=admin))


def test_a_teams_own_address_gets_its_patients_alerts_besides_the_site_route(
    cli: Cli, site: dict[str, Any], frozen: FrozenDateTimeFactory
) -> None:
    frozen.move_to("2026-03-10 09:00+00:00")  # the baseline steps are late: warning alerts
    ok(cli("sweep"))
    rows = as_json(cli("notifications", "--json", env=site["admin"]))
    alerts = {a["id"]: a for a in as_json(cli("alerts", "--json"))}
    by_mrn: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        a = alerts[r["alert_id"]]
        by_mrn.setdefault(a["mrn"], set()).add((r["channel"], r["recipient"], a["severity"]))
    team_a = ("email", "team-a@hospital.example")
    for mrn in ("MRN-1", "MRN-2"):  # team a's patients
        sent = by_mrn[mrn]
        assert {(c, t) for c, t, s in sent if s != "info"} >= {team_a, ("log", "log")}
        assert all((c, t) != team_a for c, t, s in sent if s == "info")  # below its floor
    for mrn in ("MRN-3", "MRN-4"):  # team b has no address; MRN-4 no team
        assert {(c, t) for c, t, _ in by_mrn[mrn]} == {("log", "log")}
