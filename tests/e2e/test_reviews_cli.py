"""Recurring reviews through the real CLI (SQLite and PostgreSQL, freezegun): T15 pain reassessment
in 72 h, A18 exam without a pain score, T11 neuro exam every 31 days, T17/A22 palliative visits,
A32 lost-to-follow-up candidate after 120 days without contact; each firing and not, at the boundary."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok


def live(cli: Cli, mrn: str, rule: str) -> list[str]:
    return [a["severity"] for a in as_json(cli("alerts", "--mrn", mrn, "--json")) if a["rule"] == rule]


def alerts(cli: Cli, mrn: str, rule: str) -> list[dict[str, Any]]:
    return [a for a in as_json(cli("alerts", "--mrn", mrn, "--json")) if a["rule"] == rule]


def open_closes(cli: Cli, mrn: str, rule: str) -> list[str]:
    follow_ups = as_json(cli("status", mrn, "--json"))["follow_ups"]
    return [f["closes"] for f in follow_ups if f["rule"] == rule and f["status"] not in ("done", "cancelled")]


def test_t15_a_pain_score_of_three_or_an_analgesic_change_needs_a_reviewed_score_within_72_hours(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    for mrn in ("MRN-1", "MRN-2", "MRN-3", "MRN-4"):
        ok(cli("enroll", mrn, "--on", "2026-03-02"))
    frozen.move_to("2026-03-03 10:00+00:00")
    ok(cli("record", "MRN-1", "pain_score", "--at", "2026-03-03T10:00", "--set", "nrs=3"))
    ok(cli("record", "MRN-2", "pain_score", "--at", "2026-03-03T10:00", "--set", "nrs=2"))  # below 3
    ok(cli("record", "MRN-3", "analgesia_changed", "--at", "2026-03-03T10:00"))
    ok(cli("record", "MRN-4", "pain_score", "--at", "2026-03-03T10:00", "--set", "nrs=6"))
    assert open_closes(cli, "MRN-2", "T15") == []
    frozen.move_to("2026-03-05 10:00+00:00")
    ok(cli("record", "MRN-3", "pain_score", "--set", "nrs=2"))  # no side-effect review: not done
    ok(cli("record", "MRN-4", "pain_score", "--set", "nrs=2", "--set", "side_effects_reviewed=yes"))

    frozen.move_to("2026-03-06 09:59+00:00")
    ok(cli("sweep"))
    assert [live(cli, m, "T15") for m in ("MRN-1", "MRN-3", "MRN-4")] == [[], [], []]
    frozen.move_to("2026-03-06 10:00+00:00")  # 72 hours after the anchor
    ok(cli("sweep"))
    assert [live(cli, m, "T15") for m in ("MRN-1", "MRN-3", "MRN-4")] == [["warning"], ["warning"], []]


def test_a18_an_exam_without_a_pain_score_that_day_is_info_and_two_in_a_row_a_warning(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to("2026-03-03 10:00+00:00")
    ok(cli("record", "MRN-1", "pain_score", "--set", "nrs=1"))
    ok(cli("record", "MRN-1", "exam_done"))  # a score earlier the same day counts
    assert live(cli, "MRN-1", "A18") == []
    frozen.move_to("2026-04-03 10:00+01:00")
    ok(cli("record", "MRN-1", "exam_done"))
    assert live(cli, "MRN-1", "A18") == ["info"]
    frozen.move_to("2026-04-03 16:00+01:00")
    ok(cli("record", "MRN-1", "pain_score", "--set", "nrs=1"))  # later the same day: resolved
    assert live(cli, "MRN-1", "A18") == []
    frozen.move_to("2026-05-04 10:00+01:00")
    ok(cli("record", "MRN-1", "exam_done"))
    frozen.move_to("2026-06-04 10:00+01:00")
    ok(cli("record", "MRN-1", "exam_done"))
    assert sorted(live(cli, "MRN-1", "A18")) == ["info", "warning"]
    [second] = [a for a in alerts(cli, "MRN-1", "A18") if a["severity"] == "warning"]
    assert "no pain_score recorded on 2026-06-04 (2 exam_done in a row)" in second["message"]


def test_t11_a_structured_neuro_exam_is_due_every_31_days(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02"))
    ok(cli("record", "MRN-1", "neuro_exam", "--set", "finding=baseline"))
    ok(cli("record", "MRN-2", "neuro_exam", "--set", "finding=baseline"))
    assert open_closes(cli, "MRN-1", "T11") == ["2026-04-02"]
    frozen.move_to("2026-04-02 12:00+01:00")
    ok(cli("record", "MRN-2", "neuro_exam", "--set", "finding=stable"))  # on the last day
    assert open_closes(cli, "MRN-2", "T11") == ["2026-05-03"]
    frozen.move_to("2026-04-02 23:59+01:00")
    ok(cli("sweep"))
    assert live(cli, "MRN-1", "T11") == []
    frozen.move_to("2026-04-03 00:01+01:00")
    ok(cli("sweep"))
    assert (live(cli, "MRN-1", "T11"), live(cli, "MRN-2", "T11")) == (["warning"], [])


def test_t17_once_referred_a_palliative_visit_at_least_every_31_days(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02"))
    ok(cli("enroll", "MRN-3", "--on", "2026-03-02"))  # never referred: no visit clock
    ok(cli("record", "MRN-1", "palliative_referral"))
    ok(cli("record", "MRN-2", "palliative_referral"))
    assert open_closes(cli, "MRN-1", "T17") == ["2026-04-02"] and open_closes(cli, "MRN-3", "T17") == []
    frozen.move_to("2026-03-30 10:00+01:00")
    ok(cli("record", "MRN-2", "palliative_visit"))
    frozen.move_to("2026-04-03 00:01+01:00")
    ok(cli("sweep"))
    assert [live(cli, m, "A22") for m in ("MRN-1", "MRN-2", "MRN-3")] == [["info"], [], []]
    assert open_closes(cli, "MRN-2", "T17") == ["2026-04-30"]


def test_a32_no_contact_for_120_days_is_a_lost_to_follow_up_candidate(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02"))
    assert open_closes(cli, "MRN-1", "A32") == ["2026-06-30"]
    frozen.move_to("2026-06-10 10:00+01:00")
    ok(cli("record", "MRN-2", "pain_score", "--set", "nrs=1"))  # any recorded contact
    frozen.move_to("2026-06-30 23:59+01:00")
    ok(cli("sweep"))
    assert live(cli, "MRN-1", "A32") == []
    frozen.move_to("2026-07-01 00:01+01:00")
    ok(cli("sweep"))
    [a32] = alerts(cli, "MRN-1", "A32")
    assert a32["severity"] == "info" and "Lost to follow-up candidate (admin task)" in a32["message"]
    assert live(cli, "MRN-2", "A32") == []
    ok(cli("record", "MRN-1", "exam_done"))  # contact again: the task resolves
    assert live(cli, "MRN-1", "A32") == []
