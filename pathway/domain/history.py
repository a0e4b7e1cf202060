"""History is the truth: rebuild every track's state from the append-only event log."""

from __future__ import annotations

from collections.abc import Iterable

from pathway.domain.machine import Pathway, TrackStates
from pathway.domain.model import EventRecord


def retracted_ids(events: Iterable[EventRecord], retraction_types: set[str]) -> set[int]:
    return {int(e.data["event_id"]) for e in events if e.type in retraction_types}


def replay(pathway: Pathway, events: list[EventRecord]) -> TrackStates:
    """Fold the events (in recording order, skipping retracted ones) through the machines.

    Raises EventNotAllowed/GuardRefused when the remaining history is not a valid path, which is how
    a retraction that would leave later events stranded is refused.
    """
    retractions = {n for n, spec in pathway.definition.events.items() if spec.retracts}
    skipped = retracted_ids(events, retractions)
    states = pathway.definition.initial_states()
    for event in sorted(events, key=lambda e: e.id):
        if event.id in skipped or event.type in retractions:
            continue
        states = pathway.fire(states, event.type, event.data).states
    return states
