"""What recording and the sweep both write when an alert level is raised: the alert, its audit
row, its notifications (the outbox, in the same transaction) and the holds behind urgent alerts;
and the set-based raising of due levels the sweep uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pathway.domain.alert_status import LIVE, AlertStatus, Severity, next_renotify_at, renotify_round
from pathway.domain.alerts import AlertCandidate, level_reached
from pathway.domain.model import StoredAlert, StoredFollowUp
from pathway.domain.notify import Route, idempotency_key, lateness
from pathway.domain.records import (
    AlertChange,
    JsonObject,
    NewAlert,
    NewAlertAction,
    NewNotification,
    NotificationStatus,
    RaisedLevel,
)
from pathway.domain.rules_spec import SEVERITY_RANK
from pathway.ports import SweepWrites, UnitOfWork

SWEEP_ACTOR = "sweep"


@dataclass
class Changes:
    follow_ups_created: int = 0
    follow_ups_changed: int = 0
    alerts_opened: int = 0
    alerts_escalated: int = 0
    alerts_resolved: int = 0
    alerts_reopened: int = 0
    renotified: int = 0
    patients: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, other: Changes) -> None:
        for name in (
            "follow_ups_created",
            "follow_ups_changed",
            "alerts_opened",
            "alerts_escalated",
            "alerts_resolved",
            "alerts_reopened",
            "renotified",
            "patients",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lines += other.lines

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "lines"} | {"changes": self.lines}


def enqueue(
    uow: UnitOfWork,
    alert_id: int,
    patient_id: int,
    c: AlertCandidate,
    routes: tuple[Route, ...],
    now: datetime,
    again: datetime | None = None,
) -> None:
    """Write the alert's notifications in the same transaction as the alert (the outbox; a row
    whose idempotency key is there already is skipped)."""
    routes = with_team_routes(uow, routes, [patient_id]).get(patient_id, routes)
    uow.notifications.add_many(list(outbox_rows(alert_id, patient_id, c, routes, now, again)))


def with_team_routes(
    uow: UnitOfWork, routes: tuple[Route, ...], patient_ids: list[int]
) -> dict[int, tuple[Route, ...]]:
    """The site's routes plus the patient's care-team target, for patients whose team has one:
    a team's own address gets its patients' alerts (from its severity floor) as well as the
    site's routes, never instead of them."""
    out: dict[int, tuple[Route, ...]] = {}
    for pid, team in uow.teams.targets(patient_ids).items():
        if team.notify_channel is None or team.notify_to is None:
            continue
        extra = Route.model_validate(
            {"channel": team.notify_channel, "to": team.notify_to, "min_severity": team.notify_min_severity}
        )
        out[pid] = routes if extra in routes else (*routes, extra)
    return out


def hold_behind_urgent(
    uow: UnitOfWork,
    patient_id: int,
    now: datetime,
    holdable: tuple[str, ...],
    alerts: list[StoredAlert] | None = None,
) -> None:
    """While an urgent critical alert is live, the patient's lower alerts that the pathway file
    lets wait (instance keys starting with one of `holdable`) are held; nothing else ever is.

    `alerts`, when given, are all the patient's alerts as they stand now (saves reading them).
    """
    if alerts is None:
        alerts = uow.alerts.for_patient(patient_id)
    urgent = any(a.urgent and a.severity == Severity.CRITICAL and a.status in LIVE for a in alerts)
    for a in alerts:
        hold = (
            urgent
            and not a.urgent
            and a.severity != Severity.CRITICAL
            and a.status in LIVE
            and a.instance_key.startswith(holdable)
        )
        if a.held != hold:
            uow.alerts.update(a.id, a.status, AlertChange(held=hold, updated_at=now))


LEVELS: tuple[tuple[int, str], ...] = ((1, Severity.INFO), (2, Severity.WARNING), (3, Severity.CRITICAL))


def raise_levels(
    uow: UnitOfWork,
    rows: list[StoredFollowUp],
    pathway_hash: str,
    now: datetime,
    routes: tuple[Route, ...],
    changes: Changes,
    holdable: tuple[str, ...] = (),
) -> None:
    """Raise the highest alert level each follow-up has reached; the caller holds the locks.

    Set-based: one executemany per table (follow-up levels, alerts, audit, outbox), so a catch-up
    after downtime costs a few statements per batch instead of several per alert.
    """
    states = uow.patients.states_many(sorted({f.patient_id for f in rows}))
    raised: list[RaisedLevel] = []
    wanted: dict[tuple[int, str, str, str], tuple[StoredFollowUp, AlertCandidate]] = {}
    for fu in rows:
        at = {1: fu.info_at, 2: fu.warning_at, 3: fu.critical_at}
        target, next_at = level_reached(at, now, fu.raised)
        raised.append(RaisedLevel(fu.id, target, next_at, now))
        opened_at = at.get(target)
        if target > fu.raised and fu.alert_rule is not None and opened_at is not None:
            severity = dict(LEVELS)[target]
            cand = AlertCandidate(
                fu.alert_rule,
                fu.instance_key,
                severity,
                fu.alert_message or "",
                fu.alert_source or "",
                opened_at,
                (fu.rule, fu.region, fu.anchor_at),
                fu.urgent,
                fu.alert_title or fu.alert_rule,
                fu.track,
                fu.closes_at,
            )
            wanted[(fu.patient_id, cand.rule, cand.key, severity)] = (fu, cand)
    uow.follow_ups.set_raised(raised)
    inserted = uow.alerts.insert_many(
        [
            new_alert_row(fu.patient_id, c, fu.id, states.get(fu.patient_id, {}), pathway_hash, now)
            for fu, c in wanted.values()
        ]
    )
    actions: list[NewAlertAction] = []
    outbox: list[NewNotification] = []
    escalated, urgent = [], set()
    team_routes = with_team_routes(uow, routes, sorted({i[1] for i in inserted}))
    for alert_id, pid, rule, key, severity in inserted:
        fu, c = wanted[(pid, rule, key, severity)]
        actions.append(NewAlertAction(alert_id, "opened", SWEEP_ACTOR, now, c.message))
        outbox += outbox_rows(alert_id, pid, c, team_routes.get(pid, routes), now)
        changes.alerts_opened += 1
        changes.lines.append(f"patient {pid}: alert {alert_id} {rule} {severity} opened")
        if severity != "info":
            escalated.append((pid, rule, key, severity))
        if c.urgent and severity == Severity.CRITICAL:
            urgent.add(pid)
    uow.notifications.add_many(outbox)
    raised_to = {(pid, rule, key): SEVERITY_RANK[sev] for pid, rule, key, sev in escalated}
    lower: dict[str, list[int]] = {}
    for a in uow.alerts.live_for(sorted({pid for pid, *_ in escalated})) if escalated else []:
        rank = raised_to.get((a.patient_id, a.rule, a.instance_key), 0)
        if SEVERITY_RANK[a.severity] < rank:
            lower.setdefault(dict(LEVELS)[rank], []).append(a.id)
    for severity, ids in lower.items():
        for alert_id in uow.alerts.resolve_many(ids, f"escalated to {severity}", now):
            actions.append(
                NewAlertAction(alert_id, AlertStatus.RESOLVED, SWEEP_ACTOR, now, f"escalated to {severity}")
            )
            changes.alerts_escalated += 1
    uow.alerts.add_actions(actions)
    for pid in urgent:
        hold_behind_urgent(uow, pid, now, holdable)


def raise_levels_set(
    uow: UnitOfWork,
    writes: SweepWrites,
    follow_up_ids: list[int],
    pathway_hash: str,
    now: datetime,
    routes: tuple[Route, ...],
    changes: Changes,
    holdable: tuple[str, ...] = (),
) -> None:
    """`raise_levels` as set-based SQL: the same alerts, audit rows, outbox rows, levels,
    escalations and holds, in a few statements per batch whatever its size."""
    raised = writes.raise_due(follow_up_ids, now, pathway_hash, routes)
    actions = [NewAlertAction(o.id, "opened", SWEEP_ACTOR, now, o.message) for o in raised.opened]
    actions += [NewAlertAction(i, AlertStatus.RESOLVED, SWEEP_ACTOR, now, why) for i, why in raised.resolved]
    uow.alerts.add_actions(actions)
    for o in raised.opened:
        changes.lines.append(f"patient {o.patient_id}: alert {o.id} {o.rule} {o.severity} opened")
    changes.alerts_opened += len(raised.opened)
    changes.alerts_escalated += len(raised.resolved)
    changes.patients += raised.patients
    for pid in sorted({o.patient_id for o in raised.opened if o.urgent and o.severity == Severity.CRITICAL}):
        hold_behind_urgent(uow, pid, now, holdable)


def renotify_set(
    writes: SweepWrites,
    now: datetime,
    every: timedelta,
    routes: tuple[Route, ...],
    titles: Mapping[str, str],
    changes: Changes,
    alert_ids: list[int],
) -> None:
    """One batch of `renotify` as set-based SQL, over alerts `SweepWrites.renotify_ids` listed."""
    written = writes.renotify_due(now, every, routes, titles, alert_ids)
    for n in written:
        changes.lines.append(
            f"patient {n.patient_id}: alert {n.alert_id} {n.rule} critical still live; "
            f"notified again (round {n.round}) by {n.channel} to {n.recipient}"
        )
    changes.renotified += len(written)


def renotify(
    uow: UnitOfWork,
    now: datetime,
    every: timedelta,
    routes: tuple[Route, ...],
    titles: Mapping[str, str],
    changes: Changes,
) -> None:
    """Notify every live critical alert again, once per `every` since it was first notified.

    Only the alerts whose `next_renotify_at` has come are read (a partial index), and each is moved
    on to its next round. One outbox row per route and round (the idempotency key names the round),
    so running the sweep twice, or late, adds nothing twice; the dispatcher sends them while the
    alert is still open or acknowledged (`still_notified`) and cancels them once it is resolved or
    overridden.
    """
    rows: list[NewNotification] = []
    due = uow.alerts.renotify_due(now)
    team_routes = with_team_routes(uow, routes, sorted({r.alert.patient_id for r in due}))
    for r in due:
        a, round_ = r.alert, renotify_round(r.created_at, now, every)
        if round_ < 1:
            continue
        c = AlertCandidate(
            a.rule,
            a.instance_key,
            a.severity,
            a.message,
            a.source,
            a.opened_at,
            None,
            a.urgent,
            titles.get(a.rule, a.rule),
            r.track,
        )
        rows += outbox_rows(
            a.id, a.patient_id, c, team_routes.get(a.patient_id, routes), now, renotify=round_
        )
    uow.alerts.set_next_renotify([(r.alert.id, next_renotify_at(r.created_at, now, every)) for r in due])
    sent = uow.notifications.existing_keys([row.idempotency_key for row in rows]) if rows else set()
    new = [row for row in rows if row.idempotency_key not in sent]
    uow.notifications.add_many(new)  # a parallel sweep's rows are skipped by the unique key
    for row in new:
        p = row.payload
        changes.lines.append(
            f"patient {row.patient_id}: alert {row.alert_id} {p['rule']} critical still live; "
            f"notified again (round {p['renotification']}) by {row.channel} to {row.recipient}"
        )
    changes.renotified += len(new)


def new_alert_row(
    patient_id: int,
    c: AlertCandidate,
    follow_up_id: int | None,
    states: dict[str, str],
    pathway_hash: str,
    now: datetime,
) -> NewAlert:
    """The row of an alert level raised now (at record time and at sweep time alike)."""
    return NewAlert(
        patient_id=patient_id,
        rule=c.rule,
        instance_key=c.key,
        severity=c.severity,
        status=AlertStatus.OPEN,
        message=c.message,
        source=c.source,
        follow_up_id=follow_up_id,
        states_at_fire=states,
        pathway_hash=pathway_hash,
        opened_at=c.opened_at,
        created_at=now,
        updated_at=now,
        held=False,
        urgent=c.urgent,
        track=c.track,
        # a critical level is looked at by the next sweep, which works out its first round
        next_renotify_at=now if c.severity == Severity.CRITICAL else None,
    )


def outbox_rows(
    alert_id: int,
    patient_id: int,
    c: AlertCandidate,
    routes: tuple[Route, ...],
    now: datetime,
    again: datetime | None = None,
    renotify: int = 0,
) -> list[NewNotification]:
    payload: JsonObject = {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "rule": c.rule,
        "severity": c.severity,
        "title": c.title or c.rule,
        "message": c.message,
        "source": c.source,
        "track": c.track,
        "opened_at": c.opened_at.isoformat(),
        "late": lateness(c.closes_at, now),
    }
    if renotify:
        payload["renotification"] = renotify
    rows = []
    for route in routes:
        if not route.matches(c.severity, c.track):
            continue
        key = idempotency_key(alert_id, c.severity, route.channel, route.recipient)
        if again is not None:
            key = f"{key}-reopened-{again.isoformat()}"[:200]
        if renotify:
            key = f"{key}-renotify-{renotify}"[:200]
        rows.append(
            NewNotification(
                alert_id=alert_id,
                patient_id=patient_id,
                channel=route.channel,
                recipient=route.recipient,
                idempotency_key=key,
                digest=route.digest,
                status=NotificationStatus.DIGEST if route.digest else NotificationStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
                payload=payload,
            )
        )
    return rows
