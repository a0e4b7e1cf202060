"""Bookings: an open follow-up booked for a date. Booked is not done.

A booking is an event (role `booking` in the pathway file) naming the follow-up's rule and
region and the booked clinic date. It applies to the open follow-up of that rule and region
whose anchor is not later than the booking (a booking made for an earlier instance of the step
does not carry over). Until the booked day has passed the worklist shows "booked for 12 Dec"
instead of nagging; from the day after, while the step is still not done, it shows "missed
appointment" at once (whatever the window says). A critical alert is never quietened by a
booking. Pure: callers pass the clinic date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pathway.domain.definition import PathwayDefinition
from pathway.domain.history import retracted_ids
from pathway.domain.model import EventRecord

BookingKey = tuple[str, str, str]  # (mrn, rule, region)


class BookingState(StrEnum):
    BOOKED = "booked"
    MISSED = "missed"


@dataclass(frozen=True)
class Booking:
    event_id: int
    rule: str
    region: str
    on: date
    occurred_at: datetime
    note: str | None = None

    def state(self, today: date) -> BookingState:
        """Booked through the booked day; missed from the day after."""
        return BookingState.BOOKED if today <= self.on else BookingState.MISSED

    def applies_to(self, anchor_at: datetime | None) -> bool:
        """The booking was made for this instance of the step (not an earlier one)."""
        return anchor_at is None or self.occurred_at >= anchor_at

    def text(self, today: date) -> str:
        when = f"{self.on.day} {self.on:%b}"
        if self.state(today) is BookingState.BOOKED:
            return f"booked for {when}"
        return f"missed appointment (booked for {when})"


def booking_of(event: EventRecord) -> Booking:
    return Booking(
        event.id,
        str(event.data["rule"]),
        str(event.data.get("region") or ""),
        date.fromisoformat(str(event.data["booked_for"])),
        event.occurred_at,
        event.data.get("note"),
    )


def live_bookings(
    definition: PathwayDefinition, events: Iterable[tuple[str, EventRecord]]
) -> dict[BookingKey, Booking]:
    """The latest booking still in force per (MRN, rule, region); `events` holds the bookings and
    the retractions (with each patient's MRN)."""
    pairs = list(events)
    gone = retracted_ids(definition, [e for _, e in pairs])
    kinds = set(definition.events_with_role("booking"))
    out: dict[BookingKey, Booking] = {}
    for mrn, event in sorted(pairs, key=lambda p: p[1].id):
        if event.type in kinds and event.id not in gone:
            b = booking_of(event)
            out[(mrn, b.rule, b.region)] = b
    return out


def window_warning(on: date, first: date, last: date) -> str | None:
    """A booking outside the step's window is recorded, with this warning."""
    if first <= on <= last:
        return None
    side = "before the window opens" if on < first else "after the window closes"
    return f"booked for {on.isoformat()}, {side} ({first.isoformat()} – {last.isoformat()}); recorded anyway"
