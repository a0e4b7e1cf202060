from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.accounts import SqlUserRepository
from db.audit import SqlAuditRepository, SqlSessionRepository
from db.bulk import SqlImportRepository
from db.busy import busy_error
from db.handovers import SqlHandoverRepository
from db.interop import SqlInteropRepository
from db.notifications import SqlNotificationRepository
from db.operations import SqlOperationsRepository
from db.pathway_versions import SqlPathwayVersionRepository
from db.reporting import SqlReportReadModel, SqlReportRuns
from db.repository import SqlEventRepository, SqlPatientRepository
from db.sweep_sql import SqlSweepWrites
from db.teams import SqlTeamRepository
from db.tracking import SqlAlertRepository, SqlFollowUpRepository
from db.worklist_reads import SqlWorklistReadModel
from pathway.domain.errors import Conflict
from pathway.ports import (
    AlertRepository,
    AuditRepository,
    EventRepository,
    FollowUpRepository,
    HandoverRepository,
    ImportRepository,
    InteropRepository,
    NotificationRepository,
    OperationsRepository,
    PathwayVersionRepository,
    PatientRepository,
    ReportReadModel,
    ReportRuns,
    SessionRepository,
    SweepWrites,
    TeamRepository,
    UserRepository,
    WorklistReadModel,
)

READ_ONLY = {"pathway_read_only": True, "postgresql_readonly": True}  # see db.engine's BEGIN


class SqlUnitOfWork:
    """One database transaction; leaving the block without commit() rolls back."""

    patients: PatientRepository
    events: EventRepository
    follow_ups: FollowUpRepository
    alerts: AlertRepository
    notifications: NotificationRepository
    reports: ReportReadModel
    worklist: WorklistReadModel
    report_runs: ReportRuns
    users: UserRepository
    interop: InteropRepository
    handovers: HandoverRepository
    operations: OperationsRepository
    versions: PathwayVersionRepository
    sessions: SessionRepository
    audit: AuditRepository
    imports: ImportRepository
    sweep_writes: SweepWrites | None
    teams: TeamRepository

    def __init__(
        self,
        engine: Engine,
        pathway_id: str,
        read_only: bool = False,
        alert_stamp: Mapping[str, str | None] | None = None,
    ) -> None:
        """`alert_stamp`: columns written on every alert raised (the holiday calendar and the
        version of the `holidays` package that computed the dates, beside the pathway hash)."""
        self.alert_stamp = dict(alert_stamp or {})
        self.engine = engine.execution_options(**READ_ONLY) if read_only else engine
        self.pathway_id = pathway_id
        self.read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False)
        self.patients = SqlPatientRepository(self.session, self.pathway_id)
        self.events = SqlEventRepository(self.session)
        self.follow_ups = SqlFollowUpRepository(self.session)
        self.alerts = SqlAlertRepository(self.session, self.alert_stamp)
        self.notifications = SqlNotificationRepository(self.session)
        self.reports = SqlReportReadModel(self.session)
        self.worklist = SqlWorklistReadModel(self.session)
        self.report_runs = SqlReportRuns(self.session)
        self.users = SqlUserRepository(self.session)
        self.interop = SqlInteropRepository(self.session)
        self.handovers = SqlHandoverRepository(self.session)
        self.operations = SqlOperationsRepository(self.session)
        self.versions = SqlPathwayVersionRepository(self.session)
        self.sessions = SqlSessionRepository(self.session)
        self.audit = SqlAuditRepository(self.session)
        self.imports = SqlImportRepository(self.session)
        self.sweep_writes = SqlSweepWrites(self.session, self.alert_stamp)
        self.teams = SqlTeamRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, IntegrityError):
            raise Conflict(f"the change conflicts with stored data ({exc.orig})") from exc
        if exc is not None and (busy := busy_error(exc)) is not None:
            raise busy from exc

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use deps.uow()")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
