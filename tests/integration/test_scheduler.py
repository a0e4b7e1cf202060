"""The reminder process: its APScheduler wiring, its job, and `pathway scheduler` as a real process."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger

from pathway.bootstrap import build
from pathway.ports import Deps
from pathway.services import alerting, patients
from scheduler import jobs
from scheduler.runner import build_scheduler
from tests.fakes import FixedClock, utc
from tests.logscan import watch

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from pathway.cli.app import main; main()"]


def test_build_scheduler_declares_one_interval_sweep_job_without_starting(deps: Deps) -> None:
    scheduler = build_scheduler(deps, 5)

    assert scheduler.state == STATE_STOPPED and not scheduler.running
    [job] = scheduler.get_jobs()
    assert job.id == "sweep"
    assert job.func is jobs.sweep_job and list(job.args) == [deps]
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(minutes=5)


def test_the_scheduler_coalesces_missed_runs_and_never_overlaps_sweeps(deps: Deps) -> None:
    scheduler = build_scheduler(deps, 5)

    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def test_the_sweep_job_sweeps_and_logs_one_summary_line(
    deps: Deps, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    patients.enroll(deps, "MRN-1", on=date(2026, 3, 2))
    clock.advance(days=30)

    with caplog.at_level(logging.INFO, logger="pathway.scheduler"):
        jobs.sweep_job(deps)

    [line] = [r.getMessage() for r in caplog.records if r.name == "pathway.scheduler"]
    assert line.startswith("sweep: 1 patient(s) checked")
    assert "5 alert(s) opened" in line
    assert len(alerting.list_alerts(deps)) == 5


# --- `pathway scheduler` as a process -----------------------------------------------------------


@pytest.fixture
def process_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An initialised SQLite file with one patient enrolled in March 2026 (overdue by now)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAY_")}
    env |= {
        "PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'pathway.db'}",
        "PATHWAY_TIMEZONE": "Europe/London",
    }
    init = subprocess.run([*CLI, "init"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    application = build(env)
    deps = Deps(
        uow=application.deps.uow,
        clock=FixedClock(utc(2026, 3, 2, 9)),
        pathway=application.deps.pathway,
        zone=application.deps.zone,
    )
    patients.enroll(deps, "MRN-1", on=date(2026, 3, 2))
    application.engine.dispose()
    yield env


def wait_for(log: Path, text: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {seconds} s:\n{log.read_text()}")


def test_the_scheduler_process_catches_up_runs_and_stops_cleanly_on_sigterm(
    process_env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "scheduler.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [*CLI, "scheduler", "--sweep-minutes", "1"],
            cwd=ROOT,
            env=process_env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        content = wait_for(log, "scheduler running", 60)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert code == 0, log.read_text()
    content = log.read_text()
    watch.lines("pathway scheduler", content.splitlines())
    assert "received SIGTERM" in content
    assert content.rstrip().splitlines()[-1].endswith("scheduler stopped")
    catch_up = content.index("catch-up sweep")
    summary = content.index("sweep: 1 patient(s) checked")
    assert catch_up < summary < content.index("scheduler running: sweep every 1 minute(s)")
    assert "Traceback" not in content


@pytest.mark.parametrize("minutes", ["0", "1441"])
def test_an_out_of_range_sweep_interval_is_a_usage_error(process_env: dict[str, str], minutes: str) -> None:
    process = subprocess.Popen(
        [*CLI, "scheduler", "--sweep-minutes", minutes],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"--sweep-minutes {minutes} started a scheduler instead of being refused:\n{err}")

    assert process.returncode == 2, (process.returncode, out, err)
    assert "--sweep-minutes" in err and "between 1 and 1440" in err
    assert "scheduler running" not in err and "internal error" not in err
