"""Patients, their track states and their history.

The statements on the recording path are Core statements against the tables, built once here and
executed on the session's connection: no ORM objects and no per-call statement building.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, update
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from db import pipeline, prefetch
from db.fast import Prebuilt
from db.tables import EventRow, PatientRow, TrackStateRow
from pathway.domain.errors import Conflict
from pathway.domain.integrity import GENESIS, event_digest
from pathway.domain.model import EventRecord, NewEvent, Patient

_P = PatientRow.__table__  # type: ignore[attr-defined]
_T = TrackStateRow.__table__  # type: ignore[attr-defined]
_E = EventRow.__table__  # type: ignore[attr-defined]

# the order of Patient's fields
_PATIENT_COLUMNS = (
    _P.c.id,
    _P.c.mrn,
    _P.c.enrolled_on,
    _P.c.enrolled_at,
    _P.c.histology,
    _P.c.name,
    _P.c.birth_date,
    _P.c.version,
)
_EVENT_COLUMNS = (
    _E.c.id,
    _E.c.patient_id,
    _E.c.type,
    _E.c.occurred_at,
    _E.c.recorded_at,
    _E.c.actor,
    _E.c.data,
    _E.c.reason,
    _E.c.changes,
    _E.c.source_ref,
)

_PATIENT_BY_MRN = columns(*_PATIENT_COLUMNS).where(_P.c.mrn == bindparam("mrn"))
_PATIENT_BY_MRN_LOCKED = _PATIENT_BY_MRN.with_for_update()
_PATIENT_BY_ID = columns(*_PATIENT_COLUMNS).where(_P.c.id == bindparam("pid"))
# the patient and its track states in one statement; FOR UPDATE OF patient on PostgreSQL
_PATIENT_STATES_BY_MRN = (
    columns(*_PATIENT_COLUMNS, _T.c.track, _T.c.state)
    .select_from(_P.outerjoin(_T, _T.c.patient_id == _P.c.id))
    .where(_P.c.mrn == bindparam("mrn"))
    .order_by(_T.c.track)
)
_PATIENT_STATES_BY_MRN_LOCKED = _PATIENT_STATES_BY_MRN.with_for_update(of=_P)
_LOCK = columns(_P.c.id).where(_P.c.id == bindparam("pid")).with_for_update()
_STATES = columns(_T.c.track, _T.c.state).where(_T.c.patient_id == bindparam("pid"))
# compare-and-set on the version; SET takes the parameters named like columns
_SAVE = update(_P).where(_P.c.id == bindparam("b_id"), _P.c.version == bindparam("b_version"))
_SET_STATE = update(_T).where(_T.c.patient_id == bindparam("b_patient"), _T.c.track == bindparam("b_track"))
_EVENT_INSERT = insert(_E).returning(_E.c.id)
_EVENTS_OF = columns(*_EVENT_COLUMNS).where(_E.c.patient_id == bindparam("pid")).order_by(_E.c.id)
_LAST_CHAIN = columns(_E.c.chain).where(_E.c.patient_id == bindparam("pid")).order_by(_E.c.id.desc()).limit(1)
_CHAINS_OF = columns(_E.c.id, _E.c.chain).where(_E.c.patient_id == bindparam("pid"))
# the same statements on the driver's cursor (db.fast): the event path's reads and writes
_FAST_PATIENT_STATES = {
    False: Prebuilt(_PATIENT_STATES_BY_MRN),
    True: Prebuilt(_PATIENT_STATES_BY_MRN_LOCKED),
}
_FAST_SAVE = Prebuilt(_SAVE, dml=True)
_FAST_SET_STATE = Prebuilt(_SET_STATE, dml=True)
# the history with each event's chain hash: the last one is what the next event chains to
_EVENTS_CHAINED = Prebuilt(
    columns(*_EVENT_COLUMNS, _E.c.chain).where(_E.c.patient_id == bindparam("pid")).order_by(_E.c.id)
)
_FAST_LAST_CHAIN = Prebuilt(_LAST_CHAIN)
_FAST_EVENT_INSERT = Prebuilt(_EVENT_INSERT, dml=True)
_FAST_EVENT_INSERT_AS = Prebuilt(insert(_E), dml=True)  # with the id reserved along with the lock
prefetch.register(
    "history",
    columns(*_EVENT_COLUMNS, _E.c.chain).where(_E.c.patient_id == prefetch.PATIENT_OF_MRN).order_by(_E.c.id),
)


def connection(session: Session) -> Connection:
    """The session's connection (its transaction begins here): Core statements run on it.

    Kept in `session.info` until the session lets it go (commit, rollback, close), because asking
    the session each time costs more than most of the statements it runs.
    """
    conn: Connection | None = session.info.get("connection")
    if conn is None or conn.closed:
        conn = session.info["connection"] = session.connection()
    return conn


def _last_chains(session: Session) -> dict[int, str | None]:
    """Patient id -> the chain hash of their last event, as read or written on the session's
    current connection (its transaction): forgotten with it."""
    conn = connection(session)
    kept = session.info.get("last_chains")
    if kept is None or kept[0] is not conn:
        kept = session.info["last_chains"] = (conn, {})
    heads: dict[int, str | None] = kept[1]
    return heads


def to_patient(row: PatientRow) -> Patient:
    assert row.id is not None
    return Patient(
        id=row.id,
        mrn=row.mrn,
        enrolled_on=row.enrolled_on,
        enrolled_at=row.enrolled_at,
        histology=row.histology,
        name=row.name,
        birth_date=row.birth_date,
        version=row.version,
    )


def _patient(row: Any) -> Patient:
    return Patient(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def _event(row: Any) -> EventRecord:
    return EventRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        dict(row[6] or {}),
        row[7],
        {k: (v[0], v[1]) for k, v in (row[8] or {}).items()},
        row[9],
    )


class SqlPatientRepository:
    def __init__(self, session: Session, pathway_id: str) -> None:
        self.session = session
        self.pathway_id = pathway_id

    def add(
        self,
        mrn: str,
        name: str | None,
        birth_date: date | None,
        histology: str | None,
        enrolled_on: date,
        enrolled_at: datetime,
        states: dict[str, str],
    ) -> Patient:
        row = PatientRow(
            mrn=mrn,
            name=name,
            birth_date=birth_date,
            histology=histology,
            enrolled_on=enrolled_on,
            enrolled_at=enrolled_at,
            pathway_id=self.pathway_id,
            updated_at=enrolled_at,
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        for track, state in states.items():
            self.session.add(
                TrackStateRow(patient_id=row.id, track=track, state=state, entered_at=enrolled_at)
            )
        self.session.flush()
        return to_patient(row)

    def by_mrn(self, mrn: str, lock: bool = False) -> Patient | None:
        row = (
            connection(self.session)
            .execute(_PATIENT_BY_MRN_LOCKED if lock else _PATIENT_BY_MRN, {"mrn": mrn})
            .first()
        )
        return _patient(row) if row else None

    def by_mrn_with_states(self, mrn: str, lock: bool = False) -> tuple[Patient, dict[str, str]] | None:
        conn = connection(self.session)
        if lock and conn.dialect.name == "postgresql":  # recording: the reads that follow, with it
            rows = prefetch.lock_and_read(conn, _FAST_PATIENT_STATES[True], mrn)
        else:
            rows = _FAST_PATIENT_STATES[lock].rows(conn, {"mrn": mrn})
        if not rows:
            return None
        return _patient(rows[0]), {r[8]: r[9] for r in rows if r[8] is not None}

    def correct_demographics(self, patient: Patient, name: str | None, birth_date: date | None) -> Patient:
        values = {k: v for k, v in (("name", name), ("birth_date", birth_date)) if v is not None}
        if values:
            self.session.execute(update(_P).where(_P.c.id == patient.id).values(**values))
        return Patient(**{**patient.__dict__, **values})

    def same_person(self, name: str, birth_date: date) -> list[str]:
        """Compared on the birth date (indexed by the database's own order) and the lower-cased,
        single-spaced name (names are stored cleaned, see clean_text)."""
        key = " ".join(name.split()).lower()
        query = select(PatientRow.mrn).where(
            col(PatientRow.birth_date) == birth_date, func.lower(col(PatientRow.name)) == key
        )
        return sorted(self.session.exec(query).all())

    def by_id(self, patient_id: int) -> Patient | None:
        row = connection(self.session).execute(_PATIENT_BY_ID, {"pid": patient_id}).first()
        return _patient(row) if row else None

    def lock_many(self, patient_ids: list[int]) -> None:
        """Lock in id order, so two sweepers never wait on each other in a cycle."""
        self.session.execute(
            select(PatientRow.id)
            .where(col(PatientRow.id).in_(patient_ids))
            .order_by(col(PatientRow.id))
            .with_for_update()
        )

    def states_many(self, patient_ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {pid: {} for pid in patient_ids}
        rows = self.session.execute(
            select(TrackStateRow.patient_id, TrackStateRow.track, TrackStateRow.state).where(
                col(TrackStateRow.patient_id).in_(patient_ids)
            )
        )
        for pid, track, state in rows:
            out[pid][track] = state
        return out

    def lock(self, patient_id: int) -> None:
        connection(self.session).execute(_LOCK, {"pid": patient_id})

    def states(self, patient_id: int) -> dict[str, str]:
        rows = connection(self.session).execute(_STATES, {"pid": patient_id})
        return {track: state for track, state in rows}

    def save(
        self,
        patient: Patient,
        states: dict[str, str],
        at: datetime,
        histology: str | None = None,
        old: dict[str, str] | None = None,
    ) -> Patient:
        conn = connection(self.session)
        params: dict[str, Any] = {
            "b_id": patient.id,
            "b_version": patient.version,
            "version": patient.version + 1,
            "updated_at": at,
        }
        if histology is not None:
            params["histology"] = histology
        conflict = (
            f"patient {patient.id} was changed by someone else meanwhile "
            f"(expected version {patient.version}); reload and try again"
        )
        if not _FAST_SAVE.run_checked(conn, params, conflict):
            raise Conflict(conflict)
        old = old if old is not None else self.states(patient.id)
        moved = [
            {"b_patient": patient.id, "b_track": track, "state": state, "entered_at": at}
            for track, state in states.items()
            if old.get(track) != state
        ]
        if moved:
            _FAST_SET_STATE.run_many(conn, moved)
        return Patient(
            **{
                **patient.__dict__,
                "version": patient.version + 1,
                "histology": histology or patient.histology,
            }
        )

    def listing(
        self, track: str | None, state: str | None, after: str | None = None, limit: int | None = None
    ) -> list[tuple[Patient, dict[str, str]]]:
        query = select(PatientRow).order_by(col(PatientRow.mrn))
        if after is not None:
            query = query.where(col(PatientRow.mrn) > after)
        if limit is not None:
            query = query.limit(limit)
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
            rows = self.session.exec(
                select(TrackStateRow.patient_id, TrackStateRow.track, TrackStateRow.state).where(
                    col(TrackStateRow.patient_id).in_(ids[i : i + 500])
                )
            )
            for pid, t, s in rows:
                by_patient[pid][t] = s
        return [(p, by_patient[p.id]) for p in patients]


class SqlEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def chains(self, patient_id: int) -> dict[int, str | None]:
        """Each event's stored chain hash (`pathway verify` recomputes and compares them)."""
        rows = connection(self.session).execute(_CHAINS_OF, {"pid": patient_id})
        return {int(r[0]): r[1] for r in rows}

    def append(self, event: NewEvent) -> EventRecord:
        data = dict(event.data)
        conn = connection(self.session)
        heads = _last_chains(self.session)
        if event.patient_id in heads:
            previous = heads[event.patient_id] or GENESIS
        else:
            found = _FAST_LAST_CHAIN.rows(conn, {"pid": event.patient_id})
            previous = (found[0][0] if found else None) or GENESIS
        unsaved = EventRecord(
            id=0,
            patient_id=event.patient_id,
            type=event.type,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            actor=event.actor,
            data=data,
            reason=event.reason,
            changes=dict(event.changes),
            source_ref=event.source_ref,
        )
        unsaved_chain = event_digest(previous, unsaved)
        values = {
            "chain": unsaved_chain,
            "patient_id": event.patient_id,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "recorded_at": event.recorded_at,
            "actor": event.actor,
            "reason": event.reason,
            "data": data,
            "changes": {k: list(v) for k, v in event.changes.items()},
            "source_ref": event.source_ref,
        }
        reserved = pipeline.take(conn, "event_id", event.patient_id)
        if reserved:
            event_id = int(reserved[0][0])
            _FAST_EVENT_INSERT_AS.run_many(conn, [{**values, "id": event_id}])  # nothing to wait for
        else:
            event_id = int(_FAST_EVENT_INSERT.rows(conn, values)[0][0])
        heads[event.patient_id] = unsaved_chain
        return EventRecord(
            id=event_id,
            patient_id=event.patient_id,
            type=event.type,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            actor=event.actor,
            data=dict(data),
            reason=event.reason,
            changes={k: (v[0], v[1]) for k, v in event.changes.items()},
            source_ref=event.source_ref,
        )

    def for_patient(self, patient_id: int) -> list[EventRecord]:
        """The patient's history in recording order; the last event's chain hash is kept for
        `append` in the same transaction (the patient is locked: nobody else appends)."""
        conn = connection(self.session)
        rows = pipeline.take(conn, "history", patient_id)
        if rows is None:
            rows = _EVENTS_CHAINED.rows(conn, {"pid": patient_id})
        _last_chains(self.session)[patient_id] = rows[-1][-1] if rows else None
        return [_event(r) for r in rows]

    def of_types(
        self, types: Collection[str], patient_ids: Collection[int] | None = None
    ) -> list[tuple[str, EventRecord]]:
        # sorted here, not by ORDER BY id: that makes SQLite walk the whole table in id order
        # instead of the few rows of these types along ix_event_type_time
        query = (
            columns(*_EVENT_COLUMNS, _P.c.mrn)
            .join(_P, _P.c.id == _E.c.patient_id)
            .where(_E.c.type.in_(sorted(set(types))))
        )
        if patient_ids is None:
            rows = list(connection(self.session).execute(query))
        else:
            ids = sorted(set(patient_ids))
            rows = [
                r
                for i in range(0, len(ids), 500)
                for r in connection(self.session).execute(query.where(_E.c.patient_id.in_(ids[i : i + 500])))
            ]
        return [(r[-1], _event(r)) for r in sorted(rows, key=lambda r: r[0])]

    def known_sources(self, refs: Collection[str]) -> set[str]:
        """Which of these source references an event already carries (an import done before)."""
        found: set[str] = set()
        wanted = sorted(set(refs))
        for i in range(0, len(wanted), 500):
            rows = connection(self.session).execute(
                columns(_E.c.source_ref).where(_E.c.source_ref.in_(wanted[i : i + 500]))
            )
            found |= {r[0] for r in rows}
        return found
