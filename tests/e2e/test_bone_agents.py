"""Bone-modifying agents end to end (issue 13 items 5-6): the real CLI on SQLite and PostgreSQL,
freezegun time. A23 (no dental exam before the first dose), A24 (denosumab: no corrected calcium in
the 14 days before a dose, or below the lower limit), A25 (zoledronic acid: no creatinine/CrCl in
the 14 days before, or CrCl < 30), A25b (CrCl 30-60 above the SmPC dose), A27 (agents that may not
run together), A26b (a GCTB loading dose missed on day 15), each firing and not firing."""

from __future__ import annotations

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


def record(cli: Cli, mrn: str, event: str, *fields: str, on: str) -> str:
    args = ["record", mrn, event, "--by", "j.smith", "--on", on]
    for f in fields:
        args += ["--set", f]
    return str(ok(cli(*args)).stdout)


def lab(cli: Cli, mrn: str, test: str, value: str, unit: str, on: str) -> None:
    record(cli, mrn, "lab_result", f"test={test}", f"value={value}", f"unit={unit}", on=on)


def alerts(cli: Cli, mrn: str, rule: str) -> list[str]:
    ok(cli("sweep"))
    rows: list[dict[str, Any]] = as_json(cli("alerts", "--status", "all", "--mrn", mrn, "--json"))
    return sorted(a["severity"] for a in rows if a["status"] in LIVE and a["rule"] == rule)


DENOSUMAB = ("agent=denosumab", "schedule=q4w", "dose_mg=120")


def test_a_denosumab_start_with_low_calcium_and_no_dental_exam_warns_and_is_critical(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))  # no SINS recorded: not needed any more
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02"))
    frozen.move_to(noon("2026-03-20"))
    lab(cli, "MRN-1", "corrected_calcium", "2.19", "mmol/L", "2026-03-18")  # under the 2.20 limit
    lab(cli, "MRN-2", "corrected_calcium", "2.2", "mmol/L", "2026-03-06")  # at the limit, 14 days before
    record(cli, "MRN-2", "dental_exam", on="2026-03-10")
    record(cli, "MRN-1", "bma_started", *DENOSUMAB, on="2026-03-20")
    record(cli, "MRN-2", "bma_started", *DENOSUMAB, on="2026-03-20")
    assert (alerts(cli, "MRN-1", "A23"), alerts(cli, "MRN-1", "A24")) == (["warning"], ["critical"])
    assert (alerts(cli, "MRN-2", "A23"), alerts(cli, "MRN-2", "A24")) == ([], [])

    # the next dose (planned 2026-04-17): the calcium of 2026-03-06 is now too old
    frozen.move_to(noon("2026-04-17"))
    status = as_json(cli("status", "MRN-2", "--json"))
    [course] = status["bone_agents"]
    assert course["next_planned_dose"] == "2026-04-17"
    assert any(c.startswith("A24: no corrected_calcium") for c in course["outstanding"])
    record(cli, "MRN-2", "bma_dose", "agent=denosumab", "dose_mg=120", on="2026-04-17")
    assert alerts(cli, "MRN-2", "A24") == ["critical"]
    lab(cli, "MRN-2", "corrected_calcium", "2.4", "mmol/L", "2026-04-03")  # back-dated, 14 days before
    assert alerts(cli, "MRN-2", "A24") == []
    status = as_json(cli("status", "MRN-2", "--json"))
    assert status["bone_agents"][0]["next_planned_dose"] == "2026-05-15"


def test_a_dose_of_an_agent_not_started_is_refused_and_nothing_is_written(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    before = as_json(cli("history", "MRN-1", "--json"))["events"]
    line = refused(cli("record", "MRN-1", "bma_dose", "--set", "agent=denosumab", "--set", "dose_mg=120"))
    assert "denosumab has not been started" in line and "bma_started" in line
    record(cli, "MRN-1", "bma_started", *DENOSUMAB, on="2026-03-02")
    line = refused(cli("record", "MRN-1", "bma_dose", "--set", "agent=zoledronic_acid", "--set", "dose_mg=4"))
    assert "zoledronic_acid has not been started (active: denosumab)" in line
    assert "q4w" in refused(
        cli(
            "record",
            "MRN-1",
            "bma_started",
            "--set",
            "agent=denosumab",
            "--set",
            "schedule=q12w",
            "--set",
            "dose_mg=120",
        )
    )
    assert len(as_json(cli("history", "MRN-1", "--json"))["events"]) == len(before) + 1


@pytest.mark.parametrize(
    ("crcl", "dose", "a25", "a25b"),
    [
        (None, "4", ["critical"], []),  # no renal function in the window
        ("29", "3", ["critical"], []),
        ("30", "3", [], []),
        ("30", "3.3", [], ["warning"]),
        ("45", "3.3", [], []),
        ("55", "4", [], ["warning"]),
        ("55", "3.5", [], []),
        ("61", "4", [], []),
    ],
)
def test_zoledronic_acid_needs_renal_function_and_the_reduced_dose(
    cli: Cli, frozen: FrozenDateTimeFactory, crcl: str | None, dose: str, a25: list[str], a25b: list[str]
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to(noon("2026-03-20"))
    record(cli, "MRN-1", "dental_exam", on="2026-03-03")
    if crcl is not None:
        lab(cli, "MRN-1", "crcl", crcl, "mL/min", "2026-03-16")
    else:
        lab(cli, "MRN-1", "crcl", "80", "mL/min", "2026-03-05")  # 15 days before: outside
    record(
        cli,
        "MRN-1",
        "bma_started",
        "agent=zoledronic_acid",
        "schedule=q4w",
        f"dose_mg={dose}",
        on="2026-03-20",
    )
    assert (alerts(cli, "MRN-1", "A25"), alerts(cli, "MRN-1", "A25b"), alerts(cli, "MRN-1", "A23")) == (
        a25,
        a25b,
        [],
    )


def test_denosumab_with_a_bisphosphonate_or_with_gctb_denosumab_is_critical(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    for mrn in ("MRN-1", "MRN-2", "MRN-3"):
        ok(cli("enroll", mrn, "--on", "2026-03-02", "--histology", "gctb"))
    frozen.move_to(noon("2026-03-20"))
    record(cli, "MRN-1", "bma_started", *DENOSUMAB, on="2026-03-10")
    record(cli, "MRN-1", "bma_started", "agent=zoledronic_acid", "schedule=q4w", "dose_mg=4", on="2026-03-20")
    assert alerts(cli, "MRN-1", "A27") == ["critical"]
    # held first: no overlap
    record(cli, "MRN-2", "bma_started", *DENOSUMAB, on="2026-03-10")
    record(cli, "MRN-2", "bma_held", "reason_code=other", on="2026-03-12")
    record(
        cli, "MRN-2", "bma_started", "agent=zoledronic_acid", "schedule=q12w", "dose_mg=4", on="2026-03-20"
    )
    assert alerts(cli, "MRN-2", "A27") == []
    record(cli, "MRN-3", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-05")
    record(cli, "MRN-3", "systemic_started", "regimen=denosumab_gctb", on="2026-03-10")
    assert alerts(cli, "MRN-3", "A27") == []
    record(cli, "MRN-3", "bma_started", *DENOSUMAB, on="2026-03-20")
    assert alerts(cli, "MRN-3", "A27") == ["critical"]


def test_a_gctb_loading_schedule_with_a_missed_day_15_dose_alerts(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "gctb"))
    record(cli, "MRN-1", "dental_exam", on="2026-03-02")
    lab(cli, "MRN-1", "corrected_calcium", "2.4", "mmol/L", "2026-03-02")
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-02")
    record(cli, "MRN-1", "systemic_started", "regimen=denosumab_gctb", on="2026-03-02")  # day 1
    frozen.move_to(noon("2026-03-09"))
    record(cli, "MRN-1", "systemic_dose", on="2026-03-09")  # day 8
    assert alerts(cli, "MRN-1", "A24") == [] and alerts(cli, "MRN-1", "A23") == []
    status = as_json(cli("status", "MRN-1", "--json"))
    assert status["bone_agents"][0]["next_planned_dose"] == "2026-03-16"  # day 15
    frozen.move_to(noon("2026-03-19"))  # day 15 + 3 days: the window's last day
    assert alerts(cli, "MRN-1", "A26b") == []
    frozen.move_to(noon("2026-03-20"))
    assert alerts(cli, "MRN-1", "A26b") == ["warning"]


def test_a_bone_agent_given_as_a_generic_drug_dose_is_refused_naming_its_events(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to(noon("2026-03-20"))
    for drug in ("denosumab", "zoledronic_acid"):
        args = ["record", "MRN-1", "drug_given", "--on", "2026-03-20", "--by", "j.smith"]
        message = refused(cli(*args, "--set", f"drug={drug}", "--set", "dose=4", "--set", "unit=mg"))
        assert f"{drug} (bone-modifying agent" in message and "bma_started or bma_dose" in message
    assert "drug_given" not in ok(cli("history", "MRN-1")).stdout  # nothing was written
