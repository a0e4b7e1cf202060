"""The reminder process: APScheduler 3.x as a clock for a few periodic jobs (never one job per item).

The schedule lives in the database; a missed or doubled run does no harm because every job is
idempotent. A catch-up sweep runs before the scheduler starts, so downtime is made up at once.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.blocking import BlockingScheduler

from pathway.ports import Deps
from scheduler.jobs import sweep_job

log = logging.getLogger("pathway.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def build_scheduler(deps: Deps, sweep_minutes: int) -> BlockingScheduler:
    """A scheduler with its jobs declared but not started (tests inspect it as it is)."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    scheduler.add_job(sweep_job, "interval", minutes=sweep_minutes, args=[deps], id="sweep",
                      name="sweep follow-ups and alerts", replace_existing=True)
    scheduler.add_listener(_on_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _on_problem(event: JobEvent) -> None:
    exc = getattr(event, "exception", None)
    log.error("job %s: %s", event.job_id, repr(exc) if exc else f"event code {event.code}")


def run(deps: Deps, sweep_minutes: int) -> None:
    """Catch up, then run in the foreground until SIGINT or SIGTERM; stop cleanly."""
    log.info("catch-up sweep before starting")
    sweep_job(deps)
    scheduler = build_scheduler(deps, sweep_minutes)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after the running job", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler running: sweep every %d minute(s)", sweep_minutes)
    scheduler.start()
    log.info("scheduler stopped")
