"""Which pause, if any, is in force: the pathway file names the pause and resume events by role."""

from __future__ import annotations

from pathway.domain.definition import PathwayDefinition
from pathway.domain.model import EventRecord


def open_pause(d: PathwayDefinition, events: list[EventRecord], retracted: set[int]) -> EventRecord | None:
    """The pause event not yet followed by a resume (in clinical order), or None."""
    pause, resume = d.event_with_role("pause"), d.event_with_role("resume")
    current: EventRecord | None = None
    for e in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        if e.id in retracted:
            continue
        if e.type == pause:
            current = e
        elif e.type == resume:
            current = None
    return current
