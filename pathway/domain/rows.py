"""Named rows of the read models (the report, the worklist, listings): what a read returns, by
field name rather than by position. NamedTuples, so a caller may still unpack them."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from pathway.domain.model import StoredFollowUp


class StepRow(NamedTuple):
    """One open step of a report section."""

    mrn: str
    rule: str
    region: str
    opens_at: datetime
    target_at: datetime
    closes_at: datetime


class CountedMrns(NamedTuple):
    """How many patients a report line counts, and the first of them by MRN."""

    total: int
    first: list[str]


class ActivePatients(NamedTuple):
    enrolled: int
    active: int


class RtEventRow(NamedTuple):
    """An RT decision or start, for the decision-to-treatment interval."""

    event_id: int
    patient_id: int
    type: str
    occurred_at: datetime


class ForecastBucket(NamedTuple):
    """Open steps of one rule whose target falls at one instant."""

    rule: str
    target_at: datetime
    steps: int


class ActionRow(NamedTuple):
    """An alert action since the previous report, with the patient's MRN."""

    action: str
    alert_id: int
    mrn: str
    note: str | None


class NextStep(NamedTuple):
    rule: str
    region: str
    target_at: datetime


class PatientLine(NamedTuple):
    """One patient's line of the per-patient export."""

    mrn: str
    enrolled_on: date
    states: dict[str, str]
    overdue: int
    next_step: NextStep | None
    alerts: dict[str, int]


class AlertActionEntry(NamedTuple):
    """One audit row of an alert: what was done, by whom, when, with which note."""

    action: str
    actor: str
    at: datetime
    note: str | None


class AttemptRow(NamedTuple):
    """One delivery attempt of a notification."""

    at: datetime
    outcome: str
    error: str | None


class OpenWindow(NamedTuple):
    """An open follow-up with its patient's MRN and name (the calendar feed)."""

    follow_up: StoredFollowUp
    mrn: str
    name: str | None
