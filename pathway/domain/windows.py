"""Follow-up windows: anchor + rule -> (opens, target, closes), in the clinic's local calendar.

Calendar windows count clinic-local days: a window opens at the start of its first day and closes at
the end of its last day (closes_at is the first instant after it: overdue from then on). A target
falling on a weekend (the days the holiday calendar names) or holiday moves to the previous working
day (only when a holiday calendar is configured). Clock-time windows (hours, minutes) count elapsed
time from the anchor instant and are never shifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

from pathway.domain.clinical_time import local_date, start_of_day
from pathway.domain.durations import Duration
from pathway.domain.rules_spec import AlertLevel, WindowSpec

REMEMBERED = 65536  # windows (and their level instants, days) kept per process
HolidayLookup = Callable[[date], "str | None"]


@dataclass(frozen=True)
class Calendar:
    zone: tzinfo
    holiday: HolidayLookup | None = None  # None: no calendar shifts
    weekend: frozenset[int] = frozenset({5, 6})  # weekday numbers (Monday 0); the site's calendar's

    def non_working(self, day: date) -> str | None:
        if self.holiday is None:
            return None
        name = self.holiday(day)
        if name:
            return name
        return "weekend" if day.weekday() in self.weekend else None


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    target_at: datetime
    closes_at: datetime
    clock_time: bool
    shift: str | None = None  # why the target moved, if it did

    def point(self, at: str) -> datetime:
        return {"opens": self.opens_at, "target": self.target_at, "closes": self.closes_at}[at]

    def level_at(self, level: AlertLevel, zone: tzinfo) -> datetime:
        base = self.point(level.at)
        plus = Duration.parse(level.plus)
        if plus.is_clock_time:
            return plus.add_to_instant(base)
        return start_of_day(plus.add_to_date(local_date(base, zone)), zone) if plus.amount else base


def compute_window(spec: WindowSpec, anchor: datetime, calendar: Calendar) -> Window:
    """Remembered per rule window, anchor and calendar (a window is immutable; a cohort's anchors
    fall on a few thousand clinic days)."""
    try:
        return _remembered_window(spec, anchor, calendar)
    except TypeError:  # a holiday lookup that cannot be hashed: no memory
        return _compute_window(spec, anchor, calendar)


def _compute_window(spec: WindowSpec, anchor: datetime, calendar: Calendar) -> Window:
    opens, closes = Duration.parse(spec.opens), Duration.parse(spec.closes)
    target = Duration.parse(spec.target) if spec.target else None
    if spec.clock_time:
        return Window(
            opens.add_to_instant(anchor),
            (target or closes).add_to_instant(anchor),
            closes.add_to_instant(anchor),
            clock_time=True,
        )
    zone = calendar.zone
    day0 = local_date(anchor, zone)
    opens_day, closes_day = opens.add_to_date(day0), closes.add_to_date(day0)
    target_day = target.add_to_date(day0) if target else closes_day
    shift = None
    reason = calendar.non_working(target_day)
    if reason:
        moved = target_day - timedelta(days=1)
        while moved >= opens_day and calendar.non_working(moved):
            moved -= timedelta(days=1)
        if moved >= opens_day:  # else no working day earlier in the window: the target stays
            shift = f"target moved from {target_day} ({reason}) to {moved}, the previous working day"
            target_day = moved
    return Window(
        opens_at=start_of_day(opens_day, zone),
        target_at=start_of_day(target_day + timedelta(days=1), zone),
        closes_at=start_of_day(closes_day + timedelta(days=1), zone),
        clock_time=False,
        shift=shift,
    )


def target_day(window: Window, zone: tzinfo) -> date:
    """The clinic date of the target (the instant stored is the end of that day)."""
    return (
        local_date(window.target_at - timedelta(microseconds=1), zone)
        if not window.clock_time
        else local_date(window.target_at, zone)
    )


def closes_day(window: Window, zone: tzinfo) -> date:
    return (
        local_date(window.closes_at - timedelta(microseconds=1), zone)
        if not window.clock_time
        else local_date(window.closes_at, zone)
    )


_remembered_window = lru_cache(maxsize=REMEMBERED)(_compute_window)


@lru_cache(maxsize=REMEMBERED)
def level_instants(window: Window, levels: tuple[AlertLevel, ...], zone: tzinfo) -> dict[str, datetime]:
    """When each severity of an alert's levels fires for this window (the earliest level of a
    severity); remembered, as windows are (do not change the mapping returned)."""
    found: dict[str, datetime] = {}
    for level in levels:
        when = window.level_at(level, zone)
        found[level.severity] = min(when, found.get(level.severity, when))
    return found


@lru_cache(maxsize=REMEMBERED)
def window_days(window: Window, zone: tzinfo) -> tuple[date, date]:
    """(target day, closing day) of a calendar window, remembered."""
    return target_day(window, zone), closes_day(window, zone)
