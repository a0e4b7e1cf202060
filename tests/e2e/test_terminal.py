"""The terminal (issue 15 items 11 and 12): closed pipes, table widths, quiet libraries, bad URLs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli.app import app

PATHWAY = [sys.executable, "-c", "from pathway.cli.app import main; main()"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "PATHWAY_DATABASE_URL": f"sqlite:///{folder / 'pathway.db'}",
        "PATHWAY_TIMEZONE": "Europe/London",
    }
    subprocess.run([*PATHWAY, "init", "--demo"], env=env, check=True, capture_output=True, timeout=180)
    return env


def closed_pipe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader has gone (as `| head` does once it has its lines)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [*PATHWAY, *args], env=env, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args", [["due"], ["list", "--json"], ["alerts"], ["history", "DEMO-007"], ["events"]]
)
def test_a_closed_pipe_ends_a_read_quietly_with_success(demo: dict[str, str], args: list[str]) -> None:
    result = closed_pipe(demo, *args)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_closed_pipe_does_not_undo_or_misreport_the_work(demo: dict[str, str]) -> None:
    result = closed_pipe(demo, "notify", "--once", "--json")
    assert result.returncode == 0 and "nothing was saved" not in result.stderr
    assert "alembic" not in result.stderr  # libraries stay quiet without --verbose
    after = subprocess.run(
        [*PATHWAY, "notifications", "--json"], env=demo, capture_output=True, text=True, check=True
    )
    assert {n["status"] for n in json.loads(after.stdout)} >= {"sent"}


def test_events_prints_every_allowed_value_in_full(demo: dict[str, str]) -> None:
    out = subprocess.run(
        [*PATHWAY, "events"], env={**demo, "COLUMNS": "250"}, capture_output=True, text=True, check=True
    ).stdout
    assert "chondrosarcoma_conventional" in out and "…" not in out
    assert all(len(line) <= 250 for line in out.splitlines())


def test_alerts_keep_a_readable_message_at_80_columns(demo: dict[str, str]) -> None:
    out = subprocess.run(
        [*PATHWAY, "alerts"], env={**demo, "COLUMNS": "80"}, capture_output=True, text=True, check=True
    ).stdout
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "message" in line)
    message_width = len(header.split("┃")[-2])
    assert message_width >= 30, header


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://postgres@127.0.0.1:5432/test", "write postgresql+psycopg://"),
        ("mysql://root@127.0.0.1/test", "only SQLite and PostgreSQL are supported"),
        ("not a url", "is not a database URL"),
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/pathway_no_such_db",
            "does not exist",
            marks=pytest.mark.postgres,
        ),
        ("postgresql+psycopg://postgres@127.0.0.1:1/x", "cannot reach PostgreSQL on 127.0.0.1:1"),
    ],
)
@pytest.mark.parametrize("command", [["init"], ["status", "X"]])
def test_a_bad_database_url_says_what_is_wrong_and_how_to_fix_it(
    url: str, says: str, command: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, command, env={"PATHWAY_DATABASE_URL": url})
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert "internal error" not in result.stderr and "sqlalche.me" not in result.stderr
