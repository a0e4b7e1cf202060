"""End to end: the `pathway` command as a coordinator uses it, on a real SQLite file."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused

PATHWAY_STEPS = [  # (frozen "now", clinic-local date, event, --set values, expected changes)
    ("2026-03-03 10:00", "2026-03-03", "neuro_exam", ["finding=baseline"], {}),
    ("2026-03-03 11:00", "2026-03-03", "pain_score", ["nrs=4"], {"pain": ["unassessed", "uncontrolled"]}),
    (
        "2026-03-10 15:00",
        "2026-03-10",
        "mdt_decision",
        ["resectability=unresectable", "plan=definitive_rt"],
        {"main": ["assessment", "rt_planning"]},
    ),
    ("2026-03-16 09:00", "2026-03-16", "rt_plan_approved", ["total_dose_gy=63", "fractions=35"], {}),
    ("2026-03-23 08:30", "2026-03-23", "rt_started", [], {"main": ["rt_planning", "rt_active"]}),
    ("2026-05-08 17:00", "2026-05-08", "rt_completed", [], {"main": ["rt_active", "surveillance"]}),
]


def test_a_patient_walks_from_enrolment_through_radiotherapy_into_surveillance(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts", "--on", "2026-03-02"))
    for now, on, event, values, _ in PATHWAY_STEPS:
        frozen.move_to(f"{now}+00:00")
        sets = [arg for value in values for arg in ("--set", value)]
        assert f"recorded {event} for MRN-1" in ok(cli("record", "MRN-1", event, "--on", on, *sets)).stdout
    frozen.tick(3600)

    status = as_json(cli("status", "MRN-1", "--json"))
    assert {"patient", "tracks", "allowed_events", "follow_ups", "alerts"} <= set(status)
    assert status["tracks"]["main"] == "surveillance"
    assert status["tracks"]["pain"] == "uncontrolled"
    assert status["patient"]["version"] == 1 + len(PATHWAY_STEPS)
    assert "progression" in status["allowed_events"]

    events = as_json(cli("history", "MRN-1", "--json"))["events"]
    assert [e["event"] for e in events] == [step[2] for step in PATHWAY_STEPS]
    assert [e["occurred_on"] for e in events] == [step[1] for step in PATHWAY_STEPS]
    assert [e["changes"] for e in events] == [step[4] for step in PATHWAY_STEPS]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[-1]["occurred_at"] == "2026-05-07T23:00:00+00:00"  # British Summer Time


def test_a_patient_who_died_is_deceased_in_every_track_and_takes_no_more_events(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-2", "--on", "2026-02-01"))
    ok(cli("record", "MRN-2", "death", "--on", "2026-03-01"))

    tracks = as_json(cli("status", "MRN-2", "--json"))["tracks"]
    assert set(tracks.values()) == {"deceased"}
    assert len(tracks) == 6
    refused(cli("record", "MRN-2", "exam_done"))


REFUSALS = [
    pytest.param(["MRN-404", "exam_done"], id="unknown MRN"),
    pytest.param(["MRN-1", "teleport"], id="unknown event"),
    pytest.param(["MRN-1", "rt_started"], id="rt_started during assessment"),
    pytest.param(["MRN-1", "pain_score", "--set", "nrs=11"], id="nrs out of range"),
    pytest.param(["MRN-1", "pain_score"], id="missing required field"),
    pytest.param(["MRN-1", "exam_done", "--on", "2026-03-03"], id="future date"),
    pytest.param(["MRN-1", "exam_done", "--on", "2026-02-19"], id="before enrolment"),
    pytest.param(["MRN-1", "pain_score", "--set", "nrs"], id="malformed --set"),
    pytest.param(["MRN-1", "exam_done", "--on", "02/03/2026"], id="malformed date"),
]


@pytest.mark.parametrize("args", REFUSALS)
def test_a_refused_record_exits_2_with_one_error_line_and_changes_nothing(cli: Cli, args: list[str]) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-02-20"))
    ok(cli("record", "MRN-1", "neuro_exam", "--on", "2026-02-21", "--set", "finding=baseline"))
    before = (cli("history", "MRN-1", "--json").stdout, cli("status", "MRN-1", "--json").stdout)

    result = cli("record", *args)

    refused(result)
    assert result.stdout == ""
    after = (cli("history", "MRN-1", "--json").stdout, cli("status", "MRN-1", "--json").stdout)
    assert after == before
    assert len(as_json(cli("list", "--json"))) == 1


def test_init_twice_is_fine(cli: Cli) -> None:
    assert "created" in ok(cli("init")).stdout
    assert "up to date" in ok(cli("init")).stdout


def test_init_with_demo_twice_adds_the_demo_cohort_once(cli: Cli) -> None:
    assert "12 patient(s) added" in ok(cli("init", "--demo")).stdout
    assert "already loaded" in ok(cli("init", "--demo")).stdout

    patients = as_json(cli("list", "--json"))
    assert len(patients) == 12
    assert len({p["patient"]["mrn"] for p in patients}) == 12
    assert "every patient's stored state matches its history" in ok(cli("verify")).stdout


def test_events_lists_pain_score_with_its_nrs_range(cli: Cli) -> None:
    catalogue = {e["event"]: e for e in as_json(cli("events", "--json"))}
    nrs = catalogue["pain_score"]["fields"]["nrs"]
    assert (nrs["min"], nrs["max"]) == (0, 10)
    assert catalogue["pain_score"]["tracks"] == ["pain"]


def test_diagram_prints_a_mermaid_state_diagram(cli: Cli) -> None:
    assert "stateDiagram-v2" in ok(cli("diagram", "--track", "main")).stdout


@pytest.mark.parametrize(
    "command", ["init", "enroll", "record", "status", "list", "history", "events", "diagram", "verify"]
)
def test_every_command_has_help_with_an_example(cli: Cli, command: str) -> None:
    assert "Example:" in ok(cli(command, "--help")).stdout


@pytest.mark.parametrize("args", [["status", "MRN-1"], ["list"], ["enroll", "MRN-1"]])
def test_a_command_before_init_says_to_run_pathway_init(cli: Cli, args: list[str]) -> None:
    assert "pathway init" in refused(cli(*args))


def test_a_bad_time_zone_setting_is_named_in_the_error(cli: Cli) -> None:
    line = refused(cli("list", env={"PATHWAY_TIMEZONE": "Mars/Base"}))
    assert "PATHWAY_TIMEZONE" in line
