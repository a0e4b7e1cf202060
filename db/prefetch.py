"""Reads made together with the patient's lock when an event is recorded on PostgreSQL.

Each module registers the read its repository makes after the lock, written for the patient an
MRN names (`PATIENT_OF_MRN`): the lock and all of them go to the server in one round trip (see
db.pipeline), and the repository then takes its rows (`pipeline.take`) instead of reading.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func
from sqlalchemy import select as columns
from sqlalchemy.sql import Select

from db import pipeline
from db.fast import Prebuilt, Row
from db.tables import PatientRow

_P = PatientRow.__table__  # type: ignore[attr-defined]
# the patient an MRN names, inside a read sent before the lock's result is known
PATIENT_OF_MRN = columns(_P.c.id).where(_P.c.mrn == bindparam("mrn")).scalar_subquery()
_READS: dict[str, Prebuilt] = {}
_NEXT_EVENT_ID = Prebuilt(columns(func.nextval(func.pg_get_serial_sequence("event", "id"))))


def register(name: str, query: Select[Any]) -> None:
    """A read the event path makes after the lock, of the patient `PATIENT_OF_MRN` names."""
    _READS[name] = Prebuilt(query)


def lock_and_read(conn: Connection, lock: Prebuilt, mrn: str) -> list[Row]:
    """Run `lock` (rows of the patient with this MRN, FOR UPDATE) and every registered read of
    that patient, and reserve the next event id, in one round trip; keep the reads' rows for
    `pipeline.take` and enter pipeline mode for the rest of the transaction. Returns the lock's rows."""
    pipeline.enter(conn)
    locked = lock.send(conn, {"mrn": mrn})
    sent = {name: read.send(conn, {"mrn": mrn}) for name, read in _READS.items()}
    next_id = _NEXT_EVENT_ID.send(conn, {})
    rows = locked.rows()
    if rows:
        pid = int(rows[0][0])
        for name, pending in sent.items():
            pipeline.keep(conn, name, pid, pending.rows())
        pipeline.keep(conn, "event_id", pid, next_id.rows())
    else:
        for pending in (*sent.values(), next_id):
            pending.rows()
    pipeline.verify(conn)
    return rows
