"""A patient's rows as of now, derived once from their whole history (stored and imported alike).

Pure: the same timeline, follow-up and alert rules as recording (`refresh_patient`), evaluated
once at `now` instead of after every event, so nothing resolved within the history is ever
written: only the alerts open now (with their audit row and notifications, as a live alert).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pathway.domain.alert_status import Severity
from pathway.domain.alerts import (
    AlertCandidate,
    alerts_for_checks,
    alerts_for_follow_ups,
    effective,
    holdable_keys,
)
from pathway.domain.definition import HISTOLOGY_FIELD
from pathway.domain.followups import FollowUp, derive_follow_ups, derive_follow_ups_and_before
from pathway.domain.handover import HandoverInput, build_handover
from pathway.domain.history import live_events
from pathway.domain.integrity import chain_rows
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, Patient, StoredAlert, StoredFollowUp
from pathway.domain.notify import Route
from pathway.domain.records import NewAlert
from pathway.domain.timeline import Moment, build_timeline
from pathway.domain.windows import Calendar
from pathway.services.derivation import AsOf, derive_as_of
from pathway.services.raising import SWEEP_ACTOR, new_alert_row, outbox_rows
from pathway.services.sync import _values


@dataclass
class Derived:
    """One patient's derived rows; ids of follow-ups and alerts are given by `number`."""

    states: dict[str, str]
    histology: str | None
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[tuple[NewAlert, AlertCandidate]] = field(default_factory=list)
    handovers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (exit event id, summary)
    changes: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)  # by event id


def derive(
    pathway: Pathway,
    calendar: Calendar,
    patient: Patient,
    history: list[EventRecord],
    now: datetime,
    new_ids: frozenset[int] = frozenset(),
) -> Derived:
    """Follow-ups, open alerts and hand-over summaries (of exits among `new_ids`) as of `now`."""
    definition = pathway.definition
    exits = set(definition.handover_exits)
    last = max(history, key=lambda e: e.id) if history else None
    earlier: list[FollowUp] | None = None  # the follow-ups just before a final exit, same walk
    if last is not None and last.id in new_ids and last.type in exits:
        timeline = build_timeline(pathway, patient.enrolled_at, history)
        states = timeline[-1].after
        if timeline[-1].event is last and pathway.is_closed(states):
            follow_ups, earlier = derive_follow_ups_and_before(
                definition, timeline, calendar, len(timeline) - 1
            )
            derived = AsOf(timeline, states, follow_ups, [], None)  # closed: no live alert
    if earlier is None:
        derived = derive_as_of(pathway, calendar, patient, history, now)
    timeline, states, follow_ups = derived.timeline, derived.states, derived.follow_ups
    rules = definition.rules.follow_ups
    histology = patient.histology
    role = definition.event_with_role("histology")
    for e in live_events(definition, history):
        if e.type == role and e.data.get(HISTOLOGY_FIELD):
            histology = str(e.data[HISTOLOGY_FIELD])
    out = Derived(states=states, histology=histology)
    out.changes = {m.event.id: m.changes for m in timeline if m.event is not None and m.event.id in new_ids}
    for fu in follow_ups:
        values = _values(fu, now, calendar, rules)
        out.follow_ups.append(
            {
                "patient_id": patient.id,
                "rule": fu.rule,
                "region": fu.region,
                "anchor_at": fu.anchor_at,
                **values,
            }
        )
    candidates = derived.candidates
    urgent = any(c.urgent and c.severity == Severity.CRITICAL for c in candidates)
    holdable = holdable_keys(definition)
    for c in candidates:
        held = urgent and not c.urgent and c.severity != Severity.CRITICAL and c.key.startswith(holdable)
        row = replace(new_alert_row(patient.id, c, None, states, definition.content_hash, now), held=held)
        out.alerts.append((row, c))
    for e in history:
        if e.id in new_ids and e.type in exits:
            before = (timeline[:-1], earlier) if e is last and earlier is not None else None
            out.handovers.append((e.id, _handover(pathway, calendar, patient, history, e, before)))
    return out


def alert_rows(
    derived: Derived,
    follow_up_ids: dict[tuple[str, str, datetime], int],
    first_alert_id: list[int],
    routes: tuple[Route, ...],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The alert rows (ids given from `first_alert_id`), their "opened" audit rows (chained, the
    alert holding its last hash, as `db.alert_audit.append_actions` writes them) and outbox rows."""
    alerts, actions, outbox = [], [], []
    for (row, c), alert_id in zip(derived.alerts, first_alert_id, strict=True):
        fid = follow_up_ids.get(c.follow_up) if c.follow_up else None
        alerts.append({**row.values(), "id": alert_id, "follow_up_id": fid})
        actions.append(
            {
                "alert_id": alert_id,
                "action": "opened",
                "actor": SWEEP_ACTOR,
                "at": now,
                "note": c.message,
                "data": {},
            }
        )
        outbox += [n.values() for n in outbox_rows(alert_id, row.patient_id, c, routes, now)]
    heads = chain_rows({}, actions)  # new alerts: each audit starts its own hash chain
    for alert in alerts:
        alert["action_chain"] = heads[alert["id"]]
    return alerts, actions, outbox


def _handover(
    pathway: Pathway,
    calendar: Calendar,
    patient: Patient,
    history: list[EventRecord],
    exit_event: EventRecord,
    derived_before: tuple[list[Moment], list[FollowUp]] | None,
) -> dict[str, Any]:
    """The summary as recording the exit would have made it: the record just before the exit
    (`derived_before`: its timeline and follow-ups, when the walk of the whole history gave them)."""
    definition = pathway.definition
    before = [e for e in history if e.id < exit_event.id]
    live = live_events(definition, before)
    if derived_before is None:
        timeline = build_timeline(pathway, patient.enrolled_at, before)
        fus = derive_follow_ups(definition, timeline, calendar)
    else:
        timeline, fus = derived_before
    states = timeline[-1].after if timeline else definition.initial_states()
    at = exit_event.occurred_at
    candidates = effective(
        alerts_for_follow_ups(definition, fus, at, calendar.zone)
        + alerts_for_checks(definition, patient, timeline, calendar.zone)
    )
    summary = build_handover(
        definition,
        HandoverInput(
            patient=patient,
            exit_event=exit_event,
            states=states,
            history=live,
            follow_ups=[_stored(i, patient.id, fu) for i, fu in enumerate(fus) if fu.outcome == "open"],
            alerts=[_alert(i, patient.id, c) for i, c in enumerate(candidates)],
        ),
        at,
        calendar.zone,
    )
    return summary


def _stored(i: int, patient_id: int, fu: FollowUp) -> StoredFollowUp:
    """The fields a hand-over summary reads (its open steps), as recording stores them."""
    return StoredFollowUp(
        id=i,
        patient_id=patient_id,
        rule=fu.rule,
        region=fu.region,
        anchor_at=fu.anchor_at,
        anchor_label=fu.anchor_label,
        opens_at=fu.window.opens_at,
        target_at=fu.window.target_at,
        closes_at=fu.window.closes_at,
        clock_time=fu.window.clock_time,
        status=fu.outcome,
        done_at=fu.done_at,
        late_days=fu.late_days,
        early=fu.early,
        cancel_reason=fu.cancel_reason,
        notes=list(fu.notes),
    )


def _alert(i: int, patient_id: int, c: AlertCandidate) -> StoredAlert:
    return StoredAlert(
        id=i,
        patient_id=patient_id,
        rule=c.rule,
        instance_key=c.key,
        severity=c.severity,
        status="open",
        message=c.message,
        source=c.source,
        opened_at=c.opened_at,
        follow_up_id=None,
        held=False,
        urgent=c.urgent,
    )
