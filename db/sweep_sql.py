"""The sweep's writes as set-based SQL: `INSERT … SELECT` of alert levels and their outbox rows,
`UPDATE … FROM` of escalations, the levels and renotification instants computed in SQL.

Every expression here is the SQL twin of a pure rule (tested to write the same rows as the
per-row path, `tests/integration/test_sweep_set_based.py`):

- the level reached and the next instant: `domain/alerts.level_reached`;
- the payload's `opened_at` and `late`: `datetime.isoformat` and `domain/notify.lateness`;
- the idempotency key: `domain/notify.idempotency_key`, with `-renotify-N` for a round;
- the renotification round and next instant: `domain/alert_status.renotify_round` / `next_renotify_at`.

Instants are compared in whole microseconds (SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' text,
PostgreSQL timestamptz), so boundaries fall exactly where the Python rules put them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlmodel import Session

from db.repository import connection
from db.tables import RENOTIFY_DUE, AlertRow
from pathway.domain.alert_status import LIVE, AlertStatus, Severity
from pathway.domain.notify import Route
from pathway.domain.records import NotificationStatus
from pathway.domain.rules_spec import SEVERITY_RANK
from pathway.ports import OpenedLevel, Renotified, SweepRaise

_TS = AlertRow.__table__.c.created_at.type  # type: ignore[attr-defined]  # UTCDateTime: binds as stored
_LIVE = f"({', '.join(repr(str(s)) for s in LIVE)})"
_US = 1_000_000


class _Dialect:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, pg: bool) -> None:
        self.pg = pg

    def elapsed_us(self, later: str, earlier: str) -> str:
        """Whole microseconds from `earlier` to `later` (both instants as stored)."""
        if self.pg:
            return f"CAST(extract(epoch FROM ({later} - {earlier})) * {_US} AS BIGINT)"
        return (
            f"((CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))"
            f" * {_US} + CAST(substr({later}, 21, 6) AS INTEGER) - CAST(substr({earlier}, 21, 6) AS INTEGER))"
        )

    def plus_us(self, instant: str, us: str) -> str:
        """`instant` moved on by `us` microseconds (an integer expression >= 0), as stored."""
        if self.pg:
            return f"({instant} + ({us}) * interval '1 microsecond')"
        total = f"(CAST(substr({instant}, 21, 6) AS INTEGER) + {us})"
        return (
            f"(datetime(substr({instant}, 1, 19), '+' || ({total} / {_US}) || ' seconds') || '.' || "
            f"printf('%06d', {total} % {_US}))"
        )

    def iso(self, instant: str) -> str:
        """`datetime.isoformat()` of a UTC instant: microseconds only when not zero, '+00:00'."""
        if self.pg:
            utc = f"({instant} AT TIME ZONE 'UTC')"
            return (
                f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
                f"CAST(extract(microseconds FROM {utc}) AS BIGINT) % {_US} = 0 THEN '' "
                f"ELSE to_char({utc}, '.US') END || '+00:00')"
            )
        return (
            f"(replace(substr({instant}, 1, 19), ' ', 'T') || CASE WHEN substr({instant}, 21, 6) "
            f"IN ('', '000000') THEN '' ELSE '.' || substr({instant}, 21, 6) END || '+00:00')"
        )

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"max({a}, {b})"

    def least_of(self, *values: str) -> str:
        """The smallest non-null value (NULL when all are)."""
        if self.pg:
            return f"LEAST({', '.join(values)})"
        rotations = [values[i:] + values[:i] for i in range(len(values))]
        firsts = ["coalesce(" + ", ".join(r) + ")" for r in rotations]
        return "min(" + ", ".join(firsts) + ")"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        args = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"jsonb_build_object({args})" if self.pg else f"json_object({args})"

    def states_of(self, patient: str) -> str:
        """The patient's track states as a JSON object ({} when none): the alert's states at fire."""
        if self.pg:
            return (
                f"coalesce((SELECT jsonb_object_agg(s.track, s.state) FROM track_state s "
                f"WHERE s.patient_id = {patient}), CAST('{{}}' AS jsonb))"
            )
        return (
            f"coalesce((SELECT json_group_object(s.track, s.state) FROM track_state s "
            f"WHERE s.patient_id = {patient}), '{{}}')"
        )

    def alert_key(self) -> str:
        """`domain/notify.idempotency_key` of alert `a` on route `r`."""
        parts = f"'alert-' || {self.int_text('a.id')} || '-' || a.severity || '-' || r.channel"
        return f"substr({parts} || '-' || r.recipient, 1, 200)"

    def text_param(self, name: str) -> str:
        return f"CAST(:{name} AS VARCHAR)" if self.pg else f":{name}"

    def int_text(self, value: str) -> str:
        return f"CAST({value} AS VARCHAR)" if self.pg else f"CAST({value} AS TEXT)"


def _rank(severity: str) -> str:
    return "CASE " + " ".join(f"WHEN {severity} = '{s}' THEN {r}" for s, r in SEVERITY_RANK.items()) + " END"


def _ids(ids: list[int]) -> str:
    """Integer ids read from the database, inlined: one statement shape per batch size is cheaper
    than thousands of bound parameters, and an int cannot carry SQL."""
    return "(" + ", ".join(str(int(i)) for i in ids) + ")"


class SqlSweepWrites:
    """The sweep's set-based writes on the unit of work's connection (the caller holds the locks)."""

    def __init__(self, session: Session, stamp: Mapping[str, str | None] | None = None) -> None:
        self.session = session
        self.stamp = dict(stamp or {})

    @property
    def _conn(self) -> Connection:
        return connection(self.session)

    def _d(self) -> _Dialect:
        return _Dialect(self._conn.dialect.name == "postgresql")

    def _routes(self, d: _Dialect, routes: tuple[Route, ...], params: dict[str, Any]) -> str:
        """The routes as a derived table (i, channel, recipient, digest, status, min, max, tracks)."""
        selects = []
        for i, r in enumerate(routes):
            params |= {f"r{i}_ch": r.channel, f"r{i}_to": r.recipient}
            status = NotificationStatus.DIGEST if r.digest else NotificationStatus.PENDING
            selects.append(
                f"SELECT {i} AS i, {d.text_param(f'r{i}_ch')} AS channel, {d.text_param(f'r{i}_to')} "
                f"AS recipient, {'true' if r.digest else 'false'} AS digest, '{status}' AS status"
            )
        return "(" + " UNION ALL ".join(selects) + ")"

    def _route_match(
        self, routes: tuple[Route, ...], severity: str, track: str, params: dict[str, Any]
    ) -> str:
        """`Route.matches` in SQL, one disjunct per route."""
        terms = []
        for i, r in enumerate(routes):
            term = (
                f"(r.i = {i} AND {_rank(severity)} BETWEEN {SEVERITY_RANK[r.min_severity]} "
                f"AND {SEVERITY_RANK[r.max_severity]}"
            )
            if r.tracks:
                names = [f"r{i}_t{j}" for j in range(len(r.tracks))]
                params |= dict(zip(names, r.tracks, strict=True))
                term += f" AND {track} IN ({', '.join(':' + n for n in names)})"
            terms.append(term + ")")
        return "(" + " OR ".join(terms) + ")" if terms else "false"

    def raise_due(
        self, follow_up_ids: list[int], now: datetime, pathway_hash: str, routes: tuple[Route, ...]
    ) -> SweepRaise:
        """Raise the highest level each of these follow-ups (still open and due) has reached: the alerts
        (`INSERT … SELECT`, duplicates skipped), their outbox rows, the levels and next instants,
        and the escalations (lower live levels of the same step resolved, `UPDATE … FROM`)."""
        if not follow_up_ids:
            return SweepRaise([], [], 0)
        d, conn = self._d(), self._conn
        ts = bindparam("now", now, type_=_TS)
        due = f"id IN {_ids(follow_up_ids)} AND next_alert_at <= :now AND status = 'open'"
        reached = (
            "CASE WHEN critical_at <= :now THEN 3 WHEN warning_at <= :now THEN 2 "
            "WHEN info_at <= :now THEN 1 ELSE 0 END"
        )
        target = d.greatest(reached, "raised")
        level = "CASE d.target WHEN 1 THEN d.info_at WHEN 2 THEN d.warning_at WHEN 3 THEN d.critical_at END"
        severity = (
            f"CASE d.target WHEN 1 THEN '{Severity.INFO}' WHEN 2 THEN '{Severity.WARNING}' "
            f"WHEN 3 THEN '{Severity.CRITICAL}' END"
        )
        stamp_cols = "".join(f", {c}" for c in self.stamp)
        stamp_vals = "".join(f", {d.text_param('s_' + c)}" for c in self.stamp)
        params: dict[str, Any] = {"hash": pathway_hash} | {f"s_{c}": v for c, v in self.stamp.items()}
        inserted = conn.execute(
            text(
                f"INSERT INTO alert (patient_id, rule, instance_key, severity, status, message, source, "
                f"follow_up_id, states_at_fire, pathway_hash{stamp_cols}, opened_at, created_at, "
                f"updated_at, held, urgent, track, next_renotify_at) "
                f"SELECT d.patient_id, d.alert_rule, d.instance_key, {severity}, '{AlertStatus.OPEN}', "
                f"coalesce(d.alert_message, ''), coalesce(d.alert_source, ''), d.id, "
                f"{d.states_of('d.patient_id')}, {d.text_param('hash')}{stamp_vals}, {level}, :now, :now, "
                f"false, d.urgent, d.track, CASE WHEN d.target = 3 THEN :now END "
                f"FROM (SELECT id, patient_id, raised, info_at, warning_at, critical_at, alert_rule, "
                f"instance_key, alert_message, alert_source, urgent, track, {target} AS target "
                f"FROM follow_up WHERE {due}) d "
                f"WHERE d.target > d.raised AND d.alert_rule IS NOT NULL AND {level} IS NOT NULL "
                f"ORDER BY d.patient_id, d.id "
                f"ON CONFLICT (patient_id, rule, instance_key, severity) DO NOTHING "
                f"RETURNING id, patient_id, rule, severity, message, urgent"
            ).bindparams(ts),
            params,
        ).all()
        opened = sorted(OpenedLevel(int(i), int(p), r, s, m, bool(u)) for i, p, r, s, m, u in inserted)
        nxt = d.least_of(
            f"CASE WHEN {target} < 1 THEN info_at END",
            f"CASE WHEN {target} < 2 THEN warning_at END",
            f"CASE WHEN {target} < 3 THEN critical_at END",
        )
        patients = conn.execute(
            text(
                f"UPDATE follow_up SET raised = {target}, next_alert_at = {nxt}, updated_at = :now "
                f"WHERE {due} RETURNING patient_id"
            ).bindparams(ts)
        ).all()
        if opened:
            self._outbox_opened(d, [o.id for o in opened], now, routes)
        resolved = self._escalate(d, [o.id for o in opened if o.severity != Severity.INFO], now)
        return SweepRaise(opened, resolved, len({p for (p,) in patients}))

    def _outbox_opened(
        self, d: _Dialect, alert_ids: list[int], now: datetime, routes: tuple[Route, ...]
    ) -> None:
        params: dict[str, Any] = {}
        table = self._routes(d, routes, params)
        match = self._route_match(routes, "a.severity", "a.track", params)
        late_us = d.elapsed_us(":now", "f.closes_at")
        late = (
            f"CASE WHEN f.closes_at IS NULL OR {late_us} <= 0 THEN NULL "
            f"WHEN {late_us} < {2 * 86400 * _US} THEN {d.int_text(f'{late_us} / {3600 * _US}')} || ' h late' "
            f"ELSE {d.int_text(f'{late_us} / {86400 * _US}')} || ' days late' END"
        )
        payload = d.json_object(
            [
                ("alert_id", "a.id"),
                ("patient_id", "a.patient_id"),
                ("rule", "a.rule"),
                ("severity", "a.severity"),
                ("title", "coalesce(nullif(f.alert_title, ''), a.rule)"),
                ("message", "a.message"),
                ("source", "a.source"),
                ("track", "a.track"),
                ("opened_at", d.iso("a.opened_at")),
                ("late", late),
            ]
        )
        key = d.alert_key()
        self._conn.execute(
            text(
                f"INSERT INTO notification (alert_id, patient_id, channel, recipient, idempotency_key, "
                f"digest, status, attempts, next_attempt_at, created_at, payload) "
                f"SELECT a.id, a.patient_id, r.channel, r.recipient, {key}, r.digest, r.status, 0, :now, "
                f":now, {payload} FROM alert a JOIN follow_up f ON f.id = a.follow_up_id CROSS JOIN "
                f"{table} r WHERE a.id IN {_ids(alert_ids)} AND {match} ORDER BY a.id, r.i "
                f"ON CONFLICT (idempotency_key) DO NOTHING"
            ).bindparams(bindparam("now", now, type_=_TS)),
            params,
        )

    def _escalate(self, d: _Dialect, alert_ids: list[int], now: datetime) -> list[tuple[int, str]]:
        """Lower live levels of the steps just escalated are resolved: (alert id, resolution)."""
        if not alert_ids:
            return []
        rows = self._conn.execute(
            text(
                f"UPDATE alert SET status = '{AlertStatus.RESOLVED}', resolved_at = :now, "
                f"resolution = 'escalated to ' || n.severity, updated_at = :now, next_renotify_at = NULL "
                f"FROM alert n WHERE n.id IN {_ids(alert_ids)} AND alert.patient_id = n.patient_id "
                f"AND alert.rule = n.rule AND alert.instance_key = n.instance_key "
                f"AND alert.status IN {_LIVE} AND {_rank('alert.severity')} < {_rank('n.severity')} "
                f"RETURNING alert.id, alert.resolution"
            ).bindparams(bindparam("now", now, type_=_TS))
        ).all()
        return sorted((int(i), str(r)) for i, r in rows)

    def renotify_ids(self, now: datetime) -> list[int]:
        """The live critical alerts whose renotification instant has come, by id, read once along
        ix_alert_renotify_due (a batch that re-read them ordered by id and limited would sort them
        all again each time)."""
        query = text(f"SELECT id FROM alert WHERE {RENOTIFY_DUE.text} AND next_renotify_at <= :now")
        rows = self._conn.execute(query.bindparams(bindparam("now", now, type_=_TS)))
        return sorted(int(i) for (i,) in rows)

    def renotify_due(
        self,
        now: datetime,
        every: timedelta,
        routes: tuple[Route, ...],
        titles: Mapping[str, str],
        alert_ids: list[int],
    ) -> list[Renotified]:
        """One batch of the alerts `renotify_ids` listed, those still due (another sweep may have
        moved some on meanwhile): one outbox row per route for those in round 1 or later (rows
        already there skipped), and every one's instant moved on. Returns the rows written."""
        d, conn = self._d(), self._conn
        ts = bindparam("now", now, type_=_TS)
        every_us = every // timedelta(microseconds=1)
        step_us = max(every, timedelta(minutes=1)) // timedelta(microseconds=1)

        def round_of(alert: str) -> str:  # renotify_round
            age = d.elapsed_us(":now", f"{alert}.created_at")
            return f"(CASE WHEN {age} <= 0 THEN 0 ELSE {age} / {every_us} END)"

        round_ = round_of("a")
        if not alert_ids:
            return []
        batch = conn.execute(
            text(
                f"SELECT a.id, a.rule, {round_} FROM alert a WHERE a.id IN {_ids(alert_ids)} "
                f"AND {RENOTIFY_DUE.text} AND a.next_renotify_at <= :now"
            ).bindparams(ts)
        ).all()
        if not batch:
            return []
        ids = _ids([int(i) for i, _, _ in batch])
        rounds = {int(i): (str(rule), int(n)) for i, rule, n in batch}
        written: list[Renotified] = []
        if any(n >= 1 for _, n in rounds.values()):
            params: dict[str, Any] = {}
            table = self._routes(d, routes, params)
            match = self._route_match(routes, "a.severity", "a.track", params)
            title = "CASE a.rule " + " ".join(f"WHEN :t{j}r THEN :t{j}t" for j in range(len(titles)))
            title = f"coalesce(nullif({title} ELSE a.rule END, ''), a.rule)" if titles else "a.rule"
            for j, (rule, name) in enumerate(titles.items()):
                params |= {f"t{j}r": rule, f"t{j}t": name}
            payload = d.json_object(
                [
                    ("alert_id", "a.id"),
                    ("patient_id", "a.patient_id"),
                    ("rule", "a.rule"),
                    ("severity", "a.severity"),
                    ("title", title),
                    ("message", "a.message"),
                    ("source", "a.source"),
                    ("track", "a.track"),
                    ("opened_at", d.iso("a.opened_at")),
                    ("late", "NULL"),
                    ("renotification", round_),
                ]
            )
            key = f"substr({d.alert_key()} || '-renotify-' || {d.int_text(round_)}, 1, 200)"
            rows = conn.execute(
                text(
                    f"INSERT INTO notification (alert_id, patient_id, channel, recipient, idempotency_key, "
                    f"digest, status, attempts, next_attempt_at, created_at, payload) "
                    f"SELECT a.id, a.patient_id, r.channel, r.recipient, {key}, r.digest, r.status, 0, "
                    f":now, :now, {payload} FROM alert a CROSS JOIN {table} r WHERE a.id IN {ids} "
                    f"AND {round_} >= 1 AND {match} ORDER BY a.id, r.i "
                    f"ON CONFLICT (idempotency_key) DO NOTHING "
                    f"RETURNING id, alert_id, patient_id, channel, recipient"
                ).bindparams(ts),
                params,
            ).all()
            for nid, aid, pid, channel, recipient in sorted(rows):
                rule, n = rounds[int(aid)]
                written.append(Renotified(int(nid), int(aid), int(pid), rule, n, channel, recipient))
        moved = d.plus_us("alert.created_at", f"({round_of('alert')} + 1) * {step_us}")
        conn.execute(text(f"UPDATE alert SET next_renotify_at = {moved} WHERE id IN {ids}").bindparams(ts))
        return written
