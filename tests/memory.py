"""An in-memory unit of work: the ports of pathway/ports.py in plain Python, for service unit tests.

One `MemoryStore` holds the rows (dicts keyed by column, as the tables hold them); each unit of
work copies it on entry and writes the copy back only on commit(), so a refused use case leaves
nothing behind, as a rolled-back transaction does. Compare-and-set updates, unique keys and the
patient version check behave as in db/. What the service tests do not use (the report queries,
users, the notification dispatcher's claims) is not implemented and says so when called.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from types import TracebackType
from typing import Any

from pathway.domain.errors import Conflict
from pathway.domain.integrity import GENESIS, StoredAction, chain_rows, event_digest
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
from pathway.domain.records import (
    AlertChange,
    DeliveryOutcome,
    FollowUpChange,
    InsertedAlert,
    NewAlert,
    NewAlertAction,
    NewFollowUp,
    NewNotification,
    RaisedLevel,
)
from pathway.domain.rows import AlertActionEntry, AttemptRow
from pathway.domain.rules_spec import SEVERITY_RANK
from pathway.domain.status import FollowUpStatus, Outcome, follow_up_status
from pathway.ports import AuditEntry, Renotifiable

LIVE = ("open", "acknowledged", "snoozed")
_FU_FIELDS = [f.name for f in fields(StoredFollowUp)]
_ALERT_FIELDS = [f.name for f in fields(StoredAlert)]
_NOTIFICATION_FIELDS = [f.name for f in fields(Notification)]


@dataclass
class MemoryStore:
    patients: dict[int, dict[str, Any]] = field(default_factory=dict)
    states: dict[int, dict[str, str]] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    follow_ups: dict[int, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[int, dict[str, Any]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    notifications: dict[int, dict[str, Any]] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    handovers: list[tuple[int, int, datetime, dict[str, Any]]] = field(default_factory=list)
    last_id: int = 0
    commits: int = 0

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def rows(self) -> tuple[int, ...]:
        """How many rows each table holds (to prove that nothing was written)."""
        return (
            len(self.patients),
            len(self.events),
            len(self.follow_ups),
            len(self.alerts),
            len(self.actions),
            len(self.notifications),
        )


def _missing(what: str) -> NotImplementedError:
    return NotImplementedError(f"the in-memory unit of work does not implement {what}; use the database")


def _patient(row: dict[str, Any]) -> Patient:
    return Patient(**{f.name: row[f.name] for f in fields(Patient)})


def _follow_up(row: dict[str, Any]) -> StoredFollowUp:
    return StoredFollowUp(**{k: copy.copy(row[k]) for k in _FU_FIELDS if k in row})


def _alert(row: dict[str, Any]) -> StoredAlert:
    return StoredAlert(**{k: copy.copy(row[k]) for k in _ALERT_FIELDS if k in row})


class MemoryPatients:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def add(
        self,
        mrn: str,
        name: str | None,
        birth_date: date | None,
        histology: str | None,
        enrolled_on: date,
        enrolled_at: datetime,
        states: dict[str, str],
    ) -> Patient:
        if any(p["mrn"] == mrn for p in self.s.patients.values()):
            raise Conflict(f"the change conflicts with stored data (MRN {mrn} exists)")
        pid = self.s.next_id()
        self.s.patients[pid] = {
            "id": pid,
            "mrn": mrn,
            "name": name,
            "birth_date": birth_date,
            "histology": histology,
            "enrolled_on": enrolled_on,
            "enrolled_at": enrolled_at,
            "version": 1,
        }
        self.s.states[pid] = dict(states)
        return _patient(self.s.patients[pid])

    def by_mrn(self, mrn: str, lock: bool = False) -> Patient | None:
        return next((_patient(p) for p in self.s.patients.values() if p["mrn"] == mrn), None)

    def by_mrn_with_states(self, mrn: str, lock: bool = False) -> tuple[Patient, dict[str, str]] | None:
        patient = self.by_mrn(mrn)
        return (patient, self.states(patient.id)) if patient else None

    def correct_demographics(self, patient: Patient, name: str | None, birth_date: date | None) -> Patient:
        values = {k: v for k, v in (("name", name), ("birth_date", birth_date)) if v is not None}
        self.s.patients[patient.id].update(values)
        return Patient(**{**patient.__dict__, **values})

    def same_person(self, name: str, birth_date: date) -> list[str]:
        key = " ".join(name.split()).casefold()
        return sorted(
            p["mrn"]
            for p in self.s.patients.values()
            if p.get("birth_date") == birth_date and " ".join((p.get("name") or "").split()).casefold() == key
        )

    def by_id(self, patient_id: int) -> Patient | None:
        row = self.s.patients.get(patient_id)
        return _patient(row) if row else None

    def lock(self, patient_id: int) -> None:
        """One process, one store: nothing to wait for."""

    def lock_many(self, patient_ids: list[int]) -> None:
        """As lock()."""

    def states_many(self, patient_ids: list[int]) -> dict[int, dict[str, str]]:
        return {pid: self.states(pid) for pid in patient_ids if pid in self.s.states}

    def states(self, patient_id: int) -> dict[str, str]:
        return dict(self.s.states.get(patient_id, {}))

    def save(
        self,
        patient: Patient,
        states: dict[str, str],
        at: datetime,
        histology: str | None = None,
        old: dict[str, str] | None = None,
    ) -> Patient:
        row = self.s.patients[patient.id]
        if row["version"] != patient.version:
            raise Conflict(
                f"patient {patient.id} was changed by someone else meanwhile "
                f"(expected version {patient.version}); reload and try again"
            )
        row["version"] += 1
        if histology is not None:
            row["histology"] = histology
        self.s.states[patient.id] = dict(states)
        return _patient(row)

    def listing(
        self, track: str | None, state: str | None, after: str | None = None, limit: int | None = None
    ) -> list[tuple[Patient, dict[str, str]]]:
        out = []
        for pid, row in sorted(self.s.patients.items(), key=lambda kv: kv[1]["mrn"]):
            states = self.states(pid)
            if (track is None or state is None or states.get(track) == state) and (
                after is None or row["mrn"] > after
            ):
                out.append((_patient(row), states))
        return out[:limit] if limit is not None else out


class MemoryEvents:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def append(self, event: NewEvent) -> EventRecord:
        record = EventRecord(
            id=self.s.next_id(),
            patient_id=event.patient_id,
            type=event.type,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            actor=event.actor,
            data=dict(event.data),
            reason=event.reason,
            changes=dict(event.changes),
        )
        self.s.events.append(record)
        return record

    def for_patient(self, patient_id: int) -> list[EventRecord]:
        return [e for e in self.s.events if e.patient_id == patient_id]

    def of_types(
        self, types: Collection[str], patient_ids: Collection[int] | None = None
    ) -> list[tuple[str, EventRecord]]:
        mrns = {pid: p["mrn"] for pid, p in self.s.patients.items()}
        return [
            (mrns[e.patient_id], e)
            for e in self.s.events
            if e.type in types and (patient_ids is None or e.patient_id in patient_ids)
        ]

    def chains(self, patient_id: int) -> dict[int, str | None]:
        chain, previous = {}, GENESIS
        for e in self.for_patient(patient_id):
            chain[e.id] = previous = event_digest(previous, e)
        return chain


class MemoryFollowUps:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def _open(self) -> list[dict[str, Any]]:
        return [r for r in self.s.follow_ups.values() if r["status"] == Outcome.OPEN]

    def windows(self, follow_up_ids: Collection[int]) -> dict[int, tuple[datetime, datetime, bool]]:
        return {
            i: (r["opens_at"], r["closes_at"], bool(r["clock_time"]))
            for i in follow_up_ids
            if (r := self.s.follow_ups.get(i)) is not None
        }

    def for_patient(self, patient_id: int, rules: Collection[str] | None = None) -> list[StoredFollowUp]:
        rows = [
            r
            for r in self.s.follow_ups.values()
            if r["patient_id"] == patient_id and (rules is None or r["rule"] in rules)
        ]
        return [_follow_up(r) for r in sorted(rows, key=lambda r: (r["closes_at"], r["id"]))]

    def insert(self, values: list[NewFollowUp]) -> dict[tuple[str, str, datetime], int]:
        inserted = {}
        for v in (r.values() for r in values):
            key = (v["patient_id"], v["rule"], v["region"], v["anchor_at"])
            if any(
                (r["patient_id"], r["rule"], r["region"], r["anchor_at"]) == key
                for r in self.s.follow_ups.values()
            ):
                continue  # ON CONFLICT DO NOTHING on the instance key
            fid = self.s.next_id()
            self.s.follow_ups[fid] = {"id": fid, **copy.deepcopy(v)}
            inserted[(v["rule"], v["region"], v["anchor_at"])] = fid
        return inserted

    def update(self, follow_up_id: int, expected_status: str, change: FollowUpChange) -> bool:
        row = self.s.follow_ups.get(follow_up_id)
        if row is None or row["status"] != expected_status:
            return False
        row.update(copy.deepcopy(change.values()))
        return True

    def patients_to_check(self, now: datetime, limit: int) -> list[int]:
        due = {
            a["patient_id"]
            for a in self.s.alerts.values()
            if (a["status"] == "snoozed" and a.get("snoozed_until") and a["snoozed_until"] <= now)
            or (a["status"] == "overridden" and a.get("override_until") and a["override_until"] <= now)
        }
        return sorted(due)[:limit]

    def alert_levels_due(self, now: datetime) -> dict[int, list[int]]:
        due: dict[int, list[int]] = {}
        for r in self._open():
            if r.get("next_alert_at") and r["next_alert_at"] <= now:
                due.setdefault(r["patient_id"], []).append(r["id"])
        return due

    def alerts_due_for(self, patient_ids: list[int], now: datetime) -> list[StoredFollowUp]:
        rows = [
            r
            for r in self._open()
            if r["patient_id"] in patient_ids and r.get("next_alert_at") and r["next_alert_at"] <= now
        ]
        return [_follow_up(r) for r in sorted(rows, key=lambda r: (r["patient_id"], r["id"]))]

    def set_raised(self, changes: list[RaisedLevel]) -> None:
        for c in changes:
            row = self.s.follow_ups[c.follow_up_id]
            row.update(raised=c.raised, next_alert_at=c.next_alert_at, updated_at=c.at)


class MemoryWorklist:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def _open_rows(self) -> list[dict[str, Any]]:
        return [r for r in self.s.follow_ups.values() if r["status"] == Outcome.OPEN]

    def steps(self, until: datetime, limit: int | None = None) -> list[WorkStep]:
        rows = sorted(
            (r for r in self._open_rows() if r["opens_at"] <= until),
            key=lambda r: (-r.get("raised", 0), r["closes_at"], r["id"]),
        )
        mrn = {pid: p["mrn"] for pid, p in self.s.patients.items()}
        steps = [
            WorkStep(
                r["id"],
                r["rule"],
                r["region"],
                r["anchor_label"],
                r["opens_at"],
                r["closes_at"],
                r["clock_time"],
                mrn[r["patient_id"]],
                r["anchor_at"],
            )
            for r in rows
        ]
        return steps[:limit] if limit else steps

    def step_counts(self, at: datetime, until: datetime) -> dict[FollowUpStatus, int]:
        out: dict[FollowUpStatus, int] = {}
        for r in self._open_rows():
            if r["opens_at"] <= until:
                status = follow_up_status(r["status"], r["opens_at"], r["closes_at"], at)
                out[status] = out.get(status, 0) + 1
        return out

    def in_states(
        self, track: str, states: tuple[str, ...], mrns: Collection[str] | None = None
    ) -> list[tuple[str, str]]:
        return [
            (self.s.patients[pid]["mrn"], by_track[track])
            for pid, by_track in self.s.states.items()
            if by_track.get(track) in states and (mrns is None or self.s.patients[pid]["mrn"] in mrns)
        ]

    def alert_counts(self, statuses: tuple[str, ...]) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.s.alerts.values():
            if a["status"] in statuses:
                out[a["severity"]] = out.get(a["severity"], 0) + 1
        return out

    def open_alerts(self, limit: int | None = None) -> list[AlertLine]:
        mrn = {pid: p["mrn"] for pid, p in self.s.patients.items()}
        rows = sorted(
            (a for a in self.s.alerts.values() if a["status"] == "open"),
            key=lambda a: (-SEVERITY_RANK[a["severity"]], a["opened_at"]),
        )
        lines = [
            AlertLine(
                a["id"],
                a["follow_up_id"],
                a["rule"],
                a["severity"],
                a["message"],
                a["source"],
                bool(a["held"]),
                mrn[a["patient_id"]],
            )
            for a in rows
        ]
        return lines[:limit] if limit else lines


class MemoryAlerts:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def for_patient(self, patient_id: int) -> list[StoredAlert]:
        return [
            _alert(a)
            for a in sorted(self.s.alerts.values(), key=lambda a: a["id"])
            if a["patient_id"] == patient_id
        ]

    def get(self, alert_id: int) -> StoredAlert | None:
        row = self.s.alerts.get(alert_id)
        return _alert(row) if row else None

    def renotify_due(self, now: datetime) -> list[Renotifiable]:
        return [
            Renotifiable(_alert(a), a["created_at"], a.get("track") or "")
            for a in sorted(self.s.alerts.values(), key=lambda a: a["id"])
            if a.get("next_renotify_at") is not None
            and a["next_renotify_at"] <= now
            and a["status"] in ("open", "acknowledged")
            and a["severity"] == "critical"
        ]

    def set_next_renotify(self, due: list[tuple[int, datetime]]) -> None:
        for alert_id, at in due:
            self.s.alerts[alert_id]["next_renotify_at"] = at

    def insert(self, alert: NewAlert) -> int | None:
        values = alert.values()
        key = (values["patient_id"], values["rule"], values["instance_key"], values["severity"])
        if any(
            (a["patient_id"], a["rule"], a["instance_key"], a["severity"]) == key
            for a in self.s.alerts.values()
        ):
            return None  # ON CONFLICT DO NOTHING on the alert level
        aid = self.s.next_id()
        row = {f: None for f in _ALERT_FIELDS} | {"states_at_fire": {}} | copy.deepcopy(values) | {"id": aid}
        self.s.alerts[aid] = row
        return aid

    def insert_many(self, values: list[NewAlert]) -> list[InsertedAlert]:
        out = []
        for v in values:
            aid = self.insert(v)
            if aid is not None:
                out.append(InsertedAlert(aid, v.patient_id, v.rule, v.instance_key, v.severity))
        return out

    def add_actions(self, values: list[NewAlertAction]) -> None:
        self._append([copy.deepcopy(v.values()) for v in values])

    def _append(self, rows: list[dict[str, Any]]) -> None:
        """Chained as db.alert_audit does: the alert keeps its last row's hash."""
        heads = {aid: a.get("action_chain") for aid, a in self.s.alerts.items()}
        for aid, head in chain_rows(heads, rows).items():
            if aid in self.s.alerts:
                self.s.alerts[aid]["action_chain"] = head
        for i, row in enumerate(rows, start=len(self.s.actions) + 1):
            row["id"] = i
        self.s.actions += rows

    def audit_chains(self) -> list[tuple[int, list[StoredAction], str | None]]:
        keys = ("id", "alert_id", "action", "actor", "at", "note", "data", "chain")
        return [
            (
                aid,
                [StoredAction(*(r[k] for k in keys)) for r in self.s.actions if r["alert_id"] == aid],
                a.get("action_chain"),
            )
            for aid, a in sorted(self.s.alerts.items())
        ]

    def live_for(self, patient_ids: list[int]) -> list[StoredAlert]:
        return [
            _alert(a)
            for a in self.s.alerts.values()
            if a["patient_id"] in patient_ids and a["status"] in LIVE
        ]

    def resolve_many(self, alert_ids: list[int], resolution: str, now: datetime) -> list[int]:
        done = []
        for aid in alert_ids:
            a = self.s.alerts.get(aid)
            if a is not None and a["status"] in LIVE:
                a.update(
                    status="resolved",
                    resolved_at=now,
                    resolution=resolution,
                    updated_at=now,
                    next_renotify_at=None,
                )
                done.append(aid)
        return done

    def update(self, alert_id: int, expected_status: str, change: AlertChange) -> bool:
        row = self.s.alerts.get(alert_id)
        if row is None or row["status"] != expected_status:
            return False
        row.update(copy.deepcopy(change.values()))
        return True

    def update_many(self, changes: list[tuple[int, str, AlertChange]]) -> list[bool]:
        return [self.update(*c) for c in changes]

    def listing(
        self,
        statuses: tuple[str, ...] | None,
        mrn: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[tuple[StoredAlert, str]]:
        mrns = {pid: p["mrn"] for pid, p in self.s.patients.items()}
        out = [
            (_alert(a), mrns[a["patient_id"]])
            for a in sorted(self.s.alerts.values(), key=lambda a: a["id"])
            if (not statuses or a["status"] in statuses)
            and (mrn is None or mrns[a["patient_id"]] == mrn)
            and (after is None or a["id"] > after)
        ]
        return out[:limit] if limit is not None else out

    def add_action(
        self,
        alert_id: int,
        action: str,
        actor: str,
        at: datetime,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self._append(
            [
                {
                    "alert_id": alert_id,
                    "action": action,
                    "actor": actor,
                    "at": at,
                    "note": note,
                    "data": data or {},
                }
            ]
        )

    def actions(self, alert_id: int) -> list[AlertActionEntry]:
        return [
            AlertActionEntry(a["action"], a["actor"], a["at"], a["note"])
            for a in self.s.actions
            if a["alert_id"] == alert_id
        ]


class MemoryNotifications:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def add_many(self, values: list[NewNotification]) -> None:
        for row in values:
            if any(n["idempotency_key"] == row.idempotency_key for n in self.s.notifications.values()):
                continue
            nid = self.s.next_id()
            self.s.notifications[nid] = copy.deepcopy(row.values()) | {"id": nid}

    def existing_keys(self, keys: list[str]) -> set[str]:
        stored = {n["idempotency_key"] for n in self.s.notifications.values()}
        return stored & set(keys)

    def listing(self, statuses: tuple[str, ...] | None, alert_id: int | None = None) -> list[Notification]:
        return [
            Notification(**{k: n.get(k) for k in _NOTIFICATION_FIELDS})
            for n in sorted(self.s.notifications.values(), key=lambda n: n["id"])
            if (not statuses or n["status"] in statuses) and (alert_id is None or n["alert_id"] == alert_id)
        ]

    def claim_due(self, now: datetime, limit: int) -> list[Notification]:
        raise _missing("the dispatcher's claims")

    def renew_claims(self, notification_ids: list[int], at: datetime) -> None:
        raise _missing("the dispatcher's claims")

    def requeue_dead(self, notification_ids: list[int] | None, at: datetime) -> list[int]:
        raise _missing("the dispatcher's claims")

    def release_stale(self, claimed_before: datetime) -> int:
        raise _missing("the dispatcher's claims")

    def finish(self, notification_id: int, status: str, outcome: DeliveryOutcome) -> bool:
        raise _missing("the dispatcher's claims")

    def attempt(self, notification_id: int, at: datetime, outcome: str, error: str | None) -> None:
        raise _missing("the dispatcher's attempts")

    def attempts_of(self, notification_id: int) -> list[AttemptRow]:
        raise _missing("the dispatcher's attempts")


class MemoryAudit:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def add(self, entry: AuditEntry) -> None:
        self.s.audit.append(entry)

    def find(self, user: str | None, mrn: str | None, since: datetime | None, limit: int) -> list[AuditEntry]:
        found = [
            e
            for e in reversed(self.s.audit)
            if (user is None or e.actor == user)
            and (mrn is None or e.mrn == mrn)
            and (since is None or e.at >= since)
        ]
        return found[:limit]


class _NotHere:
    """A repository the in-memory unit of work does not provide (reports, users)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, method: str) -> Any:
        raise _missing(f"{self.name}.{method}")


class MemoryTeams:
    """No care teams in memory: patients have no team, alerts no team route."""

    def targets(self, patient_ids: Collection[int]) -> dict[int, Any]:
        return {}

    def __getattr__(self, method: str) -> Any:
        raise _missing(f"teams.{method}")


class MemoryHandovers:
    def __init__(self, s: MemoryStore) -> None:
        self.s = s

    def add(self, patient_id: int, event_id: int, at: datetime, summary: dict[str, Any]) -> None:
        self.s.handovers.append((patient_id, event_id, at, copy.deepcopy(summary)))

    def latest(self, patient_id: int) -> dict[str, Any] | None:
        mine = [h for h in self.s.handovers if h[0] == patient_id]
        return copy.deepcopy(mine[-1][3]) if mine else None


class MemoryUnitOfWork:
    """One 'transaction': a copy of the store, written back by commit() only."""

    def __init__(self, store: MemoryStore, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only

    def __enter__(self) -> MemoryUnitOfWork:
        self._bind(copy.deepcopy(self.store))
        return self

    def _bind(self, work: MemoryStore) -> None:
        self.work = work
        self.patients = MemoryPatients(self.work)
        self.events = MemoryEvents(self.work)
        self.follow_ups = MemoryFollowUps(self.work)
        self.alerts = MemoryAlerts(self.work)
        self.worklist = MemoryWorklist(self.work)
        self.notifications = MemoryNotifications(self.work)
        self.handovers = MemoryHandovers(self.work)
        self.teams = MemoryTeams()
        self.interop: Any = _NotHere("interop")
        self.operations: Any = _NotHere("operations")
        self.reports: Any = _NotHere("reports")
        self.report_runs: Any = _NotHere("report runs")
        self.users: Any = _NotHere("users")
        self.audit = MemoryAudit(self.work)
        self.sessions: Any = _NotHere("web sessions")
        self.versions: Any = _NotHere("pathway versions")
        self.imports: Any = _NotHere("the batch import")
        self.sweep_writes = None  # the sweep takes its per-row path here

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bind(MemoryStore())  # anything not committed is gone with the copy

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use deps.uow()")
        self.work.commits = self.store.commits + 1
        self.store.__dict__.update(copy.deepcopy(self.work).__dict__)

    def rollback(self) -> None:
        self._bind(copy.deepcopy(self.store))


@dataclass
class MemoryUnitOfWorkFactory:
    store: MemoryStore = field(default_factory=MemoryStore)

    def __call__(self, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, read_only)
