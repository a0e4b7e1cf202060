"""The web app on a SQLite file with the demo cohort, a fixed clock and one user per role."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import closing
from functools import partial
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from db import migrate
from db.engine import make_engine
from db.unit_of_work import SqlUnitOfWork
from pathway.bootstrap import App, build
from pathway.ports import Deps
from pathway.services import accounts
from pathway.services.demo import load_demo
from pathway.web.app import create_app
from tests.fakes import FixedClock, utc

with warnings.catch_warnings():  # starlette 1.x prefers httpx2; httpx works the same here
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROLES = accounts.ROLES
NOW = utc(2026, 3, 2, 9)  # the `clock` fixture's instant


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo cohort loaded once, as of the fixed clock; each test works on a copy."""
    path = tmp_path_factory.mktemp("demo") / "pathway.db"
    application = build({"PATHWAY_DATABASE_URL": f"sqlite:///{path}", "PATHWAY_TIMEZONE": "Europe/London"})
    migrate.upgrade(application.engine)
    deps = dataclasses.replace(application.deps, clock=FixedClock(NOW))
    load_demo(deps)
    application.engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, demo_database: Path) -> str:
    """The web layer is storage-agnostic: SQLite only (the repositories are tested on both)."""
    copy = tmp_path / "pathway.db"
    with closing(sqlite3.connect(demo_database)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return f"sqlite:///{copy}"


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> App:
    """Settings and the compiled pathway, built once (bootstrap.build takes ~0.5 s)."""
    path = tmp_path_factory.mktemp("compiled") / "unused.db"
    return build({"PATHWAY_DATABASE_URL": f"sqlite:///{path}", "PATHWAY_TIMEZONE": "Europe/London"})


@pytest.fixture
def app(database_url: str, compiled: App) -> Iterator[App]:
    """As tests/conftest.py's `app`, on this test's database copy, without recompiling."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    uow = partial(SqlUnitOfWork, engine, compiled.deps.pathway.definition.pathway.id)
    yield dataclasses.replace(compiled, engine=engine, deps=dataclasses.replace(compiled.deps, uow=uow))
    engine.dispose()


@pytest.fixture
def demo(app: App, deps: Deps, clock: FixedClock) -> App:
    """The application wired to the fixed clock (2026-03-02 09:00 UTC), demo cohort loaded."""
    assert clock.current == NOW
    return dataclasses.replace(app, deps=deps)


@pytest.fixture
def tokens(deps: Deps, demo: App) -> dict[str, str]:
    return {role: accounts.add_user(deps, f"{role}.one", role).token for role in ROLES}


@pytest.fixture
def web(demo: App, tokens: dict[str, str]) -> FastAPI:
    return create_app(demo, secret_key="test-secret")


@pytest.fixture
def client(web: FastAPI) -> Iterator[TestClient]:
    with TestClient(web, follow_redirects=False) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_of(page.text), "token": token, "next": "/"})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def signed_in(client: TestClient, tokens: dict[str, str]) -> str:
    """The test client signed in as the coordinator; returns the session's CSRF token."""
    return sign_in(client, tokens["coordinator"])
