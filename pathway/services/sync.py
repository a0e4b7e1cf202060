"""Keep follow-up and alert rows in step with history and time (used by recording and the sweep)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from pathway.domain.alert_status import LIVE, MOVES, AlertAction, AlertStatus, Severity
from pathway.domain.alerts import (
    AlertCandidate,
    follow_up_key,
    follow_up_message,
    holdable_keys,
    level_reached,
)
from pathway.domain.clinical_time import local_date
from pathway.domain.errors import NotFound
from pathway.domain.followups import FollowUp, Scope
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, Patient, StoredAlert, StoredFollowUp
from pathway.domain.mrn import MrnPolicy
from pathway.domain.notify import DEFAULT_ROUTES, Route
from pathway.domain.records import KEEP, AlertChange, FollowUpChange, NewAlertAction, NewFollowUp
from pathway.domain.rules_spec import SEVERITY_RANK, FollowUpRule
from pathway.domain.status import Outcome
from pathway.domain.windows import Calendar, level_instants
from pathway.ports import UnitOfWork
from pathway.services.derivation import derive_as_of
from pathway.services.raising import SWEEP_ACTOR, Changes, enqueue, hold_behind_urgent, new_alert_row

_RESOLVED = MOVES[AlertAction.RESOLVE].target
_REOPENED = MOVES[AlertAction.REOPEN].target


def find_patient(uow: UnitOfWork, mrn: str, policy: MrnPolicy, lock: bool = False) -> Patient:
    """The patient with this MRN (in the site's canonical form); `lock` holds the row until
    commit (concurrent writers wait)."""
    key = policy.lookup(mrn)
    patient = uow.patients.by_mrn(key, lock=lock) if key else None
    if patient is None:
        raise unknown_patient(mrn.strip())
    return patient


def lock_patient_with_states(uow: UnitOfWork, mrn: str, policy: MrnPolicy) -> tuple[Patient, dict[str, str]]:
    """find_patient(lock=True) and the patient's track states, in one read."""
    key = policy.lookup(mrn)
    found = uow.patients.by_mrn_with_states(key, lock=True) if key else None
    if found is None:
        raise unknown_patient(mrn.strip())
    return found


def unknown_patient(mrn: str) -> NotFound:
    return NotFound(
        f"no patient with MRN {mrn!r}; enrol with `pathway enroll MRN` or list patients with `pathway list`"
    )


def refresh_patient(
    uow: UnitOfWork,
    pathway: Pathway,
    calendar: Calendar,
    patient: Patient,
    now: datetime,
    routes: tuple[Route, ...] = DEFAULT_ROUTES,
    scope: Scope | None = None,
    events: list[EventRecord] | None = None,
) -> Changes:
    """Derive the patient's follow-ups and alerts from history at `now` and write the difference.

    With a `scope` (the rules an event can change), only those rules and their alerts are
    re-derived and compared; the others cannot have changed.
    """
    definition = pathway.definition
    history = events if events is not None else uow.events.for_patient(patient.id)
    derived = derive_as_of(pathway, calendar, patient, history, now, scope)
    scope, follow_ups, candidates = derived.scope, derived.follow_ups, derived.candidates
    changes = Changes(patients=1)
    ids = _sync_follow_ups(
        uow, patient, follow_ups, now, calendar, changes, definition.rules.follow_ups, scope
    )
    outcome = {f.key: f for f in follow_ups}
    _sync_alerts(
        uow,
        patient,
        candidates,
        ids,
        outcome,
        derived.states,
        definition.content_hash,
        now,
        changes,
        routes,
        calendar.zone,
        holdable_keys(definition),
        scope,
    )
    return changes


def _sync_follow_ups(
    uow: UnitOfWork,
    patient: Patient,
    follow_ups: list[FollowUp],
    now: datetime,
    calendar: Calendar,
    changes: Changes,
    rules: Mapping[str, FollowUpRule],
    scope: Scope | None,
) -> dict[tuple[str, str, datetime], int]:
    stored = {
        (s.rule, s.region, s.anchor_at): s
        for s in uow.follow_ups.for_patient(patient.id, scope.rules if scope else None)
    }
    inserts: list[NewFollowUp] = []
    for fu in follow_ups:
        values = _values(fu, now, calendar, rules)
        shown = fu.status(now)
        old = stored.get(fu.key)
        if old is None:
            inserts.append(
                NewFollowUp(
                    patient_id=patient.id, rule=fu.rule, region=fu.region, anchor_at=fu.anchor_at, **values
                )
            )
            changes.lines.append(
                f"patient {patient.id}: {fu.rule}{_r(fu.region)} {shown} (anchor {fu.anchor_label})"
            )
        elif _differs(old, values) and uow.follow_ups.update(old.id, old.status, _changed(old, values)):
            changes.follow_ups_changed += 1
            if (was := old.status_at(now)) != shown:
                changes.lines.append(f"patient {patient.id}: {fu.rule}{_r(fu.region)} {was} → {shown}")
    desired = {fu.key for fu in follow_ups}
    for key, old in stored.items():
        if key not in desired and old.status == Outcome.OPEN:
            uow.follow_ups.update(
                old.id,
                old.status,
                FollowUpChange(
                    status=Outcome.CANCELLED,
                    cancel_reason="no longer applies (history corrected)",
                    updated_at=now,
                ),
            )
            changes.follow_ups_changed += 1
    inserted = uow.follow_ups.insert(inserts)
    changes.follow_ups_created += len(inserted)
    ids = {key: s.id for key, s in stored.items()}
    if len(inserted) == len(inserts):
        return ids | inserted
    # a row we did not read was in the way: read the ids back
    return {(s.rule, s.region, s.anchor_at): s.id for s in uow.follow_ups.for_patient(patient.id)}


def _values(
    fu: FollowUp, now: datetime, calendar: Calendar, rules: Mapping[str, FollowUpRule]
) -> dict[str, Any]:
    return {
        "anchor_label": fu.anchor_label,
        "opens_at": fu.window.opens_at,
        "target_at": fu.window.target_at,
        "closes_at": fu.window.closes_at,
        "clock_time": fu.window.clock_time,
        "status": fu.outcome,
        "done_at": fu.done_at,
        "done_event_id": fu.done_event_id,
        "late_days": fu.late_days,
        "early": fu.early,
        "cancel_reason": fu.cancel_reason,
        "notes": list(fu.notes),
        "updated_at": now,
        **alert_plan(fu, rules[fu.rule], now, calendar),
    }


def alert_plan(fu: FollowUp, rule: FollowUpRule, now: datetime, calendar: Calendar) -> dict[str, Any]:
    """What the set-based sweep needs to raise this instance's alert levels without history."""
    alert = rule.alert
    if alert is None:
        return {
            "instance_key": follow_up_key(fu),
            "track": rule.track,
            "urgent": rule.urgent,
            **_NO_ALERT,
        }
    at = level_instants(fu.window, alert.levels, calendar.zone)
    raised, next_at = (
        level_reached({SEVERITY_RANK[s]: when for s, when in at.items()}, now)
        if fu.outcome == "open"
        else (0, None)
    )
    return {
        "instance_key": follow_up_key(fu),
        "track": rule.track,
        "urgent": rule.urgent,
        "alert_rule": alert.id,
        "alert_title": alert.title,
        "alert_source": alert.source,
        "alert_message": follow_up_message(alert.title, rule.step, fu, calendar.zone),
        "info_at": at.get("info"),
        "warning_at": at.get("warning"),
        "critical_at": at.get("critical"),
        "raised": raised,
        "next_alert_at": next_at,
    }


_NO_ALERT: dict[str, Any] = {
    "alert_rule": None,
    "alert_title": None,
    "alert_source": None,
    "alert_message": None,
    "info_at": None,
    "warning_at": None,
    "critical_at": None,
    "raised": 0,
    "next_alert_at": None,
}


def _differs(old: StoredFollowUp, values: dict[str, Any]) -> bool:
    keys = (
        "status",
        "done_at",
        "late_days",
        "early",
        "cancel_reason",
        "opens_at",
        "closes_at",
        "target_at",
        "raised",
        "next_alert_at",
        "instance_key",
        "alert_message",
    )
    return any(getattr(old, k) != values[k] for k in keys) or old.notes != values["notes"]


_STORED = frozenset(StoredFollowUp.__dataclass_fields__)


def _changed(old: StoredFollowUp, values: dict[str, Any]) -> FollowUpChange:
    """The values that differ from the row as read (and those it does not carry): writing only
    these leaves the row as writing all of them would, with fewer columns and index entries."""
    return FollowUpChange(**{k: v for k, v in values.items() if k not in _STORED or getattr(old, k) != v})


def _r(region: str) -> str:
    return f" ({region})" if region else ""


class _Alerts:
    """A patient's alerts as they now stand: read once, kept up to date with our own writes.

    `known` turns False when a write did not go as expected (a row we did not read, or a
    compare-and-set that found another status): then only a fresh read tells.
    """

    def __init__(self, alerts: list[StoredAlert]) -> None:
        self.rows = {a.id: a for a in alerts}
        self.known = True

    def now_is(self, alert: StoredAlert) -> None:
        self.rows[alert.id] = alert

    def lost(self) -> None:
        self.known = False

    def current(self) -> list[StoredAlert] | None:
        return list(self.rows.values()) if self.known else None


def _sync_alerts(
    uow: UnitOfWork,
    patient: Patient,
    candidates: list[AlertCandidate],
    follow_up_ids: dict[tuple[str, str, datetime], int],
    outcome: dict[tuple[str, str, datetime], FollowUp],
    states: dict[str, str],
    pathway_hash: str,
    now: datetime,
    changes: Changes,
    routes: tuple[Route, ...],
    zone: tzinfo,
    holdable: tuple[str, ...],
    scope: Scope | None = None,
) -> None:
    alerts = uow.alerts.for_patient(patient.id)
    seen = _Alerts(alerts)
    existing = [a for a in alerts if scope is None or scope.alert_key_matches(a.instance_key)]
    by_level = {(a.rule, a.instance_key, a.severity): a for a in existing}
    wanted = {(c.rule, c.key): c for c in candidates}
    actions: list[NewAlertAction] = []  # audit rows: one write once every alert has moved
    for cand in candidates:
        row = by_level.get((cand.rule, cand.key, cand.severity))
        if row is None:
            alert_id = _open(
                uow, patient.id, cand, follow_up_ids, states, pathway_hash, now, changes, seen, actions
            )
            if alert_id is not None:
                enqueue(uow, alert_id, patient.id, cand, routes, now)
        elif _maybe_reopen(uow, row, now, changes, seen, cand.message, actions):
            enqueue(uow, row.id, patient.id, cand, routes, now, again=now)
    ending: list[tuple[StoredAlert, str]] = []  # live alerts no longer wanted at their level
    for a in existing:
        c = wanted.get((a.rule, a.instance_key))
        if a.status not in LIVE:
            continue
        if c is not None and SEVERITY_RANK[a.severity] == c.rank:
            continue
        if c is not None and SEVERITY_RANK[a.severity] < c.rank:
            ending.append((a, f"escalated to {c.severity}"))
            changes.alerts_escalated += 1
        else:
            ending.append((a, _why_resolved(a, outcome, zone)))
            changes.alerts_resolved += 1
    moved = uow.alerts.update_many(
        [
            (
                a.id,
                a.status,
                AlertChange(
                    status=_RESOLVED,
                    resolved_at=now,
                    resolution=reason,
                    updated_at=now,
                    next_renotify_at=None,
                ),
            )
            for a, reason in ending
        ]
    )
    for (a, reason), done in zip(ending, moved, strict=True):
        if done:
            actions.append(NewAlertAction(a.id, _RESOLVED, SWEEP_ACTOR, now, reason))
            changes.lines.append(f"patient {patient.id}: alert {a.id} {a.rule} resolved ({reason})")
            seen.now_is(replace(a, status=_RESOLVED, resolved_at=now, resolution=reason))
        else:
            seen.lost()
    uow.alerts.add_actions(actions)
    hold_behind_urgent(uow, patient.id, now, holdable, seen.current())


def _open(
    uow: UnitOfWork,
    patient_id: int,
    c: AlertCandidate,
    follow_up_ids: dict[tuple[str, str, datetime], int],
    states: dict[str, str],
    pathway_hash: str,
    now: datetime,
    changes: Changes,
    seen: _Alerts | None,
    actions: list[NewAlertAction],
) -> int | None:
    follow_up_id = follow_up_ids.get(c.follow_up) if c.follow_up else None
    alert_id = uow.alerts.insert(new_alert_row(patient_id, c, follow_up_id, states, pathway_hash, now))
    if alert_id is not None:
        actions.append(NewAlertAction(alert_id, "opened", SWEEP_ACTOR, now, c.message))
        changes.alerts_opened += 1
        changes.lines.append(f"patient {patient_id}: alert {alert_id} {c.rule} {c.severity} opened")
        if seen is not None:
            seen.now_is(
                StoredAlert(
                    id=alert_id,
                    patient_id=patient_id,
                    rule=c.rule,
                    instance_key=c.key,
                    severity=c.severity,
                    status=AlertStatus.OPEN,
                    message=c.message,
                    source=c.source,
                    opened_at=c.opened_at,
                    follow_up_id=follow_up_id,
                    held=False,
                    urgent=c.urgent,
                    states_at_fire=dict(states),
                )
            )
    elif seen is not None:
        seen.lost()  # the level exists already, in a row we did not read
    return alert_id


def _maybe_reopen(
    uow: UnitOfWork,
    row: StoredAlert,
    now: datetime,
    changes: Changes,
    seen: _Alerts,
    message: str | None,
    actions: list[NewAlertAction],
) -> bool:
    """Reopen an expired snooze or override, or a resolved alert whose step is missed again (its
    message follows the window, which a pause may have extended meanwhile)."""
    expired = (
        (row.status == AlertStatus.SNOOZED and row.snoozed_until is not None and row.snoozed_until <= now)
        or (
            row.status == AlertStatus.OVERRIDDEN
            and row.override_until is not None
            and row.override_until <= now
        )
        or row.status == AlertStatus.RESOLVED
    ) and row.status in MOVES[AlertAction.REOPEN].sources
    if not expired:
        return False
    reopened = AlertChange(
        status=_REOPENED,
        updated_at=now,
        resolved_at=None,
        resolution=None,
        message=message if message else KEEP,
        # a critical alert: the next sweep works out its renotification round again
        next_renotify_at=now if row.severity == Severity.CRITICAL else KEEP,
    )
    if uow.alerts.update(row.id, row.status, reopened):
        actions.append(NewAlertAction(row.id, "reopened", SWEEP_ACTOR, now, f"was {row.status}"))
        changes.alerts_reopened += 1
        changes.lines.append(f"patient {row.patient_id}: alert {row.id} {row.rule} reopened")
        if seen is not None:
            seen.now_is(
                replace(
                    row, status=_REOPENED, resolved_at=None, resolution=None, message=message or row.message
                )
            )
        return True
    if seen is not None:
        seen.lost()
    return False


def _why_resolved(a: StoredAlert, outcome: dict[tuple[str, str, datetime], FollowUp], zone: tzinfo) -> str:
    fu = next(
        (
            f
            for f in outcome.values()
            if a.instance_key.endswith(f.anchor_at.isoformat())
            and a.instance_key.startswith(f"{f.rule}:{f.region}:")
        ),
        None,
    )
    if fu is None:
        return "no longer applies"
    if fu.outcome == Outcome.DONE and fu.done_at is not None:
        return f"done on {local_date(fu.done_at, zone)}"
    if fu.outcome == Outcome.CANCELLED:
        return f"cancelled: {fu.cancel_reason}"
    return "no longer applies"
