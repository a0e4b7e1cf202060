"""A database that stays busy is said in one line (issue 17 item 6): while another connection holds
the write lock longer than PATHWAY_DB_BUSY_TIMEOUT_SECONDS, writing commands end with exit 3 and
"database busy, try again" within that bound (SQLite's busy_timeout; PostgreSQL's lock_timeout),
never a traceback or "internal error"; and sweeps running side by side on PostgreSQL all finish."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from pathway.bootstrap import build
from pathway.cli.app import app as cli
from pathway.ports import Deps
from pathway.services import alerting, patients
from pathway.services.retrying import rerun_on_deadlock

BOUND = 1.0  # the busy timeout these tests set, in seconds
SLACK = 6.0  # start-up of the command itself (settings, pathway file) on a shared machine


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def busy_env(environ: dict[str, str]) -> dict[str, str]:
    env = {**environ, "PATHWAY_DB_BUSY_TIMEOUT_SECONDS": str(BOUND)}
    assert run(env, "init", "--demo").exit_code == 0
    return env


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another process's long write: SQLite's write lock, or on PostgreSQL an EXCLUSIVE lock on the
    patient table (reads go on; every writer that locks a patient waits)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(parsed.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE patient IN EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ["record", "DEMO-001", "pain_score", "--set", "nrs=3", "--by", "j.smith"],
        ["sweep", "--all"],
        ["enroll", "NEW-1", "--histology", "sts"],
    ],
)
def test_a_writer_is_told_the_database_is_busy_within_the_bound(
    busy_env: dict[str, str], args: list[str]
) -> None:
    with write_lock_held(busy_env["PATHWAY_DATABASE_URL"]):
        started = time.monotonic()
        result = run(busy_env, *args)
        took = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert result.output.strip().splitlines() == [result.output.strip()], "one line"
    assert result.output.startswith("error: database busy, try again")
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert BOUND * 0.8 <= took <= BOUND + SLACK


def test_the_same_command_succeeds_once_the_lock_is_gone(busy_env: dict[str, str]) -> None:
    with write_lock_held(busy_env["PATHWAY_DATABASE_URL"]):
        assert run(busy_env, "sweep", "--all").exit_code == 3
    result = run(busy_env, "sweep", "--all")
    assert result.exit_code == 0, result.output


def test_reads_still_answer_while_busy(busy_env: dict[str, str]) -> None:
    with write_lock_held(busy_env["PATHWAY_DATABASE_URL"]):
        result = run(busy_env, "alerts")
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_sweeps_on_postgresql_all_finish(environ: dict[str, str]) -> None:
    """Four processes' worth of sweeps (`--all` and the timed one) at once, with the default wait:
    none fails (deadlocks are rerun), and a recompute afterwards finds nothing left to change."""
    busy_env = environ
    assert run(busy_env, "init", "--demo").exit_code == 0
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def sweeper(refresh: bool) -> None:
        application = build(busy_env)
        try:
            start.wait()
            for _ in range(3):
                (alerting.refresh_all if refresh else alerting.sweep)(application.deps)
        except BaseException as exc:  # any failure is the test's finding
            errors.append(exc)
        finally:
            application.engine.dispose()

    threads = [threading.Thread(target=sweeper, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    application = build(busy_env)
    try:
        again = alerting.refresh_all(application.deps)
    finally:
        application.engine.dispose()
    assert (again.follow_ups_created, again.alerts_opened, again.alerts_resolved) == (0, 0, 0)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_transaction_that_loses_a_deadlock_is_rerun(deps: Deps, engine: Engine) -> None:
    """A real deadlock on PostgreSQL (SQLSTATE 40P01): the losing unit of work is rolled back and
    `rerun_on_deadlock` runs it again, which then succeeds, instead of reporting it."""
    first = patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 1)).id
    second = patients.enroll(deps, "MRN-2", histology="sts", on=date(2026, 3, 1)).id
    other = engine.connect()
    other.begin()
    other.execute(text("SELECT id FROM patient WHERE id = :p FOR UPDATE"), {"p": second})
    attempts: list[int] = []

    def then_take_the_first() -> None:  # starts waiting after the work, so the work is the victim
        time.sleep(0.3)
        other.execute(text("SELECT id FROM patient WHERE id = :p FOR UPDATE"), {"p": first})
        time.sleep(0.5)
        other.commit()

    def work() -> str:
        attempts.append(1)
        with deps.uow() as uow:
            uow.patients.lock(first)
            if len(attempts) == 1:
                threading.Thread(target=then_take_the_first).start()
            uow.patients.lock(second)  # attempt 1: waits for `other`, which then waits for us
            uow.commit()
        return "done"

    try:
        assert rerun_on_deadlock(work) == "done"
    finally:
        other.close()
    assert len(attempts) == 2
