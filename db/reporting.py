"""Set-based queries behind the daily report and the report-run claims (one report per date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from db.tables import AlertActionRow, AlertRow, EventRow, FollowUpRow, PatientRow, ReportRunRow, TrackStateRow
from db.tracking import _insert
from pathway.domain.report import AlertFact, FollowUpFact

OPEN = ("upcoming", "due", "overdue")


class SqlReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def counts_by_state(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        query = select(TrackStateRow.track, TrackStateRow.state, func.count()).group_by(
            col(TrackStateRow.track), col(TrackStateRow.state))
        for track, state, n in self.session.execute(query):
            out.setdefault(track, {})[state] = int(n)
        return out

    def follow_up_facts(self, open_only: bool, since: datetime | None = None,
                        named: dict[str, tuple[str, int | None]] | None = None
                        ) -> list[FollowUpFact]:
        """Facts for the report; `named` maps a rule to its step name and recurrence in days."""
        f = FollowUpRow
        query = columns(col(f.patient_id), col(PatientRow.mrn), col(f.rule), col(f.region),
                        col(f.opens_at), col(f.target_at), col(f.closes_at), col(f.status),
                        col(f.done_at)).join(
            PatientRow, col(PatientRow.id) == col(FollowUpRow.patient_id))
        if open_only:
            query = query.where(col(FollowUpRow.status).in_(OPEN))
        else:
            assert since is not None
            query = query.where(col(FollowUpRow.status).in_(("done", "cancelled")),
                                (col(FollowUpRow.closes_at) >= since)
                                | (col(FollowUpRow.done_at) >= since))
        names = named or {}
        facts = []
        for pid, mrn, rule, region, o, t, c, status, done in self.session.execute(query):
            step, every = names.get(rule, (rule, None))
            facts.append(FollowUpFact(pid, mrn, rule, step, region, o, t, c, status, done, every))
        return facts

    def alert_facts(self, resolved_since: datetime) -> list[AlertFact]:
        a = AlertRow
        query = columns(col(a.id), col(a.patient_id), col(PatientRow.mrn), col(a.rule),
                        col(a.severity), col(a.status), col(a.message), col(a.opened_at),
                        col(a.resolved_at)).join(
            PatientRow, col(PatientRow.id) == col(AlertRow.patient_id)).where(
            col(AlertRow.status).in_(("open", "acknowledged", "snoozed"))
            | (col(AlertRow.resolved_at) >= resolved_since))
        return [AlertFact(*row) for row in self.session.execute(query)]

    def last_event_per_patient(self, event_type: str, excluded: set[int]
                               ) -> dict[str, datetime]:
        """The latest `event_type` of each patient (by MRN), leaving out retracted events."""
        query = (columns(col(PatientRow.mrn), func.max(col(EventRow.occurred_at)))
                 .join(PatientRow, col(PatientRow.id) == col(EventRow.patient_id))
                 .where(col(EventRow.type) == event_type)
                 .group_by(col(PatientRow.mrn)))
        if excluded:
            query = query.where(col(EventRow.id).not_in(excluded))
        return {mrn: at for mrn, at in self.session.execute(query)}  # max() keeps the UTC type

    def actions_since(self, since: datetime | None) -> list[tuple[str, int, str, str | None]]:
        if since is None:
            return []
        query = select(AlertActionRow.action, AlertActionRow.alert_id, PatientRow.mrn,
                       AlertActionRow.note).join(
            AlertRow, col(AlertRow.id) == col(AlertActionRow.alert_id)).join(
            PatientRow, col(PatientRow.id) == col(AlertRow.patient_id)).where(
            col(AlertActionRow.at) > since)
        return [(a, i, m, n) for a, i, m, n in self.session.execute(query)]

    def events_of(self, types: tuple[str, ...], recorded_since: datetime | None = None
                  ) -> list[tuple[int, str, str, datetime, dict[str, Any]]]:
        query = columns(col(EventRow.id), col(PatientRow.mrn), col(EventRow.type),
                        col(EventRow.occurred_at), col(EventRow.data)).join(
            PatientRow, col(PatientRow.id) == col(EventRow.patient_id)).where(
            col(EventRow.type).in_(types))
        if recorded_since is not None:
            query = query.where(col(EventRow.recorded_at) > recorded_since)
        return [(i, m, t, at, dict(d or {})) for i, m, t, at, d in self.session.execute(query)]

    def patients(self) -> list[tuple[int, str, date, dict[str, str]]]:
        rows = self.session.execute(
            columns(col(PatientRow.id), col(PatientRow.mrn), col(PatientRow.enrolled_on))
            .order_by(col(PatientRow.mrn))).all()
        states: dict[int, dict[str, str]] = {}
        for pid, track, state in self.session.execute(
                select(TrackStateRow.patient_id, TrackStateRow.track, TrackStateRow.state)):
            states.setdefault(pid, {})[track] = state
        return [(pid, mrn, on, states.get(pid, {})) for pid, mrn, on in rows]

    def claim_run(self, day: date, now: datetime, stale_before: datetime) -> int | None:
        """Claim the report for `day`: a new row, or one left `running` by a process that died."""
        stmt = (_insert(self.session)(ReportRunRow)
                .values(report_date=day, status="running", created_at=now, data={})
                .on_conflict_do_nothing(index_elements=["report_date"])
                .returning(col(ReportRunRow.id)))
        row = self.session.execute(stmt).first()
        if row:
            return int(row[0])
        result = self.session.execute(
            update(ReportRunRow).where(col(ReportRunRow.report_date) == day,
                                       col(ReportRunRow.status) == "running",
                                       col(ReportRunRow.created_at) < stale_before)
            .values(created_at=now).returning(col(ReportRunRow.id)))
        retaken = result.first()
        return int(retaken[0]) if retaken else None

    def finish_run(self, run_id: int, now: datetime, data: dict[str, Any]) -> None:
        self.session.execute(update(ReportRunRow).where(col(ReportRunRow.id) == run_id)
                             .values(status="done", finished_at=now, data=data))

    def run_for(self, day: date) -> tuple[str, dict[str, Any]] | None:
        row = self.session.exec(select(ReportRunRow).where(ReportRunRow.report_date == day)).first()
        return (row.status, dict(row.data or {})) if row else None

    def previous(self, before: date) -> dict[str, Any] | None:
        row = self.session.exec(select(ReportRunRow).where(col(ReportRunRow.report_date) < before,
                                                           ReportRunRow.status == "done")
                                .order_by(col(ReportRunRow.report_date).desc())).first()
        return dict(row.data or {}) if row else None
