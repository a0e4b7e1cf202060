"""Domain records as API bodies: clinic-local dates, the steps' names from the pathway file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import tzinfo

from pathway.domain.model import EventRecord, Patient, StoredAlert, StoredFollowUp
from pathway.domain.rules_spec import FollowUpRule
from pathway.ports import User
from pathway.services.alerting import WorkItem
from pathway.web import schemas
from pathway.web.fmt import day


def patient(p: Patient, tracks: dict[str, str]) -> schemas.PatientOut:
    return schemas.PatientOut(
        id=p.id, mrn=p.mrn, enrolled_on=p.enrolled_on, histology=p.histology, version=p.version, tracks=tracks
    )


def follow_up(f: StoredFollowUp, rules: Mapping[str, FollowUpRule], zone: tzinfo) -> schemas.FollowUpOut:
    rule, clock = rules.get(f.rule), f.clock_time
    return schemas.FollowUpOut(
        id=f.id,
        rule=f.rule,
        step=rule.step if rule else f.rule,
        region=f.region or None,
        status=f.status,
        opens=day(f.opens_at, zone, clock=clock),
        target=day(f.target_at, zone, end=True, clock=clock),
        closes=day(f.closes_at, zone, end=True, clock=clock),
        anchor=f.anchor_label,
        done_on=day(f.done_at, zone, clock=clock) or None,
        late_days=f.late_days,
        early=f.early,
        cancel_reason=f.cancel_reason,
        notes=list(f.notes),
    )


def alert(a: StoredAlert, mrn: str | None = None, dead: set[int] | None = None) -> schemas.AlertOut:
    return schemas.AlertOut(
        id=a.id,
        mrn=mrn,
        rule=a.rule,
        severity=a.severity,
        status=a.status,
        message=a.message,
        source=a.source,
        opened_at=a.opened_at,
        follow_up_id=a.follow_up_id,
        held=a.held,
        acted_by=a.acted_by,
        note=a.note,
        resolution=a.resolution,
        snoozed_until=a.snoozed_until,
        override_until=a.override_until,
        notification_dead=a.id in (dead or set()),
        holiday_calendar=a.holiday_calendar,
        holidays_version=a.holidays_version,
    )


def event(e: EventRecord, retracted: bool = False) -> schemas.EventOut:
    return schemas.EventOut(
        id=e.id,
        event=e.type,
        occurred_at=e.occurred_at,
        recorded_at=e.recorded_at,
        actor=e.actor,
        data=dict(e.data),
        reason=e.reason,
        changes={k: list(v) for k, v in e.changes.items()},
        retracted=retracted,
    )


def work_item(i: WorkItem, zone: tzinfo) -> schemas.WorkItemOut:
    return schemas.WorkItemOut(
        mrn=i.mrn,
        kind=i.kind,
        rule=i.rule,
        step=i.step,
        severity=i.severity,
        opens=day(i.opens, zone, clock=i.clock_time),
        closes=day(i.closes, zone, end=True, clock=i.clock_time),
        days_late=i.days_late,
        alert_id=i.alert_id,
        alert_rule=i.alert_rule,
        held=i.held,
        detail=i.detail,
        booking=i.booking or None,
    )


def worklist(items: list[WorkItem], zone: tzinfo) -> schemas.WorklistOut:
    return schemas.WorklistOut(
        counts=dict(Counter(i.kind for i in items)), items=[work_item(i, zone) for i in items]
    )


def user(u: User) -> schemas.UserOut:
    return schemas.UserOut(
        name=u.name,
        role=u.role,
        created_at=u.created_at,
        revoked_at=u.revoked_at,
        active=u.active,
        expires_at=u.expires_at,
    )
