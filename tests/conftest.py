"""Shared fixtures. Every model module is imported here, before any test freezes time (freezegun#480)."""

from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import Engine

import db.tables  # noqa: F401
import pathway.interop.fhir_common
from config import DEFAULT_PATHWAY
from db import migrate
from pathway.adapters.pathway_file import load_pathway_file
from pathway.bootstrap import App, build
from pathway.domain.definition import PathwayDefinition
from pathway.domain.machine import Pathway
from pathway.ports import Deps
from tests.fakes import FixedClock, utc
from tests.logscan import LeakHandler, watch

_LEAKS = LeakHandler(level=logging.INFO)

# Typer's test runner rebuilds the Click command tree from the app on every invoke (~0.2 s CPU for
# this CLI); the app never changes within a test run, so build it once per process.
typer.testing._get_command = functools.cache(typer.testing._get_command)


@pytest.fixture(scope="session", autouse=True)
def no_patient_data_in_any_log() -> Iterator[None]:
    """Fail the session if any log line (in this process, or of a server or scheduler process a
    test started) carried an MRN, a patient's name or a token."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(min(level, logging.INFO))  # what `pathway serve` and `scheduler` write
    root.addHandler(_LEAKS)
    yield
    root.removeHandler(_LEAKS)
    root.setLevel(level)
    if watch.found:
        pytest.fail(
            f"{len(watch.found)} of {watch.lines_seen} log lines carry patient data or a token:\n"
            + "\n".join(watch.found[:20]),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _leak_handler_stays() -> None:
    """`pathway.logs.configure` replaces the root handlers: put the scan back before each test."""
    root = logging.getLogger()
    if _LEAKS not in root.handlers:
        root.addHandler(_LEAKS)


# pytest-xdist's workers export COLUMNS=80 and LINES=24; the CLI honours COLUMNS when its output
# is piped, so the tests (which expect the 120 columns of a pipe) drop them
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

PG_ADMIN_URL = os.environ.get("PATHWAY_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def definition() -> PathwayDefinition:
    return load_pathway_file(DEFAULT_PATHWAY)


@pytest.fixture(scope="session")
def pathway(definition: PathwayDefinition) -> Pathway:
    return Pathway(definition)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run; skipped without a server unless CI=true."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc}); PostgreSQL tests skipped")
    name = f"pathway_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pathway.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture
def environ(database_url: str) -> dict[str, str]:
    return {"PATHWAY_DATABASE_URL": database_url, "PATHWAY_TIMEZONE": "Europe/London"}


@pytest.fixture
def app(environ: dict[str, str]) -> Iterator[App]:
    application = build(environ)
    migrate.upgrade(application.engine)
    yield application
    application.engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(utc(2026, 3, 2, 9))


@pytest.fixture
def deps(app: App, clock: FixedClock) -> Deps:
    """The real wiring with a fixed clock instead of the system one."""
    return Deps(uow=app.deps.uow, clock=clock, pathway=app.deps.pathway, zone=app.deps.zone)


@pytest.fixture
def engine(app: App) -> Engine:
    return app.engine
