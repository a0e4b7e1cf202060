"""Pre-dose clocks end to end (issue 13 item 6): windows that count back from the NEXT PLANNED
DOSE, re-derived at every dose given. T19 (corrected calcium before denosumab, SRE and GCTB), T20
(renal function before zoledronic acid), T23 (baseline LVEF before a doxorubicin line), T26
(urinalysis, white cells, platelets and creatinine before an ifosfamide cycle), and a pause: each
firing, not firing, and following the doses; the real CLI on SQLite and PostgreSQL, freezegun time."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok
from tests.e2e.test_bone_agents import DENOSUMAB, alerts, lab, noon, record

ZOLEDRONIC = ("agent=zoledronic_acid", "schedule=q4w", "dose_mg=4")


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def two_patients_start(cli: Cli, frozen: FrozenDateTimeFactory, agent: tuple[str, ...], *result: str) -> None:
    """MRN-1 and MRN-2 start the agent on 20 March with a dental exam and `result` two days before."""
    for mrn in ("MRN-1", "MRN-2"):
        ok(cli("enroll", mrn, "--on", "2026-03-02"))
    frozen.move_to(noon("2026-03-20"))
    for mrn in ("MRN-1", "MRN-2"):
        record(cli, mrn, "dental_exam", on="2026-03-10")
        lab(cli, mrn, *result, "2026-03-18")
        record(cli, mrn, "bma_started", *agent, on="2026-03-20")


def pending(cli: Cli, mrn: str, rule: str) -> list[dict[str, Any]]:
    """The rule's open follow-ups as `pathway status --json` shows them."""
    status = as_json(cli("status", mrn, "--json"))
    return [f for f in status["follow_ups"] if f["rule"] == rule]


def window(cli: Cli, mrn: str, rule: str) -> tuple[str, str, str] | None:
    found = pending(cli, mrn, rule)
    assert len(found) <= 1, found
    return (found[0]["opens"], found[0]["target"], found[0]["closes"]) if found else None


def test_calcium_before_each_denosumab_dose_counts_back_from_the_planned_dose(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    two_patients_start(cli, frozen, DENOSUMAB, "corrected_calcium", "2.4", "mmol/L")
    # next dose planned 28 days on (17 April): results count from 14 days before it
    assert window(cli, "MRN-1", "T19") == ("2026-04-03", "2026-04-14", "2026-04-17")
    frozen.move_to(noon("2026-04-02"))
    lab(cli, "MRN-2", "corrected_calcium", "2.4", "mmol/L", "2026-04-02")  # a day too early
    assert alerts(cli, "MRN-2", "T19") == []
    frozen.move_to(noon("2026-04-10"))
    lab(cli, "MRN-2", "corrected_calcium", "2.3", "mmol/L", "2026-04-10")  # inside: done
    assert window(cli, "MRN-2", "T19") is None
    frozen.move_to(noon("2026-04-14"))
    assert alerts(cli, "MRN-1", "T19") == []  # the target day is not over yet
    frozen.move_to(noon("2026-04-15"))
    assert alerts(cli, "MRN-1", "T19") == ["warning"]
    assert alerts(cli, "MRN-2", "T19") == []
    lab(cli, "MRN-1", "corrected_calcium", "2.35", "mmol/L", "2026-04-15")
    assert alerts(cli, "MRN-1", "T19") == []  # the result is in: the warning is resolved

    # a dose given later than planned moves the next window: 28 days after the dose given
    frozen.move_to(noon("2026-04-21"))
    record(cli, "MRN-1", "bma_dose", "agent=denosumab", "dose_mg=120", on="2026-04-21")
    assert window(cli, "MRN-1", "T19") == ("2026-05-05", "2026-05-16", "2026-05-19")
    # holding the agent ends its clocks
    record(cli, "MRN-1", "bma_held", "reason_code=dental_procedure", on="2026-04-21")
    frozen.move_to(noon("2026-05-30"))
    assert window(cli, "MRN-1", "T19") is None
    assert alerts(cli, "MRN-1", "T19") == []


def test_renal_function_before_each_zoledronic_acid_dose(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    two_patients_start(cli, frozen, ZOLEDRONIC, "crcl", "75", "mL/min")
    assert window(cli, "MRN-1", "T20") == ("2026-04-03", "2026-04-14", "2026-04-17")
    frozen.move_to(noon("2026-04-12"))
    lab(cli, "MRN-2", "creatinine", "0.9", "mg/dL", "2026-04-12")
    frozen.move_to(noon("2026-04-16"))
    assert alerts(cli, "MRN-1", "T20") == ["warning"]
    assert alerts(cli, "MRN-2", "T20") == []
    # the dose given without the result: the clock's warning gives way to the dose check (A25)
    record(cli, "MRN-1", "bma_dose", "agent=zoledronic_acid", "dose_mg=4", on="2026-04-16")
    assert alerts(cli, "MRN-1", "T20") == []
    assert alerts(cli, "MRN-1", "A25") == ["critical"]


def test_gctb_loading_days_get_their_calcium_clock_and_a_result_before_day_1_counts(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "gctb"))
    frozen.move_to(noon("2026-03-05"))
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-03")
    lab(cli, "MRN-1", "corrected_calcium", "2.4", "mmol/L", "2026-03-04")
    record(cli, "MRN-1", "systemic_started", "regimen=denosumab_gctb", on="2026-03-05")  # day 1
    # day 8 is planned: the calcium of the day before day 1 is inside its 14 days: done already
    assert window(cli, "MRN-1", "T19") is None
    frozen.move_to(noon("2026-03-12"))
    record(cli, "MRN-1", "systemic_dose", on="2026-03-12")  # day 8; day 15 is next
    # day 15 (19 March) is next: 4 March is one day outside its 14 days
    assert window(cli, "MRN-1", "T19") == ("2026-03-05", "2026-03-16", "2026-03-19")
    frozen.move_to(noon("2026-03-17"))
    assert alerts(cli, "MRN-1", "T19") == ["warning"]
    lab(cli, "MRN-1", "corrected_calcium", "2.3", "mmol/L", "2026-03-17")
    assert alerts(cli, "MRN-1", "T19") == []
    frozen.move_to(noon("2026-03-19"))
    record(cli, "MRN-1", "systemic_dose", on="2026-03-19")  # day 15; day 29 (2 April) is next
    assert window(cli, "MRN-1", "T19") == ("2026-03-19", "2026-03-30", "2026-04-02")
    frozen.move_to(noon("2026-03-31"))
    assert alerts(cli, "MRN-1", "T19") == ["warning"]


def test_ifosfamide_cycle_needs_urinalysis_blood_count_and_renal_function(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "sts"))
    frozen.move_to(noon("2026-03-10"))
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-03")
    plan = ("regimen=ifosfamide", "planned_dose=3", "planned_cycles=4", "cycle_interval_days=21")
    record(cli, "MRN-1", "systemic_started", *plan, on="2026-03-10")
    for test, value, unit in (
        ("urine_rbc", "1", "/HPF"),
        ("wbc", "6000", "/uL"),
        ("platelets", "250000", "/uL"),
    ):
        lab(cli, "MRN-1", test, value, unit, "2026-03-10")
    lab(cli, "MRN-1", "creatinine", "0.8", "mg/dL", "2026-03-10")
    frozen.move_to(noon("2026-03-12"))
    for day in (1, 2, 3):  # one cycle is three daily doses: the next cycle is 21 days after day 1
        record(
            cli,
            "MRN-1",
            "drug_given",
            "drug=ifosfamide",
            "dose=3",
            "unit=g/m2",
            "cycle=1",
            f"day={day}",
            on=f"2026-03-{9 + day}",
        )
    assert window(cli, "MRN-1", "T26") == ("2026-03-30", "2026-03-31", "2026-03-31")
    doses = as_json(cli("status", "MRN-1", "--json"))["anthracycline"]
    assert doses["next_dose"]["cycle"] == 2 and doses["next_dose"]["due_on"] == "2026-03-31"
    assert any("T26" in item and "by 2026-03-31" in item for item in doses["outstanding"])
    frozen.move_to(noon("2026-03-30"))
    lab(cli, "MRN-1", "urine_rbc", "2", "/HPF", "2026-03-30")
    lab(cli, "MRN-1", "wbc", "5000", "/uL", "2026-03-30")
    lab(cli, "MRN-1", "creatinine", "0.8", "mg/dL", "2026-03-29")  # the day before the window: too early
    frozen.move_to(noon("2026-04-01"))
    [late] = pending(cli, "MRN-1", "T26")  # platelets and an in-window creatinine are missing
    assert late["status"] == "overdue"
    assert alerts(cli, "MRN-1", "T26") == ["warning"]
    lab(cli, "MRN-1", "platelets", "200000", "/uL", "2026-04-01")
    assert alerts(cli, "MRN-1", "T26") == ["warning"]
    lab(cli, "MRN-1", "creatinine", "0.8", "mg/dL", "2026-04-01")
    assert alerts(cli, "MRN-1", "T26") == []
    assert window(cli, "MRN-1", "T26") is None


def test_a_doxorubicin_line_needs_a_baseline_lvef_within_28_days_of_its_first_dose(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    plan = ("regimen=doxorubicin", "planned_dose=75", "planned_cycles=6", "cycle_interval_days=21")
    for mrn in ("MRN-1", "MRN-2"):
        ok(cli("enroll", mrn, "--on", "2026-03-02", "--histology", "sts"))
    frozen.move_to(noon("2026-04-01"))
    record(cli, "MRN-2", "lvef_measured", "lvef_percent=60", "method=echo", on="2026-03-05")  # 27 days before
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=60", "method=echo", on="2026-03-03")  # 29 days before
    for mrn in ("MRN-1", "MRN-2"):
        record(cli, mrn, "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-20")
        record(cli, mrn, "systemic_started", *plan, on="2026-04-01")
    assert window(cli, "MRN-2", "T23") is None and alerts(cli, "MRN-2", "T23") == []
    assert window(cli, "MRN-1", "T23") == ("2026-03-04", "2026-03-31", "2026-04-01")
    assert alerts(cli, "MRN-1", "T23") == ["warning"]
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=58", "method=echo", on="2026-04-01")
    assert alerts(cli, "MRN-1", "T23") == []


def test_a_pause_moves_the_pre_dose_window_with_the_dose(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to(noon("2026-03-20"))
    record(cli, "MRN-1", "dental_exam", on="2026-03-10")
    lab(cli, "MRN-1", "corrected_calcium", "2.4", "mmol/L", "2026-03-18")
    record(cli, "MRN-1", "bma_started", *DENOSUMAB, on="2026-03-20")
    frozen.move_to(noon("2026-04-01"))
    record(cli, "MRN-1", "care_paused", "reason_code=hospital_admission", on="2026-04-01")
    frozen.move_to(noon("2026-04-16"))
    assert alerts(cli, "MRN-1", "T19") == []  # held while paused
    record(cli, "MRN-1", "care_resumed", on="2026-04-11")
    assert window(cli, "MRN-1", "T19") == ("2026-04-13", "2026-04-24", "2026-04-27")  # 10 days later


def test_a_planned_first_dose_brings_the_dental_exam_and_the_first_calcium_due_before_it(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    for mrn in ("MRN-1", "MRN-2"):
        ok(cli("enroll", mrn, "--on", "2026-01-05"))
    frozen.move_to(noon("2026-03-10"))
    plan = ("agent=denosumab", "schedule=q4w", "first_dose_on=2026-03-24")
    record(cli, "MRN-2", "dental_exam", on="2026-01-15")  # within 6 months of the planned day
    for mrn in ("MRN-1", "MRN-2"):
        record(cli, mrn, "bma_planned", *plan, on="2026-03-10")
    assert window(cli, "MRN-1", "T18") == ("2025-09-24", "2026-03-23", "2026-03-24")
    assert window(cli, "MRN-2", "T18") is None
    assert window(cli, "MRN-1", "T19") == ("2026-03-10", "2026-03-21", "2026-03-24")
    frozen.move_to(noon("2026-03-22"))
    assert alerts(cli, "MRN-1", "T19") == ["warning"]
    assert alerts(cli, "MRN-1", "T18") == []
    lab(cli, "MRN-1", "corrected_calcium", "2.4", "mmol/L", "2026-03-22")
    assert alerts(cli, "MRN-1", "T19") == []
    frozen.move_to(noon("2026-03-24"))
    assert alerts(cli, "MRN-1", "T18") == ["warning"]
    record(cli, "MRN-1", "dental_exam", on="2026-03-24")
    assert alerts(cli, "MRN-1", "T18") == []
    # the first dose given: the clocks move on to the second dose (28 days later)
    record(cli, "MRN-2", "bma_started", *DENOSUMAB, on="2026-03-24")
    assert window(cli, "MRN-2", "T18") is None
    assert window(cli, "MRN-2", "T19") == ("2026-04-07", "2026-04-18", "2026-04-21")
