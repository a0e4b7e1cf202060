"""Hand-written raw SQL baselines, run on the same data in the same process (DB-API directly)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

OPEN = "('upcoming', 'due', 'overdue')"


class Raw:
    """The same work as the engine's operations, as plain SQL through the driver (no ORM)."""

    def __init__(self, dbapi_connection: Any, dialect: str) -> None:
        self.conn = dbapi_connection
        self.pg = dialect == "postgresql"
        self.p = "%s" if self.pg else "?"

    def _ts(self, value: datetime) -> Any:
        """SQLAlchemy stores UTC instants on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' text."""
        return value if self.pg else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def begin(self) -> Any:
        cur = self.conn.cursor()
        if not self.pg:
            cur.execute("BEGIN IMMEDIATE")
        return cur

    def record_event(self, mrn: str, now: datetime) -> None:
        p = self.p
        cur = self.begin()
        cur.execute(f"SELECT id, version FROM patient WHERE mrn = {p}", (mrn,))
        pid, version = cur.fetchone()
        cur.execute(f"UPDATE patient SET version = version + 1 WHERE id = {p} AND version = {p}",
                    (pid, version))
        cur.execute(f"INSERT INTO event (patient_id, type, occurred_at, recorded_at, actor, data, "
                    f"changes) VALUES ({p}, 'exam_done', {p}, {p}, 'raw', {p}, {p})",
                    (pid, self._ts(now), self._ts(now), json.dumps({}), json.dumps({})))
        self.conn.commit()

    def sweep(self, now: datetime) -> int:
        """Status moves and the follow-ups whose alert level is due; rolled back afterwards."""
        p, ts = self.p, self._ts(now)
        cur = self.begin()
        cur.execute(f"UPDATE follow_up SET status = 'overdue' WHERE status IN ('upcoming', 'due') "
                    f"AND closes_at <= {p}", (ts,))
        cur.execute(f"UPDATE follow_up SET status = 'due' WHERE status = 'upcoming' "
                    f"AND opens_at <= {p}", (ts,))
        cur.execute(f"SELECT id, patient_id, raised, info_at, warning_at, critical_at FROM follow_up "
                    f"WHERE next_alert_at <= {p} AND status IN {OPEN}", (ts,))
        rows = cur.fetchall()
        self.conn.rollback()
        return len(rows)

    def worklist(self, now: datetime, days: int = 7, limit: int = 200) -> int:
        """The same ordering as the engine: alert severity, then overdue, due, soon."""
        p = self.p
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT f.*, p.mrn FROM follow_up f JOIN patient p ON p.id = f.patient_id "
            f"WHERE f.status IN {OPEN} AND f.opens_at <= {p} "
            f"ORDER BY f.raised DESC, f.closes_at, f.id LIMIT {limit}",
            (self._ts(now + timedelta(days=days)),))
        rows = cur.fetchall()
        alerts: list[Any] = []
        for severity in ("critical", "warning", "info"):
            cur.execute(f"SELECT a.*, p.mrn FROM alert a JOIN patient p ON p.id = a.patient_id "
                        f"WHERE a.status = 'open' AND a.severity = '{severity}' "
                        f"ORDER BY a.opened_at LIMIT {limit - len(alerts)}")
            alerts += cur.fetchall()
        self.conn.rollback()
        return len(rows) + len(alerts)

    def report(self, now: datetime) -> int:
        p, ts = self.p, self._ts(now)
        since = self._ts(now - timedelta(days=90))
        cur = self.conn.cursor()
        out = 0
        for sql, args in (
            ("SELECT track, state, count(*) FROM track_state GROUP BY track, state", ()),
            (f"SELECT f.patient_id, p.mrn, f.rule, f.region, f.opens_at, f.target_at, f.closes_at, "
             f"f.status, f.done_at FROM follow_up f JOIN patient p ON p.id = f.patient_id "
             f"WHERE f.status IN {OPEN}", ()),
            (f"SELECT f.patient_id, p.mrn, f.rule, f.region, f.opens_at, f.target_at, f.closes_at, "
             f"f.status, f.done_at FROM follow_up f JOIN patient p ON p.id = f.patient_id "
             f"WHERE f.status IN ('done', 'cancelled') AND (f.closes_at >= {p} OR f.done_at >= {p})",
             (since, since)),
            (f"SELECT a.*, p.mrn FROM alert a JOIN patient p ON p.id = a.patient_id WHERE "
             f"a.status IN ('open', 'acknowledged', 'snoozed') OR a.resolved_at >= {p}", (since,)),
            (f"SELECT p.mrn, max(e.occurred_at) FROM event e JOIN patient p ON p.id = e.patient_id "
             f"WHERE e.type = 'pain_score' AND e.occurred_at <= {p} GROUP BY p.mrn", (ts,)),
            ("SELECT e.id, p.mrn, e.type, e.occurred_at, e.data FROM event e JOIN patient p "
             "ON p.id = e.patient_id WHERE e.type IN ('mdt_decision', 'rt_started')", ()),
        ):
            cur.execute(sql, args)
            out += len(cur.fetchall())
        self.conn.rollback()
        return out
