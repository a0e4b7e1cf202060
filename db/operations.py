"""What operators watch: the last run of each periodic job, the outbox, the last report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from db.tables import AlertRow, FollowUpRow, JobRunRow, NotificationRow, ReportRunRow
from db.tracking import _insert
from pathway.domain.alert_status import LIVE as LIVE_ALERT
from pathway.domain.records import ReportRunStatus
from pathway.domain.status import Outcome
from pathway.ports import JobRun, OperationsFacts


class SqlOperationsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_run(
        self, name: str, started_at: datetime, finished_at: datetime, seconds: float, error: str | None
    ) -> None:
        """Insert the row once (several processes may race: ON CONFLICT DO NOTHING), then update it."""
        t = JobRunRow.__table__  # type: ignore[attr-defined]
        first = {"name": name, "last_started_at": started_at, "last_finished_at": finished_at}
        self.session.execute(_insert(self.session)(t).values(**first).on_conflict_do_nothing())
        values: dict[str, Any] = {
            "last_started_at": started_at,
            "last_finished_at": finished_at,
            "last_seconds": seconds,
            "last_error": error,
            "runs": t.c.runs + 1,
        }
        if error is None:
            values["last_success_at"] = finished_at
        else:
            values["failures"] = t.c.failures + 1
        self.session.execute(update(t).where(t.c.name == name).values(**values))

    def facts(self, now: datetime, today: date) -> OperationsFacts:
        s = self.session
        jobs = {
            r.name: JobRun(
                r.name,
                r.last_started_at,
                r.last_finished_at,
                r.last_seconds,
                r.last_success_at,
                r.last_error,
                r.runs,
                r.failures,
            )
            for r in s.exec(select(JobRunRow))
        }
        outbox = {
            status: int(n)
            for status, n in s.execute(
                select(NotificationRow.status, func.count()).group_by(col(NotificationRow.status))
            )
        }
        last_report = s.exec(
            select(func.max(ReportRunRow.report_date)).where(ReportRunRow.status == ReportRunStatus.DONE)
        ).one()
        today_report = s.exec(select(ReportRunRow.status).where(ReportRunRow.report_date == today)).first()
        open_alerts = {
            severity: int(n)
            for severity, n in s.execute(
                select(AlertRow.severity, func.count())
                .where(col(AlertRow.status).in_(LIVE_ALERT))
                .group_by(col(AlertRow.severity))
            )
        }
        overdue = s.exec(
            select(func.count())
            .select_from(FollowUpRow)
            .where(col(FollowUpRow.status) == Outcome.OPEN, col(FollowUpRow.closes_at) <= now)
        ).one()
        return OperationsFacts(jobs, outbox, last_report, today_report, open_alerts, int(overdue))
