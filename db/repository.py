from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.tables import EventRow, PatientRow, TrackStateRow
from pathway.domain.errors import Conflict
from pathway.domain.model import EventRecord, NewEvent, Patient


def to_patient(row: PatientRow) -> Patient:
    assert row.id is not None
    return Patient(id=row.id, mrn=row.mrn, enrolled_on=row.enrolled_on,
                   enrolled_at=row.enrolled_at, histology=row.histology, name=row.name,
                   birth_date=row.birth_date, version=row.version)


def to_event(row: EventRow) -> EventRecord:
    assert row.id is not None
    changes = {k: (v[0], v[1]) for k, v in (row.changes or {}).items()}
    return EventRecord(id=row.id, patient_id=row.patient_id, type=row.type,
                       occurred_at=row.occurred_at, recorded_at=row.recorded_at, actor=row.actor,
                       data=dict(row.data or {}), reason=row.reason, changes=changes)


class SqlPatientRepository:
    def __init__(self, session: Session, pathway_id: str) -> None:
        self.session = session
        self.pathway_id = pathway_id

    def add(self, mrn: str, name: str | None, birth_date: date | None, histology: str | None,
            enrolled_on: date, enrolled_at: datetime, states: dict[str, str]) -> Patient:
        row = PatientRow(mrn=mrn, name=name, birth_date=birth_date, histology=histology,
                         enrolled_on=enrolled_on, enrolled_at=enrolled_at,
                         pathway_id=self.pathway_id, updated_at=enrolled_at)
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        for track, state in states.items():
            self.session.add(TrackStateRow(patient_id=row.id, track=track, state=state,
                                           entered_at=enrolled_at))
        self.session.flush()
        return to_patient(row)

    def by_mrn(self, mrn: str, lock: bool = False) -> Patient | None:
        query = select(PatientRow).where(PatientRow.mrn == mrn)
        row = self.session.exec(query.with_for_update() if lock else query).first()
        return to_patient(row) if row else None

    def by_id(self, patient_id: int) -> Patient | None:
        row = self.session.get(PatientRow, patient_id)
        return to_patient(row) if row else None

    def lock_many(self, patient_ids: list[int]) -> None:
        """Lock in id order, so two sweepers never wait on each other in a cycle."""
        self.session.execute(select(PatientRow.id).where(col(PatientRow.id).in_(patient_ids))
                             .order_by(col(PatientRow.id)).with_for_update())

    def states_many(self, patient_ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {pid: {} for pid in patient_ids}
        rows = self.session.execute(
            select(TrackStateRow.patient_id, TrackStateRow.track, TrackStateRow.state)
            .where(col(TrackStateRow.patient_id).in_(patient_ids)))
        for pid, track, state in rows:
            out[pid][track] = state
        return out

    def lock(self, patient_id: int) -> None:
        self.session.execute(select(PatientRow.id).where(PatientRow.id == patient_id)
                             .with_for_update())

    def states(self, patient_id: int) -> dict[str, str]:
        rows = self.session.exec(
            select(TrackStateRow.track, TrackStateRow.state)
            .where(TrackStateRow.patient_id == patient_id)).all()
        return dict(rows)

    def save(self, patient: Patient, states: dict[str, str], at: datetime,
             histology: str | None = None, old: dict[str, str] | None = None) -> Patient:
        values: dict[str, Any] = {"version": patient.version + 1, "updated_at": at}
        if histology is not None:
            values["histology"] = histology
        result = self.session.execute(
            update(PatientRow)
            .where(col(PatientRow.id) == patient.id, col(PatientRow.version) == patient.version)
            .values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"patient {patient.id} was changed by someone else meanwhile "
                           f"(expected version {patient.version}); reload and try again")
        old = old if old is not None else self.states(patient.id)
        for track, state in states.items():
            if old.get(track) != state:
                self.session.execute(
                    update(TrackStateRow)
                    .where(col(TrackStateRow.patient_id) == patient.id,
                           col(TrackStateRow.track) == track)
                    .values(state=state, entered_at=at))
        return Patient(**{**patient.__dict__, "version": patient.version + 1,
                          "histology": histology or patient.histology})

    def listing(self, track: str | None, state: str | None
                ) -> list[tuple[Patient, dict[str, str]]]:
        query = select(PatientRow).order_by(col(PatientRow.mrn))
        if track is not None or state is not None:
            sub = select(TrackStateRow.patient_id)
            if track is not None:
                sub = sub.where(TrackStateRow.track == track)
            if state is not None:
                sub = sub.where(TrackStateRow.state == state)
            query = query.where(col(PatientRow.id).in_(sub))
        patients = [to_patient(r) for r in self.session.exec(query).all()]
        by_patient: dict[int, dict[str, str]] = {p.id: {} for p in patients}
        ids = list(by_patient)
        for i in range(0, len(ids), 500):
            rows = self.session.exec(select(TrackStateRow.patient_id, TrackStateRow.track,
                                            TrackStateRow.state)
                                     .where(col(TrackStateRow.patient_id).in_(ids[i:i + 500])))
            for pid, t, s in rows:
                by_patient[pid][t] = s
        return [(p, by_patient[p.id]) for p in patients]


class SqlEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, event: NewEvent) -> EventRecord:
        row = EventRow(patient_id=event.patient_id, type=event.type,
                       occurred_at=event.occurred_at, recorded_at=event.recorded_at,
                       actor=event.actor, reason=event.reason, data=dict(event.data),
                       changes={k: list(v) for k, v in event.changes.items()})
        self.session.add(row)
        self.session.flush()
        return to_event(row)

    def for_patient(self, patient_id: int) -> list[EventRecord]:
        rows = self.session.exec(select(EventRow).where(EventRow.patient_id == patient_id)
                                 .order_by(col(EventRow.id))).all()
        return [to_event(r) for r in rows]
