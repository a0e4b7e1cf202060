"""The real `pathway` CLI on SQLite and on PostgreSQL, the system clock under freezegun's control."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from typer.testing import CliRunner, Result

from pathway.cli.app import app

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Cli(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result: ...


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as freezer:
        yield freezer


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str | None]:
    return {
        "PATHWAY_DATABASE_URL": database_url,
        "PATHWAY_TIMEZONE": "Europe/London",
        "PATHWAY_CONFIG": None,
        "PATHWAY_ACTOR": None,
        "PATHWAY_PATHWAY_FILE": None,
        "PATHWAY_HOLIDAYS": None,
        "PATHWAY_DEBUG": None,
    }


@pytest.fixture
def cli(cli_env: dict[str, str | None], frozen: FrozenDateTimeFactory) -> Cli:
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env={**cli_env, **(env or {})})

    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def refused(result: Result) -> str:
    """Exit 2 and exactly one line on stderr starting with 'error:'; returns that line."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]
