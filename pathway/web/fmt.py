"""Instants shown as clinic-local dates (a window's end is its last included day)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo


def local_day(instant: datetime, zone: tzinfo, end: bool = False) -> date:
    local = instant.astimezone(zone)
    return (local - timedelta(microseconds=1) if end else local).date()


def day(instant: datetime | None, zone: tzinfo, end: bool = False, clock: bool = False) -> str:
    if instant is None:
        return ""
    if clock:
        return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return local_day(instant, zone, end).isoformat()


def when(instant: datetime | None, zone: tzinfo) -> str:
    """Date and time, or just the date at local midnight (an event recorded for a day)."""
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    return local.strftime("%Y-%m-%d" if local.time() == time.min else "%Y-%m-%d %H:%M")


def words(name: str) -> str:
    return name.replace("_", " ")
