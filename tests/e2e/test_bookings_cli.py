"""Booked is not done: `pathway book`, the worklist's "booked for" and "missed appointment",
bookings in history and retractable (SQLite and PostgreSQL, freezegun)."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


def _line(cli: Cli, rule: str) -> dict[str, Any]:
    [item] = [i for i in as_json(cli("due", "--json", "--limit", "0")) if i["rule"] == rule]
    return item


def test_a_booked_step_stops_nagging_until_its_day_then_is_a_missed_appointment_at_once(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "sts"))
    assert _line(cli, "T12")["kind"] == "due"  # baseline neurological exam, window 2 – 9 Mar
    result = ok(cli("book", "MRN-1", "T12", "--on", "2026-03-05", "--note", "clinic 3"))
    assert "T12 Baseline neurological exam booked for 2026-03-05" in result.stdout
    assert result.stderr == ""  # inside the window: no warning
    line = _line(cli, "T12")
    assert (line["kind"], line["booking"]) == ("booked", "booked for 5 Mar")
    assert "BOOKED" in ok(cli("due")).stdout and "booked for 5 Mar" in ok(cli("due")).stdout
    assert as_json(cli("due", "--json"))[-1]["rule"] == "T12"  # after every action
    [event] = [e for e in as_json(cli("history", "MRN-1", "--json"))["events"] if e["event"] == "step_booked"]
    assert event["data"] == {"rule": "T12", "booked_for": "2026-03-05", "note": "clinic 3"}

    frozen.move_to("2026-03-05 22:59+00:00")  # still 5 Mar in London
    assert _line(cli, "T12")["kind"] == "booked"
    frozen.move_to("2026-03-06 00:01+00:00")  # the day after: missed, though the window is open
    line = _line(cli, "T12")
    assert (line["kind"], line["booking"]) == ("due", "missed appointment (booked for 5 Mar)")
    assert "MISSED APPOINTMENT" in ok(cli("due")).stdout

    ok(cli("book", "MRN-1", "T12", "--on", "2026-03-09"))  # rebooked
    assert _line(cli, "T12")["booking"] == "booked for 9 Mar"
    rebook = max(e["id"] for e in as_json(cli("history", "MRN-1", "--json"))["events"])
    ok(cli("record", "MRN-1", "retraction", "--set", f"event_id={rebook}", "--reason", "wrong patient"))
    assert _line(cli, "T12")["booking"] == "missed appointment (booked for 5 Mar)"  # history decides

    ok(cli("record", "MRN-1", "neuro_exam", "--set", "finding=baseline"))
    assert [i for i in as_json(cli("due", "--json", "--limit", "0")) if i["rule"] == "T12"] == []


def test_a_booking_outside_the_window_is_recorded_with_a_warning(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "sts"))
    result = ok(cli("book", "MRN-1", "T12", "--on", "2026-03-20"))
    assert (
        "warning: booked for 2026-03-20, after the window closes (2026-03-02 – 2026-03-09)" in result.stderr
    )
    assert _line(cli, "T12")["booking"] == "booked for 20 Mar"


def test_bad_bookings_are_refused_and_write_nothing(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "sts"))
    before = as_json(cli("history", "MRN-1", "--json"))
    assert "no follow-up rule 'T999'" in refused(cli("book", "MRN-1", "T999", "--on", "2026-03-05"))
    assert "no open follow-up T09" in refused(cli("book", "MRN-1", "T09", "--on", "2026-03-05"))
    assert "in the past" in refused(cli("book", "MRN-1", "T12", "--on", "2026-03-01"))
    assert "not a date" in refused(cli("book", "MRN-1", "T12", "--on", "5 March"))
    assert "MRN-404" in refused(cli("book", "MRN-404", "T12", "--on", "2026-03-05"))
    assert "pathway book" in refused(
        cli("record", "MRN-1", "step_booked", "--set", "rule=T12", "--set", "booked_for=2026-03-05")
    )
    assert as_json(cli("history", "MRN-1", "--json")) == before
