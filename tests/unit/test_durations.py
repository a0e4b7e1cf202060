"""Durations of the pathway file: parsing, calendar arithmetic and clock time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pathway.domain.durations import Duration

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("14d", 14, "d"),
        ("6w", 6, "w"),
        ("3mo", 3, "mo"),
        ("24h", 24, "h"),
        ("60min", 60, "min"),
        ("0d", 0, "d"),
        (" 7 d ", 7, "d"),
        ("1mo", 1, "mo"),
    ],
)
def test_a_well_formed_duration_parses_into_amount_and_unit(text: str, amount: int, unit: str) -> None:
    assert Duration.parse(text) == Duration(amount, unit)


@pytest.mark.parametrize(
    "text", ["", "14", "d", "14 days", "2y", "1.5d", "14dd", "d14", "3 months", "six weeks", "14d 2h"]
)
def test_a_malformed_duration_is_refused_with_an_example_of_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        Duration.parse(text)


def test_a_bare_integer_is_refused_because_it_has_no_unit() -> None:
    with pytest.raises(ValueError):
        Duration.parse(14)


@pytest.mark.parametrize("text", ["14d", "6w", "3mo", "24h", "60min"])
def test_code_round_trips_through_parse(text: str) -> None:
    assert Duration.parse(Duration.parse(text).code()) == Duration.parse(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("14d", "14 days"),
        ("1d", "1 day"),
        ("6w", "6 weeks"),
        ("1mo", "1 month"),
        ("3mo", "3 months"),
        ("24h", "24 hours"),
        ("1h", "1 hour"),
        ("60min", "60 minutes"),
    ],
)
def test_a_duration_reads_as_words(text: str, words: str) -> None:
    assert str(Duration.parse(text)) == words


# --- calendar arithmetic ------------------------------------------------------------------------


def test_one_month_after_the_31st_of_january_is_the_last_day_of_february() -> None:
    assert Duration.parse("1mo").add_to_date(date(2026, 1, 31)) == date(2026, 2, 28)


def test_one_month_after_the_31st_of_january_in_a_leap_year_is_the_29th_of_february() -> None:
    assert Duration.parse("1mo").add_to_date(date(2028, 1, 31)) == date(2028, 2, 29)


def test_months_are_calendar_months_not_thirty_days() -> None:
    assert Duration.parse("3mo").add_to_date(date(2026, 3, 2)) == date(2026, 6, 2)
    assert Duration.parse("1mo").add_to_date(date(2026, 3, 31)) == date(2026, 4, 30)
    assert Duration.parse("12mo").add_to_date(date(2028, 2, 29)) == date(2029, 2, 28)


def test_weeks_and_days_count_whole_calendar_days() -> None:
    assert Duration.parse("6w").add_to_date(date(2026, 3, 20)) == date(2026, 5, 1)
    assert Duration.parse("14d").add_to_date(date(2026, 12, 25)) == date(2027, 1, 8)
    assert Duration.parse("0d").add_to_date(date(2026, 3, 2)) == date(2026, 3, 2)


# --- clock time versus calendar -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("24h", True),
        ("60min", True),
        ("0h", True),
        ("14d", False),
        ("6w", False),
        ("3mo", False),
    ],
)
def test_only_hours_and_minutes_count_clock_time(text: str, clock: bool) -> None:
    assert Duration.parse(text).is_clock_time is clock


def test_hours_count_elapsed_time_across_the_spring_clock_change() -> None:
    anchor = datetime(2026, 3, 28, 12, tzinfo=UTC)  # London moves to BST at 01:00 UTC on 29 March
    later = Duration.parse("24h").add_to_instant(anchor)
    assert later - anchor == timedelta(hours=24)
    assert later.astimezone(LONDON).hour == 13  # the wall clock moved 25 hours


def test_minutes_count_elapsed_time() -> None:
    anchor = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert Duration.parse("60min").add_to_instant(anchor) == anchor + timedelta(hours=1)


@pytest.mark.parametrize("text", ["24h", "60min"])
def test_a_clock_duration_cannot_be_added_to_a_calendar_date(text: str) -> None:
    with pytest.raises(ValueError, match="clock time"):
        Duration.parse(text).add_to_date(date(2026, 3, 2))


@pytest.mark.parametrize("text", ["14d", "6w", "3mo"])
def test_a_calendar_duration_cannot_be_added_to_an_instant(text: str) -> None:
    with pytest.raises(ValueError, match="calendar days"):
        Duration.parse(text).add_to_instant(datetime(2026, 3, 2, tzinfo=UTC))
