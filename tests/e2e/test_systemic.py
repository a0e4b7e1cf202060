"""First-line systemic therapy end to end: the real CLI, SQLite and PostgreSQL, freezegun time.

Issue 12 items 1-3: plan=systemic from assessment (a chordoma patient on imatinib, a GCTB
patient on denosumab with its T22 loading schedule, an STS patient on doxorubicin, each to
surveillance without RT); A08 (a surgical consult while a decided RT has not started); starting
a line does not cancel overdue imaging; T08 (baseline imaging of each region in the 28 days before).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused

LIVE = ("open", "acknowledged", "snoozed")


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def noon(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=UTC)


def enrol(cli: Cli, mrn: str, histology: str = "sts", on: str = "2026-03-02") -> None:
    ok(cli("enroll", mrn, "--histology", histology, "--on", on))


def record(cli: Cli, mrn: str, event: str, *fields: str, on: str | None = None) -> str:
    args = ["record", mrn, event, "--by", "j.smith"]
    for f in fields:
        args += ["--set", f]
    if on:
        args += ["--on", on]
    return str(ok(cli(*args)).stdout)


def event_id(out: str) -> int:
    match = re.search(r"\(event (\d+)\)", out)
    assert match, out
    return int(match.group(1))


def live(cli: Cli, mrn: str, rule: str | None = None) -> list[dict[str, Any]]:
    ok(cli("sweep"))
    rows: list[dict[str, Any]] = as_json(cli("alerts", "--status", "all", "--mrn", mrn, "--json"))
    return [a for a in rows if a["status"] in LIVE and (rule is None or a["rule"] == rule)]


def main_state(cli: Cli, mrn: str) -> str:
    return str(as_json(cli("status", mrn, "--json"))["tracks"]["main"])


def baseline_bundle(cli: Cli, mrn: str) -> None:
    """What the first week asks for, so that only the rules under test can alert."""
    record(cli, mrn, "neuro_exam", "finding=baseline", on="2026-03-02")
    record(cli, mrn, "pain_score", "nrs=2", on="2026-03-02")
    record(cli, mrn, "fracture_risk_assessed", "sins=4", on="2026-03-03")
    record(cli, mrn, "palliative_referral", on="2026-03-03")
    record(cli, mrn, "imaging_done", "region=pelvis_sacrum", "modality=MRI", on="2026-03-03")
    record(cli, mrn, "imaging_done", "region=chest", "modality=CT", on="2026-03-03")


def calcium(cli: Cli, mrn: str, day: str) -> None:
    record(cli, mrn, "lab_result", "test=corrected_calcium", "value=2.4", "unit=mmol/L", on=day)


REVIEWS = ("2026-03-30", "2026-04-27", "2026-05-25")  # the monthly neuro exam and palliative visit


def keep_up(cli: Cli, mrn: str, today: str, done: set[str]) -> None:
    """The recurring reviews (T11 neuro exam, T17 palliative visit) due by `today`, on time."""
    for day in REVIEWS:
        if day <= today and day not in done:
            record(cli, mrn, "neuro_exam", "finding=stable", on=day)
            record(cli, mrn, "palliative_visit", on=day)
            done.add(day)


# --- item 1: systemic therapy as the first-line plan ---------------------------------------------

GCTB_DOSES = ("2026-03-16", "2026-03-23", "2026-04-06", "2026-05-04", "2026-06-01")


@pytest.mark.parametrize(
    ("histology", "regimen"), [("chordoma", "imatinib"), ("gctb", "denosumab_gctb"), ("sts", "doxorubicin")]
)
def test_a_first_line_systemic_journey_runs_from_enrolment_to_surveillance_without_rt(
    cli: Cli, frozen: FrozenDateTimeFactory, histology: str, regimen: str
) -> None:
    enrol(cli, "MRN-1", histology)
    frozen.move_to(noon("2026-03-05"))
    baseline_bundle(cli, "MRN-1")
    out = record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-05")
    assert "main: assessment → systemic_therapy" in out
    frozen.move_to(noon("2026-03-09"))
    if regimen == "denosumab_gctb":  # A23/A24: dental exam before dose 1, calcium before each dose
        record(cli, "MRN-1", "dental_exam", on="2026-03-05")
        calcium(cli, "MRN-1", "2026-03-05")
    if regimen == "doxorubicin":  # T23: a baseline LVEF in the 28 days before the first dose
        record(cli, "MRN-1", "lvef_measured", "lvef_percent=62", "method=echo", on="2026-03-05")
    record(cli, "MRN-1", "systemic_started", f"regimen={regimen}", "line=1", on="2026-03-09")
    assert live(cli, "MRN-1") == []  # T08: both regions imaged 6 days before
    why = ok(cli("why", "MRN-1", "T09")).stdout
    assert why.count("anchor: systemic_started") == 2  # both regions, on the line's start
    reviewed: set[str] = set()
    for day in GCTB_DOSES if regimen == "denosumab_gctb" else ():
        frozen.move_to(noon(day))
        keep_up(cli, "MRN-1", day, reviewed)
        calcium(cli, "MRN-1", day)
        record(cli, "MRN-1", "systemic_dose", on=day)
        assert live(cli, "MRN-1") == [], day
    frozen.move_to(noon("2026-04-27"))
    keep_up(cli, "MRN-1", "2026-04-27", reviewed)
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-04-27"
    )
    record(cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-04-27")
    frozen.move_to(noon("2026-06-08"))
    keep_up(cli, "MRN-1", "2026-06-08", reviewed)
    record(cli, "MRN-1", "exam_done", on="2026-06-05")
    record(cli, "MRN-1", "pain_score", "nrs=2", on="2026-06-05")
    assert "systemic_therapy → surveillance" in record(cli, "MRN-1", "systemic_completed", on="2026-06-08")

    frozen.move_to(noon("2026-06-10"))
    assert main_state(cli, "MRN-1") == "surveillance"
    assert live(cli, "MRN-1") == []
    history = as_json(cli("history", "MRN-1", "--json"))
    assert not [e for e in history["events"] if e["event"].startswith("rt_")]


def test_the_regimen_is_a_choice_from_the_pathway_file_and_other_needs_its_text(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-1")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic")
    base = ("record", "MRN-1", "systemic_started", "--by", "j.smith")
    assert "choose one of doxorubicin" in refused(cli(*base, "--set", "regimen=doxo 75"))
    assert "needs field 'regimen_other'" in refused(cli(*base, "--set", "regimen=other"))
    assert as_json(cli("history", "MRN-1", "--json"))["events"][-1]["event"] == "mdt_decision"
    record(cli, "MRN-1", "systemic_started", "regimen=other", "regimen_other=trabectedin")


def test_a_systemic_plan_is_accepted_at_progression_review(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    enrol(cli, "MRN-1")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=definitive_rt")
    record(cli, "MRN-1", "rt_started")
    record(cli, "MRN-1", "rt_completed")
    record(cli, "MRN-1", "progression", "basis=clinical")
    out = record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic")
    assert "main: progression_review → systemic_therapy" in out


def test_a_late_gctb_denosumab_loading_dose_warns_and_the_schedule_follows_days_8_15_29(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-1", "gctb")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-02")
    record(cli, "MRN-1", "systemic_started", "regimen=denosumab_gctb", on="2026-03-02")  # day 1
    frozen.move_to(noon("2026-03-12"))  # day 8 + 3 days: the window's last day
    assert live(cli, "MRN-1", "A26b") == []
    frozen.move_to(noon("2026-03-13"))
    [late] = live(cli, "MRN-1", "A26b")
    assert late["severity"] == "warning" and "Denosumab (GCTB)" in late["message"]
    record(cli, "MRN-1", "systemic_dose", on="2026-03-13")
    assert live(cli, "MRN-1", "A26b") == []
    assert "target 2026-03-20" in ok(cli("why", "MRN-1", "T22")).stdout  # 7 days after the late dose
    frozen.move_to(noon("2026-03-20"))
    record(cli, "MRN-1", "systemic_dose", on="2026-03-20")
    assert "target 2026-04-03" in ok(cli("why", "MRN-1", "T22")).stdout  # then 14 days
    frozen.move_to(noon("2026-04-03"))
    record(cli, "MRN-1", "systemic_dose", on="2026-04-03")
    assert "target 2026-05-01" in ok(cli("why", "MRN-1", "T22")).stdout  # then every 28 days
    assert live(cli, "MRN-1", "A26b") == []


# --- item 2: A08 ------------------------------------------------------------------------------------


def test_a_surgical_consult_while_decided_rt_has_not_started_warns_at_once(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-1")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=definitive_rt")
    frozen.tick(3600)
    record(cli, "MRN-1", "surgical_consult", "specialty=surgical")
    [a08] = live(cli, "MRN-1", "A08")
    assert a08["severity"] == "warning"
    assert "delaying radiation therapy" in a08["source"]
    assert a08["opened_at"].startswith("2026-03-02")


def test_no_a08_for_an_orthopaedic_consult_after_rt_started_or_without_an_rt_decision(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-ORTHO")
    record(cli, "MRN-ORTHO", "mdt_decision", "resectability=unresectable", "plan=definitive_rt")
    record(cli, "MRN-ORTHO", "surgical_consult", "specialty=orthopaedic")
    enrol(cli, "MRN-STARTED")
    record(cli, "MRN-STARTED", "mdt_decision", "resectability=unresectable", "plan=definitive_rt")
    record(cli, "MRN-STARTED", "rt_started")
    record(cli, "MRN-STARTED", "surgical_consult", "specialty=surgical")
    enrol(cli, "MRN-BEFORE")
    record(cli, "MRN-BEFORE", "surgical_consult", "specialty=surgical")
    enrol(cli, "MRN-SYSTEMIC")
    record(cli, "MRN-SYSTEMIC", "mdt_decision", "resectability=unresectable", "plan=systemic")
    record(cli, "MRN-SYSTEMIC", "surgical_consult", "specialty=surgical")
    for mrn in ("MRN-ORTHO", "MRN-STARTED", "MRN-BEFORE", "MRN-SYSTEMIC"):
        assert live(cli, mrn, "A08") == [], mrn
    assert "choose one of surgical, orthopaedic" in refused(
        cli("record", "MRN-BEFORE", "surgical_consult", "--by", "j.smith", "--set", "specialty=neuro")
    )


# --- item 3: a new line keeps overdue imaging open; T08 -------------------------------------------


def test_starting_a_line_does_not_cancel_overdue_imaging_and_warns_without_baseline_imaging(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    enrol(cli, "MRN-1")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=definitive_rt", on="2026-03-02")
    frozen.move_to(noon("2026-03-20"))
    record(cli, "MRN-1", "rt_started", on="2026-03-04")
    record(cli, "MRN-1", "rt_completed", on="2026-03-20")
    frozen.move_to(noon("2026-06-12"))  # 12 weeks after RT: the window's last day
    assert live(cli, "MRN-1", "A10") == []
    frozen.move_to(noon("2026-06-15"))
    overdue = {a["id"] for a in live(cli, "MRN-1", "A10")}
    assert len(overdue) == 2  # pelvis_sacrum and chest

    record(cli, "MRN-1", "systemic_started", "regimen=doxorubicin", on="2026-06-15")
    assert {a["id"] for a in live(cli, "MRN-1", "A10")} == overdue
    [t08] = live(cli, "MRN-1", "T08")
    assert t08["severity"] == "warning"
    assert "no imaging_done of pelvis_sacrum, chest in the 28 days up to 2026-06-15" in t08["message"]

    frozen.move_to(noon("2026-06-18"))
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-06-18"
    )
    [chest] = live(cli, "MRN-1", "A10")
    assert "(chest)" in chest["message"] and chest["id"] in overdue
    record(cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-06-18")
    assert live(cli, "MRN-1", "A10") == []
    assert len(live(cli, "MRN-1", "T08")) == 1  # imaging after the start is not a baseline


def test_t08_counts_imaging_up_to_28_days_before_the_line_and_a_back_dated_scan_resolves_it(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    frozen.move_to(noon("2026-03-31"))
    for mrn, pelvis_on in (("MRN-29", "2026-03-02"), ("MRN-28", "2026-03-03")):
        enrol(cli, mrn)
        record(cli, mrn, "imaging_done", "region=pelvis_sacrum", "modality=MRI", on=pelvis_on)
        record(cli, mrn, "imaging_done", "region=chest", "modality=CT", on="2026-03-03")  # day -28
        record(cli, mrn, "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-20")
        record(cli, mrn, "systemic_started", "regimen=doxorubicin", on="2026-03-31")
    assert live(cli, "MRN-28", "T08") == []
    [t08] = live(cli, "MRN-29", "T08")
    assert "no imaging_done of pelvis_sacrum in the 28 days" in t08["message"]
    record(cli, "MRN-29", "imaging_done", "region=pelvis_sacrum", "modality=MRI", on="2026-03-30")
    assert live(cli, "MRN-29", "T08") == []
