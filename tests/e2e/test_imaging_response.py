"""Imaging that measures response, end to end: the real CLI, SQLite and PostgreSQL, freezegun time.

Issue 12 items 4-6: a scan of another modality than the region's baseline raises A12a and does
not close T09 unless recorded as the new baseline; RECIST PD on a scan (or its later report) is
progression and starts A15; A13 (no response category 7 days after a scan) and imaging_reported.
"""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused
from tests.e2e.test_systemic import enrol, event_id, live, main_state, noon, record


@pytest.fixture(autouse=True)
def initialised(cli: Cli) -> None:
    ok(cli("init"))


def on_first_line(cli: Cli, frozen: FrozenDateTimeFactory, mrn: str) -> None:
    """Baseline MRI pelvis and CT chest on 3 March, doxorubicin from 9 March (T09 closes 1 June)."""
    frozen.move_to(noon("2026-03-09"))
    enrol(cli, mrn)
    record(cli, mrn, "imaging_done", "region=pelvis_sacrum", "modality=MRI", on="2026-03-03")
    record(cli, mrn, "imaging_done", "region=chest", "modality=CT", on="2026-03-03")
    record(cli, mrn, "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-03-05")
    record(cli, mrn, "systemic_started", "regimen=doxorubicin", on="2026-03-09")


def why(cli: Cli, mrn: str, rule: str, region: str) -> str:
    """`pathway why --json` for one region: its anchor and adjustments, one a line."""
    [e] = [e for e in as_json(cli("why", mrn, rule, "--json")) if e["region"] == region]
    return "\n".join([f"anchor: {e['anchor']}", *e["adjustments"]])


# --- item 4: another modality is not the region's response scan unless it is the new baseline ------


def test_a_follow_up_scan_of_another_modality_warns_and_leaves_the_region_due(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")
    frozen.move_to(noon("2026-05-04"))
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=CT", "response=SD", on="2026-05-04"
    )
    record(cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-05-04")
    [a12a] = live(cli, "MRN-1", "A12a")
    assert "modality CT for pelvis_sacrum, baseline was MRI" in a12a["message"]
    shown = why(cli, "MRN-1", "T09", "pelvis_sacrum")
    assert "does not count: modality CT for pelvis_sacrum, baseline was MRI" in shown
    assert "anchor: systemic_started" in shown

    frozen.move_to(noon("2026-06-01"))  # the window's last day
    assert live(cli, "MRN-1", "A10") == []
    frozen.move_to(noon("2026-06-02"))
    [a10] = live(cli, "MRN-1", "A10")
    assert "(pelvis_sacrum)" in a10["message"]
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-06-02"
    )
    assert live(cli, "MRN-1", "A10") == []


def test_a_scan_recorded_as_the_new_baseline_closes_the_step_and_later_scans_compare_with_it(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")
    frozen.move_to(noon("2026-05-04"))
    record(
        cli,
        "MRN-1",
        "imaging_done",
        "region=pelvis_sacrum",
        "modality=CT",
        "response=SD",
        "new_baseline=yes",
        on="2026-05-04",
    )
    record(cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-05-04")
    assert live(cli, "MRN-1", "A12a") == []
    shown = why(cli, "MRN-1", "T09", "pelvis_sacrum")
    assert "modality CT is the new baseline for pelvis_sacrum (was MRI)" in shown
    assert "anchor: imaging_done done" in shown
    frozen.move_to(noon("2026-06-02"))
    assert live(cli, "MRN-1", "A10") == []
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=SD", on="2026-06-02"
    )
    [a12a] = live(cli, "MRN-1", "A12a")
    assert "modality MRI for pelvis_sacrum, baseline was CT" in a12a["message"]


# --- item 5: RECIST PD is progression ------------------------------------------------------------------


def test_a_pd_scan_moves_to_progression_review_and_starts_the_14_day_mdt_clock(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")
    frozen.move_to(noon("2026-04-27"))
    out = record(cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "response=PD", on="2026-04-27")
    assert "main: systemic_therapy → progression_review" in out
    assert "anchor: imaging_done" in ok(cli("why", "MRN-1", "A15")).stdout
    frozen.move_to(noon("2026-05-11"))  # 14 days: the window's last day
    assert live(cli, "MRN-1", "A15") == []
    frozen.move_to(noon("2026-05-12"))
    [a15] = live(cli, "MRN-1", "A15")
    assert a15["severity"] == "warning"
    # a later scan in progression review does not restart the clock
    record(
        cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", "response=PD", on="2026-05-12"
    )
    assert [a["id"] for a in live(cli, "MRN-1", "A15")] == [a15["id"]]
    record(cli, "MRN-1", "mdt_decision", "resectability=unresectable", "plan=systemic", on="2026-05-12")
    assert live(cli, "MRN-1", "A15") == []


def test_no_progression_clock_for_stable_disease_or_an_mdt_decision_in_time(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-SD")
    on_first_line(cli, frozen, "MRN-PD")
    frozen.move_to(noon("2026-04-27"))
    record(cli, "MRN-SD", "imaging_done", "region=chest", "modality=CT", "response=SD", on="2026-04-27")
    record(cli, "MRN-PD", "imaging_done", "region=chest", "modality=CT", "response=PD", on="2026-04-27")
    frozen.move_to(noon("2026-05-11"))
    record(cli, "MRN-PD", "mdt_decision", "resectability=unresectable", "plan=bsc", on="2026-05-11")
    frozen.move_to(noon("2026-05-20"))
    assert main_state(cli, "MRN-SD") == "systemic_therapy"
    assert main_state(cli, "MRN-PD") == "best_supportive_care"
    assert live(cli, "MRN-SD", "A15") == [] and live(cli, "MRN-PD", "A15") == []


# --- item 6: A13 and imaging_reported ----------------------------------------------------------------


def test_a_scan_without_a_response_category_warns_after_7_days_until_it_is_reported(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")
    frozen.move_to(noon("2026-04-27"))
    scan = event_id(
        record(cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", on="2026-04-27")
    )
    frozen.move_to(noon("2026-05-04"))  # 7 days: the window's last day
    assert live(cli, "MRN-1", "A13") == []
    frozen.move_to(noon("2026-05-05"))
    [a13] = live(cli, "MRN-1", "A13")
    assert a13["severity"] == "warning" and f"(event {scan})" in a13["message"]
    out = record(cli, "MRN-1", "imaging_reported", f"imaging_event_id={scan}", "response=PD", on="2026-05-05")
    assert "main: systemic_therapy → progression_review" in out
    assert live(cli, "MRN-1", "A13") == []
    assert "anchor: imaging_reported" in ok(cli("why", "MRN-1", "A15")).stdout


def test_no_a13_for_a_scan_reported_in_time_with_a_response_or_before_the_plan(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")  # its baseline scans, in assessment, have no response: no A13
    frozen.move_to(noon("2026-04-27"))
    scan = event_id(
        record(cli, "MRN-1", "imaging_done", "region=pelvis_sacrum", "modality=MRI", on="2026-04-27")
    )
    record(
        cli, "MRN-1", "imaging_done", "region=chest", "modality=CT", "clinical_status=stable", on="2026-04-27"
    )
    frozen.move_to(noon("2026-05-04"))
    record(cli, "MRN-1", "imaging_reported", f"imaging_event_id={scan}", "response=SD", on="2026-05-04")
    frozen.move_to(noon("2026-05-20"))
    assert live(cli, "MRN-1", "A13") == []
    assert main_state(cli, "MRN-1") == "systemic_therapy"


def test_imaging_reported_must_name_a_live_imaging_event_of_the_patient(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    on_first_line(cli, frozen, "MRN-1")
    decision = event_id(record(cli, "MRN-1", "exam_done"))
    base = ("record", "MRN-1", "imaging_reported", "--by", "j.smith", "--set", "response=SD", "--set")
    assert "is exam_done; it must name one of imaging_done" in refused(
        cli(*base, f"imaging_event_id={decision}")
    )
    assert "is not a live event of this patient" in refused(cli(*base, "imaging_event_id=9999"))
