"""What operators watch: the last run of each periodic job, the outbox, the last report."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.tables import AlertRow, FollowUpRow, JobRunRow, NotificationRow, ReportRunRow
from db.tracking import LIVE_ALERT, OPEN_FOLLOW_UP
from pathway.ports import JobRun, OperationsFacts


class SqlOperationsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_run(
        self, name: str, started_at: datetime, finished_at: datetime, seconds: float, error: str | None
    ) -> None:
        row = self.session.get(JobRunRow, name, with_for_update=True)
        if row is None:
            row = JobRunRow(name=name, last_started_at=started_at, last_finished_at=finished_at)
        row.last_started_at, row.last_finished_at, row.last_seconds = started_at, finished_at, seconds
        row.last_error = error
        row.runs += 1
        if error is None:
            row.last_success_at = finished_at
        else:
            row.failures += 1
        self.session.add(row)
        self.session.flush()

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
            select(func.max(ReportRunRow.report_date)).where(ReportRunRow.status == "done")
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
            .where(col(FollowUpRow.status).in_(OPEN_FOLLOW_UP), col(FollowUpRow.closes_at) <= now)
        ).one()
        return OperationsFacts(jobs, outbox, last_report, today_report, open_alerts, int(overdue))
