"""What the services need from the outside world, as Protocols (adapters live in db/ and scheduler/)."""

from __future__ import annotations

from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from pathway.domain.model import EventRecord, NewEvent, Patient


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class PatientRepository(Protocol):
    def add(self, mrn: str, name: str | None, birth_date: date | None, histology: str | None,
            enrolled_on: date, enrolled_at: datetime, states: dict[str, str]) -> Patient: ...

    def by_mrn(self, mrn: str) -> Patient | None: ...

    def states(self, patient_id: int) -> dict[str, str]: ...

    def save(self, patient: Patient, states: dict[str, str], at: datetime,
             histology: str | None = None) -> Patient:
        """Write new track states, bumping the version; raise Conflict if it moved meanwhile."""
        ...

    def listing(self, track: str | None, state: str | None
                ) -> list[tuple[Patient, dict[str, str]]]: ...


class EventRepository(Protocol):
    def append(self, event: NewEvent) -> EventRecord: ...

    def for_patient(self, patient_id: int) -> list[EventRecord]: ...


class UnitOfWork(Protocol):
    patients: PatientRepository
    events: EventRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
