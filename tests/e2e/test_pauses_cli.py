"""Pauses through the real CLI, SQLite and PostgreSQL, with freezegun: a pause of N days extends a
pausable window by N days, an overdue step stays overdue, non-pausable clocks fire, a long pause
asks for review."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok


def follow_up(cli: Cli, rule: str) -> dict[str, Any]:
    [fu] = [f for f in as_json(cli("status", "MRN-1", "--json"))["follow_ups"] if f["rule"] == rule]
    return fu


def live(cli: Cli, rule: str) -> list[tuple[str, str, int]]:
    alerts = as_json(cli("alerts", "--mrn", "MRN-1", "--json"))
    return [(a["severity"], a["status"], a["id"]) for a in alerts if a["rule"] == rule]


def test_a_nine_day_pause_moves_the_exam_window_nine_days_and_its_alert_with_it(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    assert (follow_up(cli, "T10")["opens"], follow_up(cli, "T10")["closes"]) == ("2026-06-02", "2026-07-02")
    frozen.move_to("2026-03-20 10:00+00:00")
    ok(cli("record", "MRN-1", "care_paused", "--set", "reason_code=hospital_admission"))
    frozen.move_to("2026-03-29 10:00+01:00")
    ok(cli("record", "MRN-1", "care_resumed"))

    t10 = follow_up(cli, "T10")
    assert (t10["opens"], t10["target"], t10["closes"]) == ("2026-06-11", "2026-07-11", "2026-07-11")
    why = ok(cli("why", "MRN-1", "T10")).stdout
    assert "anchor: enrolment" in why
    assert (
        "paused on 2026-03-20 (hospital_admission), resumed on 2026-03-29: window extended by 9 day(s)" in why
    )

    frozen.move_to("2026-07-05 09:00+01:00")  # the old window has closed, the extended one has not
    ok(cli("sweep"))
    assert live(cli, "A16") == []
    frozen.move_to("2026-07-11 23:59+01:00")
    ok(cli("sweep"))
    assert live(cli, "A16") == []
    frozen.move_to("2026-07-12 00:01+01:00")
    ok(cli("sweep"))
    assert [(s, st) for s, st, _ in live(cli, "A16")] == [("warning", "open")]


def test_an_exam_already_overdue_stays_overdue_and_alerting_through_a_pause(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to("2026-07-05 09:00+01:00")
    ok(cli("sweep"))
    [alert] = live(cli, "A16")
    ok(cli("record", "MRN-1", "care_paused", "--set", "reason_code=treatment_hold"))
    ok(cli("sweep"))
    assert follow_up(cli, "T10")["status"] == "overdue"
    assert live(cli, "A16") == [alert]
    frozen.move_to("2026-07-25 09:00+01:00")
    ok(cli("record", "MRN-1", "care_resumed"))
    ok(cli("sweep"))
    t10 = follow_up(cli, "T10")
    assert (t10["closes"], t10["status"]) == ("2026-07-02", "overdue")
    assert live(cli, "A16") == [alert]
    assert "already overdue or alerting, so not paused" in ok(cli("why", "MRN-1", "T10")).stdout


def test_the_escalation_clock_fires_to_the_hour_during_a_pause(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to("2026-03-03 10:00+00:00")
    ok(cli("record", "MRN-1", "neuro_exam", "--set", "finding=new_deficit"))
    frozen.move_to("2026-03-03 10:05+00:00")
    ok(cli("record", "MRN-1", "care_paused", "--set", "reason_code=hospital_admission"))
    frozen.move_to("2026-03-03 10:59+00:00")
    ok(cli("sweep"))
    assert live(cli, "A01") == []
    frozen.move_to("2026-03-03 11:01+00:00")
    ok(cli("sweep"))
    assert [(s, st) for s, st, _ in live(cli, "A01")] == [("critical", "open")]


def test_a_pause_longer_than_28_days_raises_an_info_alert_that_the_resume_resolves(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    frozen.move_to("2026-03-10 10:00+00:00")
    ok(cli("record", "MRN-1", "care_paused", "--set", "reason_code=patient_request"))
    frozen.move_to("2026-04-07 22:59+00:00")  # 23:59 on 7 April, London summer time
    ok(cli("sweep"))
    assert live(cli, "A49") == []
    frozen.move_to("2026-04-07 23:01+00:00")
    ok(cli("sweep"))
    assert [(s, st) for s, st, _ in live(cli, "A49")] == [("info", "open")]
    ok(cli("record", "MRN-1", "care_resumed"))
    assert live(cli, "A49") == []
