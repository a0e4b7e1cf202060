"""Hand-written raw SQL baselines, run on the same data in the same process (DB-API directly).

Each does the same work as the engine's operation on the same schema: the report runs the same
counts and first-row queries, the sweep writes the same alerts, audit rows and notifications and
notifies live critical alerts again once per round (along the same partial index). Recording an
event is the minimal write (the engine also re-derives the follow-ups the event affects, which has
no raw equivalent).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pathway.domain.batching import batches
from pathway.domain.clinical_time import local_date, start_of_day
from pathway.domain.notify import lateness
from pathway.services.alerting import BATCH, LEVELS_PER_BATCH, RENOTIFY_BATCH

OPEN = "status = 'open'"  # upcoming / due / overdue are derived from the window, never stored
LIVE = "('open', 'acknowledged', 'snoozed')"
EXITS = "('deceased', 'transferred', 'withdrawn', 'lost_to_follow_up')"
SEVERITY = {1: "info", 2: "warning", 3: "critical"}
RENOTIFY_DUE = (  # the WHERE of the partial index ix_alert_renotify_due
    "next_renotify_at IS NOT NULL AND severity = 'critical' AND status IN ('open', 'acknowledged')"
)
RENOTIFY_EVERY = timedelta(hours=4)  # the pathway file's critical_renotify_hours (its default)


class Raw:
    """The same work as the engine's operations, as plain SQL through the driver (no ORM)."""

    def __init__(
        self,
        dbapi_connection: Any,
        dialect: str,
        zone: str = "Europe/London",
        pathway_hash: str = "raw",
        titles: dict[str, str] | None = None,
        holdable: tuple[str, ...] = (),
        stamp: dict[str, str | None] | None = None,
        renotify_every: timedelta = RENOTIFY_EVERY,
    ) -> None:
        """`pathway_hash`, `titles`, `holdable`, `stamp`: what the engine writes on its alerts and
        notifications (the pathway file's hash, step titles, holdable keys, holiday stamp);
        `renotify_every`: the pathway file's `critical_renotify_hours`."""
        self.pathway_hash, self.titles, self.holdable = pathway_hash, titles or {}, holdable
        self.renotify_every = renotify_every
        self.stamp = dict(stamp or {})
        self.conn = dbapi_connection
        self.pg = dialect == "postgresql"
        self.p = "%s" if self.pg else "?"
        self.zone = ZoneInfo(zone)

    def _ts(self, value: datetime) -> Any:
        """SQLAlchemy stores UTC instants on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' text."""
        return value if self.pg else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _hint(self, index: str) -> str:
        return "" if self.pg else f" INDEXED BY {index}"

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
        cur.execute(
            f"UPDATE patient SET version = version + 1 WHERE id = {p} AND version = {p}", (pid, version)
        )
        cur.execute(
            f"INSERT INTO event (patient_id, type, occurred_at, recorded_at, actor, data, "
            f"changes) VALUES ({p}, 'exam_done', {p}, {p}, 'raw', {p}, {p})",
            (pid, self._ts(now), self._ts(now), json.dumps({}), json.dumps({})),
        )
        self.conn.commit()

    def sweep(self, now: datetime, batched: bool = False) -> int:
        """Raise due alert levels: the same alerts (states at fire, pathway hash, holiday stamp),
        'opened' audit rows, outbox rows with the engine's payload and key, escalations with their
        'resolved' audit rows, holds behind urgent alerts, and the renotification rounds. One
        transaction; `batched`: committed in the engine's batches instead (patients cut as
        `pathway.domain.batching` cuts them, renotifications 500 alerts at a time), as SQLite's
        short write lock asks of the engine."""
        p, ts = self.p, self._ts(now)
        cur = self.begin()
        cur.execute(
            f"SELECT id, patient_id, raised, info_at, warning_at, critical_at, alert_rule, "
            f"instance_key, alert_message, alert_source, urgent, track, alert_title, closes_at "
            f"FROM follow_up WHERE next_alert_at <= {p} AND follow_up.{OPEN} ORDER BY patient_id, id",
            (ts,),
        )
        due = cur.fetchall()
        if not batched:
            opened = self._raise(cur, due, now)
            self._renotify(cur, now)
            self.conn.commit()
            return opened
        self.conn.commit()
        rows: dict[int, list[Any]] = {}
        for r in due:
            rows.setdefault(int(r[1]), []).append(r)
        opened = 0
        for chunk in batches({pid: len(of) for pid, of in rows.items()}, BATCH, LEVELS_PER_BATCH):
            cur = self.begin()
            opened += self._raise(cur, [r for pid in chunk for r in rows[pid]], now)
            self.conn.commit()
        cur = self.begin()
        cur.execute(
            f"SELECT id FROM alert{self._hint('ix_alert_renotify_due')} WHERE {RENOTIFY_DUE} "
            f"AND next_renotify_at <= {p} ORDER BY id",
            (ts,),
        )
        ids = [r[0] for r in cur.fetchall()]
        self.conn.commit()
        for start in range(0, len(ids), RENOTIFY_BATCH):
            cur = self.begin()
            self._renotify(cur, now, ids[start : start + RENOTIFY_BATCH])
            self.conn.commit()
        return opened

    def _raise(self, cur: Any, due: list[Any], now: datetime) -> int:
        p, ts = self.p, self._ts(now)
        pids = sorted({r[1] for r in due})
        states: dict[int, dict[str, str]] = {pid: {} for pid in pids}
        for start in range(0, len(pids), 500):
            chunk = ", ".join(map(str, pids[start : start + 500]))
            cur.execute(f"SELECT patient_id, track, state FROM track_state WHERE patient_id IN ({chunk})")
            for pid, track, state in cur.fetchall():
                states[pid][track] = state
        raised, alerts = [], []
        for fid, pid, was, *at, rule, key, message, source, urgent, track, title, closes in due:
            levels = {r: when for r, when in zip((1, 2, 3), at, strict=True) if when is not None}
            target = max([r for r, when in levels.items() if when <= ts] + [was])
            later = [when for r, when in levels.items() if r > target and when > ts]
            raised.append((target, min(later, default=None), ts, fid))
            if target > was and rule is not None:
                alerts.append(
                    (
                        pid,
                        rule,
                        key,
                        SEVERITY[target],
                        message or "",
                        source or "",
                        fid,
                        levels[target],
                        urgent,
                        track,
                        title or rule,
                        closes,
                    )
                )
        cur.executemany(
            f"UPDATE follow_up SET raised = {p}, next_alert_at = {p}, updated_at = {p} WHERE id = {p}", raised
        )
        stamp_cols = "".join(f", {c}" for c in self.stamp)
        stamp_vals = "".join(f", {p}" for _ in self.stamp)
        actions, outbox, lower, urgent_pids = [], [], [], set()
        for pid, rule, key, severity, message, source, fid, opened, urgent, track, title, closes in alerts:
            cur.execute(
                f"INSERT INTO alert (patient_id, rule, instance_key, severity, status, message, "
                f"source, follow_up_id, states_at_fire, pathway_hash{stamp_cols}, opened_at, created_at, "
                f"updated_at, held, urgent, track, next_renotify_at) VALUES ({p}, {p}, {p}, {p}, "
                f"'open', {p}, {p}, {p}, {p}, {p}{stamp_vals}, {p}, {p}, {p}, "
                f"{'false' if self.pg else 0}, {p}, {p}, {p}) ON CONFLICT DO NOTHING RETURNING id",
                (
                    *(pid, rule, key, severity, message, source, fid, json.dumps(states.get(pid, {}))),
                    self.pathway_hash,
                    *self.stamp.values(),
                    *(opened, ts, ts, urgent, track),
                    ts if severity == "critical" else None,
                ),
            )
            row = cur.fetchone()
            if row is None:
                continue
            aid = row[0]
            actions.append((aid, "opened", "sweep", ts, message, "{}"))
            payload = self._payload(aid, pid, rule, severity, title, message, source, track, opened)
            payload["late"] = lateness(self._dt(closes), now)
            outbox.append(
                (
                    aid,
                    pid,
                    "log",
                    "log",
                    f"alert-{aid}-{severity}-log-log",
                    "pending",
                    ts,
                    ts,
                    json.dumps(payload),
                )
            )
            if severity != "info":
                lower.append((pid, rule, key, severity))
            if urgent and severity == "critical":
                urgent_pids.add(pid)
        cur.executemany(
            f"INSERT INTO notification (alert_id, patient_id, channel, recipient, "
            f"idempotency_key, digest, status, attempts, next_attempt_at, created_at, "
            f"payload) VALUES ({p}, {p}, {p}, {p}, {p}, {'false' if self.pg else 0}, "
            f"{p}, 0, {p}, {p}, {p}) ON CONFLICT DO NOTHING",
            outbox,
        )
        rank = "CASE severity WHEN 'info' THEN 1 WHEN 'warning' THEN 2 WHEN 'critical' THEN 3 END"
        for pid, rule, key, severity in lower:
            reason = f"escalated to {severity}"
            cur.execute(
                f"UPDATE alert SET status = 'resolved', resolved_at = {p}, resolution = {p}, "
                f"updated_at = {p}, next_renotify_at = NULL WHERE patient_id = {p} AND rule = {p} "
                f"AND instance_key = {p} AND {rank} < {p} AND status IN {LIVE} RETURNING id",
                (ts, reason, ts, pid, rule, key, {"warning": 2, "critical": 3}[severity]),
            )
            actions += [(r[0], "resolved", "sweep", ts, reason, "{}") for r in cur.fetchall()]
        cur.executemany(
            f"INSERT INTO alert_action (alert_id, action, actor, at, note, data) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            actions,
        )
        for pid in sorted(urgent_pids):  # lower holdable alerts wait behind an urgent critical one
            for prefix in self.holdable:
                cur.execute(
                    f"UPDATE alert SET held = {'true' if self.pg else 1}, updated_at = {p} "
                    f"WHERE patient_id = {p} AND NOT urgent AND severity <> 'critical' "
                    f"AND status IN {LIVE} AND instance_key LIKE {p} AND NOT held",
                    (ts, pid, prefix + "%"),
                )
        return len(alerts)

    def _dt(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value  # type: ignore[no-any-return]

    def _payload(
        self,
        aid: int,
        pid: int,
        rule: str,
        severity: str,
        title: str,
        message: str,
        source: str,
        track: str,
        opened: Any,
    ) -> dict[str, Any]:
        """The engine's notification payload (raising.outbox_rows)."""
        opened_at = self._dt(opened)
        assert opened_at is not None
        return {
            "alert_id": aid,
            "patient_id": pid,
            "rule": rule,
            "severity": severity,
            "title": title or rule,
            "message": message,
            "source": source,
            "track": track,
            "opened_at": opened_at.isoformat(),
            "late": None,
        }

    def _renotify(self, cur: Any, now: datetime, ids: list[int] | None = None) -> None:
        """Live critical alerts whose renotification round has come (of `ids`, when given): one
        outbox row per round (skipped if there already), and the instant moved on to the next."""
        p, ts = self.p, self._ts(now)
        among = f" AND id IN ({', '.join(map(str, ids))})" if ids else ""
        cur.execute(
            f"SELECT id, patient_id, rule, message, source, track, created_at, opened_at FROM alert"
            f"{self._hint('ix_alert_renotify_due')} WHERE {RENOTIFY_DUE} AND next_renotify_at <= {p}"
            f"{among} ORDER BY id",
            (ts,),
        )
        outbox, moved = [], []
        for aid, pid, rule, message, source, track, created, opened in cur.fetchall():
            created = self._dt(created)
            every = self.renotify_every
            round_ = int((now - created) / every) if now > created else 0
            moved.append((self._ts(created + (round_ + 1) * every), aid))
            if round_ < 1:
                continue
            payload = self._payload(
                aid, pid, rule, "critical", self.titles.get(rule, rule), message, source, track, opened
            )
            payload["renotification"] = round_
            key = f"alert-{aid}-critical-log-log-renotify-{round_}"
            outbox.append((aid, pid, "log", "log", key, "pending", ts, ts, json.dumps(payload)))
        cur.executemany(
            f"INSERT INTO notification (alert_id, patient_id, channel, recipient, "
            f"idempotency_key, digest, status, attempts, next_attempt_at, created_at, "
            f"payload) VALUES ({p}, {p}, {p}, {p}, {p}, {'false' if self.pg else 0}, "
            f"{p}, 0, {p}, {p}, {p}) ON CONFLICT DO NOTHING",
            outbox,
        )
        cur.executemany(f"UPDATE alert SET next_renotify_at = {p} WHERE id = {p}", moved)

    def worklist(self, now: datetime, days: int = 7, limit: int = 200) -> int:
        """The same ordering and columns as the engine: highest alert level raised, then window
        end; open alerts by severity then age; the MRNs of the patients listed."""
        p = self.p
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT id, rule, region, anchor_label, opens_at, closes_at, clock_time, patient_id "
            f"FROM follow_up WHERE {OPEN} AND opens_at <= {p} "
            f"ORDER BY raised DESC, closes_at, id LIMIT {limit}",
            (self._ts(now + timedelta(days=days)),),
        )
        rows = cur.fetchall()
        alerts: list[Any] = []
        for severity in ("critical", "warning", "info"):
            cur.execute(
                f"SELECT id, follow_up_id, rule, severity, message, source, held, "
                f"patient_id FROM alert WHERE status = 'open' AND severity = '{severity}' "
                f"ORDER BY opened_at LIMIT {limit - len(alerts)}"
            )
            alerts += cur.fetchall()
        for listed in (rows, alerts):
            ids = sorted({r[-1] for r in listed})
            if ids:
                cur.execute(f"SELECT id, mrn FROM patient WHERE id IN ({', '.join(map(str, ids))})")
                cur.fetchall()
        self.conn.rollback()
        return len(rows) + len(alerts)

    def report(self, now: datetime, limit: int = 100) -> int:
        """The report's counts and first rows, the same queries as the engine, rows fetched."""
        p, ts = self.p, self._ts(now)
        today = local_date(now, self.zone)
        day_end = self._ts(start_of_day(today + timedelta(days=1), self.zone))
        week_end = self._ts(start_of_day(today + timedelta(days=8), self.zone))
        since, pain = self._ts(now - timedelta(days=90)), self._ts(now - timedelta(days=30))
        hint = self._hint("ix_follow_up_open_closes")
        due_today = f"closes_at > {p} AND opens_at <= {p} AND target_at <= {p}"
        soon = f"closes_at > {p} AND (opens_at > {p} OR target_at > {p}) AND target_at <= {p}"
        jday = (
            "extract(epoch FROM resolved_at - opened_at) / 86400"
            if self.pg
            else "julianday(resolved_at) - julianday(opened_at)"
        )
        queries: list[tuple[str, tuple[Any, ...]]] = [
            ("SELECT track, state, count(*) FROM track_state GROUP BY track, state", ()),
            ("SELECT count(*) FROM patient", ()),
            (f"SELECT count(*) FROM track_state WHERE track = 'main' AND state NOT IN {EXITS}", ()),
            ("SELECT id, data FROM event WHERE type = 'retraction'", ()),
            (f"SELECT count(*) FROM follow_up{hint} WHERE {OPEN} AND closes_at <= {p}", (ts,)),
            (
                f"SELECT sum(CASE WHEN {due_today} THEN 1 ELSE 0 END), sum(CASE WHEN {soon} THEN 1 "
                f"ELSE 0 END) FROM follow_up{hint} WHERE {OPEN} AND closes_at > {p} "
                f"AND target_at <= {p}",
                (ts, ts, day_end, ts, ts, day_end, week_end, ts, week_end),
            ),
            *[
                (
                    f"SELECT f.id, p.mrn, f.rule, f.region, f.opens_at, f.target_at, f.closes_at FROM "
                    f"follow_up f JOIN patient p ON p.id = f.patient_id WHERE f.id IN (SELECT id FROM "
                    f"follow_up{hint} WHERE {OPEN} AND {where} ORDER BY {order}, id LIMIT {limit}) "
                    f"ORDER BY f.{order}, f.id",
                    args,
                )
                for where, order, args in (
                    (f"closes_at <= {p}", "closes_at", (ts,)),
                    (due_today, "closes_at", (ts, ts, day_end)),
                    (soon, "target_at", (ts, ts, day_end, week_end)),
                )
            ],
            *[
                (f"SELECT count(*) FROM alert WHERE status IN {LIVE} AND severity = '{s}'", ())
                for s in ("critical", "warning", "info")
            ],
            *[
                (
                    f"SELECT a.id, p.mrn, a.rule, a.status, a.message, a.opened_at FROM alert a JOIN "
                    f"patient p ON p.id = a.patient_id WHERE a.status IN {LIVE} AND a.severity = '{s}' "
                    f"ORDER BY a.opened_at, a.id LIMIT {limit}",
                    (),
                )
                for s in ("critical", "warning", "info")
            ],
            (
                f"SELECT count(*) FROM track_state WHERE track = 'main' AND state NOT IN {EXITS} "
                f"AND patient_id NOT IN (SELECT patient_id FROM event WHERE type = 'pain_score' "
                f"AND occurred_at >= {p})",
                (pain,),
            ),
            (
                f"SELECT p.mrn FROM patient p JOIN track_state t ON t.patient_id = p.id WHERE "
                f"t.track = 'main' AND t.state NOT IN {EXITS} AND t.patient_id NOT IN (SELECT "
                f"patient_id FROM event WHERE type = 'pain_score' AND occurred_at >= {p}) "
                f"ORDER BY p.mrn LIMIT {limit}",
                (pain,),
            ),
            (
                f"SELECT DISTINCT p.mrn FROM patient p JOIN follow_up f ON f.patient_id = p.id "
                f"WHERE f.{OPEN} AND f.closes_at <= {p} AND f.rule = 'T16' ORDER BY p.mrn",
                (ts,),
            ),
            (
                f"SELECT rule, CASE WHEN done_at IS NULL THEN 'missed' WHEN done_at < opens_at THEN "
                f"'early' WHEN done_at < closes_at THEN 'on_time' ELSE 'late' END, count(*) FROM "
                f"follow_up WHERE status IN ('open', 'done') AND closes_at >= {p} "
                f"AND closes_at <= {p} GROUP BY 1, 2",
                (since, ts),
            ),
            (
                f"SELECT rule, CASE WHEN done_at < opens_at THEN 'early' WHEN done_at < closes_at "
                f"THEN 'on_time' ELSE 'late' END, count(*) FROM follow_up WHERE done_at >= {p} AND "
                f"status = 'done' AND NOT (closes_at >= {p} AND closes_at <= {p}) GROUP BY 1, 2",
                (since, since, ts),
            ),
            (f"SELECT {jday} FROM alert WHERE resolved_at >= {p}", (since,)),
            (
                f"SELECT id, patient_id, type, occurred_at FROM event WHERE patient_id IN (SELECT "
                f"patient_id FROM event WHERE type = 'rt_started' AND occurred_at >= {p} AND "
                f"occurred_at <= {p}) AND type IN ('rt_started', 'mdt_decision')",
                (since, ts),
            ),
            (
                f"SELECT rule, target_at, count(*) FROM follow_up WHERE {OPEN} AND rule IN "
                f"('T09', 'T10') GROUP BY rule, target_at",
                (),
            ),
            ("SELECT max(id) FROM follow_up", ()),
        ]
        cur = self.conn.cursor()
        out = 0
        for sql, args in queries:
            cur.execute(sql, args)
            out += len(cur.fetchall())
        self.conn.rollback()
        return out
