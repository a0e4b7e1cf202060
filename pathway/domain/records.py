"""The write side of the storage ports, as typed records: what a service asks an adapter to insert
or change. `values()` gives the columns a record sets, for the adapters (db/ and the in-memory
unit of work) to write as they are; a change record sets only the fields given (`KEEP` the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, NamedTuple, TypeAlias


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""A change record's field left as it is stored."""

JsonObject: TypeAlias = dict[str, Any]
"""A free-form JSON object stored as it is (an event's data, an audit row's data)."""
ReportSummary: TypeAlias = dict[str, Any]
"""A daily report run's stored summary: the built report as JSON, with how it was mailed."""
HandoverSummary: TypeAlias = dict[str, Any]
"""A hand-over summary as stored with its exit event (JSON)."""


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"
    DIGEST = "digest"  # waiting for the daily digest of its route


class ReportRunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a record type's field names (read once per type)


def _set(record: object) -> dict[str, Any]:
    kind = type(record)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(record))  # type: ignore[arg-type]
    return {name: v for name in names if (v := getattr(record, name)) is not KEEP}


@dataclass(frozen=True, slots=True)
class NewFollowUp:
    """A follow-up window as first written, with the alert plan the sweep raises levels from."""

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
    done_event_id: int | None
    late_days: int
    early: bool
    cancel_reason: str | None
    notes: list[str]
    updated_at: datetime
    instance_key: str
    track: str
    urgent: bool
    alert_rule: str | None
    alert_title: str | None
    alert_source: str | None
    alert_message: str | None
    info_at: datetime | None
    warning_at: datetime | None
    critical_at: datetime | None
    raised: int
    next_alert_at: datetime | None

    def values(self) -> dict[str, Any]:
        return _set(self)


@dataclass(frozen=True, slots=True)
class FollowUpChange:
    """The columns of a follow-up to change (compare-and-set on its stored status)."""

    anchor_label: str | _Keep = KEEP
    opens_at: datetime | _Keep = KEEP
    target_at: datetime | _Keep = KEEP
    closes_at: datetime | _Keep = KEEP
    clock_time: bool | _Keep = KEEP
    status: str | _Keep = KEEP
    done_at: datetime | _Keep | None = KEEP
    done_event_id: int | _Keep | None = KEEP
    late_days: int | _Keep = KEEP
    early: bool | _Keep = KEEP
    cancel_reason: str | _Keep | None = KEEP
    notes: list[str] | _Keep = KEEP
    updated_at: datetime | _Keep = KEEP
    instance_key: str | _Keep = KEEP
    track: str | _Keep = KEEP
    urgent: bool | _Keep = KEEP
    alert_rule: str | _Keep | None = KEEP
    alert_title: str | _Keep | None = KEEP
    alert_source: str | _Keep | None = KEEP
    alert_message: str | _Keep | None = KEEP
    info_at: datetime | _Keep | None = KEEP
    warning_at: datetime | _Keep | None = KEEP
    critical_at: datetime | _Keep | None = KEEP
    raised: int | _Keep = KEEP
    next_alert_at: datetime | _Keep | None = KEEP

    def values(self) -> dict[str, Any]:
        return _set(self)


@dataclass(frozen=True, slots=True)
class RaisedLevel:
    """The alert level a follow-up has reached, and when its next level falls due."""

    follow_up_id: int
    raised: int
    next_alert_at: datetime | None
    at: datetime


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert level raised now (at record time and at sweep time alike)."""

    patient_id: int
    rule: str
    instance_key: str
    severity: str
    status: str
    message: str
    source: str
    follow_up_id: int | None
    states_at_fire: dict[str, str]
    pathway_hash: str
    opened_at: datetime
    created_at: datetime
    updated_at: datetime
    held: bool
    urgent: bool
    track: str
    next_renotify_at: datetime | None  # critical levels: the next sweep works out the round

    def values(self) -> dict[str, Any]:
        return _set(self)


class InsertedAlert(NamedTuple):
    id: int
    patient_id: int
    rule: str
    instance_key: str
    severity: str


@dataclass(frozen=True, slots=True)
class AlertChange:
    """The columns of an alert to change (compare-and-set on its stored status)."""

    status: str | _Keep = KEEP
    updated_at: datetime | _Keep = KEEP
    message: str | _Keep = KEEP
    source: str | _Keep = KEEP
    pathway_hash: str | _Keep = KEEP
    held: bool | _Keep = KEEP
    snoozed_until: datetime | _Keep | None = KEEP
    override_reason: str | _Keep | None = KEEP
    override_until: datetime | _Keep | None = KEEP
    acted_by: str | _Keep | None = KEEP
    note: str | _Keep | None = KEEP
    resolved_at: datetime | _Keep | None = KEEP
    resolution: str | _Keep | None = KEEP
    next_renotify_at: datetime | _Keep | None = KEEP

    def values(self) -> dict[str, Any]:
        return _set(self)


@dataclass(frozen=True, slots=True)
class NewAlertAction:
    """One audit row of what a person or the sweep did to an alert."""

    alert_id: int
    action: str
    actor: str
    at: datetime
    note: str | None = None
    data: JsonObject = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return _set(self)


@dataclass(frozen=True, slots=True)
class NewNotification:
    """One outbox row, written in the same transaction as its alert."""

    alert_id: int
    patient_id: int
    channel: str
    recipient: str
    idempotency_key: str
    digest: bool
    status: str
    next_attempt_at: datetime
    created_at: datetime
    payload: JsonObject
    attempts: int = 0
    claimed_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return _set(self)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What a delivery attempt (or a claim, a hold, a cancellation) changes on an outbox row."""

    status: str
    attempts: int | _Keep = KEEP
    last_error: str | _Keep | None = KEEP
    claimed_at: datetime | _Keep | None = KEEP
    next_attempt_at: datetime | _Keep = KEEP
    sent_at: datetime | _Keep | None = KEEP

    def values(self) -> dict[str, Any]:
        return _set(self)
