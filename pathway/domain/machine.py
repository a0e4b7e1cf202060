"""One transitions Machine per track, built once from the definition and shared by every patient.

Patients are never registered on a machine: each event is dispatched statically to a throw-away
cursor whose ``state`` is the stored state (``Machine.events[name].trigger(cursor)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import EventData as TEventData
from transitions import Machine, MachineError

from pathway.domain.conditions import Condition, explain, holds
from pathway.domain.definition import PathwayDefinition, TransitionSpec
from pathway.domain.errors import EventNotAllowed, GuardRefused
from pathway.domain.events import EventData, event_spec

TrackStates = dict[str, str]


@dataclass
class _Cursor:
    """A plain object carrying one track's state through a transition (never a SQLModel row)."""

    state: str


@dataclass(frozen=True)
class Outcome:
    states: TrackStates
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    accepted_by: tuple[str, ...] = ()


class Guard:
    """Conditions of one transition on the event's fields, evaluated and explained."""

    def __init__(self, definition: PathwayDefinition, when: Mapping[str, Condition]) -> None:
        self._definition = definition
        self._when = dict(when)

    def __call__(self, event: TEventData) -> bool:
        return not self.unmet(event.kwargs.get("data", {}))

    def unmet(self, data: EventData) -> list[str]:
        p = self._definition.parameter
        return [explain(f, c, p) for f, c in self._when.items() if not holds(c, data.get(f), p)]

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        p = self._definition.parameter
        return " and ".join(explain(f, c, p) for f, c in self._when.items()) or "no conditions"


ACCEPTED_CACHE = 10_000


def _key(state: str, event: str, data: EventData) -> tuple[Any, ...] | None:
    """A hashable key for the transition's inputs, or None when a field value is unhashable."""
    items = tuple(sorted(data.items()))
    try:
        hash(items)
    except TypeError:
        return None
    return (state, event, items)


class TrackMachine:
    def __init__(self, definition: PathwayDefinition, track: str) -> None:
        spec = definition.tracks[track]
        self.name = track
        self.states = definition.track_states(track)
        self._guards: dict[tuple[str, str], list[tuple[TransitionSpec, Guard]]] = {}
        machine_transitions: list[dict[str, Any]] = []
        for tr in self._expand(definition, spec.transitions):
            for source in tr.sources(spec.states):
                guard = Guard(definition, tr.when)
                self._guards.setdefault((tr.event, source), []).append((tr, guard))
                machine_transitions.append(
                    {
                        "trigger": tr.event,
                        "source": source,
                        "dest": tr.dest,
                        "conditions": [guard] if tr.when else [],
                    }
                )
        self._events = frozenset(event for event, _ in self._guards)
        # the first transition of (event, source) without a guard always fires: no trip needed
        self._fixed = {
            (event, source): options[0][0].dest or source  # no dest: it stays where it is
            for (event, source), options in self._guards.items()
            if not options[0][0].when
        }
        self._accepted: dict[tuple[Any, ...], str] = {}
        self.machine = Machine(
            model=None,
            states=list(self.states),
            initial=None,
            transitions=machine_transitions,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    @staticmethod
    def _expand(
        definition: PathwayDefinition, transitions: tuple[TransitionSpec, ...]
    ) -> list[TransitionSpec]:
        exits = [TransitionSpec(event=e, source="*", dest=s) for e, s in definition.exits.items()]
        return [*transitions, *exits]

    def events(self) -> frozenset[str]:
        return self._events

    def allowed(self, state: str) -> list[str]:
        return sorted({event for event, source in self._guards if source == state})

    def fire(self, state: str, event: str, data: EventData) -> str:
        """Return the new state; raise EventNotAllowed or GuardRefused with the reason.

        The guards read only the event's fields, so an accepted (state, event, fields) always
        leads to the same state: it is remembered, and replaying a history costs a lookup per
        event instead of a trip through the machine.
        """
        fixed = self._fixed.get((event, state))
        if fixed is not None:
            return fixed
        if (event, state) not in self._guards:
            raise EventNotAllowed(f"'{event}' is not allowed in {self.name} state '{state}'")
        key = _key(state, event, data)
        known = self._accepted.get(key) if key is not None else None
        if known is not None:
            return known
        dest = self._trigger(state, event, data)
        if key is not None:
            if len(self._accepted) >= ACCEPTED_CACHE:
                self._accepted.clear()
            self._accepted[key] = dest
        return dest

    def _trigger(self, state: str, event: str, data: EventData) -> str:
        cursor = _Cursor(state)
        trigger: Callable[..., bool] = self.machine.events[event].trigger
        try:
            moved = trigger(cursor, data=data)
        except MachineError as exc:  # defensive: the guard table and machine agree by construction
            raise EventNotAllowed(str(exc)) from None
        if not moved:
            options = [g.describe() for _, g in self._guards[(event, state)]]
            given = ", ".join(f"{k}={v}" for k, v in sorted(data.items())) or "no fields"
            raise GuardRefused(
                f"'{event}' in {self.name} state '{state}' needs "
                + " or ".join(f"[{o}]" for o in options)
                + f" (got {given})"
            )
        return cursor.state


class Pathway:
    """The compiled pathway: one shared machine per track."""

    def __init__(self, definition: PathwayDefinition) -> None:
        self.definition = definition
        self.tracks = {name: TrackMachine(definition, name) for name in definition.tracks}
        self._tracks_of: dict[str, list[str]] = {}

    def tracks_of(self, event: str) -> list[str]:
        cached = self._tracks_of.get(event)
        if cached is None:
            cached = self._tracks_of[event] = [n for n, m in self.tracks.items() if event in m.events()]
        return cached

    def allowed_events(self, states: Mapping[str, str]) -> list[str]:
        allowed = {e for name, m in self.tracks.items() for e in m.allowed(states[name])}
        allowed |= {n for n, spec in self.definition.events.items() if spec.retracts}
        # a booking is made with `pathway book` (it names an open follow-up), not recorded directly
        return sorted(allowed - set(self.definition.events_with_role("booking")))

    def is_closed(self, states: Mapping[str, str]) -> bool:
        return all(s in self.definition.exit_states for s in states.values())

    def fire(self, states: Mapping[str, str], event: str, data: EventData) -> Outcome:
        """Apply one event to every track that knows it; at least one track must accept it.

        A track that knows the event but cannot take it in its current state is left unchanged;
        the event is refused only when no track accepts it, and the error says why for each.
        """
        event_spec(self.definition, event)
        new = dict(states)
        changes: dict[str, tuple[str, str]] = {}
        accepted: list[str] = []
        refusals: list[EventNotAllowed] = []
        for name in self.tracks_of(event):
            try:
                dest = self.tracks[name].fire(states[name], event, data)
            except EventNotAllowed as exc:
                refusals.append(exc)
                continue
            accepted.append(name)
            if dest != states[name]:
                new[name], changes[name] = dest, (states[name], dest)
        if not accepted:
            allowed = ", ".join(self.allowed_events(states)) or "none (the patient has left the pathway)"
            refused = GuardRefused if any(isinstance(r, GuardRefused) for r in refusals) else EventNotAllowed
            raise refused("; ".join(map(str, refusals)) + f". Allowed now: {allowed}")
        return Outcome(states=new, changes=changes, accepted_by=tuple(accepted))
