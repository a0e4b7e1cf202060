"""Batch writes for a cohort import: Core INSERTs with lists of rows (executemany), ids reserved
up front so that no row needs to be read back."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, text
from sqlalchemy import select as columns
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from db.fast import sqlite_utc_text
from db.repository import _EVENT_COLUMNS as _EVENT_COLUMNS_OF_REPOSITORY
from db.repository import _SAVE, _SET_STATE, _event, connection
from db.tables import (
    AlertActionRow,
    AlertRow,
    EventRow,
    FollowUpRow,
    HandoverRow,
    NotificationRow,
    PatientRow,
    TrackStateRow,
)
from pathway.domain.errors import Conflict
from pathway.domain.model import EventRecord, Patient
from pathway.ports import StoredHistory

_TABLES: dict[str, Any] = {
    r.__tablename__: r.__table__  # type: ignore[union-attr]
    for r in (
        PatientRow,
        TrackStateRow,
        EventRow,
        FollowUpRow,
        AlertRow,
        AlertActionRow,
        NotificationRow,
        HandoverRow,
    )
}
_P, _T, _E = _TABLES["patient"], _TABLES["track_state"], _TABLES["event"]
# the repository's event columns (its `_event` decodes the first ten) and the import's row id
_EVENT_COLUMNS = (*_EVENT_COLUMNS_OF_REPOSITORY, _E.c.row_id)
CHUNK = 500


def _sender(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How a column's values go to the driver: its type's own bind processor, or a shorter road
    to the same stored value (SQLite: an instant as SQLAlchemy's UTC text, a bool as is;
    PostgreSQL: the aware datetime itself, sent as `timestamptz`; empty JSON as its text). Dates
    and instants remember their results for the statement (the same days recur)."""
    process = column_type._cached_bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column_type, UTCDateTime):
        if dialect.name != "sqlite":
            return _aware(process)
        return _remembering(sqlite_utc_text(process))
    if isinstance(column_type, JSON):
        return _json(process)
    if isinstance(column_type, Boolean) and dialect.name == "sqlite":
        return None  # the driver stores a bool as the integer SQLAlchemy's processor makes of it
    try:
        temporal = issubclass(column_type.python_type, date)
    except NotImplementedError:
        temporal = False
    return _remembering(process) if temporal else process


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        found = seen.get(value, seen)
        if found is seen:
            found = seen[value] = process(value)
        return found

    return run


def _json(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Empty lists and objects (most notes and changes) as the serializer writes them, without it."""

    def run(value: Any) -> Any:
        if not value and type(value) in _EMPTY:
            return _EMPTY[type(value)]
        return process(value)

    return run


_EMPTY: dict[type, str] = {list: "[]", dict: "{}"}


def _aware(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def send(value: Any) -> Any:
        return value if type(value) is datetime and value.utcoffset() is not None else fallback(value)

    return send


class SqlImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def histories(self, mrns: Collection[str]) -> dict[str, StoredHistory]:
        conn = connection(self.session)
        wanted = sorted(set(mrns))
        out: dict[str, StoredHistory] = {}
        for i in range(0, len(wanted), CHUNK):
            rows = conn.execute(
                columns(
                    _P.c.id,
                    _P.c.mrn,
                    _P.c.enrolled_on,
                    _P.c.enrolled_at,
                    _P.c.histology,
                    _P.c.name,
                    _P.c.birth_date,
                    _P.c.version,
                ).where(_P.c.mrn.in_(wanted[i : i + CHUNK]))
            ).all()
            if not rows:
                continue
            patients = {r[0]: Patient(*r) for r in rows}
            ids = list(patients)
            states: dict[int, dict[str, str]] = {pid: {} for pid in ids}
            for pid, track, state in conn.execute(
                columns(_T.c.patient_id, _T.c.track, _T.c.state).where(_T.c.patient_id.in_(ids))
            ):
                states[pid][track] = state
            events: dict[int, list[EventRecord]] = {pid: [] for pid in ids}
            row_ids: dict[int, set[str]] = {pid: set() for pid in ids}
            for r in conn.execute(columns(*_EVENT_COLUMNS).where(_E.c.patient_id.in_(ids)).order_by(_E.c.id)):
                events[r[1]].append(_event(r))
                if r[10] is not None:
                    row_ids[r[1]].add(r[10])
            for pid, p in patients.items():
                out[p.mrn] = StoredHistory(p, states[pid], events[pid], frozenset(row_ids[pid]))
        return out

    def reserve_ids(self, table: str, count: int) -> list[int]:
        if count <= 0:
            return []
        conn = connection(self.session)
        if conn.dialect.name == "postgresql":
            return list(
                conn.execute(
                    text(
                        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
                    ),
                    {"n": count},
                ).scalars()
            )
        # SQLite: a writing transaction holds the write lock from BEGIN IMMEDIATE on
        last = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
        return list(range(int(last) + 1, int(last) + 1 + count))

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """One executemany (PostgreSQL: one COPY) on the driver's cursor, in the session's
        transaction; each value goes through its column type's own bind processor (or a shorter
        road to the same stored value), as an ORM or Core INSERT would send it (SQLAlchemy's
        per-row parameter handling costs more than the INSERT itself)."""
        if not rows:
            return
        if table == "event":
            self.session.info.pop("last_chains", None)  # see db.repository's append
        conn = connection(self.session)
        dialect = conn.dialect
        keys = list(rows[0])
        columns_ = [_TABLES[table].c[k] for k in keys]
        procs = [_sender(c.type, dialect) for c in columns_]
        mark = "?" if dialect.name == "sqlite" else "%s"
        quote = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(k) for k in keys)}) "
            f"VALUES ({', '.join([mark] * len(keys))})"
        )
        # column by column: the driver's values without a Python frame per value where none is due
        columns_of = [[r[k] for r in rows] for k in keys]
        for i, proc in enumerate(procs):
            if proc is not None:
                columns_of[i] = list(map(proc, columns_of[i]))
        values = list(zip(*columns_of, strict=True))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if dialect.name == "postgresql":  # COPY: one stream of rows, no statement per row
                names = ", ".join(quote(k) for k in keys)
                with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
                return
            cursor.executemany(sql, values)
        finally:
            cursor.close()

    def save_patient(
        self,
        patient: Patient,
        states: dict[str, str],
        old: dict[str, str],
        version: int,
        histology: str | None,
        at: datetime,
    ) -> Patient:
        conn = connection(self.session)
        params = {"b_id": patient.id, "b_version": patient.version, "version": version, "updated_at": at}
        if conn.execute(_SAVE, params | {"histology": histology}).rowcount != 1:
            raise Conflict(
                f"patient {patient.id} was changed by someone else meanwhile "
                f"(expected version {patient.version}); import again"
            )
        moved = [
            {"b_patient": patient.id, "b_track": t, "state": s, "entered_at": at}
            for t, s in states.items()
            if old.get(t) != s
        ]
        if moved:
            conn.execute(_SET_STATE, moved)
        return Patient(**{**patient.__dict__, "version": version, "histology": histology})
