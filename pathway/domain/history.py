"""History is the truth: rebuild every track's state from the append-only event log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pathway.domain.definition import PathwayDefinition
from pathway.domain.machine import Pathway, TrackStates
from pathway.domain.model import EventRecord


class Fact(Protocol):
    """Anything recorded with a type and its data (an event, or a row of one)."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


def retraction_types(definition: PathwayDefinition) -> frozenset[str]:
    """The event types that retract another event (`retracts: true` in the pathway file)."""
    return frozenset(name for name, spec in definition.events.items() if spec.retracts)


def retracted_ids(definition: PathwayDefinition, events: Iterable[Fact]) -> set[int]:
    """The ids of the events a retraction among `events` takes back: the one rule for it."""
    retractions = retraction_types(definition)
    return {int(e.data["event_id"]) for e in events if e.type in retractions}


def live_events(definition: PathwayDefinition, events: list[EventRecord]) -> list[EventRecord]:
    """The events still in force, in recording order: neither retractions nor retracted."""
    retractions, gone = retraction_types(definition), retracted_ids(definition, events)
    return [e for e in sorted(events, key=lambda e: e.id) if e.type not in retractions and e.id not in gone]


def replay(pathway: Pathway, events: list[EventRecord]) -> TrackStates:
    """Fold the events (in recording order, skipping retracted ones) through the machines.

    Raises EventNotAllowed/GuardRefused when the remaining history is not a valid path, which is how
    a retraction that would leave later events stranded is refused.
    """
    states = pathway.definition.initial_states()
    for event in live_events(pathway.definition, events):
        states = pathway.fire(states, event.type, event.data).states
    return states
