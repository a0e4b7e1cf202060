"""Is the engine working? Records each periodic job's run and judges readiness from stored facts.

Readiness is "degraded" (never "down" for a single check) as soon as one named check fails: the
database is unreachable or behind the code's schema, the sweep has not succeeded within twice its
interval, today's report is missing after its hour, or a notification is dead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from pathway.domain.clinical_time import local_date
from pathway.domain.errors import PathwayError
from pathway.domain.records import NotificationStatus, ReportRunStatus
from pathway.ports import Deps, OperationsFacts

T = TypeVar("T")
log = logging.getLogger("pathway.services.health")
SWEEP, NOTIFY, REPORT = "sweep", "notify", "report"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Health:
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def status(self) -> str:
        return "ok" if self.healthy else "degraded"

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
        }


def run_recorded(deps: Deps, name: str, job: Callable[[], T]) -> T:
    """Run a periodic job and record its start, duration and outcome (the error re-raised)."""
    started_at = deps.clock.now()
    began = time.perf_counter()  # a monotonic duration, not a wall-clock reading
    try:
        result = job()
    except Exception as exc:
        _record(deps, name, started_at, time.perf_counter() - began, f"{type(exc).__name__}: {exc}")
        raise
    _record(deps, name, started_at, time.perf_counter() - began, None)
    return result


def _record(deps: Deps, name: str, started_at: datetime, seconds: float, error: str | None) -> None:
    """Best effort: a job that did its work is not failed because its record could not be written."""
    try:
        with deps.uow() as uow:
            uow.operations.record_run(name, started_at, deps.clock.now(), seconds, error)
            uow.commit()
    except PathwayError as exc:
        log.warning("could not record the %s run: %s", name, exc)


def facts(deps: Deps) -> OperationsFacts:
    now = deps.clock.now()
    with deps.read() as uow:
        return uow.operations.facts(now, local_date(now, deps.zone))


def readiness(deps: Deps, sweep_minutes: int, report_time: str, storage: tuple[Check, ...] = ()) -> Health:
    """The named checks; `storage` (database reachable, schema current) comes from the adapter."""
    if not all(c.ok for c in storage):
        skipped = "not checked: the database is not ready"
        rest = tuple(Check(name, False, skipped) for name in (SWEEP, REPORT, "notifications"))
        return Health(storage + rest)
    now = deps.clock.now()
    known = facts(deps)
    return Health(
        (
            *storage,
            sweep_check(known, now, sweep_minutes),
            report_check(known, now.astimezone(deps.zone), report_time),
            notifications_check(known),
        )
    )


def sweep_check(known: OperationsFacts, now: datetime, sweep_minutes: int) -> Check:
    run = known.jobs.get(SWEEP)
    if run is None or run.last_success_at is None:
        return Check(SWEEP, False, "the sweep has never run successfully; start `pathway scheduler`")
    age = now - run.last_success_at
    limit = timedelta(minutes=2 * sweep_minutes)
    minutes = int(age.total_seconds() // 60)
    if age > limit:
        failing = f"; last error: {run.last_error}" if run.last_error else ""
        return Check(
            SWEEP,
            False,
            f"last successful sweep {minutes} minute(s) ago, more than twice its "
            f"{sweep_minutes}-minute interval{failing}",
        )
    return Check(SWEEP, True, f"last successful sweep {minutes} minute(s) ago")


def report_check(known: OperationsFacts, local_now: datetime, report_time: str) -> Check:
    hour, minute = (int(x) for x in report_time.split(":"))
    due = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    today = local_now.date()
    if known.today_report == ReportRunStatus.DONE:
        return Check(REPORT, True, f"today's report ({today}) is written")
    if local_now < due:
        return Check(REPORT, True, f"today's report is due at {report_time}")
    return Check(REPORT, False, f"today's report ({today}) is not written; it was due at {report_time}")


def notifications_check(known: OperationsFacts) -> Check:
    dead = known.outbox.get(NotificationStatus.DEAD, 0)
    if dead:
        return Check(
            "notifications",
            False,
            f"{dead} notification(s) could not be delivered; see `pathway notifications --status dead`",
        )
    return Check("notifications", True, "no undeliverable notifications")
