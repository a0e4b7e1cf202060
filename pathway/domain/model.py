"""Plain domain records shared by services and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pathway.domain.status import FollowUpStatus, follow_up_status


@dataclass(frozen=True)
class Patient:
    id: int
    mrn: str
    enrolled_on: date
    enrolled_at: datetime
    histology: str | None = None
    name: str | None = None
    birth_date: date | None = None
    version: int = 1


@dataclass(frozen=True)
class NewEvent:
    patient_id: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    source_ref: str | None = None


@dataclass(frozen=True)
class EventRecord:
    id: int
    patient_id: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any]
    reason: str | None
    changes: dict[str, tuple[str, str]]
    source_ref: str | None = None


@dataclass(frozen=True)
class PatientView:
    patient: Patient
    states: dict[str, str]
    allowed_events: list[str]
    recent: list[EventRecord]
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredFollowUp:
    id: int
    patient_id: int
    rule: str
    region: str
    anchor_at: datetime
    anchor_label: str
    opens_at: datetime
    target_at: datetime
    closes_at: datetime
    clock_time: bool
    status: str
    done_at: datetime | None
    late_days: int
    early: bool
    cancel_reason: str | None
    notes: list[str]
    raised: int = 0
    next_alert_at: datetime | None = None
    instance_key: str = ""
    alert_rule: str | None = None
    alert_title: str | None = None
    alert_source: str | None = None
    alert_message: str | None = None
    track: str = ""
    urgent: bool = False
    info_at: datetime | None = None
    warning_at: datetime | None = None
    critical_at: datetime | None = None

    def status_at(self, now: datetime) -> FollowUpStatus:
        """`status` holds the stored outcome (open, done, cancelled); this is the status at `now`."""
        return follow_up_status(self.status, self.opens_at, self.closes_at, now)


@dataclass(frozen=True)
class WorkStep:
    """An open follow-up as a worklist line needs it (only the columns it reads)."""

    id: int
    rule: str
    region: str
    anchor_label: str
    opens_at: datetime
    closes_at: datetime
    clock_time: bool
    mrn: str
    anchor_at: datetime | None = None


@dataclass(frozen=True)
class AlertLine:
    """A live alert as a worklist line needs it."""

    id: int
    follow_up_id: int | None
    rule: str
    severity: str
    message: str
    source: str
    held: bool
    mrn: str


@dataclass(frozen=True)
class StoredAlert:
    id: int
    patient_id: int
    rule: str
    instance_key: str
    severity: str
    status: str
    message: str
    source: str
    opened_at: datetime
    follow_up_id: int | None
    held: bool
    urgent: bool
    snoozed_until: datetime | None = None
    override_until: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    acted_by: str | None = None
    note: str | None = None
    states_at_fire: dict[str, str] = field(default_factory=dict)
    holiday_calendar: str | None = None  # the site's calendar when raised (PATHWAY_HOLIDAYS)
    holidays_version: str | None = None  # the `holidays` package that computed its dates
    updated_at: datetime | None = None  # the last change (an action's time)


@dataclass(frozen=True)
class Notification:
    id: int
    alert_id: int
    patient_id: int
    channel: str
    recipient: str
    idempotency_key: str
    digest: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    payload: dict[str, Any]
    last_error: str | None = None
    sent_at: datetime | None = None
