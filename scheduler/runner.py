"""The reminder process: APScheduler 3.x as a clock for a few periodic jobs (never one job per item).

The schedule lives in the database; a missed or doubled run does no harm because every job is
idempotent. Before the scheduler starts, a catch-up pass runs the sweep, delivers what is due and
writes today's report if it is past the report time and the report is missing.
"""

from __future__ import annotations

import logging
import random
import signal
from dataclasses import dataclass, field
from datetime import time
from types import FrameType

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from pathway.domain.clinical_time import local_date
from pathway.domain.notify import RetryPolicy
from pathway.ports import Deps, Sender
from pathway.services.daily_report import ReportConfig, daily_report_job, mail_pending_report, report_missing
from pathway.services.health import NOTIFY, REPORT, run_recorded
from pathway.services.outbox import dispatch
from scheduler.jobs import sweep_job

log = logging.getLogger("pathway.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class Jobs:
    deps: Deps
    sweep_minutes: int = 5
    senders: dict[str, Sender] | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    report_time: str = "07:00"
    report: ReportConfig | None = None

    def dispatch(self) -> None:
        result = run_recorded(
            self.deps, NOTIFY, lambda: dispatch(self.deps, self.senders or {}, self.policy, random.random)
        )
        if result.sent or result.retried or result.dead or result.cancelled:
            log.info(
                "notify: %d sent, %d to retry, %d dead, %d cancelled",
                result.sent,
                result.retried,
                result.dead,
                result.cancelled,
            )

    def daily_report(self) -> None:
        report = self.report
        if report is not None:
            run_recorded(self.deps, REPORT, lambda: daily_report_job(self.deps, report, self.senders))

    def report_watch(self) -> None:
        """Every few minutes: a report missing past its hour (its writer died) is written, and a
        stored report whose mail failed or whose mailer died is mailed again."""
        report = self.report
        if report is None:
            return
        if self.report_due_now():
            self.daily_report()
        else:
            mail_pending_report(self.deps, report)

    def report_due_now(self) -> bool:
        now = self.deps.clock.now().astimezone(self.deps.zone)
        hour, minute = (int(x) for x in self.report_time.split(":"))
        return (
            self.report is not None
            and now.time() >= time(hour, minute)
            and local_date(now, self.deps.zone) == now.date()
            and report_missing(self.deps)
        )


def build_scheduler(jobs: Jobs | Deps, sweep_minutes: int | None = None) -> BlockingScheduler:
    """A scheduler with its jobs declared but not started (tests inspect it as it is)."""
    if not isinstance(jobs, Jobs):
        jobs = Jobs(jobs, sweep_minutes or 5)
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    scheduler.add_job(
        sweep_job,
        "interval",
        minutes=jobs.sweep_minutes,
        args=[jobs.deps],
        id="sweep",
        name="sweep follow-ups and alerts",
        replace_existing=True,
    )
    if jobs.senders is not None:
        scheduler.add_job(
            jobs.dispatch,
            "interval",
            minutes=1,
            id="notify",
            name="deliver notifications",
            replace_existing=True,
        )
    if jobs.report is not None:
        hour, minute = (int(x) for x in jobs.report_time.split(":"))
        scheduler.add_job(
            jobs.daily_report,
            CronTrigger(hour=hour, minute=minute, timezone=jobs.deps.zone),
            id="daily_report",
            name="daily status report",
            replace_existing=True,
        )
        scheduler.add_job(
            jobs.report_watch,
            "interval",
            minutes=5,
            id="report_watch",
            name="retake a report or its mail left by a process that died",
            replace_existing=True,
        )
    scheduler.add_listener(_on_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _on_problem(event: JobEvent) -> None:
    exc = getattr(event, "exception", None)
    log.error("job %s: %s", event.job_id, repr(exc) if exc else f"event code {event.code}")


def catch_up(jobs: Jobs) -> None:
    log.info("catch-up sweep before starting")
    sweep_job(jobs.deps)
    if jobs.senders is not None:
        jobs.dispatch()
    if jobs.report_due_now():
        log.info("catch-up: today's report is missing")
        jobs.daily_report()


def run(jobs: Jobs | Deps, sweep_minutes: int | None = None) -> None:
    """Catch up, then run in the foreground until SIGINT or SIGTERM; stop cleanly."""
    if not isinstance(jobs, Jobs):
        jobs = Jobs(jobs, sweep_minutes or 5)
    catch_up(jobs)
    scheduler = build_scheduler(jobs)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after the running job", signal.Signals(signum).name)
        if scheduler.running:
            scheduler.shutdown(wait=True)
        else:  # the signal came before start(): nothing runs yet
            log.info("scheduler stopped")
            raise SystemExit(0)

    def running(_event: object) -> None:
        log.info("scheduler running: sweep every %d minute(s)", jobs.sweep_minutes)

    scheduler.add_listener(running, EVENT_SCHEDULER_STARTED)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
    log.info("scheduler stopped")


def start_background(jobs: Jobs) -> BackgroundScheduler:
    """The same jobs in a daemon thread (for `pathway serve --with-scheduler`); stop with shutdown().

    The catch-up pass runs at once as a one-off job, so the web app does not wait for it.
    """
    blueprint = build_scheduler(jobs)
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS, daemon=True)
    scheduler.add_job(catch_up, args=[jobs], id="catch_up", name="catch-up before the schedule")
    for job in blueprint.get_jobs():
        scheduler.add_job(
            job.func,
            job.trigger,
            args=job.args,
            kwargs=job.kwargs,
            id=job.id,
            name=job.name,
            replace_existing=True,
        )
    scheduler.add_listener(_on_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    log.info("background scheduler running: sweep every %d minute(s)", jobs.sweep_minutes)
    return scheduler
