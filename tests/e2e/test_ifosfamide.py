"""Ifosfamide pre-dose checks (issue 13 point 3, A39-A43) and the ECOG half of A44 through the
real CLI on SQLite and PostgreSQL, freezegun time. Nothing is refused for being alarming: the
dose is recorded and the rule alerts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok
from tests.e2e.test_systemic import live, noon, record

RULES = ("A39", "A40", "A41", "A42", "A43", "A44")
START = date(2026, 3, 9)
UNITS = {"urine_rbc": "/HPF", "wbc": "/uL", "platelets": "/uL", "egfr": "mL/min/1.73m2", "albumin": "g/L"}
CLEAN = {"urine_rbc": 2, "wbc": 6000, "platelets": 200000}


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


def fired(cli: Cli, mrn: str = "MRN-1") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in live(cli, mrn):
        if a["rule"] in RULES:
            out.setdefault(a["rule"], []).append(a["severity"])
    return out


def lab(cli: Cli, test: str, value: float, on: str, mrn: str = "MRN-1") -> None:
    record(cli, mrn, "lab_result", f"test={test}", f"value={value:g}", f"unit={UNITS[test]}", on=on)


def patient(
    cli: Cli, frozen: FrozenDateTimeFactory, regimen: str = "doxorubicin_ifosfamide", ecog: int | None = None
) -> None:
    ok(cli("enroll", "MRN-1", "--histology", "sts", "--on", "2026-03-02"))
    frozen.move_to(noon(day(0)))
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-05")
    if ecog is not None:
        record(cli, "MRN-1", "performance_status", f"ecog={ecog}", on="2026-03-05")
    record(
        cli,
        "MRN-1",
        "systemic_started",
        f"regimen={regimen}",
        "planned_dose=75",
        "planned_cycles=6",
        "cycle_interval_days=21",
        on=day(0),
    )


def ifosfamide(cli: Cli, dose: float = 2.5, on: str | None = None, *extra: str) -> None:
    record(
        cli, "MRN-1", "drug_given", "drug=ifosfamide", f"dose={dose:g}", "unit=g/m2", *extra, on=on or day(0)
    )


@pytest.mark.parametrize(
    ("labs", "wanted"),
    [
        ({**CLEAN}, {}),
        ({**CLEAN, "urine_rbc": 10}, {}),
        ({**CLEAN, "urine_rbc": 11}, {"A39": ["critical"]}),  # haematuria > 10 RBC/HPF
        ({"wbc": 6000, "platelets": 200000}, {"A39": ["critical"]}),  # no urinalysis
        ({**CLEAN, "wbc": 1999}, {"A40": ["critical"]}),
        ({**CLEAN, "wbc": 2000, "platelets": 50000}, {}),
        ({**CLEAN, "platelets": 49999}, {"A40": ["critical"]}),
    ],
)
def test_an_ifosfamide_dose_is_recorded_and_alerts_on_haematuria_missing_urinalysis_or_low_counts(
    cli: Cli, frozen: FrozenDateTimeFactory, labs: dict[str, float], wanted: dict[str, list[str]]
) -> None:
    patient(cli, frozen)
    for test, value in labs.items():
        lab(cli, test, value, day(0))
    ifosfamide(cli)
    assert as_json(cli("history", "MRN-1", "--json"))["events"][-1]["event"] == "drug_given"  # never refused
    assert fired(cli) == wanted


def test_a_urinalysis_older_than_24_hours_does_not_count(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    patient(cli, frozen)
    lab(cli, "urine_rbc", 1, day(-2))
    lab(cli, "urine_rbc", 1, day(-1))  # exactly 24 h before the dose: counts
    ifosfamide(cli)
    assert "A39" not in fired(cli)
    frozen.move_to(noon(day(3)))
    ifosfamide(cli, 2.5, day(3))  # the last urinalysis is now 4 days old
    assert fired(cli)["A39"] == ["critical"]


def test_a41_cns_symptoms_on_an_ifosfamide_line_are_critical_at_once(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    patient(cli, frozen)
    record(cli, "MRN-1", "adverse_event", "type=other", on=day(0))
    assert "A41" not in fired(cli)
    record(cli, "MRN-1", "adverse_event", "type=confusion", on=day(0))
    assert fired(cli)["A41"] == ["critical"]


def test_a41_is_quiet_on_a_line_without_ifosfamide(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    patient(cli, frozen, regimen="doxorubicin")
    record(cli, "MRN-1", "adverse_event", "type=somnolence", on=day(0))
    assert "A41" not in fired(cli)


@pytest.mark.parametrize(
    ("before", "fires"),
    [
        ({}, False),
        ({"egfr": 59}, True),
        ({"egfr": 60}, False),
        ({"albumin": 34}, True),
        ({"albumin": 35}, False),
    ],
)
def test_a42_a_risk_factor_at_the_first_ifosfamide_dose_is_information(
    cli: Cli, frozen: FrozenDateTimeFactory, before: dict[str, float], fires: bool
) -> None:
    patient(cli, frozen)
    for test, value in {**CLEAN, **before}.items():
        lab(cli, test, value, day(0))
    ifosfamide(cli, 2.0, None, "reference_dose=2.5")
    frozen.move_to(noon(day(1)))
    for test, value in CLEAN.items():
        lab(cli, test, value, day(1))
    ifosfamide(cli, 2.0, day(1), "reference_dose=2.5")  # a second dose does not raise it again
    assert fired(cli).get("A42") == (["info"] if fires else None)


def test_a42_ecog_2_at_the_start_of_ifosfamide(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    patient(cli, frozen, regimen="ifosfamide", ecog=2)
    for test, value in CLEAN.items():
        lab(cli, test, value, day(0))
    ifosfamide(cli)
    assert fired(cli) == {"A42": ["info"]}


@pytest.mark.parametrize(
    ("egfr", "given", "fires"),
    [(61, 2.5, False), (59, 2.5, True), (59, 2.0, False), (14, 2.0, True), (14, 1.5, False)],
)
def test_a43_ifosfamide_not_reduced_for_gfr_below_60(
    cli: Cli, frozen: FrozenDateTimeFactory, egfr: float, given: float, fires: bool
) -> None:
    patient(cli, frozen)
    for test, value in {**CLEAN, "egfr": egfr}.items():
        lab(cli, test, value, day(0))
    ifosfamide(cli, given, None, "reference_dose=2.5")
    assert fired(cli).get("A43") == (["warning"] if fires else None)


@pytest.mark.parametrize(("ecog", "fires"), [(1, False), (2, True)])
def test_a44_doxorubicin_ifosfamide_with_ecog_2_or_more(
    cli: Cli, frozen: FrozenDateTimeFactory, ecog: int, fires: bool
) -> None:
    patient(cli, frozen, ecog=ecog)
    assert fired(cli).get("A44") == (["info"] if fires else None)
