"""The patient's history as an ordered timeline of moments with each track's state at that moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pathway.domain.errors import EventNotAllowed
from pathway.domain.history import live_events
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord


@dataclass(frozen=True)
class Moment:
    at: datetime
    seq: int
    event: EventRecord | None  # None: the enrolment
    before: dict[str, str]
    after: dict[str, str]
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.event.type if self.event else "enrolment"


def build_timeline(pathway: Pathway, enrolled_at: datetime, events: list[EventRecord]) -> list[Moment]:
    """Replay the live (non-retracted) events in recording order, then order them by clinical time.

    Each track changes state only in clinical order (services refuse anything else), so the states
    seen in recording order are the states at each moment of clinical time.
    """
    definition = pathway.definition
    live = live_events(definition, events)
    states = definition.initial_states()
    moments = [Moment(at=enrolled_at, seq=-1, event=None, before=dict(states), after=dict(states))]
    for event in live:
        try:
            outcome = pathway.fire(states, event.type, event.data)
        except EventNotAllowed:
            continue  # stored history predates a pathway change; the event no longer applies
        moments.append(
            Moment(
                at=event.occurred_at,
                seq=event.id,
                event=event,
                before=states,
                after=outcome.states,
                changes=outcome.changes,
            )
        )
        states = outcome.states
    moments.sort(key=lambda m: (m.at, m.seq))
    _carry_states(moments, definition.initial_states())
    return moments


def _carry_states(moments: list[Moment], initial: dict[str, str]) -> None:
    """Back-dated observations take the states in force at their clinical time."""
    states = dict(initial)
    for i, m in enumerate(moments):
        before = dict(states)
        for track, (_, new) in m.changes.items():
            states[track] = new
        moments[i] = Moment(
            at=m.at, seq=m.seq, event=m.event, before=before, after=dict(states), changes=m.changes
        )
