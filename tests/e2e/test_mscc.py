"""Spinal-compression (MSCC) clocks end to end: the real CLI, SQLite and PostgreSQL, freezegun time.

Issue 11 items 1-4: a deficit from any MSCC state re-arms A01/A02/A04 with its own instance; a
pain-only suspicion runs T05/A03 instead; hour clocks refuse a date without a time; dexamethasone
rules (A04b in an episode, A04c, A46) and what may wait behind a critical MSCC alert.
Every hour clock is checked to the minute before and at the instant it fires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused

LIVE = ("open", "acknowledged", "snoozed")


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def enrol(cli: Cli, mrn: str, on: str = "2026-03-02") -> None:
    ok(cli("enroll", mrn, "--histology", "sts", "--on", on))


def record(cli: Cli, mrn: str, event: str, *fields: str, at: str | None = None, on: str | None = None) -> str:
    args = ["record", mrn, event, "--by", "j.smith"]
    for f in fields:
        args += ["--set", f]
    if at:
        args += ["--at", at]
    if on:
        args += ["--on", on]
    return str(ok(cli(*args)).stdout)


def alerts(cli: Cli, mrn: str) -> list[dict[str, Any]]:
    ok(cli("sweep"))
    rows: list[dict[str, Any]] = as_json(cli("alerts", "--status", "all", "--mrn", mrn, "--json"))
    return rows


def live(cli: Cli, mrn: str, rule: str) -> list[dict[str, Any]]:
    return [a for a in alerts(cli, mrn) if a["rule"] == rule and a["status"] in LIVE]


def local(text: str) -> datetime:
    """Clinic-local time in March (GMT, the same as UTC) as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires_exactly_at(
    cli: Cli, frozen: FrozenDateTimeFactory, mrn: str, rule: str, when: datetime
) -> dict[str, Any]:
    """Nothing live for `rule` one minute before `when`; exactly one critical-or-lower alert at it."""
    frozen.move_to(when - timedelta(minutes=1))
    assert live(cli, mrn, rule) == [], f"{rule} fired before {when}"
    frozen.move_to(when)
    [alert] = live(cli, mrn, rule)
    assert datetime.fromisoformat(alert["opened_at"]) == when
    assert alert["source"].strip()
    return alert


# --- item 1: a deficit from any MSCC state opens or re-arms the episode ---------------------------


def treated_episode(cli: Cli, frozen: FrozenDateTimeFactory, mrn: str) -> int:
    """A first episode escalated 10 minutes late (its A01 fired, then resolved), then MRI,
    treatment and a dexamethasone taper; returns the first episode's A01 alert id."""
    enrol(cli, mrn)
    record(cli, mrn, "neuro_exam", "finding=new_deficit", at="2026-03-02T09:00")
    first = fires_exactly_at(cli, frozen, mrn, "A01", local("2026-03-02T10:00"))
    frozen.move_to(local("2026-03-02T10:10"))
    record(cli, mrn, "mscc_escalated", "contact=mscc_coordinator", at="2026-03-02T10:10")
    record(
        cli,
        mrn,
        "dexamethasone_started",
        "dose_mg_per_day=16",
        "indication=mscc_neuro",
        at="2026-03-02T09:40",
    )
    frozen.move_to(local("2026-03-02T15:00"))
    record(cli, mrn, "mri_whole_spine_done", "compression=yes", at="2026-03-02T14:00")
    record(cli, mrn, "mscc_treatment_decided", "treatment=rt", at="2026-03-02T15:00")
    frozen.move_to(local("2026-03-03T10:00"))
    assert "mscc: confirmed → treated" in record(cli, mrn, "mscc_treatment_started", "treatment=rt")
    frozen.move_to(local("2026-03-09T10:00"))
    record(cli, mrn, "dexamethasone_changed", "change=taper", "dose_mg_per_day=8")
    assert [a for a in alerts(cli, mrn) if a["status"] in LIVE] == []
    return int(first["id"])


def test_a_worsening_deficit_after_treatment_opens_a_new_episode_whose_clocks_fire_to_the_minute(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    first_a01 = treated_episode(cli, frozen, "MRN-1")
    frozen.move_to(local("2026-03-20T08:00"))
    out = record(cli, "MRN-1", "neuro_exam", "finding=worsening", at="2026-03-20T08:00")
    assert "mscc: treated → suspected" in out

    deficit = local("2026-03-20T08:00")
    a01 = fires_exactly_at(cli, frozen, "MRN-1", "A01", deficit + timedelta(minutes=60))
    # 8 mg (a taper) is active, below dex_mscc_dose_mg: the dexamethasone clock runs again
    a04 = fires_exactly_at(cli, frozen, "MRN-1", "A04", deficit + timedelta(hours=2))
    a02 = fires_exactly_at(cli, frozen, "MRN-1", "A02", deficit + timedelta(hours=24))
    assert {a01["severity"], a04["severity"], a02["severity"]} == {"critical"}
    # a new alert row: the first episode's resolved A01 is not reopened
    assert all(a["status"] == "open" for a in (a01, a04, a02))
    assert a01["id"] != first_a01
    [old] = [a for a in alerts(cli, "MRN-1") if a["id"] == first_a01]
    assert old["status"] == "resolved"
    assert "2026-03-20" in a01["message"] and "neuro_exam" in a01["message"]


def test_a_deficit_whose_steps_are_done_in_time_raises_nothing(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    treated_episode(cli, frozen, "MRN-2")
    frozen.move_to(local("2026-03-20T08:00"))
    record(cli, "MRN-2", "neuro_exam", "finding=worsening", at="2026-03-20T08:00")
    frozen.move_to(local("2026-03-20T08:59"))
    record(cli, "MRN-2", "mscc_escalated", "contact=urgent_oncology_review")
    frozen.move_to(local("2026-03-20T09:59"))
    record(cli, "MRN-2", "dexamethasone_started", "dose_mg_per_day=16", "indication=mscc_neuro")
    frozen.move_to(local("2026-03-21T07:59"))
    record(cli, "MRN-2", "mri_whole_spine_done", "compression=yes")
    frozen.move_to(local("2026-03-22T12:00"))
    second = [a for a in alerts(cli, "MRN-2") if a["opened_at"] >= "2026-03-20"]
    assert [a for a in second if a["rule"] in ("A01", "A02", "A04")] == []


def test_a_second_deficit_in_an_open_episode_rearms_without_hiding_the_missed_escalation(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-3")
    record(cli, "MRN-3", "neuro_exam", "finding=new_deficit", at="2026-03-02T09:00")
    record(cli, "MRN-3", "dexamethasone_started", "dose_mg_per_day=16", "indication=mscc_neuro")
    first = fires_exactly_at(cli, frozen, "MRN-3", "A01", local("2026-03-02T10:00"))
    frozen.move_to(local("2026-03-02T11:30"))
    record(cli, "MRN-3", "neuro_exam", "finding=worsening", at="2026-03-02T11:30")
    # the missed escalation stays open; the re-armed one fires 60 minutes after the new exam
    frozen.move_to(local("2026-03-02T12:29"))
    assert [a["id"] for a in live(cli, "MRN-3", "A01")] == [first["id"]]
    frozen.move_to(local("2026-03-02T12:30"))
    assert len(live(cli, "MRN-3", "A01")) == 2
    assert live(cli, "MRN-3", "A04") == []  # 16 mg active: no new dexamethasone clock
    record(cli, "MRN-3", "mscc_escalated", "contact=mscc_coordinator")
    assert live(cli, "MRN-3", "A01") == []


def test_starting_treatment_does_not_hide_a_missed_dexamethasone_dose(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-4")
    record(cli, "MRN-4", "neuro_exam", "finding=new_deficit", at="2026-03-02T09:00")
    frozen.move_to(local("2026-03-02T09:20"))
    record(cli, "MRN-4", "mscc_escalated", "contact=mscc_coordinator")
    a04 = fires_exactly_at(cli, frozen, "MRN-4", "A04", local("2026-03-02T11:00"))
    frozen.move_to(local("2026-03-02T15:00"))
    record(cli, "MRN-4", "mri_whole_spine_done", "compression=yes", at="2026-03-02T14:00")
    record(cli, "MRN-4", "mscc_treatment_decided", "treatment=rt", at="2026-03-02T15:00")
    frozen.move_to(local("2026-03-03T10:00"))
    assert "mscc: confirmed → treated" in record(cli, "MRN-4", "mscc_treatment_started", "treatment=rt")
    assert [a["id"] for a in live(cli, "MRN-4", "A04")] == [a04["id"]]  # still open, still critical
    record(cli, "MRN-4", "dexamethasone_started", "dose_mg_per_day=16", "indication=mscc_neuro")
    assert live(cli, "MRN-4", "A04") == []
    assert [a for a in alerts(cli, "MRN-4") if a["status"] in LIVE] == []


# --- item 2: suspicion from pain alone ------------------------------------------------------------


def test_mscc_suspected_needs_neuro_signs(cli: Cli) -> None:
    enrol(cli, "MRN-4")
    line = refused(cli("record", "MRN-4", "mscc_suspected", "--by", "j.smith"))
    assert "neuro_signs" in line
    assert as_json(cli("history", "MRN-4", "--json"))["events"] == []


def test_pain_only_suspicion_runs_the_7_day_mri_and_plan_clock_and_no_hour_clock(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    for mrn in ("MRN-5", "MRN-6", "MRN-7"):
        enrol(cli, mrn)
        out = record(cli, mrn, "mscc_suspected", "neuro_signs=no", on="2026-03-02")
        assert "mscc: none → suspected_pain" in out
    frozen.move_to(local("2026-03-06T12:00"))
    assert [a for a in alerts(cli, "MRN-5") if a["rule"] in ("A01", "A02", "A04")] == []
    # MRN-6: MRI with compression and a plan in time; MRN-7: MRI excludes compression
    record(cli, "MRN-6", "mri_whole_spine_done", "compression=yes", on="2026-03-05")
    record(cli, "MRN-6", "mscc_treatment_decided", "treatment=surgery", at="2026-03-06T10:00")
    record(cli, "MRN-7", "mri_whole_spine_done", "compression=no", on="2026-03-05")
    # the window is 7 clinic days: it closes at the end of 9 March (local midnight)
    a03 = fires_exactly_at(cli, frozen, "MRN-5", "A03", local("2026-03-10T00:00"))
    assert a03["severity"] == "warning" and "QS56" in a03["source"]
    assert [a for a in alerts(cli, "MRN-5") if a["rule"] in ("A01", "A02", "A04")] == []
    assert live(cli, "MRN-6", "A03") == [] and live(cli, "MRN-7", "A03") == []
    why = ok(cli("why", "MRN-5", "T05")).stdout
    assert "done by: all of mri_whole_spine_done and mscc_treatment_decided" in why and "QS56" in why


def test_a_deficit_upgrades_a_pain_only_suspicion_to_the_hour_clocks(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-8")
    record(cli, "MRN-8", "mscc_suspected", "neuro_signs=no", on="2026-03-02")
    frozen.move_to(local("2026-03-04T13:00"))
    assert "suspected_pain → suspected" in record(cli, "MRN-8", "neuro_exam", "finding=new_deficit")
    upgrade = local("2026-03-04T13:00")
    fires_exactly_at(cli, frozen, "MRN-8", "A01", upgrade + timedelta(minutes=60))
    fires_exactly_at(cli, frozen, "MRN-8", "A04", upgrade + timedelta(hours=2))
    fires_exactly_at(cli, frozen, "MRN-8", "A02", upgrade + timedelta(hours=24))


# --- item 3: hour clocks need a time ----------------------------------------------------------------


def test_an_event_that_starts_an_hour_clock_is_refused_with_a_date_alone(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-9", on="2026-02-20")
    cases = [
        ("neuro_exam", "finding=new_deficit"),
        ("neuro_exam", "finding=worsening"),
        ("mscc_suspected", "neuro_signs=yes"),
        ("pain_score", "nrs=7"),
    ]
    for event, field in cases:
        line = refused(cli("record", "MRN-9", event, "--set", field, "--on", "2026-03-01", "--by", "j.smith"))
        assert "--at" in line and "without a date" in line, line
    assert as_json(cli("history", "MRN-9", "--json"))["events"] == []
    # no hour clock, a date is enough
    record(cli, "MRN-9", "neuro_exam", "finding=stable", on="2026-03-01")
    record(cli, "MRN-9", "pain_score", "nrs=6", on="2026-03-01")
    # the decision to treat with RT starts A05's 24-hour clock; surgery does not
    record(cli, "MRN-9", "mri_whole_spine_done", "compression=yes", on="2026-03-01")
    refused(cli("record", "MRN-9", "mscc_treatment_decided", "--set", "treatment=rt", "--on", "2026-03-01"))
    record(cli, "MRN-9", "mscc_treatment_decided", "treatment=rt", at="2026-03-01T16:30")
    fires_exactly_at(cli, frozen, "MRN-9", "A05", local("2026-03-02T16:30"))


def test_at_anchors_the_clock_at_the_time_it_happened(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    enrol(cli, "MRN-10", on="2026-02-20")
    record(cli, "MRN-10", "mscc_suspected", "neuro_signs=yes", at="2026-03-01T22:15")
    assert datetime.fromisoformat(live(cli, "MRN-10", "A04")[0]["opened_at"]) == local("2026-03-02T00:15")
    fires_exactly_at(cli, frozen, "MRN-10", "A02", local("2026-03-02T22:15"))


# --- item 4: dexamethasone and what may wait behind an urgent alert ---------------------------------


def test_a04b_fires_in_an_episode_whatever_the_indication_and_a04c_when_mri_excludes(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-11")
    record(cli, "MRN-11", "neuro_exam", "finding=new_deficit", at="2026-03-02T09:00")
    record(cli, "MRN-11", "dexamethasone_started", "dose_mg_per_day=8", "indication=neuropathic_pain")
    [a04b] = live(cli, "MRN-11", "A04b")
    assert a04b["severity"] == "warning" and not a04b["held"] and "NG234" in a04b["source"]
    frozen.move_to(local("2026-03-02T13:00"))
    record(cli, "MRN-11", "dexamethasone_started", "dose_mg_per_day=16", "indication=mscc_neuro")
    assert live(cli, "MRN-11", "A04c") == []
    record(cli, "MRN-11", "mri_whole_spine_done", "compression=no")
    [a04c] = live(cli, "MRN-11", "A04c")
    assert a04c["severity"] == "info"
    # outside an episode, a neuropathic dose is what it says
    enrol(cli, "MRN-12")
    record(cli, "MRN-12", "dexamethasone_started", "dose_mg_per_day=8", "indication=neuropathic_pain")
    record(cli, "MRN-12", "mri_whole_spine_done", "compression=no")
    assert live(cli, "MRN-12", "A04b") == [] and live(cli, "MRN-12", "A04c") == []


def test_a46_after_14_days_of_dexamethasone_without_a_taper_plan(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    for mrn in ("MRN-13", "MRN-14"):
        enrol(cli, mrn)
        record(cli, mrn, "dexamethasone_started", "dose_mg_per_day=8", "indication=neuropathic_pain")
    frozen.move_to(local("2026-03-10T10:00"))
    record(cli, "MRN-14", "dexamethasone_changed", "change=taper", "dose_mg_per_day=4")
    refused(cli("record", "MRN-14", "dexamethasone_changed", "--set", "change=taper", "--by", "x"))
    # 2 March + 14 days: the window closes at the end of 16 March
    a46 = fires_exactly_at(cli, frozen, "MRN-13", "A46", local("2026-03-17T00:00"))
    assert a46["severity"] == "info"
    assert live(cli, "MRN-14", "A46") == []


def test_only_sacral_imaging_waits_behind_a_critical_mscc_alert(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-15", on="2025-10-01")
    record(cli, "MRN-15", "mdt_decision", "resectability=unresectable", "plan=definitive_rt", on="2025-10-05")
    record(cli, "MRN-15", "rt_started", on="2025-10-10")
    record(cli, "MRN-15", "rt_completed", on="2025-11-20")  # response imaging overdue since February
    record(cli, "MRN-15", "pain_score", "nrs=8", at="2026-03-01T09:00")
    record(cli, "MRN-15", "neuro_exam", "finding=new_deficit", at="2026-03-02T08:00")
    record(cli, "MRN-15", "dexamethasone_started", "dose_mg_per_day=4", "indication=other")
    frozen.move_to(local("2026-03-02T09:30"))
    rows = [a for a in alerts(cli, "MRN-15") if a["status"] in LIVE]
    held = {
        a["rule"] + ":" + a["message"].split("(")[1].split(")")[0] if a["rule"] == "A10" else a["rule"]: a[
            "held"
        ]
        for a in rows
    }
    assert any(a["rule"] == "A01" and a["severity"] == "critical" for a in rows)
    assert held["A10:pelvis_sacrum"] is True
    assert held["A10:chest"] is False
    for rule in ("A01", "A04b", "A20", "A48", "A16", "A47"):
        assert held.get(rule, False) is False, (rule, held)
    assert held["A04b"] is False and held["A20"] is False
    record(cli, "MRN-15", "mscc_escalated", "contact=mscc_coordinator")
    rows = [a for a in alerts(cli, "MRN-15") if a["status"] in LIVE]
    assert not any(a["held"] for a in rows)


def test_an_import_with_a_dated_hour_clock_event_is_refused_whole(cli: Cli, tmp_path: Path) -> None:
    csv = tmp_path / "cohort.csv"
    csv.write_text(
        "mrn,enrolled_on,histology,event,on,fields\n"
        "IMP-1,2026-02-01,sts,,,\n"
        "IMP-1,,,neuro_exam,2026-02-02,finding=baseline\n"
        "IMP-1,,,neuro_exam,2026-02-10,finding=new_deficit\n",
        encoding="utf-8",
    )
    result = cli("import", str(csv), "--by", "j.smith")
    assert result.exit_code == 2, result.output
    assert "line 4" in result.stderr and "--at" in result.stderr
    assert as_json(cli("list", "--json")) == []
