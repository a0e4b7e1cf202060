"""A busy database is a 503 with Retry-After on the API (issue 17 item 6), not a 409 or a 500."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from db import migrate
from db.engine import make_engine
from db.unit_of_work import SqlUnitOfWork
from pathway.bootstrap import App
from tests.web.conftest import bearer


@pytest.fixture
def app(database_url: str, compiled: App) -> Iterator[App]:
    """The web tests' application with a one-second wait for another writer's lock."""
    engine = make_engine(database_url, busy_seconds=1.0)
    migrate.upgrade(engine)
    uow = partial(SqlUnitOfWork, engine, compiled.deps.pathway.definition.pathway.id)
    yield dataclasses.replace(compiled, engine=engine, deps=dataclasses.replace(compiled.deps, uow=uow))
    engine.dispose()


def test_a_write_while_another_process_holds_the_lock_is_503_with_retry_after(
    client: TestClient, tokens: dict[str, str], database_url: str
) -> None:
    alerts = client.get("/api/v1/alerts", headers=bearer(tokens["clinician"])).json()
    alert_id = next(a["id"] for a in alerts if a["status"] == "open")
    holder = sqlite3.connect(str(make_url(database_url).database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = client.post(
            f"/api/v1/alerts/{alert_id}/acknowledge", headers=bearer(tokens["clinician"]), json={}
        )
        read = client.get("/api/v1/alerts", headers=bearer(tokens["viewer"]))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503, busy.text
    assert int(busy.headers["Retry-After"]) > 0
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert busy.json()["detail"].startswith("database busy, try again")
    assert read.status_code == 200
    done = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=bearer(tokens["clinician"]), json={})
    assert done.status_code == 200, done.text
