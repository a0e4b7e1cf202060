"""Bookings (domain/bookings.py): booked through the booked day, missed from the next, the
latest live booking per step, retraction, the instance it belongs to, the window warning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pathway.domain.bookings import BookingState, booking_of, live_bookings, window_warning
from pathway.domain.definition import PathwayDefinition
from pathway.domain.model import EventRecord

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _event(i: int, type_: str, data: dict[str, object], at: datetime = T0) -> EventRecord:
    return EventRecord(i, 1, type_, at, at, "c.one", dict(data), None, {})


def _booking(i: int, on: str, rule: str = "T09", region: str = "chest") -> EventRecord:
    return _event(i, "step_booked", {"rule": rule, "region": region, "booked_for": on})


@pytest.mark.parametrize(
    ("today", "state", "text"),
    [
        (date(2026, 3, 4), BookingState.BOOKED, "booked for 5 Mar"),
        (date(2026, 3, 5), BookingState.BOOKED, "booked for 5 Mar"),  # the day itself
        (date(2026, 3, 6), BookingState.MISSED, "missed appointment (booked for 5 Mar)"),
    ],
)
def test_booked_through_the_booked_day_and_missed_from_the_next(
    today: date, state: BookingState, text: str
) -> None:
    b = booking_of(_booking(1, "2026-03-05"))
    assert (b.state(today), b.text(today)) == (state, text)


def test_the_latest_live_booking_of_each_step_counts(definition: PathwayDefinition) -> None:
    events = [
        ("MRN-1", _booking(1, "2026-03-05")),
        ("MRN-1", _booking(2, "2026-03-09")),
        ("MRN-1", _booking(3, "2026-03-07", region="pelvis_sacrum")),
        ("MRN-2", _booking(4, "2026-03-10")),
    ]
    live = live_bookings(definition, events)
    assert {k: b.on.day for k, b in live.items()} == {
        ("MRN-1", "T09", "chest"): 9,
        ("MRN-1", "T09", "pelvis_sacrum"): 7,
        ("MRN-2", "T09", "chest"): 10,
    }
    retracted = [*events, ("MRN-1", _event(5, "retraction", {"event_id": 2}))]
    assert live_bookings(definition, retracted)[("MRN-1", "T09", "chest")].on.day == 5


def test_a_booking_belongs_to_the_instance_open_when_it_was_made() -> None:
    b = booking_of(_booking(1, "2026-03-05"))
    assert b.applies_to(T0) and b.applies_to(datetime(2026, 2, 1, tzinfo=UTC))
    assert not b.applies_to(datetime(2026, 3, 3, tzinfo=UTC))  # a later instance of the step


def test_a_date_outside_the_window_warns() -> None:
    first, last = date(2026, 3, 2), date(2026, 3, 9)
    assert window_warning(date(2026, 3, 2), first, last) is None
    assert window_warning(date(2026, 3, 9), first, last) is None
    assert "before the window opens" in (window_warning(date(2026, 3, 1), first, last) or "")
    assert "after the window closes" in (window_warning(date(2026, 3, 10), first, last) or "")


def test_the_booking_event_is_not_offered_for_recording(definition: PathwayDefinition) -> None:
    from pathway.domain.machine import Pathway

    assert definition.event_with_role("booking") == "step_booked"
    states = {t: spec.initial for t, spec in definition.tracks.items()}
    assert "step_booked" not in Pathway(definition).allowed_events(states)
