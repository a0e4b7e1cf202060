"""Readers never wait for a writer's lock (issue 17 item 6): while another connection holds
SQLite's write lock (as a long `sweep --all` does), start-up checks, reads and token checks
answer at once instead of failing with "database is locked"."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pathway.bootstrap import build
from pathway.cli.app import app
from pathway.services import accounts


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'pathway.db'}"
    env = {"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"}
    assert CliRunner().invoke(app, ["init", "--demo"], env=env).exit_code == 0
    application = build(env)
    env["TOKEN"] = accounts.add_user(application.deps, "v.one", "viewer").token
    application.engine.dispose()
    writer = sqlite3.connect(tmp_path / "pathway.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, held for the whole test
    try:
        yield env
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.parametrize(
    "args", [["status", "DEMO-001"], ["alerts"], ["due"], ["history", "DEMO-009"], ["list"]]
)
def test_reads_answer_while_a_writer_holds_the_lock(locked: dict[str, str], args: list[str]) -> None:
    result = run(locked, *args)
    assert result.exit_code == 0, result.output


def test_a_token_check_does_not_wait_for_the_lock(locked: dict[str, str]) -> None:
    application = build(locked)
    try:
        assert accounts.authenticate(application.deps, locked["TOKEN"]).name == "v.one"
    finally:
        application.engine.dispose()
