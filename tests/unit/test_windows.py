"""Follow-up windows: anchor + window rule -> opens / target / closes in the clinic's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pathway.domain.durations import Duration
from pathway.domain.rules_spec import AlertLevel, WindowSpec
from pathway.domain.windows import Calendar, Window, compute_window, target_day

LONDON = ZoneInfo("Europe/London")
PLAIN = Calendar(LONDON)


def christmas(day: date) -> str | None:
    return "Christmas" if (day.month, day.day) == (12, 25) else None


HOLIDAYS = Calendar(LONDON, holiday=christmas)
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
PROPERTY = settings(
    max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def local(instant: datetime) -> datetime:
    return instant.astimezone(LONDON)


def is_local_midnight(instant: datetime) -> bool:
    return local(instant).time() == time(0, 0)


def window(
    opens: str, closes: str, target: str | None = None, anchor: datetime = MONDAY, calendar: Calendar = PLAIN
) -> Window:
    return compute_window(WindowSpec(opens=opens, target=target, closes=closes), anchor, calendar)


# --- strategies ---------------------------------------------------------------------------------

anchors = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31, 23, 59), timezones=st.just(UTC)
)
_UNIT_MAX = {"d": 400, "w": 60, "mo": 24}


@st.composite
def calendar_durations(draw: st.DrawFn, units: tuple[str, ...] = ("d", "w", "mo")) -> str:
    unit = draw(st.sampled_from(units))
    return f"{draw(st.integers(0, _UNIT_MAX[unit]))}{unit}"


def _reference_order(text: str) -> date:
    return Duration.parse(text).add_to_date(date(2001, 1, 31))  # the order WindowSpec validates


@st.composite
def window_specs(draw: st.DrawFn, units: tuple[str, ...] = ("d", "w", "mo")) -> WindowSpec:
    """Any window the pathway file accepts: three calendar durations with opens <= target <= closes."""
    parts = [draw(calendar_durations(units)) for _ in range(3)]
    opens, target, closes = sorted(parts, key=_reference_order)
    try:
        return WindowSpec(opens=opens, target=target if draw(st.booleans()) else None, closes=closes)
    except ValidationError:
        assume(False)  # ordered from one anchor day but not from every one: the file refuses it
        raise


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opens, target, closes", [("1mo", "29d", "2mo"), ("0d", "6mo", "26w"), ("1mo", None, "29d")]
)
def test_a_window_out_of_order_from_some_anchor_day_is_refused(opens, target, closes) -> None:
    with pytest.raises(ValidationError, match="opens <= target <= closes"):
        WindowSpec(opens=opens, target=target, closes=closes)


@PROPERTY
@given(spec=window_specs(), anchor=anchors)
def test_every_accepted_window_opens_before_its_target_and_target_before_it_closes(
    spec: WindowSpec, anchor: datetime
) -> None:
    w = compute_window(spec, anchor, PLAIN)
    assert w.opens_at <= w.target_at <= w.closes_at
    assert is_local_midnight(w.opens_at) and is_local_midnight(w.closes_at)
    assert w.shift is None and not w.clock_time


@PROPERTY
@given(spec=st.one_of(window_specs(("d", "w")), window_specs(("mo",))), anchor=anchors)
def test_with_a_holiday_calendar_the_target_only_moves_earlier_and_never_before_the_window_opens(
    spec: WindowSpec, anchor: datetime
) -> None:
    plain, shifted = compute_window(spec, anchor, PLAIN), compute_window(spec, anchor, HOLIDAYS)
    assert (shifted.opens_at, shifted.closes_at) == (plain.opens_at, plain.closes_at)
    assert shifted.opens_at <= shifted.target_at <= plain.target_at <= shifted.closes_at
    if shifted.target_at != plain.target_at:
        assert shifted.shift is not None and "previous working day" in shifted.shift
    assert is_local_midnight(shifted.target_at)


def test_a_window_opening_after_one_month_and_closing_after_29_days_is_refused_or_ordered() -> None:
    # WindowSpec checks the order only from 31 January, where 1 month is 28 days; from 1 March one
    # month is 31 days, so a window it accepts can open after it closes.
    try:
        spec = WindowSpec(opens="1mo", closes="29d")
    except ValidationError:
        return
    w = compute_window(spec, datetime(2026, 3, 1, 12, tzinfo=UTC), PLAIN)
    assert w.opens_at <= w.closes_at, w


# --- calendar windows: local days, month ends, daylight saving ----------------------------------


def test_a_calendar_window_opens_at_the_start_of_its_first_day_and_closes_at_the_end_of_its_last() -> None:
    w = window("0d", "14d")
    assert w.opens_at == datetime(2026, 3, 2, 0, tzinfo=UTC)
    assert w.closes_at == datetime(2026, 3, 17, 0, tzinfo=UTC)  # end of 16 March (GMT)
    assert w.target_at == w.closes_at  # no target: the target is the last day


def test_a_one_month_window_from_the_31st_of_january_closes_at_the_end_of_february() -> None:
    w = window("0d", "1mo", anchor=datetime(2026, 1, 31, 15, tzinfo=UTC))
    assert local(w.closes_at) == datetime(2026, 3, 1, tzinfo=LONDON)
    leap = window("0d", "1mo", anchor=datetime(2028, 1, 31, 15, tzinfo=UTC))
    assert local(leap.closes_at) == datetime(2028, 3, 1, tzinfo=LONDON)


def test_the_anchor_day_is_the_clinic_local_day_not_the_utc_day() -> None:
    late_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 BST on 1 July
    w = window("0d", "0d", anchor=late_evening)
    assert local(w.opens_at) == datetime(2026, 7, 1, tzinfo=LONDON)
    assert local(w.closes_at) == datetime(2026, 7, 2, tzinfo=LONDON)


def test_a_six_week_window_across_the_spring_clock_change_opens_and_closes_at_local_midnight() -> None:
    w = window("0d", "6w", target="4w", anchor=datetime(2026, 3, 20, 10, tzinfo=UTC))
    assert w.opens_at == datetime(2026, 3, 20, 0, tzinfo=UTC)  # GMT side of the change
    assert w.closes_at == datetime(2026, 5, 1, 23, tzinfo=UTC)  # BST side: midnight is 23:00 UTC
    assert local(w.opens_at).hour == 0 and local(w.closes_at).hour == 0
    assert local(w.target_at) == datetime(2026, 4, 18, tzinfo=LONDON)


def test_a_six_week_window_across_the_autumn_clock_change_closes_at_local_midnight() -> None:
    w = window("0d", "6w", anchor=datetime(2026, 10, 10, 10, tzinfo=UTC))
    assert local(w.opens_at).hour == 0 and local(w.closes_at).hour == 0
    assert w.opens_at == datetime(2026, 10, 9, 23, tzinfo=UTC)  # BST
    assert w.closes_at == datetime(2026, 11, 22, 0, tzinfo=UTC)  # GMT


# --- clock-time windows -------------------------------------------------------------------------


def test_an_hour_window_counts_elapsed_hours_across_the_clock_change() -> None:
    anchor = datetime(2026, 3, 28, 12, tzinfo=UTC)  # the clocks go forward overnight
    w = window("0h", "24h", anchor=anchor, calendar=HOLIDAYS)
    assert w.clock_time
    assert w.opens_at == anchor
    assert w.closes_at - anchor == timedelta(hours=24)
    assert local(w.closes_at).hour == 13  # 25 wall-clock hours later
    assert w.target_at == w.closes_at
    assert w.shift is None  # ends on a Sunday, but clock-time windows are never shifted


def test_a_minute_window_closes_exactly_that_many_minutes_after_the_anchor() -> None:
    anchor = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    w = window("0min", "60min", anchor=anchor)
    assert (w.opens_at, w.closes_at) == (anchor, anchor + timedelta(minutes=60))


# --- weekend and holiday shifts -----------------------------------------------------------------


def test_a_target_falling_on_a_saturday_moves_to_the_friday_before() -> None:
    w = window("0d", "14d", target="12d", calendar=HOLIDAYS)  # 2 March + 12 days = Saturday 14 March
    assert target_day(w, LONDON) == date(2026, 3, 13)
    assert w.target_at == datetime(2026, 3, 14, 0, tzinfo=UTC)
    assert w.shift is not None
    assert "2026-03-14 (weekend)" in w.shift and "2026-03-13" in w.shift
    assert w.closes_at == datetime(2026, 3, 17, 0, tzinfo=UTC)  # only the target moves


def test_a_target_falling_on_a_sunday_moves_back_two_days_to_friday() -> None:
    w = window("0d", "14d", target="13d", calendar=HOLIDAYS)
    assert target_day(w, LONDON) == date(2026, 3, 13)


def test_a_target_on_a_holiday_moves_to_the_previous_working_day_and_names_the_holiday() -> None:
    w = window("0d", "21d", target="14d", anchor=datetime(2026, 12, 11, 9, tzinfo=UTC), calendar=HOLIDAYS)
    assert target_day(w, LONDON) == date(2026, 12, 24)
    assert w.shift is not None and "Christmas" in w.shift


def test_without_a_holiday_calendar_a_weekend_target_stays_where_it_falls() -> None:
    w = window("0d", "14d", target="12d")
    assert target_day(w, LONDON) == date(2026, 3, 14)
    assert w.shift is None


def test_a_weekend_target_on_the_day_the_window_opens_is_not_moved_before_the_window() -> None:
    w = window("12d", "14d", target="12d", calendar=HOLIDAYS)
    assert target_day(w, LONDON) == date(2026, 3, 14)
    assert w.shift is None


def test_a_target_is_only_moved_onto_a_working_day() -> None:
    # opens Saturday 14 March, target Sunday 15 March: there is no working day left before it
    w = window("12d", "14d", target="13d", calendar=HOLIDAYS)
    if w.shift is not None:
        assert HOLIDAYS.non_working(target_day(w, LONDON)) is None, w.shift


# --- alert levels -------------------------------------------------------------------------------


def test_an_alert_level_28_days_after_closing_fires_at_the_local_midnight_28_days_later() -> None:
    w = window("0d", "14d")  # closes at the end of 16 March (GMT)
    fires = w.level_at(AlertLevel(severity="critical", at="closes", plus="28d"), LONDON)
    assert local(fires) == datetime(2026, 4, 14, tzinfo=LONDON)  # 28 calendar days, now in BST
    assert fires - w.closes_at == timedelta(days=28, hours=-1)


def test_an_alert_level_28_days_after_closing_is_exactly_28_days_when_no_clock_change_intervenes() -> None:
    w = window("0d", "14d", anchor=datetime(2026, 5, 4, 9, tzinfo=UTC))
    fires = w.level_at(AlertLevel(severity="critical", at="closes", plus="28d"), LONDON)
    assert fires == w.closes_at + timedelta(days=28)


def test_an_alert_level_without_grace_fires_at_its_window_point() -> None:
    w = window("0d", "42d", target="21d")
    assert w.level_at(AlertLevel(severity="warning", at="target"), LONDON) == w.target_at
    assert w.level_at(AlertLevel(severity="warning", at="opens"), LONDON) == w.opens_at
    assert w.level_at(AlertLevel(severity="critical"), LONDON) == w.closes_at


def test_a_clock_time_grace_adds_elapsed_time() -> None:
    w = window("0h", "24h", anchor=datetime(2026, 3, 28, 12, tzinfo=UTC))
    fires = w.level_at(AlertLevel(severity="critical", at="closes", plus="2h"), LONDON)
    assert fires == w.closes_at + timedelta(hours=2)
