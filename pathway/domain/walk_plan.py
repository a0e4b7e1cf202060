"""What each timing rule's walks need that depends on the pathway alone, worked out once per
pathway definition: the event types a walk must see, the types its anchor and done events match,
the states where it runs, and whether an `anchor.each` walk may start at its anchor."""

from __future__ import annotations

from dataclasses import dataclass

from pathway.domain.definition import PathwayDefinition
from pathway.domain.memo import PerDefinition
from pathway.domain.pre_dose import dose_events
from pathway.domain.rules_spec import ANY_EVENT, FollowUpRule


@dataclass(frozen=True)
class RulePlan:
    """What a rule's walks need that depends on the pathway alone (worked out once per definition)."""

    rule_id: str
    rule: FollowUpRule
    relevant: frozenset[str] | None
    dose_moves: frozenset[str]
    done_types: frozenset[str]
    anchor_types: frozenset[str]
    runs_in: frozenset[str]
    from_anchor: bool


_PLANS: PerDefinition[list[RulePlan]] = PerDefinition(limit=16)


def plans_of(definition: PathwayDefinition) -> list[RulePlan]:
    return _PLANS.get(definition, None, lambda: _plans(definition))


def _plans(definition: PathwayDefinition) -> list[RulePlan]:
    pausing = frozenset({*definition.events_with_role("pause"), *definition.events_with_role("resume")})
    matching = _Matching(definition)
    plans = []
    for rule_id, rule in definition.rules.follow_ups.items():
        dose_moves = (
            dose_events(definition, rule.before_dose) if rule.before_dose is not None else frozenset()
        )
        runs_in = (
            definition.tracks[rule.track].states
            if rule.runs_in == "*"
            else ((rule.runs_in,) if isinstance(rule.runs_in, str) else rule.runs_in)
        )
        plans.append(
            RulePlan(
                rule_id,
                rule,
                _relevant_types(rule, pausing, dose_moves),
                dose_moves,
                matching.types(rule.done.events),
                matching.types(rule.anchor.events),
                frozenset(runs_in),
                _from_anchor(rule),
            )
        )
    return plans


def _from_anchor(rule: FollowUpRule) -> bool:
    """Whether a walk of one anchoring event (`anchor.each`) may start at its anchor and stop once
    its instance is closed: nothing before the anchor can touch it (no pause to hold it, no earlier
    result to count, no state entry or per value to open it) and nothing after can open another."""
    return (
        rule.anchor.each
        and not rule.pausable
        and not rule.recurring
        and not rule.done.in_window
        and not rule.anchor.on_entry
        and not rule.anchor.entering
        and rule.before_dose is None
        and rule.per_values_from is None
    )


def _relevant_types(
    rule: FollowUpRule, pausing: frozenset[str], dose_moves: frozenset[str]
) -> frozenset[str] | None:
    """The event types a walk of the rule must see (None: every event, for a `*` rule); besides
    them only the enrolment and the moments that change the rule's track can matter to it."""
    if ANY_EVENT in rule.anchor.events or ANY_EVENT in rule.done.events:
        return None
    types = {*rule.anchor.events, *rule.done.events, *dose_moves}
    if rule.per_values_from is not None:
        types.add(rule.per_values_from.event)
    if rule.pausable:
        types |= pausing
    return frozenset(types)


class _Matching:
    """The moment types a rule's event list matches: `*` matches any recorded event but an exit, a
    retraction or a booking (they are no contact); "enrolment" the enrolment."""

    def __init__(self, definition: PathwayDefinition) -> None:
        self.contacts = frozenset(
            t
            for t, spec in definition.events.items()
            if t not in definition.exits and not spec.retracts and spec.role != "booking"
        )
        self.known: dict[tuple[str, ...], frozenset[str]] = {}

    def types(self, events: tuple[str, ...]) -> frozenset[str]:
        found = self.known.get(events)
        if found is None:
            found = frozenset(events) | (self.contacts if ANY_EVENT in events else frozenset())
            self.known[events] = found
        return found
