"""One derivation of a patient's follow-ups and alerts from their history, as of an instant.

Recording (`sync.refresh_patient`, event by event) and the batch import (`import_derive.derive`,
a whole imported history at once) both call `derive_as_of`, so the two can only differ in what
they write, never in what they derive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pathway.domain.alerts import AlertCandidate, alerts_for_checks, alerts_for_follow_ups, effective
from pathway.domain.followups import FollowUp, Scope, derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, Patient
from pathway.domain.timeline import Moment, build_timeline
from pathway.domain.windows import Calendar


@dataclass(frozen=True)
class AsOf:
    """The patient as their history says at `now`; `scope` None means every rule was derived."""

    timeline: list[Moment]
    states: dict[str, str]
    follow_ups: list[FollowUp]
    candidates: list[AlertCandidate]  # the highest level reached per alert instance
    scope: Scope | None


def derive_as_of(
    pathway: Pathway,
    calendar: Calendar,
    patient: Patient,
    history: list[EventRecord],
    now: datetime,
    scope: Scope | None = None,
) -> AsOf:
    """With a `scope` (the rules an event can change) only those rules and checks; an exit closes
    everything at once, so a closed patient is always derived whole (and has no live alert)."""
    definition = pathway.definition
    timeline = build_timeline(pathway, patient.enrolled_at, history)
    states = timeline[-1].after if timeline else definition.initial_states()
    closed = pathway.is_closed(states)
    if closed:
        scope = None
    follow_ups = derive_follow_ups(definition, timeline, calendar, scope.rules if scope else None)
    candidates: list[AlertCandidate] = []
    if not closed:
        candidates = effective(
            alerts_for_follow_ups(definition, follow_ups, now, calendar.zone)
            + alerts_for_checks(definition, patient, timeline, calendar.zone, scope.checks if scope else None)
        )
    return AsOf(timeline, states, follow_ups, candidates, scope)
