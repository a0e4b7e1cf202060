"""`pathway backup` while writers go on, and `pathway restore` into an empty database (issue 17
item 15), on SQLite and PostgreSQL, through the real CLI."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pathway.bootstrap import build
from pathway.cli.app import app
from pathway.services import patients
from tests.conftest import PG_ADMIN_URL


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(
        app, list(args), env={"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"}
    )


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    import psycopg

    name = f"pathway_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_taken_during_writes_restores_consistently(
    database_url: str, empty_url: str, tmp_path: Path
) -> None:
    assert run(database_url, "init", "--demo").exit_code == 0
    stop = threading.Event()
    source = build({"PATHWAY_DATABASE_URL": database_url, "PATHWAY_TIMEZONE": "Europe/London"})
    written: list[int] = []

    def writer() -> None:  # the services, not the CLI runner: it swaps sys.stdout, not thread-safe
        while not stop.is_set():
            done = patients.record_event(source.deps, "DEMO-002", "pain_score", {"nrs": "2"}, actor="w")
            written.append(done.event.id)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        target = tmp_path / "pathway.backup"
        done = run(database_url, "backup", str(target))
        assert done.exit_code == 0, done.output
    finally:
        stop.set()
        thread.join()
        source.engine.dispose()
    assert target.stat().st_mode & 0o777 == 0o600
    again = run(database_url, "backup", str(target))
    assert again.exit_code == 3 and "never overwrites" in again.stderr

    restored = run(empty_url, "restore", str(target))
    assert restored.exit_code == 0, restored.output
    assert "every patient's stored state matches its history" in restored.stdout
    for mrn in ("DEMO-001", "DEMO-007", "DEMO-009"):  # untouched by the writer: identical
        assert (
            run(empty_url, "history", mrn, "--json").stdout
            == run(database_url, "history", mrn, "--json").stdout
        )
    # DEMO-002: a prefix of what was written (a snapshot), never a torn write
    kept = [e["id"] for e in json.loads(run(empty_url, "history", "DEMO-002", "--json").stdout)["events"]]
    everything = [
        e["id"] for e in json.loads(run(database_url, "history", "DEMO-002", "--json").stdout)["events"]
    ]
    assert kept == everything[: len(kept)] and written
    assert run(empty_url, "verify").exit_code == 0


def test_restore_refuses_a_database_that_is_not_empty(database_url: str, tmp_path: Path) -> None:
    assert run(database_url, "init").exit_code == 0
    target = tmp_path / "b.backup"
    assert run(database_url, "backup", str(target)).exit_code == 0
    refused = run(database_url, "restore", str(target))
    assert refused.exit_code == 3 and "not empty" in refused.stderr
    missing = run(database_url, "restore", str(tmp_path / "nothing"))
    assert missing.exit_code == 2 and "no such backup file" in missing.stderr
    assert os.path.exists(target)
