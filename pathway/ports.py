"""What the services need from the outside world, as Protocols (adapters live in db/ and scheduler/)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from types import TracebackType
from typing import NamedTuple, Protocol

from pathway.domain.integrity import StoredAction
from pathway.domain.machine import Pathway
from pathway.domain.model import (
    AlertLine,
    EventRecord,
    NewEvent,
    Notification,
    Patient,
    StoredAlert,
    StoredFollowUp,
    WorkStep,
)
from pathway.domain.mrn import DEFAULT_MRN_POLICY, MrnPolicy
from pathway.domain.notify import DEFAULT_ROUTES, Route
from pathway.domain.records import (
    AlertChange,
    DeliveryOutcome,
    FollowUpChange,
    HandoverSummary,
    InsertedAlert,
    JsonObject,
    NewAlert,
    NewAlertAction,
    NewFollowUp,
    NewNotification,
    RaisedLevel,
    ReportSummary,
)
from pathway.domain.report import AlertFact, EventFact, ReportBounds
from pathway.domain.rows import (
    ActionRow,
    ActivePatients,
    AlertActionEntry,
    AttemptRow,
    CountedMrns,
    ForecastBucket,
    OpenWindow,
    PatientLine,
    RtEventRow,
    StepRow,
)
from pathway.domain.status import FollowUpStatus
from pathway.domain.windows import Calendar


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class PatientRepository(Protocol):
    def add(
        self,
        mrn: str,
        name: str | None,
        birth_date: date | None,
        histology: str | None,
        enrolled_on: date,
        enrolled_at: datetime,
        states: dict[str, str],
    ) -> Patient: ...

    def by_mrn(self, mrn: str, lock: bool = False) -> Patient | None: ...

    def by_mrn_with_states(self, mrn: str, lock: bool = False) -> tuple[Patient, dict[str, str]] | None:
        """The patient and its track states, read together (`lock` as in by_mrn)."""
        ...

    def by_id(self, patient_id: int) -> Patient | None: ...

    def correct_demographics(self, patient: Patient, name: str | None, birth_date: date | None) -> Patient:
        """Store a corrected name and/or birth date (None: unchanged); the event records why."""
        ...

    def same_person(self, name: str, birth_date: date) -> list[str]:
        """MRNs of the patients with this name (case and spaces aside) and birth date."""
        ...

    def lock(self, patient_id: int) -> None:
        """Hold the patient's row until commit (PostgreSQL FOR UPDATE; SQLite already serialises)."""
        ...

    def lock_many(self, patient_ids: list[int]) -> None: ...

    def states_many(self, patient_ids: list[int]) -> dict[int, dict[str, str]]: ...

    def states(self, patient_id: int) -> dict[str, str]: ...

    def save(
        self,
        patient: Patient,
        states: dict[str, str],
        at: datetime,
        histology: str | None = None,
        old: dict[str, str] | None = None,
    ) -> Patient:
        """Write new track states, bumping the version; raise Conflict if it moved meanwhile."""
        ...

    def listing(
        self, track: str | None, state: str | None, after: str | None = None, limit: int | None = None
    ) -> list[tuple[Patient, dict[str, str]]]:
        """Patients in MRN order; with `after`, only MRNs after it (keyset paging), at most `limit`."""
        ...


class EventRepository(Protocol):
    def append(self, event: NewEvent) -> EventRecord: ...

    def for_patient(self, patient_id: int) -> list[EventRecord]: ...

    def chains(self, patient_id: int) -> dict[int, str | None]: ...

    def of_types(
        self, types: Collection[str], patient_ids: Collection[int] | None = None
    ) -> list[tuple[str, EventRecord]]:
        """Every patient's events of these types (only these patients', if given), with the
        patient's MRN, in id order."""
        ...

    def known_sources(self, refs: Collection[str]) -> set[str]:
        """Which of these source references an event already carries."""
        ...


class FollowUpRepository(Protocol):
    def for_patient(self, patient_id: int, rules: Collection[str] | None = None) -> list[StoredFollowUp]:
        """The patient's follow-ups (only those of `rules` when given), by window end."""
        ...

    def insert(self, values: list[NewFollowUp]) -> dict[tuple[str, str, datetime], int]:
        """Insert, skipping duplicates; the ids of the rows inserted, by (rule, region, anchor)."""
        ...

    def update(self, follow_up_id: int, expected_status: str, change: FollowUpChange) -> bool: ...

    def patients_to_check(self, now: datetime, limit: int) -> list[int]: ...

    def alert_levels_due(self, now: datetime) -> dict[int, list[int]]:
        """Patient id -> the ids of their open follow-ups with an alert level due at `now`."""
        ...

    def alerts_due_for(self, patient_ids: list[int], now: datetime) -> list[StoredFollowUp]: ...

    def set_raised(self, changes: list[RaisedLevel]) -> None: ...

    def windows(self, follow_up_ids: Collection[int]) -> dict[int, tuple[datetime, datetime, bool]]:
        """(opens_at, closes_at, clock_time) of each follow-up (to order alerts by urgency)."""
        ...


@dataclass(frozen=True)
class Renotifiable:
    """A live alert that may be due to be notified again: when it was first notified, on which track."""

    alert: StoredAlert
    created_at: datetime
    track: str


class AlertRepository(Protocol):
    def for_patient(self, patient_id: int) -> list[StoredAlert]: ...

    def renotify_due(self, now: datetime) -> list[Renotifiable]:
        """Live critical alerts whose `next_renotify_at` has come, by id."""
        ...

    def set_next_renotify(self, due: list[tuple[int, datetime]]) -> None:
        """Move each (alert id, instant) on to its next renotification round."""
        ...

    def get(self, alert_id: int) -> StoredAlert | None: ...

    def insert_many(self, values: list[NewAlert]) -> list[InsertedAlert]: ...

    def add_actions(self, values: list[NewAlertAction]) -> None: ...

    def live_for(self, patient_ids: list[int]) -> list[StoredAlert]: ...

    def resolve_many(self, alert_ids: list[int], resolution: str, now: datetime) -> list[int]: ...

    def insert(self, values: NewAlert) -> int | None: ...

    def update(self, alert_id: int, expected_status: str, change: AlertChange) -> bool: ...

    def update_many(self, changes: list[tuple[int, str, AlertChange]]) -> list[bool]:
        """`update` of each (alert id, expected status, change), in order; whether each moved."""
        ...

    def listing(
        self,
        statuses: tuple[str, ...] | None,
        mrn: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[tuple[StoredAlert, str]]:
        """Alerts in id order with their MRN; with `after`, only ids above it, at most `limit`."""
        ...

    def add_action(
        self,
        alert_id: int,
        action: str,
        actor: str,
        at: datetime,
        note: str | None = None,
        data: JsonObject | None = None,
    ) -> None: ...

    def actions(self, alert_id: int) -> list[AlertActionEntry]: ...

    def audit_chains(self) -> Iterable[tuple[int, list[StoredAction], str | None]]:
        """Every alert's audit rows in order with their chain hashes, and the last hash the alert
        recorded (`pathway verify`)."""
        ...


class NotificationRepository(Protocol):
    def add_many(self, values: list[NewNotification]) -> None: ...

    def existing_keys(self, keys: list[str]) -> set[str]: ...

    def claim_due(self, now: datetime, limit: int) -> list[Notification]:
        """Move due `pending` rows to `sending` (SKIP LOCKED on PostgreSQL, compare-and-set)."""
        ...

    def renew_claims(self, notification_ids: list[int], at: datetime) -> None: ...

    def requeue_dead(self, notification_ids: list[int] | None, at: datetime) -> list[int]: ...

    def release_stale(self, claimed_before: datetime) -> int: ...

    def finish(self, notification_id: int, status: str, outcome: DeliveryOutcome) -> bool:
        """Compare-and-set on the row's status."""
        ...

    def attempt(self, notification_id: int, at: datetime, outcome: str, error: str | None) -> None: ...

    def listing(
        self, statuses: tuple[str, ...] | None, alert_id: int | None = None
    ) -> list[Notification]: ...

    def attempts_of(self, notification_id: int) -> list[AttemptRow]: ...


class ReportReadModel(Protocol):
    """The report's reads: counts and first rows per section, set-based, typed rows (db/reporting.py)."""

    def counts_by_state(self) -> dict[str, dict[str, int]]: ...

    def step_counts(self, b: ReportBounds) -> dict[str, int]: ...

    def steps(self, section: str, b: ReportBounds, limit: int) -> list[StepRow]: ...

    def mrns_with_overdue(self, rules: tuple[str, ...], at: datetime, limit: int) -> CountedMrns: ...

    def live_alerts(self, severity: str, limit: int) -> tuple[int, list[AlertFact]]: ...

    def active_patients(self, exit_states: tuple[str, ...]) -> ActivePatients: ...

    def active_without_event(
        self, event_type: str, since: datetime, exit_states: tuple[str, ...], excluded: set[int], limit: int
    ) -> CountedMrns: ...

    def quality_counts(self, since: datetime, at: datetime) -> dict[str, dict[str, int]]: ...

    def alert_open_days(self, since: datetime) -> list[float]: ...

    def rt_events(self, since: datetime, at: datetime) -> list[RtEventRow]: ...

    def forecast_buckets(self, rules: tuple[str, ...]) -> list[ForecastBucket]: ...

    def last_follow_up_id(self) -> int: ...

    def actions_since(self, since: datetime | None) -> list[ActionRow]: ...

    def events_of(
        self, types: tuple[str, ...], recorded_since: datetime | None = None
    ) -> list[EventFact]: ...

    def patient_lines(self, at: datetime) -> list[PatientLine]: ...


class WorklistReadModel(Protocol):
    """The worklist's reads (the report's are in ReportReadModel): open steps and open alerts,
    listed most urgent first and counted with the definitions of pathway/domain/counts.py."""

    def steps(self, until: datetime, limit: int | None = None) -> list[WorkStep]:
        """Open follow-ups opening before `until`, most urgent first (at most `limit`)."""
        ...

    def step_counts(self, at: datetime, until: datetime) -> dict[FollowUpStatus, int]:
        """Open follow-ups opening before `until`, by their status at `at`."""
        ...

    def open_alerts(self, limit: int | None = None) -> list[AlertLine]:
        """Open alerts, most severe first, oldest first within a severity; at most `limit`."""
        ...

    def alert_counts(self, statuses: tuple[str, ...]) -> dict[str, int]:
        """Alerts in `statuses`, by severity."""
        ...

    def in_states(
        self, track: str, states: tuple[str, ...], mrns: Collection[str] | None = None
    ) -> list[tuple[str, str]]:
        """(MRN, state) of the patients whose `track` is in one of `states` (of `mrns` only, if given)."""
        ...


class ReportRuns(Protocol):
    """The daily report's runs: one claimed per clinic day, finished with its summary."""

    def claim_run(self, day: date, now: datetime, stale_before: datetime) -> int | None: ...

    def finish_run(self, run_id: int, now: datetime, data: ReportSummary) -> None: ...

    def run_for(self, day: date) -> tuple[str, ReportSummary] | None: ...

    def claim_mail(self, day: date, now: datetime, stale_before: datetime) -> bool:
        """Claim mailing the finished report of `day`: it waits to be mailed, failed, or its
        sender died (claimed before `stale_before`). False if there is nothing to mail."""
        ...

    def set_mail(self, day: date, outcome: str, now: datetime) -> None: ...

    def previous(self, before: date) -> ReportSummary | None: ...


@dataclass(frozen=True)
class JobRun:
    """The last run of a periodic job: when it ran, how long it took, its last success."""

    name: str
    last_started_at: datetime
    last_finished_at: datetime
    last_seconds: float
    last_success_at: datetime | None
    last_error: str | None
    runs: int
    failures: int


@dataclass(frozen=True)
class OperationsFacts:
    """What an operator watches: job runs, the outbox, the last report, open work."""

    jobs: dict[str, JobRun]
    outbox: dict[str, int]
    last_report: date | None
    today_report: str | None
    open_alerts: dict[str, int]
    overdue_follow_ups: int


class OperationsRepository(Protocol):
    def record_run(
        self, name: str, started_at: datetime, finished_at: datetime, seconds: float, error: str | None
    ) -> None:
        """Upsert the job's last run (and its last success when error is None)."""
        ...

    def facts(self, now: datetime, today: date) -> OperationsFacts: ...


class Mailer(Protocol):
    def send_mail(self, to: tuple[str, ...], subject: str, text: str, html: str | None) -> None:
        """Send one message or raise DeliveryFailed."""
        ...


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver or raise DeliveryFailed (permanent=True for errors a retry cannot fix)."""
        ...


class InteropRepository(Protocol):
    def open_windows(self, until: datetime, limit: int) -> list[OpenWindow]:
        """Open follow-ups opening before `until`, with the patient's MRN and name, by opening."""
        ...

    def add_calendar_token(self, user_id: int, token_hash: str, at: datetime) -> None: ...

    def revoke_calendar_tokens(self, user_id: int, at: datetime) -> int: ...

    def calendar_user(self, token_hash: str) -> User | None: ...


class HandoverRepository(Protocol):
    def add(self, patient_id: int, event_id: int, at: datetime, summary: HandoverSummary) -> None:
        """Store the hand-over summary made with this exit event (once)."""
        ...

    def latest(self, patient_id: int) -> HandoverSummary | None:
        """The patient's most recent hand-over summary as stored, or None."""
        ...


@dataclass(frozen=True)
class StoredHistory:
    """An enrolled patient as a cohort import needs them: states, history and imported row ids."""

    patient: Patient
    states: dict[str, str]
    events: list[EventRecord]
    row_ids: frozenset[str]


class ImportRepository(Protocol):
    """Batch writes for a cohort import (executemany), in the unit of work's transaction."""

    def histories(self, mrns: Collection[str]) -> dict[str, StoredHistory]: ...

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """`count` fresh ids for `table` (the transaction holds the write lock or the sequence)."""
        ...

    def insert(self, table: str, rows: list[JsonObject]) -> None: ...

    def save_patient(
        self,
        patient: Patient,
        states: dict[str, str],
        old: dict[str, str],
        version: int,
        histology: str | None,
        at: datetime,
    ) -> Patient:
        """Compare-and-set on the version, as recording does; Conflict if someone changed it."""
        ...


class OpenedLevel(NamedTuple):
    """An alert level the set-based sweep raised (its 'opened' audit row is written by the service)."""

    id: int
    patient_id: int
    rule: str
    severity: str
    message: str
    urgent: bool


class SweepRaise(NamedTuple):
    opened: list[OpenedLevel]  # by id
    resolved: list[tuple[int, str]]  # lower levels resolved by an escalation: (alert id, resolution)
    patients: int  # patients with a due level in the batch


class Renotified(NamedTuple):
    notification_id: int
    alert_id: int
    patient_id: int
    rule: str
    round: int
    channel: str
    recipient: str


class SweepWrites(Protocol):
    """The sweep's writes as set-based SQL (database adapters only; the in-memory unit of work has
    none and the sweep then takes the per-row path, which writes the same rows)."""

    def raise_due(
        self, follow_up_ids: list[int], now: datetime, pathway_hash: str, routes: tuple[Route, ...]
    ) -> SweepRaise:
        """Raise these follow-ups' due levels (those still open and due at `now`; their patients
        locked by the caller)."""
        ...

    def renotify_ids(self, now: datetime) -> list[int]: ...

    def renotify_due(
        self,
        now: datetime,
        every: timedelta,
        routes: tuple[Route, ...],
        titles: Mapping[str, str],
        alert_ids: list[int],
    ) -> list[Renotified]: ...


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    notify_channel: str | None
    notify_to: str | None
    notify_min_severity: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """A patient's care team and named coordinator (None: the team as a whole)."""

    patient_id: int
    team: str
    coordinator: str | None
    assigned_at: datetime
    assigned_by: str


class TeamRepository(Protocol):
    def add(
        self, name: str, channel: str | None, to: str | None, min_severity: str, at: datetime
    ) -> Team: ...

    def by_name(self, name: str) -> Team | None: ...

    def listing(self) -> list[Team]: ...

    def add_member(self, team_id: int, user_id: int, at: datetime) -> bool:
        """False if the user was already a member."""
        ...

    def remove_member(self, team_id: int, user_id: int) -> bool:
        """False if the user was not a member."""
        ...

    def teams_of(self, user_id: int) -> list[str]: ...

    def assign(
        self, patient_id: int, team_id: int, coordinator_id: int | None, at: datetime, by: str
    ) -> None:
        """Set (insert or replace) the patient's current assignment."""
        ...

    def assignment(self, patient_id: int) -> Assignment | None: ...

    def caseload(self, coordinator_id: int, team_id: int | None) -> list[int]:
        """Ids of the patients whose named coordinator is this user (in this team, if given)."""
        ...

    def mrns(self, team_ids: Collection[int] | None, coordinator_id: int | None) -> set[str]:
        """MRNs of the patients in any of these teams and/or named to this coordinator."""
        ...

    def shared(self, team_ids: Collection[int]) -> set[str]:
        """MRNs of the patients of these teams who have no named coordinator."""
        ...

    def targets(self, patient_ids: Collection[int]) -> dict[int, Team]:
        """Each patient's team, for those whose team has a notification target."""
        ...


class UnitOfWork(Protocol):
    teams: TeamRepository
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

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, read_only: bool = False) -> UnitOfWork: ...


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    pathway: Pathway
    zone: tzinfo
    holidays: Calendar | None = None
    routes: tuple[Route, ...] = DEFAULT_ROUTES
    mrn: MrnPolicy = DEFAULT_MRN_POLICY

    def read(self) -> UnitOfWork:
        """A unit of work that only reads: one snapshot, never the write lock (SQLite) and a
        READ ONLY transaction (PostgreSQL), so lists and reports do not hold up recording."""
        return self.uow(read_only=True)

    @property
    def calendar(self) -> Calendar:
        return self.holidays or Calendar(self.zone)


@dataclass(frozen=True)
class User:
    """A person who signs in; only a hash of their API token is stored."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def usable(self, now: datetime) -> bool:
        """Active and its token not past its expiry."""
        return self.active and (self.expires_at is None or now < self.expires_at)


class UserRepository(Protocol):
    def add(
        self, name: str, role: str, token_hash: str, at: datetime, expires_at: datetime | None = None
    ) -> User: ...

    def by_id(self, user_id: int) -> User | None: ...

    def by_name(self, name: str) -> User | None: ...

    def by_token_hash(self, token_hash: str) -> User | None: ...

    def listing(self) -> list[User]: ...

    def revoke(self, user_id: int, at: datetime) -> bool:
        """Mark an active user revoked (compare-and-set); False if already revoked."""
        ...

    def reset_token(self, user_id: int, token_hash: str) -> None:
        """Give the user a new token hash (the old token stops working) and make them active."""
        ...

    def set_role(self, user_id: int, role: str) -> None: ...


@dataclass(frozen=True)
class PathwayVersion:
    """An applied pathway file: its content hash, who approved it and why, what changed."""

    number: int
    pathway_id: str
    content_hash: str
    label: str  # the file's own `pathway.version`
    applied_at: datetime
    applied_by: str
    approved_by: str
    note: str
    changes: list[JsonObject]
    text: str
    rederived_at: datetime | None = None


class PathwayVersionRepository(Protocol):
    def latest(self, pathway_id: str) -> PathwayVersion | None: ...

    def listing(self, pathway_id: str) -> list[PathwayVersion]:
        """Newest first."""
        ...

    def add(self, version: PathwayVersion) -> None:
        """Insert; a concurrent apply with the same number raises Conflict."""
        ...

    def mark_rederived(self, pathway_id: str, number: int, at: datetime) -> None: ...


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser, kept server-side (the cookie holds only its random id)."""

    user_id: int
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None


class SessionRepository(Protocol):
    def add(self, id_hash: str, user_id: int, at: datetime) -> None: ...

    def get(self, id_hash: str) -> WebSession | None: ...

    def touch(self, id_hash: str, at: datetime) -> None:
        """Record the last time the session was used."""
        ...

    def revoke(self, id_hash: str, at: datetime) -> None: ...

    def revoke_user(self, user_id: int, at: datetime) -> int:
        """End every live session of the user; how many."""
        ...


@dataclass(frozen=True)
class AuditEntry:
    """Who did or viewed what, when, to which patient (MRN), from where (address or "cli")."""

    at: datetime
    actor: str
    action: str
    origin: str
    mrn: str | None = None
    detail: JsonObject | None = None
    id: int | None = None


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def find(self, user: str | None, mrn: str | None, since: datetime | None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        ...
