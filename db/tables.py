from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pathway.domain.alert_status import RENOTIFIED, SUSPENDED, Severity

JSONType = JSON().with_variant(JSONB(), "postgresql")
OPEN_ROWS = text("status = 'open'")  # a follow-up's stored outcome (see db/status_sql.py)
PAUSED = text(f"status IN ({', '.join(repr(str(s)) for s in SUSPENDED)})")  # snoozed, overridden
RENOTIFY_DUE = text(  # live critical alerts with a renotification round to come (ix_alert_renotify_due)
    f"next_renotify_at IS NOT NULL AND severity = '{Severity.CRITICAL}' "
    f"AND status IN ({', '.join(repr(str(s)) for s in RENOTIFIED)})"
)


class PatientRow(SQLModel, table=True):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("mrn", name="uq_patient_mrn"),)

    id: int | None = Field(default=None, primary_key=True)
    mrn: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    histology: str | None = Field(default=None, max_length=64)
    enrolled_on: date
    enrolled_at: datetime
    pathway_id: str = Field(max_length=64)
    version: int = Field(default=1)
    updated_at: datetime


class TrackStateRow(SQLModel, table=True):
    __tablename__ = "track_state"
    __table_args__ = (Index("ix_track_state_track_state", "track", "state"),)

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    track: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=64)
    entered_at: datetime


class EventRow(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_patient", "patient_id", "id"),
        Index("ix_event_type_time", "type", "occurred_at", "patient_id"),
        Index("uq_event_source_ref", "source_ref", unique=True),
        Index("uq_event_row_id", "patient_id", "row_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    type: str = Field(max_length=64)
    occurred_at: datetime
    recorded_at: datetime
    actor: str = Field(max_length=100)
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    source_ref: str | None = Field(default=None, max_length=300)
    chain: str | None = Field(default=None, max_length=64)  # see pathway.domain.integrity
    row_id: str | None = Field(default=None, max_length=100)  # an imported CSV row's id


class FollowUpRow(SQLModel, table=True):
    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("patient_id", "rule", "region", "anchor_at", name="uq_follow_up_instance"),
        Index("ix_follow_up_status_closes", "status", "closes_at", "rule", "done_at", "opens_at"),
        Index(
            "ix_follow_up_alert_due",
            "next_alert_at",
            "patient_id",
            sqlite_where=OPEN_ROWS,
            postgresql_where=OPEN_ROWS,
        ),
        Index(
            "ix_follow_up_open_closes",
            "closes_at",
            "id",
            "opens_at",
            "target_at",
            sqlite_where=OPEN_ROWS,
            postgresql_where=OPEN_ROWS,
        ),
        Index(
            "ix_follow_up_open_rule",
            "rule",
            "closes_at",
            "target_at",
            sqlite_where=OPEN_ROWS,
            postgresql_where=OPEN_ROWS,
        ),
        Index(
            "ix_follow_up_done",
            "done_at",
            "closes_at",
            "rule",
            "opens_at",
            sqlite_where=text("done_at IS NOT NULL"),
            postgresql_where=text("done_at IS NOT NULL"),
        ),
        Index(
            "ix_follow_up_urgency",
            text("raised DESC"),
            "closes_at",
            "id",
            sqlite_where=OPEN_ROWS,
            postgresql_where=OPEN_ROWS,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    rule: str = Field(max_length=16)
    region: str = Field(default="", max_length=32)
    anchor_at: datetime
    anchor_label: str = Field(max_length=200)
    opens_at: datetime
    target_at: datetime
    closes_at: datetime
    clock_time: bool = False
    status: str = Field(max_length=16)  # what happened: open | done | cancelled (never time-derived)
    done_at: datetime | None = None
    done_event_id: int | None = None
    late_days: int = 0
    early: bool = False
    cancel_reason: str | None = None
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    updated_at: datetime
    instance_key: str = Field(default="", max_length=120)
    track: str = Field(default="", max_length=32)
    urgent: bool = False
    alert_rule: str | None = Field(default=None, max_length=16)
    alert_title: str | None = None
    alert_source: str | None = None
    alert_message: str | None = None
    info_at: datetime | None = None
    warning_at: datetime | None = None
    critical_at: datetime | None = None
    raised: int = 0
    next_alert_at: datetime | None = None


class AlertRow(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("patient_id", "rule", "instance_key", "severity", name="uq_alert_level"),
        Index("ix_alert_status_severity", "status", "severity"),
        Index("ix_alert_patient_status", "patient_id", "status"),
        Index("ix_alert_follow_up", "follow_up_id", "status"),
        Index("ix_alert_severity_opened", "status", "severity", "opened_at"),
        Index(
            "ix_alert_expiring",
            "snoozed_until",
            "override_until",
            "patient_id",
            sqlite_where=PAUSED,
            postgresql_where=PAUSED,
        ),
        Index(
            "ix_alert_resolved",
            "resolved_at",
            sqlite_where=text("resolved_at IS NOT NULL"),
            postgresql_where=text("resolved_at IS NOT NULL"),
        ),
        Index(
            "ix_alert_renotify_due",
            "next_renotify_at",
            sqlite_where=RENOTIFY_DUE,
            postgresql_where=RENOTIFY_DUE,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    rule: str = Field(max_length=16)
    instance_key: str = Field(max_length=120)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=16)
    message: str
    source: str
    follow_up_id: int | None = Field(default=None, foreign_key="follow_up.id")
    states_at_fire: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    pathway_hash: str = Field(max_length=32)
    holiday_calendar: str | None = Field(default=None, max_length=40)
    holidays_version: str | None = Field(default=None, max_length=40)
    action_chain: str | None = Field(default=None, max_length=64)  # the hash of its last audit row
    opened_at: datetime
    created_at: datetime
    updated_at: datetime
    held: bool = False
    urgent: bool = False
    track: str = Field(default="", max_length=32)
    snoozed_until: datetime | None = None
    override_reason: str | None = Field(default=None, max_length=40)
    override_until: datetime | None = None
    acted_by: str | None = Field(default=None, max_length=100)
    note: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    next_renotify_at: datetime | None = None  # critical and live: when its next round falls due


class AlertActionRow(SQLModel, table=True):
    """Append-only audit of what people and the sweep did to each alert."""

    __tablename__ = "alert_action"
    __table_args__ = (Index("ix_alert_action_alert", "alert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    action: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    at: datetime
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    chain: str | None = Field(default=None, max_length=64)  # its content and the previous row's hash


class NotificationRow(SQLModel, table=True):
    """The outbox: written with its alert, delivered by the dispatcher, every attempt recorded."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_notification_key"),
        Index("ix_notification_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    patient_id: int = Field(foreign_key="patient.id")
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=300)
    idempotency_key: str = Field(max_length=200)
    digest: bool = False
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime
    claimed_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class NotificationAttemptRow(SQLModel, table=True):
    __tablename__ = "notification_attempt"
    __table_args__ = (Index("ix_notification_attempt_notification", "notification_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id")
    at: datetime
    outcome: str = Field(max_length=16)
    error: str | None = None


class ReportRunRow(SQLModel, table=True):
    """One daily report per clinic date, claimed before it is written (several schedulers)."""

    __tablename__ = "report_run"
    __table_args__ = (UniqueConstraint("report_date", name="uq_report_date"),)

    id: int | None = Field(default=None, primary_key=True)
    report_date: date
    status: str = Field(max_length=16)
    created_at: datetime
    finished_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class UserRow(SQLModel, table=True):
    """A person who may sign in; the API token is kept only as its SHA-256 hash."""

    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("name", name="uq_app_user_name"),
        UniqueConstraint("token_hash", name="uq_app_user_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64)
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None


class AppSettingRow(SQLModel, table=True):
    """Small values the processes share, e.g. the session signing secret (written once)."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str
    created_at: datetime


class CalendarTokenRow(SQLModel, table=True):
    """A per-user secret for the iCalendar feed URL; only its SHA-256 hash is kept."""

    __tablename__ = "calendar_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_calendar_token_hash"),
        Index("ix_calendar_token_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    token_hash: str = Field(max_length=64)
    created_at: datetime
    revoked_at: datetime | None = None


class HandoverRow(SQLModel, table=True):
    """The hand-over summary made when a patient left by transfer, withdrawal or loss to follow-up;
    written once with its exit event and never changed (it reads the same later)."""

    __tablename__ = "handover"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_handover_event"),
        Index("ix_handover_patient", "patient_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    event_id: int = Field(foreign_key="event.id")
    created_at: datetime
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class JobRunRow(SQLModel, table=True):
    """The last run of each periodic job (sweep, notify, report), for health checks and metrics."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=32)
    last_started_at: datetime
    last_finished_at: datetime
    last_seconds: float = 0.0
    last_success_at: datetime | None = None
    last_error: str | None = None
    runs: int = 0
    failures: int = 0


class PathwayVersionRow(SQLModel, table=True):
    """An applied pathway file (change control, rule book 4.2): append-only but for rederived_at."""

    __tablename__ = "pathway_version"
    __table_args__ = (UniqueConstraint("pathway_id", "number", name="uq_pathway_version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    pathway_id: str = Field(max_length=64)
    number: int
    content_hash: str = Field(max_length=64)
    label: str = Field(default="", max_length=64)
    applied_at: datetime
    applied_by: str = Field(max_length=100)
    approved_by: str = Field(max_length=100)
    note: str
    changes: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    text: str
    rederived_at: datetime | None = None


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser: the cookie carries the random id, only its SHA-256 hash is kept."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user", "user_id"),)

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id")
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None


class AuditRow(SQLModel, table=True):
    """Append-only: who did or viewed what, when, to which patient, from where (address or "cli")."""

    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_mrn", "mrn", "at"),
        Index("ix_audit_actor", "actor", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=100)
    action: str = Field(max_length=48)
    mrn: str | None = Field(default=None, max_length=64)
    origin: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class CareTeamRow(SQLModel, table=True):
    """A care team; its optional notification target gets its patients' alerts (besides the
    site's routes) from `notify_min_severity` up."""

    __tablename__ = "care_team"
    __table_args__ = (UniqueConstraint("name", name="uq_care_team_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    notify_channel: str | None = Field(default=None, max_length=16)
    notify_to: str | None = Field(default=None, max_length=300)
    notify_min_severity: str = Field(default="warning", max_length=16)
    created_at: datetime


class CareTeamMemberRow(SQLModel, table=True):
    __tablename__ = "care_team_member"

    team_id: int = Field(foreign_key="care_team.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    added_at: datetime


class CareAssignmentRow(SQLModel, table=True):
    """The patient's current team and named coordinator; each change is in the audit trail."""

    __tablename__ = "care_assignment"
    __table_args__ = (
        Index("ix_care_assignment_team", "team_id"),
        Index("ix_care_assignment_coordinator", "coordinator_id"),
    )

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    team_id: int = Field(foreign_key="care_team.id")
    coordinator_id: int | None = Field(default=None, foreign_key="app_user.id")
    assigned_at: datetime
    assigned_by: str = Field(max_length=100)
