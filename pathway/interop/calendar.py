"""An iCalendar (RFC 5545) feed of upcoming follow-up windows, built with `icalendar`.

Entries are plain values, so other sources (bookings, once they are stored) add their own entries
to the same feed. Summaries carry the internal patient number only, unless the site turns on
showing the MRN and name (settings: calendar_show_patient).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from icalendar import Calendar, Event

from pathway.domain.definition import PathwayDefinition
from pathway.domain.model import StoredFollowUp

PRODUCT = "-//sacral-pathway//care-pathway calendar//EN"


@dataclass(frozen=True)
class Entry:
    uid: str
    summary: str
    description: str
    start: datetime | date
    end: datetime | date  # exclusive, as DTEND is
    stamp: datetime
    categories: tuple[str, ...] = ()


def window_entries(
    windows: Sequence[tuple[StoredFollowUp, str, str | None]],
    definition: PathwayDefinition,
    zone: tzinfo,
    now: datetime,
    show_patient: bool = False,
) -> list[Entry]:
    """One entry per open window: whole clinic days for calendar windows, instants for clock ones."""
    entries = []
    for fu, mrn, name in windows:
        rule = definition.rules.follow_ups.get(fu.rule)
        step = rule.step if rule else fu.rule
        who = f"{mrn}{f' {name}' if name else ''}" if show_patient else f"patient {fu.patient_id}"
        late = " (overdue)" if now >= fu.closes_at else ""
        region = f" ({fu.region})" if fu.region else ""
        start: datetime | date
        end: datetime | date
        if fu.clock_time:
            start, end = fu.opens_at, fu.closes_at
        else:
            start = fu.opens_at.astimezone(zone).date()
            end = max(fu.closes_at.astimezone(zone).date(), start + timedelta(days=1))
        target = fu.target_at.astimezone(zone)
        when = f"{target:%Y-%m-%d %H:%M}" if fu.clock_time else f"{target:%Y-%m-%d}"
        entries.append(
            Entry(
                uid=f"follow-up-{fu.id}@sacral-pathway",
                summary=f"{step}{region}{late}: {who}",
                description=f"Rule {fu.rule}; target {when}; window closes "
                f"{fu.closes_at.astimezone(zone):%Y-%m-%d %H:%M}."
                + (f" Source: {rule.source}" if rule else ""),
                start=start,
                end=end,
                stamp=now,
                categories=("overdue",) if late else (),
            )
        )
    return entries


def feed(entries: list[Entry], name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODUCT)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.stamp)
        event.add("dtstart", entry.start)
        event.add("dtend", entry.end)
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        if entry.categories:
            event.add("categories", list(entry.categories))
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
