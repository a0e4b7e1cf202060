"""Follow-up and alert rows: idempotent inserts, compare-and-set updates, sweep and worklist queries."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, text, update
from sqlalchemy import select as columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from db import pipeline, prefetch
from db.alert_audit import alert_chains, append_actions, known_heads
from db.fast import Prebuilt
from db.repository import connection
from db.status_sql import OPEN_ROWS
from db.tables import PAUSED, RENOTIFY_DUE, AlertActionRow, AlertRow, FollowUpRow, PatientRow
from pathway.domain.alert_status import LIVE, AlertStatus
from pathway.domain.integrity import StoredAction
from pathway.domain.model import StoredAlert, StoredFollowUp
from pathway.domain.records import (
    AlertChange,
    FollowUpChange,
    InsertedAlert,
    JsonObject,
    NewAlert,
    NewAlertAction,
    NewFollowUp,
    RaisedLevel,
)
from pathway.domain.rows import AlertActionEntry
from pathway.ports import Renotifiable


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


_FU_FIELDS = [f for f in StoredFollowUp.__dataclass_fields__ if f != "notes"]
_FU_COLUMNS = [FollowUpRow.__table__.c[f] for f in _FU_FIELDS]  # type: ignore[attr-defined]
_FU_NOTES = FollowUpRow.__table__.c["notes"]  # type: ignore[attr-defined]
_ALERT_FIELDS = list(StoredAlert.__dataclass_fields__)
_ALERT_COLUMNS = [AlertRow.__table__.c[f] for f in _ALERT_FIELDS]  # type: ignore[attr-defined]


def follow_ups_from(rows: Any) -> list[StoredFollowUp]:
    """Plain tuples straight into domain records: no ORM objects on the hot paths."""
    return [
        StoredFollowUp(**dict(zip(_FU_FIELDS, row[:-1], strict=True)), notes=list(row[-1] or []))
        for row in rows
    ]


def alerts_from(rows: Any) -> list[StoredAlert]:
    return [StoredAlert(**dict(zip(_ALERT_FIELDS, row, strict=True))) for row in rows]


# Statements of one patient's refresh (recording an event), built once: Core against the tables,
# run on the session's connection, rows mapped positionally into the domain records.
_F = FollowUpRow.__table__  # type: ignore[attr-defined]
_A = AlertRow.__table__  # type: ignore[attr-defined]
_FU_ROW = [_F.c[f] for f in StoredFollowUp.__dataclass_fields__]  # the dataclass's field order
_FU_NOTES_AT = list(StoredFollowUp.__dataclass_fields__).index("notes")
_FU_OF = columns(*_FU_ROW).where(_F.c.patient_id == bindparam("pid")).order_by(_F.c.closes_at)
_FU_OF_RULES: dict[frozenset[str], Any] = {}  # one statement per set of rules (few: one per scope)
_FU_INSERT = {
    name: ins(_F)
    .on_conflict_do_nothing(index_elements=["patient_id", "rule", "region", "anchor_at"])
    .returning(_F.c.rule, _F.c.region, _F.c.anchor_at, _F.c.id)
    for name, ins in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
# compare-and-set: SET takes the parameters named like columns
_FU_UPDATE = update(_F).where(_F.c.id == bindparam("b_id"), _F.c.status == bindparam("b_status"))
_ALERTS_OF = columns(*_ALERT_COLUMNS).where(_A.c.patient_id == bindparam("pid")).order_by(_A.c.id)
_ALERT_BY_ID = columns(*_ALERT_COLUMNS).where(_A.c.id == bindparam("aid"))
_ALERT_INSERT = {
    name: ins(_A)
    .on_conflict_do_nothing(index_elements=["patient_id", "rule", "instance_key", "severity"])
    .returning(_A.c.id)
    for name, ins in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
_ALERT_UPDATE = update(_A).where(_A.c.id == bindparam("b_id"), _A.c.status == bindparam("b_status"))
_RENOTIFY_FIELDS = [f for f in _ALERT_FIELDS if f != "states_at_fire"]  # not needed: no JSON to parse
_RENOTIFY_DUE = (
    columns(*(_A.c[f] for f in _RENOTIFY_FIELDS), _A.c.created_at, _A.c.track)
    .where(RENOTIFY_DUE, _A.c.next_renotify_at <= bindparam("now"))
    .order_by(_A.c.id)
)
_SET_NEXT_RENOTIFY = update(_A).where(_A.c.id == bindparam("b_id")).values(next_renotify_at=bindparam("at"))
# the refresh's statements on the driver's cursor (db.fast)
_FAST_FU_OF = Prebuilt(_FU_OF)
_FAST_FU_OF_RULES: dict[frozenset[str], Prebuilt] = {}
_FAST_FU_UPDATE = Prebuilt(_FU_UPDATE, dml=True)
_FAST_FU_INSERT = {name: Prebuilt(stmt, dml=True) for name, stmt in _FU_INSERT.items()}  # one row
_FAST_ALERTS_OF = Prebuilt(_ALERTS_OF)
# RETURNING the audit head: the row is now locked by this transaction, its head known (no read)
_FAST_ALERT_UPDATE = Prebuilt(_ALERT_UPDATE.returning(_A.c.action_chain), dml=True)
_FAST_ALERT_INSERT = {name: Prebuilt(stmt, dml=True) for name, stmt in _ALERT_INSERT.items()}
_FU_RULE_AT = list(StoredFollowUp.__dataclass_fields__).index("rule")
prefetch.register(
    "follow_ups", columns(*_FU_ROW).where(_F.c.patient_id == prefetch.PATIENT_OF_MRN).order_by(_F.c.closes_at)
)
prefetch.register(
    "alerts", columns(*_ALERT_COLUMNS).where(_A.c.patient_id == prefetch.PATIENT_OF_MRN).order_by(_A.c.id)
)


def _dialect(conn: Connection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


def _follow_ups_of_rules(rules: frozenset[str]) -> Any:
    """`rule IN (...)` as one bound parameter per rule: an expanding IN is rebuilt per call."""
    stmt = _FU_OF_RULES.get(rules)
    if stmt is None:
        if len(_FU_OF_RULES) > 1000:
            _FU_OF_RULES.clear()
        match = or_(*(_F.c.rule == bindparam(None, r) for r in sorted(rules)))
        stmt = _FU_OF_RULES[rules] = (
            columns(*_FU_ROW).where(_F.c.patient_id == bindparam("pid"), match).order_by(_F.c.closes_at)
        )
    return stmt


def _fast_follow_ups_of_rules(rules: frozenset[str]) -> Prebuilt:
    found = _FAST_FU_OF_RULES.get(rules)
    if found is None:
        if len(_FAST_FU_OF_RULES) > 1000:
            _FAST_FU_OF_RULES.clear()
        found = _FAST_FU_OF_RULES[rules] = Prebuilt(_follow_ups_of_rules(rules))
    return found


def _follow_up(row: Any) -> StoredFollowUp:
    values = list(row)
    values[_FU_NOTES_AT] = list(values[_FU_NOTES_AT] or [])
    return StoredFollowUp(*values)


class SqlFollowUpRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_patient(self, patient_id: int, rules: Collection[str] | None = None) -> list[StoredFollowUp]:
        conn = connection(self.session)
        ahead = pipeline.take(conn, "follow_ups", patient_id)
        if ahead is not None:
            wanted = set(rules) if rules is not None else None
            return [_follow_up(r) for r in ahead if wanted is None or r[_FU_RULE_AT] in wanted]
        if rules is None:
            rows = _FAST_FU_OF.rows(conn, {"pid": patient_id})
        elif not rules:
            return []
        else:
            rows = _fast_follow_ups_of_rules(frozenset(rules)).rows(conn, {"pid": patient_id})
        return [_follow_up(r) for r in rows]

    def insert(self, values: list[NewFollowUp]) -> dict[tuple[str, str, datetime], int]:
        """Insert (duplicates skipped); the ids of the rows inserted, by (rule, region, anchor)."""
        if not values:
            return {}
        conn = connection(self.session)
        rows = [v.values() for v in values]
        fast = _FAST_FU_INSERT[_dialect(conn)]
        if len(rows) == 1:
            found: list[Any] | None = fast.rows(conn, rows[0])
        elif pipeline.in_pipeline(conn):  # all sent, then their ids read: one round trip
            found = [r for pending in [fast.send(conn, r) for r in rows] for r in pending.rows()]
        else:
            found = fast.rows_of_many(conn, rows)
        if found is None:  # several rows on PostgreSQL: SQLAlchemy's "insertmanyvalues"
            found = [tuple(r) for r in conn.execute(_FU_INSERT[_dialect(conn)], rows)]
        return {(r[0], r[1], r[2]): int(r[3]) for r in found}

    def update(self, follow_up_id: int, expected_status: str, change: FollowUpChange) -> bool:
        """Compare-and-set on the status. Under PostgreSQL's pipeline mode (recording an event,
        the patient locked: every writer of follow-ups holds that lock) the result is checked
        later, and a miss rolls the event back as a Conflict."""
        return _FAST_FU_UPDATE.run_checked(
            connection(self.session),
            {**change.values(), "b_id": follow_up_id, "b_status": expected_status},
            f"follow-up {follow_up_id} changed meanwhile (it was {expected_status}); try again",
        )

    def patients_to_check(self, now: datetime, limit: int) -> list[int]:
        """Patients with a snooze or an override that has run out (their alerts may reopen),
        read along the partial index ix_alert_expiring (the literal IN matches its WHERE)."""
        a = AlertRow.__table__  # type: ignore[attr-defined]
        query = columns(a.c.patient_id).where(
            text(f"alert.{PAUSED}"),
            or_(
                and_(a.c.status == AlertStatus.SNOOZED, a.c.snoozed_until <= now),
                and_(a.c.status == AlertStatus.OVERRIDDEN, a.c.override_until <= now),
            ),
        )
        return sorted(set(self.session.connection().execute(query).scalars()))[:limit]

    def alert_levels_due(self, now: datetime) -> dict[int, list[int]]:
        """Patient id -> the ids of their follow-ups with an alert level due, read along the partial
        index ix_follow_up_alert_due (the literal IN matches its WHERE; grouping or ordering by patient
        in SQL would walk the whole table)."""
        query = columns(col(FollowUpRow.patient_id), col(FollowUpRow.id)).where(
            col(FollowUpRow.next_alert_at) <= now, OPEN_ROWS
        )
        due: dict[int, list[int]] = {}
        for pid, fid in self.session.execute(query):
            due.setdefault(int(pid), []).append(int(fid))
        return due

    def alerts_due_for(self, patient_ids: list[int], now: datetime) -> list[StoredFollowUp]:
        query = (
            columns(*_FU_COLUMNS, _FU_NOTES)
            .where(
                col(FollowUpRow.patient_id).in_(patient_ids), col(FollowUpRow.next_alert_at) <= now, OPEN_ROWS
            )
            .order_by(col(FollowUpRow.patient_id), col(FollowUpRow.id))
        )
        return follow_ups_from(self.session.execute(query))

    def set_raised(self, changes: list[RaisedLevel]) -> None:
        """Many (id, raised, next_alert_at) in one executemany; callers hold the patients' locks."""
        if changes:
            t = FollowUpRow.__table__  # type: ignore[attr-defined]
            self.session.execute(
                update(t)
                .where(t.c.id == bindparam("fid"))
                .values(
                    raised=bindparam("new_raised"),
                    next_alert_at=bindparam("next_at"),
                    updated_at=bindparam("now"),
                ),
                [
                    {"fid": c.follow_up_id, "new_raised": c.raised, "next_at": c.next_alert_at, "now": c.at}
                    for c in changes
                ],
            )

    def windows(self, follow_up_ids: Collection[int]) -> dict[int, tuple[datetime, datetime, bool]]:
        ids = sorted(set(follow_up_ids))
        out: dict[int, tuple[datetime, datetime, bool]] = {}
        for start in range(0, len(ids), 500):
            query = columns(_F.c.id, _F.c.opens_at, _F.c.closes_at, _F.c.clock_time).where(
                _F.c.id.in_(ids[start : start + 500])
            )
            out |= {int(i): (o, c, bool(t)) for i, o, c, t in self.session.execute(query)}
        return out


class SqlAlertRepository:
    def __init__(self, session: Session, stamp: dict[str, str | None] | None = None) -> None:
        self.session = session
        self.stamp = stamp or {}  # written on every alert inserted (see SqlUnitOfWork)

    def for_patient(self, patient_id: int) -> list[StoredAlert]:
        conn = connection(self.session)
        rows = pipeline.take(conn, "alerts", patient_id)
        if rows is None:
            rows = _FAST_ALERTS_OF.rows(conn, {"pid": patient_id})
        return [StoredAlert(*r) for r in rows]

    def insert_many(self, values: list[NewAlert]) -> list[InsertedAlert]:
        """Insert alert levels (duplicates skipped); return (id, patient, rule, key, severity)."""
        if not values:
            return []
        t = AlertRow.__table__  # type: ignore[attr-defined]
        stmt = (
            _insert(self.session)(t)
            .on_conflict_do_nothing(index_elements=["patient_id", "rule", "instance_key", "severity"])
            .returning(t.c.id, t.c.patient_id, t.c.rule, t.c.instance_key, t.c.severity)
        )
        return [
            InsertedAlert(*r)
            for r in self.session.execute(stmt, [{**self.stamp, **v.values()} for v in values])
        ]

    def renotify_due(self, now: datetime) -> list[Renotifiable]:
        """Live critical alerts whose next renotification round has come, along the partial index
        ix_alert_renotify_due (the literal condition matches its WHERE)."""
        rows = connection(self.session).execute(_RENOTIFY_DUE, {"now": now})
        return [
            Renotifiable(
                StoredAlert(**dict(zip(_RENOTIFY_FIELDS, row[:-2], strict=True))), row[-2], row[-1] or ""
            )
            for row in rows
        ]

    def set_next_renotify(self, due: list[tuple[int, datetime]]) -> None:
        if due:
            connection(self.session).execute(
                _SET_NEXT_RENOTIFY, [{"b_id": alert_id, "at": at} for alert_id, at in due]
            )

    def live_for(self, patient_ids: list[int]) -> list[StoredAlert]:
        query = columns(*_ALERT_COLUMNS).where(
            col(AlertRow.patient_id).in_(patient_ids), col(AlertRow.status).in_(LIVE)
        )
        return alerts_from(self.session.execute(query))

    def resolve_many(self, alert_ids: list[int], resolution: str, now: datetime) -> list[int]:
        """Resolve the still-live ones among `alert_ids`; returns those it resolved."""
        if not alert_ids:
            return []
        t = AlertRow.__table__  # type: ignore[attr-defined]
        result = self.session.execute(
            update(t)
            .where(t.c.id.in_(alert_ids), t.c.status.in_(LIVE))
            .values(
                status=AlertStatus.RESOLVED,
                resolved_at=now,
                resolution=resolution,
                updated_at=now,
                next_renotify_at=None,
            )
            .returning(t.c.id)
        )
        return [int(r[0]) for r in result]

    def add_actions(self, values: list[NewAlertAction]) -> None:
        """The one place alert_action (audit) rows are written: people's actions, recording and
        the sweep (per-row and set-based) all come here, each row chained to its alert's last one."""
        append_actions(connection(self.session), [v.values() for v in values])

    def get(self, alert_id: int) -> StoredAlert | None:
        row = connection(self.session).execute(_ALERT_BY_ID, {"aid": alert_id}).first()
        return StoredAlert(*row) if row else None

    def insert(self, values: NewAlert) -> int | None:
        conn = connection(self.session)
        rows = _FAST_ALERT_INSERT[_dialect(conn)].rows(conn, {**self.stamp, **values.values()})
        if not rows:
            return None
        alert_id = int(rows[0][0])
        known_heads(conn)[alert_id] = None  # a new row: no audit row yet
        return alert_id

    def update(self, alert_id: int, expected_status: str, change: AlertChange) -> bool:
        conn = connection(self.session)
        values = {**change.values(), "b_id": alert_id, "b_status": expected_status}
        rows = _FAST_ALERT_UPDATE.rows(conn, values)
        if len(rows) != 1:
            return False
        known_heads(conn)[alert_id] = rows[0][0]
        return True

    def update_many(self, changes: list[tuple[int, str, AlertChange]]) -> list[bool]:
        conn = connection(self.session)
        if len(changes) < 2 or not pipeline.in_pipeline(conn):
            return [self.update(*c) for c in changes]
        sent = [  # all sent, then their results read: one round trip
            (aid, _FAST_ALERT_UPDATE.send(conn, {**change.values(), "b_id": aid, "b_status": status}))
            for aid, status, change in changes
        ]
        heads, moved = known_heads(conn), []
        for aid, pending in sent:
            rows = pending.rows()
            if len(rows) == 1:
                heads[aid] = rows[0][0]
            moved.append(len(rows) == 1)
        return moved

    def listing(
        self,
        statuses: tuple[str, ...] | None,
        mrn: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[tuple[StoredAlert, str]]:
        """Alerts in id order, with their patient's MRN; keyset paging by id with `after`/`limit`."""
        query = columns(*_ALERT_COLUMNS, col(PatientRow.mrn)).join(
            PatientRow, col(PatientRow.id) == col(AlertRow.patient_id)
        )
        if statuses:
            query = query.where(col(AlertRow.status).in_(statuses))
        if mrn:
            query = query.where(col(PatientRow.mrn) == mrn)
        if after is not None:
            query = query.where(col(AlertRow.id) > after)
        query = query.order_by(col(AlertRow.id))
        if limit is not None:
            query = query.limit(limit)
        rows = list(self.session.execute(query).all())
        return list(zip(alerts_from(r[:-1] for r in rows), (r[-1] for r in rows), strict=True))

    def add_action(
        self,
        alert_id: int,
        action: str,
        actor: str,
        at: datetime,
        note: str | None = None,
        data: JsonObject | None = None,
    ) -> None:
        self.add_actions([NewAlertAction(alert_id, action, actor, at, note, data or {})])

    def audit_chains(self) -> Iterator[tuple[int, list[StoredAction], str | None]]:
        return alert_chains(connection(self.session))

    def actions(self, alert_id: int) -> list[AlertActionEntry]:
        rows = self.session.exec(
            select(AlertActionRow).where(AlertActionRow.alert_id == alert_id).order_by(col(AlertActionRow.id))
        ).all()
        return [AlertActionEntry(r.action, r.actor, r.at, r.note) for r in rows]
