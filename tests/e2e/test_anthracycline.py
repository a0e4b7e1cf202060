"""Anthracycline and heart (issue 13 points 1, 2, 4 and 6): the real CLI, SQLite and PostgreSQL,
freezegun time. Doses are recorded with `drug_given`, prior exposure with `prior_treatment`,
LVEF with `lvef_measured`; A33-A38, A44, A45 and T25 fire (and stay quiet) as the rule book says."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused
from tests.e2e.test_systemic import baseline_bundle, event_id, live, noon, record

HEART = ("A33", "A34", "A35", "A36", "A37", "A38", "A44", "A45", "T25")
START = date(2026, 3, 9)


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def day(n: int) -> str:
    """The line's day n (day 0 is cycle 1 day 1)."""
    return (START + timedelta(days=n)).isoformat()


def fired(cli: Cli, mrn: str) -> dict[str, list[str]]:
    """Live alerts of the heart rules: rule id -> severities, in the order raised."""
    out: dict[str, list[str]] = {}
    for a in live(cli, mrn):
        if a["rule"] in HEART:
            out.setdefault(a["rule"], []).append(a["severity"])
    return {k: sorted(v) for k, v in out.items()}


def start_line(
    cli: Cli,
    frozen: FrozenDateTimeFactory,
    mrn: str,
    regimen: str = "doxorubicin",
    histology: str = "sts",
    lvef_day: int | None = -7,
    birth: str | None = None,
) -> None:
    args = ["enroll", mrn, "--histology", histology, "--on", "2026-02-02"]
    ok(cli(*args, *(["--birth-date", birth] if birth else [])))
    frozen.move_to(noon("2026-03-05"))
    baseline_bundle(cli, mrn)
    record(cli, mrn, "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-05")
    frozen.move_to(noon(day(0)))
    if lvef_day is not None:
        record(cli, mrn, "lvef_measured", "lvef_percent=62", "method=echo", on=day(lvef_day))
    record(
        cli,
        mrn,
        "systemic_started",
        f"regimen={regimen}",
        "planned_dose=75",
        "planned_cycles=6",
        "cycle_interval_days=21",
        on=day(0),
    )


def give(cli: Cli, frozen: FrozenDateTimeFactory, mrn: str, cycle: int, drug: str = "doxorubicin") -> int:
    on = day(21 * (cycle - 1))
    frozen.move_to(noon(on))
    out = record(
        cli, mrn, "drug_given", f"drug={drug}", "dose=75", "unit=mg/m2", f"cycle={cycle}", "day=1", on=on
    )
    return event_id(out)


def test_sts_doxorubicin_75_x6_with_prior_epirubicin_crosses_each_threshold_in_turn(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    # 187.5 mg/m2 of epirubicin = 150 mg/m2 doxorubicin-equivalent (factor 0.8)
    record(
        cli,
        "MRN-1",
        "prior_treatment",
        "drug=epirubicin",
        "cumulative_dose=187.5",
        "unit=mg/m2",
        "cardiac_region_rt=no",
        on=day(0),
    )
    assert fired(cli, "MRN-1") == {}  # 150 given before; 225 after the first planned dose
    steps = {
        1: {"A34": ["info"]},  # 225 given, 300 after the next planned dose
        2: {"A34": ["info"], "A37": ["warning"]},  # 300 given: recheck LVEF before the next dose
        3: {"A34": ["info"], "A37": ["warning", "warning"], "A35": ["warning"]},  # 450 after next
        4: {"A34": ["info"], "A37": ["warning"] * 3, "A35": ["warning"], "A36": ["critical"]},  # 525
        5: {"A34": ["info"], "A37": ["warning"] * 4, "A35": ["warning"], "A36": ["critical"] * 2},  # 600
    }
    for cycle, wanted in steps.items():
        give(cli, frozen, "MRN-1", cycle)
        assert fired(cli, "MRN-1") == wanted, cycle
    alerts = {a["rule"]: a for a in live(cli, "MRN-1")}
    assert "R26" in alerts["A34"]["source"]
    assert {a["source"][:9] for a in live(cli, "MRN-1", "A36")} == {"EORTC 620", "Doxorubic"}
    status = as_json(cli("status", "MRN-1", "--json"))
    assert status["anthracycline"]["cumulative_mg_m2"] == 525
    assert status["anthracycline"]["next_dose"]["cycle"] == 6


def test_a37_is_quiet_once_lvef_is_measured_after_the_recheck_threshold(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    record(
        cli,
        "MRN-1",
        "prior_treatment",
        "drug=epirubicin",
        "cumulative_dose=187.5",
        "unit=mg/m2",
        "cardiac_region_rt=no",
        on=day(0),
    )
    give(cli, frozen, "MRN-1", 1)
    give(cli, frozen, "MRN-1", 2)
    assert fired(cli, "MRN-1")["A37"] == ["warning"]
    frozen.move_to(noon(day(40)))
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=60", "method=echo", on=day(40))
    give(cli, frozen, "MRN-1", 3)
    assert fired(cli, "MRN-1")["A37"] == ["warning"]  # only the crossing itself, nothing on cycle 3


def test_a35_warns_from_300_after_cardiac_region_rt(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    start_line(cli, frozen, "MRN-1")
    record(
        cli,
        "MRN-1",
        "prior_treatment",
        "drug=doxorubicin",
        "cumulative_dose=150",
        "unit=mg/m2",
        "cardiac_region_rt=yes",
        on=day(0),
    )
    give(cli, frozen, "MRN-1", 1)
    assert fired(cli, "MRN-1") == {"A34": ["info"], "A35": ["warning"]}  # 300 after the next dose


def test_no_prior_and_a_plan_within_the_caps_raise_no_dose_alert(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    for cycle in range(1, 4):
        give(cli, frozen, "MRN-1", cycle)
    assert fired(cli, "MRN-1") == {"A34": ["info"]}  # 225 given, 300 after the fourth
    assert "projected 300" in live(cli, "MRN-1", "A34")[0]["message"]


@pytest.mark.parametrize(("lvef_day", "fires"), [(-28, False), (0, False), (-29, True), (None, True)])
def test_a33_first_doxorubicin_needs_an_lvef_in_the_28_days_before(
    cli: Cli, frozen: FrozenDateTimeFactory, lvef_day: int | None, fires: bool
) -> None:
    start_line(cli, frozen, "MRN-1", lvef_day=lvef_day)
    give(cli, frozen, "MRN-1", 1)
    give(cli, frozen, "MRN-1", 2)
    assert fired(cli, "MRN-1").get("A33") == (["critical"] if fires else None)


def test_a38_a_different_method_or_a_drop_meeting_the_definition_is_critical(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")  # baseline echo 62 %
    frozen.move_to(noon(day(34)))
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=53", "method=echo", on=day(30))  # -9
    assert "A38" not in fired(cli, "MRN-1")
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=52", "method=echo", on=day(31))  # -10, not < 50
    assert "A38" not in fired(cli, "MRN-1")
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=49", "method=echo", on=day(32))  # -13 to < 50
    assert fired(cli, "MRN-1")["A38"] == ["critical"]
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=60", "method=MUGA", on=day(33))
    assert fired(cli, "MRN-1")["A38"] == ["critical", "critical"]
    messages = " ".join(a["message"] for a in live(cli, "MRN-1", "A38"))
    assert "baseline was echo" in messages and "below the baseline 62" in messages


@pytest.mark.parametrize(
    ("birth", "fires"),
    # "aged 18-60": 60 years and 364 days is inside; the 61st birthday (on C1D1, 2026-03-09) is not
    [("1960-03-08", True), ("1965-03-10", False), ("1965-03-09", True), ("1966-03-09", False)],
)
def test_a44_doxorubicin_ifosfamide_above_60(
    cli: Cli, frozen: FrozenDateTimeFactory, birth: str, fires: bool
) -> None:
    start_line(cli, frozen, "MRN-1", regimen="doxorubicin_ifosfamide", birth=birth)
    assert fired(cli, "MRN-1").get("A44") == (["info"] if fires else None)


@pytest.mark.parametrize(
    ("histology", "regimen", "fires"),
    [
        ("chordoma", "doxorubicin", True),
        ("chordoma", "imatinib", False),
        ("gctb", "imatinib", True),
        ("gctb", "denosumab_gctb", False),
        ("chondrosarcoma_conventional", "doxorubicin_ifosfamide", True),
        ("chondrosarcoma_other", "doxorubicin_ifosfamide", False),
        ("sts", "doxorubicin", False),
    ],
)
def test_a45_histology_therapy_mismatch_is_information(
    cli: Cli, frozen: FrozenDateTimeFactory, histology: str, regimen: str, fires: bool
) -> None:
    start_line(cli, frozen, "MRN-1", regimen=regimen, histology=histology)
    assert fired(cli, "MRN-1").get("A45") == (["info"] if fires else None)


def test_t25_lvef_6_and_12_months_after_the_last_dose(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    start_line(cli, frozen, "MRN-1")
    give(cli, frozen, "MRN-1", 1)
    give(cli, frozen, "MRN-1", 2)
    frozen.move_to(noon(day(30)))
    record(cli, "MRN-1", "systemic_completed", on=day(30))
    frozen.move_to(noon("2026-09-08"))  # last dose 2026-03-30: 6 months later is 2026-09-30
    assert "T25" not in fired(cli, "MRN-1")
    frozen.move_to(noon("2026-10-01"))
    assert fired(cli, "MRN-1")["T25"] == ["info"]
    frozen.move_to(noon("2027-03-31"))
    assert fired(cli, "MRN-1")["T25"] == ["warning"]
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=60", "method=echo", on="2027-03-31")
    assert "T25" not in fired(cli, "MRN-1")


def test_a_dose_in_another_unit_or_out_of_range_is_refused_and_nothing_is_written(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    before = len(as_json(cli("history", "MRN-1", "--json"))["events"])
    base = ("record", "MRN-1", "drug_given", "--by", "j.smith", "--set", "drug=doxorubicin")
    assert "dosed in mg/m2, not mg" in refused(cli(*base, "--set", "dose=75", "--set", "unit=mg"))
    assert "ifosfamide is dosed in g/m2" in refused(
        cli(
            "record",
            "MRN-1",
            "drug_given",
            "--by",
            "j.smith",
            "--set",
            "drug=ifosfamide",
            "--set",
            "dose=2",
            "--set",
            "unit=mg/m2",
        )
    )
    assert "outside the validated range" in refused(cli(*base, "--set", "dose=0", "--set", "unit=mg/m2"))
    assert "choose one of doxorubicin" in refused(
        cli(*base[:-1], "drug=doxorubicn", "--set", "dose=75", "--set", "unit=mg/m2")
    )
    assert "outside the validated range" in refused(
        cli(
            "record",
            "MRN-1",
            "lvef_measured",
            "--by",
            "j.smith",
            "--set",
            "lvef_percent=120",
            "--set",
            "method=echo",
        )
    )
    assert len(as_json(cli("history", "MRN-1", "--json"))["events"]) == before


def test_retracting_a_dose_takes_it_out_of_the_cumulative_dose(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    record(cli, "MRN-1", "body_measured", "height_cm=170", "weight_kg=70", on=day(0))
    give(cli, frozen, "MRN-1", 1)
    wrong = give(cli, frozen, "MRN-1", 2)
    shown = as_json(cli("status", "MRN-1", "--json"))["anthracycline"]
    assert shown["cumulative_mg_m2"] == 150 and shown["next_dose"]["cycle"] == 3
    ok(
        cli(
            "record",
            "MRN-1",
            "retraction",
            "--by",
            "j.smith",
            "--set",
            f"event_id={wrong}",
            "--reason",
            "entered for the wrong patient",
            "--on",
            day(21),
        )
    )
    shown = as_json(cli("status", "MRN-1", "--json"))["anthracycline"]
    assert shown["cumulative_mg_m2"] == 75 and shown["next_dose"]["cycle"] == 2
    assert shown["last_lvef"] == {"percent": 62, "method": "echo", "on": day(-7)}
    assert shown["bsa_m2"] == pytest.approx(1.818, abs=0.001)
    text = " ".join(ok(cli("status", "MRN-1")).stdout.split())  # the terminal may wrap lines
    assert "75 mg/m² doxorubicin-equivalent" in text and "LVEF 62 % (echo" in text and "cycle 2" in text


def test_prior_anthracycline_recorded_at_enrolment_counts_and_a_bad_one_enrols_nobody(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    prior = ["drug=epirubicin", "cumulative_dose=187.5", "unit=mg/m2", "cardiac_region_rt=yes"]
    args = [x for p in prior for x in ("--prior", p)]
    ok(cli("enroll", "MRN-1", "--on", day(-10), "--histology", "sts", *args))
    status = as_json(cli("status", "MRN-1", "--json"))
    assert status["anthracycline"]["cumulative_mg_m2"] == 150  # 187.5 x 0.8
    history = ok(cli("history", "MRN-1")).stdout
    assert "prior_treatment" in history

    bad = ["drug=epirubicin", "cumulative_dose=187.5", "unit=mg", "cardiac_region_rt=no"]
    message = refused(cli("enroll", "MRN-2", "--on", day(-10), *[x for p in bad for x in ("--prior", p)]))
    assert "unit" in message and "mg/m2" in message
    assert "no patient with MRN 'MRN-2'" in refused(cli("status", "MRN-2"))  # nothing was written
    message = refused(cli("enroll", "MRN-3", "--prior", "drug"))
    assert "--prior 'drug': use FIELD=VALUE" in message


def test_t24_puts_the_lvef_recheck_on_the_worklist_with_the_next_dose_date(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    start_line(cli, frozen, "MRN-1")
    prior = ["drug=epirubicin", "cumulative_dose=187.5", "unit=mg/m2", "cardiac_region_rt=no"]
    record(cli, "MRN-1", "prior_treatment", *prior, on=day(0))

    def t24() -> list[dict[str, object]]:
        status = as_json(cli("status", "MRN-1", "--json"))
        return [f for f in status["follow_ups"] if f["rule"] == "T24"]

    give(cli, frozen, "MRN-1", 1)  # 225: under the 300 threshold
    assert t24() == []
    give(cli, frozen, "MRN-1", 2)  # 300: measure LVEF before cycle 3 (day 42)
    [clock] = t24()
    assert (clock["opens"], clock["closes"]) == (day(28), day(42))
    frozen.move_to(noon(day(43)))
    assert [f["status"] for f in t24()] == ["overdue"]
    record(cli, "MRN-1", "lvef_measured", "lvef_percent=58", "method=echo", on=day(43))
    assert t24() == []
    give(cli, frozen, "MRN-1", 3)  # 375 with an LVEF since the crossing: no new clock
    assert t24() == []
