"""Plain domain records shared by services and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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


@dataclass(frozen=True)
class PatientView:
    patient: Patient
    states: dict[str, str]
    allowed_events: list[str]
    recent: list[EventRecord]
    order: tuple[str, ...] = ()
