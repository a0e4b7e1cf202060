"""End to end: one patient followed for a year through the real CLI, time moved by freezegun.

Day 0 is Monday 2026-03-02 (enrolment). Each step moves the clock, runs `pathway sweep`, and checks
the worklist (`due --json`) and the live alerts (`alerts --json`) as a coordinator would see them.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok

Item = tuple[str, str, str | None]  # (rule, kind, severity) of a worklist line
# The recurring reviews (neuro exam T11, palliative visits T17/A22, pain score at each exam A18,
# contact A32) have their own story in test_reviews_cli.py; this year follows the rest.
REVIEWS = {"T11", "T17", "A22", "A18", "A32"}


class Year:
    def __init__(self, cli: Cli, frozen: FrozenDateTimeFactory) -> None:
        self.cli, self.frozen = cli, frozen

    def at(self, when: str) -> dict[str, Any]:
        """Move the clock to `when` ('YYYY-MM-DD' means 09:00 UTC; or 'YYYY-MM-DD HH:MM') and sweep."""
        self.frozen.move_to(f"{when if ' ' in when else when + ' 09:00'}+00:00")
        changes: dict[str, Any] = as_json(self.cli("sweep", "--json"))
        return changes

    def record(self, event: str, *values: str, on: str | None = None) -> None:
        sets = [arg for value in values for arg in ("--set", value)]
        ok(self.cli("record", "MRN-1", event, *sets, *(["--on", on] if on else [])))
        ok(self.cli("sweep"))

    def due(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = as_json(self.cli("due", "--json"))
        return [i for i in items if i["rule"] not in REVIEWS]

    def due_lines(self) -> list[Item]:
        return [(i["rule"], i["kind"], i["severity"]) for i in self.due()]

    def alerts(self, status: str = "live") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = as_json(self.cli("alerts", "--status", status, "--json"))
        return [r for r in rows if r["rule"] not in REVIEWS]

    def alert_lines(self) -> list[tuple[str, str, str]]:
        return sorted((a["rule"], a["severity"], a["status"]) for a in self.alerts())

    def why_t09(self) -> dict[str | None, dict[str, Any]]:
        return {e["region"]: e for e in as_json(self.cli("why", "MRN-1", "T09", "--json"))}


@pytest.fixture
def year(cli: Cli, frozen: FrozenDateTimeFactory) -> Year:
    ok(cli("init"))
    return Year(cli, frozen)


def test_one_patient_followed_for_a_year(year: Year) -> None:
    # Day 0: enrolment opens the baseline steps, nothing is late.
    ok(year.cli("enroll", "MRN-1", "--histology", "sts", "--on", "2026-03-02"))
    year.at("2026-03-02")
    assert year.due_lines() == [
        ("T12", "due", None),
        ("T13", "due", None),
        ("T01", "due", None),
        ("T28", "due", None),
        ("T16", "due", None),
    ]
    assert year.alerts() == []

    # Day 2: baseline neuro exam, pain score, fracture risk and palliative referral, on time.
    year.at("2026-03-04")
    year.record("neuro_exam", "finding=baseline", on="2026-03-04")
    year.record("pain_score", "nrs=2", on="2026-03-04")
    year.record("fracture_risk_assessed", "sins=3", on="2026-03-04")
    year.record("palliative_referral", on="2026-03-04")
    assert year.due_lines() == [("T01", "due", None)]

    # Day 10: MDT, unresectable, definitive RT: the RT start clock (T02) runs.
    year.at("2026-03-12")
    year.record("mdt_decision", "resectability=unresectable", "plan=definitive_rt", on="2026-03-12")
    assert year.due_lines() == [("T02", "due", None)]
    assert [i["closes"] for i in year.due()] == ["2026-04-23"]

    # Day 25: RT starts within its target; nothing is due in the next week.
    year.at("2026-03-27")
    year.record("rt_started", on="2026-03-27")
    assert year.due() == [] and year.alerts() == []

    # Day 70: RT completed; response imaging anchors on it, per region.
    year.at("2026-05-11")
    year.record("rt_completed", on="2026-05-11")
    why = year.why_t09()
    assert set(why) == {"pelvis_sacrum", "chest"}
    assert why["pelvis_sacrum"]["anchor"] == "rt_completed (event 7)"
    assert "RECIST 1.1" in why["pelvis_sacrum"]["source"] and why["pelvis_sacrum"]["kind"] == "seed"
    assert why["chest"]["window"] == {"opens": "2026-06-22", "target": "2026-07-06", "closes": "2026-08-03"}
    assert [lv["alert"] for lv in why["chest"]["alert_levels"]] == ["A10", "A10"]

    # Day 100: the physical examination is due and done.
    year.at("2026-06-10")
    assert year.due_lines() == [("T10", "due", None)]
    year.record("exam_done", on="2026-06-10")

    # Day 126: first pelvis MRI and chest CT, on target.
    year.at("2026-07-06")
    assert sorted(year.due_lines()) == [("T09", "due", None), ("T09", "due", None)]
    year.record("imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-07-06")
    year.record("imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-07-06")
    assert year.due() == [] and year.alerts() == []
    why = year.why_t09()
    assert why["pelvis_sacrum"]["anchor"] == "imaging_done done (event 9)"
    assert why["pelvis_sacrum"]["window"]["closes"] == "2026-09-28"

    # The next chest CT on time; the pelvis MRI is missed and its window closes on 2026-09-28.
    year.at("2026-09-01")
    year.record("imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-09-01")
    changes = year.at("2026-10-05")
    assert changes["alerts_opened"] == 1
    [late, exam] = year.due()
    assert (late["rule"], late["kind"], late["severity"], late["alert_rule"]) == (
        "T09",
        "overdue",
        "warning",
        "A10",
    )
    assert late["step"] == "Response imaging (pelvis_sacrum)" and late["days_late"] == 7
    assert (exam["rule"], exam["kind"], exam["severity"]) == ("T10", "due", None)
    [a10] = year.alerts()
    assert (a10["rule"], a10["severity"], a10["status"]) == ("A10", "warning", "open")
    assert "pelvis_sacrum" in a10["message"] and a10["source"].startswith("Seed: imaging every")
    year.record("imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-10-05")
    assert year.alerts() == []
    [resolved] = [a for a in year.alerts("all") if a["id"] == a10["id"]]
    assert resolved["status"] == "resolved" and resolved["resolution"].startswith("done on")
    assert year.due_lines() == [("T10", "due", None)]

    # The physical examination (window closed 2026-10-10) is missed and never recorded.
    year.at("2026-10-12")
    assert year.due_lines() == [("T10", "overdue", "warning"), ("T09", "soon", None)]  # chest
    assert year.due()[0]["alert_rule"] == "A16" and year.due()[0]["days_late"] == 2
    assert year.alert_lines() == [("A16", "warning", "open")]

    # A new neurological deficit at 10:00: the MSCC clocks (60 min, 2 h, 24 h) start.
    year.at("2026-11-02 10:00")
    year.record("neuro_exam", "finding=new_deficit")
    assert {("A01", "due", None), ("T04", "due", None), ("T06", "due", None)} <= set(year.due_lines())
    changes = year.at("2026-11-02 12:30")
    assert changes["alerts_opened"] == 2
    first = year.due()[0]
    assert first["severity"] == "critical" and first["alert_rule"] in ("A01", "A04")
    assert not first["held"]
    assert year.alert_lines() == [
        ("A01", "critical", "open"),
        ("A04", "critical", "open"),
        ("A16", "warning", "open"),
    ]
    # only sacral imaging may wait behind an MSCC alert: the overdue exam still notifies
    assert {a["rule"]: a["held"] for a in year.alerts()} == {"A01": False, "A04": False, "A16": False}
    assert [i["held"] for i in year.due() if i["rule"] == "T10"] == [False]
    year.at("2026-11-03 10:30")
    assert [i["alert_rule"] for i in year.due()][:3] == ["A01", "A04", "A02"]

    # The whole-spine MRI shows no compression: the urgent alerts resolve, the hold lifts.
    year.record("mri_whole_spine_done", "compression=no")
    assert year.alert_lines() == [("A16", "warning", "open")]
    assert [a["held"] for a in year.alerts()] == [False]
    assert all(i["severity"] != "critical" for i in year.due())

    # The chest CT due in November is missed: a warning on 2026-12-01 ...
    year.at("2026-12-01")
    assert year.alert_lines() == [("A10", "warning", "open"), ("A16", "warning", "open")]

    # ... and one year after enrolment both regions are critical, the chest warning escalated.
    changes = year.at("2027-03-02")
    assert (changes["alerts_escalated"], changes["alerts_opened"]) == (1, 3)  # and T11 (neuro exam)
    assert year.alert_lines() == [
        ("A10", "critical", "open"),
        ("A10", "critical", "open"),
        ("A16", "warning", "open"),
    ]
    escalated = [
        a
        for a in year.alerts("all")
        if a["rule"] == "A10"
        and a["severity"] == "warning"
        and a["status"] == "resolved"
        and a["resolution"] == "escalated to critical"
    ]
    assert len(escalated) == 1
    assert [i["rule"] for i in year.due()][:2] == ["T09", "T09"]
    assert year.at("2027-03-02")["changes"] == []
    status = as_json(year.cli("status", "MRN-1", "--json"))
    assert status["tracks"]["main"] == "surveillance" and status["tracks"]["mscc"] == "none"
