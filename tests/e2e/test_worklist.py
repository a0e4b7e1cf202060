"""End to end: the worklist (`pathway due`) options and the follow-ups in `pathway status --json`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


@pytest.fixture
def enrolled(cli: Cli) -> Cli:
    """MRN-1 enrolled on Monday 2026-03-02 (the frozen today); nothing recorded yet."""
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts", "--on", "2026-03-02"))
    return cli


def due(cli: Cli, *options: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = as_json(cli("due", "--json", *options))
    return items


def lines(items: list[dict[str, Any]], kind: str | None = None) -> list[tuple[str, str]]:
    return [(i["rule"], i["kind"]) for i in items if kind is None or i["kind"] == kind]


def test_within_decides_how_far_ahead_soon_items_are_listed(
    enrolled: Cli, frozen: FrozenDateTimeFactory
) -> None:
    frozen.move_to("2026-05-10 09:00+00:00")  # the physical examination (T10) opens 2026-06-02

    none_ahead, week, month = (due(enrolled, "--within", n) for n in ("0", "7", "30"))

    assert lines(none_ahead, "soon") == lines(week, "soon") == []
    assert lines(month, "soon") == [("T10", "soon")]
    assert [i["opens"] for i in month if i["kind"] == "soon"] == ["2026-06-02"]
    assert [i for i in none_ahead if i["kind"] != "soon"] == [i for i in month if i["kind"] != "soon"]
    assert lines(none_ahead, "overdue")


@pytest.fixture
def rt_not_started(enrolled: Cli, frozen: FrozenDateTimeFactory) -> Cli:
    """MDT on 2026-03-05 for definitive RT; RT never starts: A07 is critical from 2026-04-17."""
    frozen.move_to("2026-03-05 09:00+00:00")
    ok(
        enrolled(
            "record",
            "MRN-1",
            "mdt_decision",
            "--set",
            "resectability=unresectable",
            "--set",
            "plan=definitive_rt",
            "--on",
            "2026-03-05",
        )
    )
    frozen.move_to("2026-04-20 09:00+00:00")
    ok(enrolled("sweep"))
    return enrolled


def test_severity_critical_lists_only_critical_items(rt_not_started: Cli) -> None:
    everything = due(rt_not_started)
    critical = due(rt_not_started, "--severity", "critical")

    assert {i["severity"] for i in everything} == {"info", "warning", "critical"}
    assert [(i["rule"], i["kind"], i["severity"], i["alert_rule"]) for i in critical] == [
        ("T02", "overdue", "critical", "A07")
    ]
    assert everything[0] == critical[0]


def test_severity_warning_lists_warnings_and_criticals(rt_not_started: Cli) -> None:
    items = due(rt_not_started, "--severity", "warning")

    assert {i["severity"] for i in items} == {"warning", "critical"}
    assert items[0]["severity"] == "critical"
    assert len(items) == len([i for i in due(rt_not_started) if i["severity"] in ("warning", "critical")])


def test_as_of_a_future_date_shows_the_statuses_of_that_day(enrolled: Cli) -> None:
    today = due(enrolled)
    later = due(enrolled, "--as-of", "2026-03-20")

    assert lines(today) == [
        ("T12", "due"),
        ("T13", "due"),
        ("T01", "due"),
        ("T28", "due"),
        ("T11", "due"),  # the structured neuro exam, every 31 days
        ("T16", "due"),
    ]
    assert lines(later) == [
        ("T12", "overdue"),
        ("T13", "overdue"),
        ("T01", "overdue"),
        ("T28", "overdue"),
        ("T11", "due"),
        ("T16", "due"),
    ]
    assert all(i["days_late"] > 0 for i in later if i["kind"] == "overdue")
    assert due(enrolled, "--as-of", "2026-03-02") == today


def test_as_of_a_date_gives_the_days_late_the_worklist_shows_on_that_date(
    enrolled: Cli, frozen: FrozenDateTimeFactory
) -> None:
    forecast = {i["rule"]: i["days_late"] for i in due(enrolled, "--as-of", "2026-03-20")}

    frozen.move_to("2026-03-20 09:00+00:00")
    on_the_day = {i["rule"]: i["days_late"] for i in due(enrolled)}

    assert on_the_day == {"T12": 11, "T13": 11, "T01": 4, "T28": 4, "T11": 0, "T16": 0}  # closes 03-09, 03-16
    assert forecast == on_the_day


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["--severity", "x"], id="unknown severity"),
        pytest.param(["--severity", "CRITICAL"], id="severity in capitals"),
        pytest.param(["--within", "-1"], id="negative within"),
        pytest.param(["--within", "400"], id="within over a year"),
        pytest.param(["--as-of", "20/03/2026"], id="malformed as-of"),
    ],
)
def test_a_bad_worklist_option_is_refused_with_one_error_line(enrolled: Cli, options: list[str]) -> None:
    result = enrolled("due", *options)

    line = refused(result)
    assert options[0] in line
    assert result.stdout == ""


def test_status_json_lists_current_follow_ups_and_live_alerts_with_iso_dates(
    enrolled: Cli, frozen: FrozenDateTimeFactory
) -> None:
    frozen.move_to("2026-03-12 09:00+00:00")  # baseline exam and pain score (T12, T13) are late
    ok(enrolled("sweep"))

    status = as_json(enrolled("status", "MRN-1", "--json"))

    follow_ups, alerts = status["follow_ups"], status["alerts"]
    assert sorted(f["rule"] for f in follow_ups) == ["A32", "T01", "T10", "T11", "T12", "T13", "T16", "T28"]
    for f in follow_ups:
        assert {"rule", "step", "region", "opens", "target", "closes", "status"} <= set(f)
        assert (
            date.fromisoformat(f["opens"])
            <= date.fromisoformat(f["target"])
            <= date.fromisoformat(f["closes"])
        )
        assert f["status"] in ("upcoming", "due", "overdue")
    t12 = next(f for f in follow_ups if f["rule"] == "T12")
    assert (t12["opens"], t12["closes"], t12["status"], t12["region"]) == (
        "2026-03-02",
        "2026-03-09",
        "overdue",
        None,
    )
    assert sorted((a["rule"], a["severity"], a["status"]) for a in alerts) == [
        ("A17", "warning", "open"),
        ("A47", "warning", "open"),
    ]
    for a in alerts:
        assert {"id", "rule", "severity", "status", "message", "source", "opened_at"} <= set(a)
        assert datetime.fromisoformat(a["opened_at"]).utcoffset() is not None
        assert a["source"] and a["message"]
