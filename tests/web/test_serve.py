"""`pathway users` and `pathway serve` (a real process), and the background scheduler it can run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pathway.bootstrap import build
from pathway.cli.app import app as cli_app
from pathway.domain.errors import Conflict
from pathway.ports import Deps
from pathway.services import accounts
from scheduler.runner import Jobs, start_background
from tests.logscan import watch


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'pathway.db'}",
        "PATHWAY_TIMEZONE": "Europe/London",
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args), env=env)


def test_users_are_added_listed_and_revoked_from_the_command_line(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    first = run(env, "users", "add", "a.admin", "--role", "admin")  # no accounts yet: the local admin
    assert first.exit_code == 0, first.output
    admin = {**env, "PATHWAY_TOKEN": first.stdout.strip().splitlines()[-1]}
    added = run(admin, "users", "add", "j.smith", "--role", "coordinator")
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert "shown only this once" in added.stdout and len(token) >= 40
    listed = json.loads(run(env, "users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["revoked_at"]) for u in listed] == [
        ("a.admin", "admin", None),
        ("j.smith", "coordinator", None),
    ]
    assert "active" in run(env, "users", "list").stdout
    assert run(admin, "users", "revoke", "j.smith").stdout.strip() == "user j.smith revoked"
    again = run(admin, "users", "revoke", "j.smith")
    assert again.exit_code == 3 and again.stderr.startswith("error: user j.smith is already")  # a conflict


def first_admin(env: dict[str, str]) -> str:
    """The first account needs no token (no accounts yet); returns its token."""
    return run(env, "users", "add", "a.admin", "--role", "admin").stdout.split()[-1]


@pytest.mark.parametrize(
    "args",
    [
        ["users", "add", "x.new", "--role", "admin"],
        ["users", "revoke", "c.one"],
        ["users", "calendar-link", "c.one"],
        ["users", "calendar-revoke", "c.one"],
    ],
    ids=lambda a: a[1],
)
def test_once_accounts_exist_only_an_admin_token_manages_users(env: dict[str, str], args: list[str]) -> None:
    assert run(env, "init").exit_code == 0
    admin = {**env, "PATHWAY_TOKEN": first_admin(env)}
    coordinator = {
        **env,
        "PATHWAY_TOKEN": run(admin, "users", "add", "c.one", "--role", "coordinator").stdout.split()[-1],
    }
    before = run(env, "users", "list", "--json").stdout
    anonymous = run(env, *args)
    assert anonymous.exit_code == 2 and "PATHWAY_TOKEN" in anonymous.stderr, anonymous.output
    as_coordinator = run(coordinator, *args)
    assert as_coordinator.exit_code != 0, as_coordinator.output
    assert as_coordinator.stderr.startswith("error: ")
    assert run(env, "users", "list", "--json").stdout == before  # nothing written
    if args[1] != "calendar-revoke":  # there is no link to revoke yet
        assert run(admin, *args).exit_code == 0


def test_the_last_active_admin_cannot_be_revoked(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    admin = {**env, "PATHWAY_TOKEN": first_admin(env)}
    own = run(admin, "users", "revoke", "a.admin")
    assert own.exit_code == 3 and "cannot revoke their own account" in own.stderr, own.output
    second = run(admin, "users", "add", "b.admin", "--role", "admin").stdout.split()[-1]
    assert run({**env, "PATHWAY_TOKEN": second}, "users", "revoke", "a.admin").exit_code == 0
    # b.admin is now the last active admin: nobody may revoke it (not even through the service)
    with pytest.raises(Conflict, match="last active admin"):
        accounts.revoke_user(build(env).deps, "b.admin")


def test_a_bad_role_is_one_line_on_stderr(env: dict[str, str]) -> None:
    run(env, "init")
    result = run(env, "users", "add", "j.smith", "--role", "king")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: Invalid value for '--role': 'king' is not one of "
        "'viewer', 'coordinator', 'clinician', 'admin'."
    )


def test_serve_refuses_a_database_that_is_not_ready(env: dict[str, str]) -> None:
    result = run(env, "serve", "--port", "1")
    assert result.exit_code == 2 and "run `pathway init` first" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_runs_the_app_and_the_scheduler_until_interrupted(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "init", "--demo").exit_code == 0
    token = run(env, "users", "add", "v.one", "--role", "viewer").stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pathway.cli.app import main; main()",
            "serve",
            "--port",
            str(port),
            "--with-scheduler",
        ],
        cwd=tmp_path,
        env={**os.environ, **env, "PATHWAY_REPORTS_DIR": str(tmp_path / "reports")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = _get(base + "/login")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
        assert status == 200
        assert _get(base + "/api/v1/me")[0] == 401
        status, body = _get(base + "/api/v1/me", token)
        assert status == 200 and json.loads(body)["name"] == "v.one"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        watch.lines("pathway serve --with-scheduler", output.splitlines())
    assert process.returncode == 0, output
    assert "background scheduler running" in output and "catch-up sweep" in output


def test_the_background_scheduler_catches_up_then_runs_the_same_jobs(deps: Deps) -> None:
    scheduler = start_background(Jobs(deps, sweep_minutes=7))
    try:
        deadline = time.monotonic() + 10
        while scheduler.get_job("catch_up") is not None:  # one-off: removed once submitted
            assert time.monotonic() < deadline, "the catch-up did not run"
            time.sleep(0.05)
        assert {j.id for j in scheduler.get_jobs()} == {"sweep"}
        assert scheduler.get_job("sweep").trigger.interval.total_seconds() == 7 * 60
    finally:
        scheduler.shutdown(wait=True)


def test_an_admin_resets_a_token_and_changes_a_role(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    admin = {**env, "PATHWAY_TOKEN": first_admin(env)}
    old = run(admin, "users", "add", "c.one", "--role", "coordinator").stdout.split()[-1]
    coordinator = {**env, "PATHWAY_TOKEN": old}
    assert run(coordinator, "users", "reset-token", "c.one").exit_code != 0  # admins only
    assert run(coordinator, "users", "set-role", "c.one", "admin").exit_code != 0
    assert run(admin, "users", "revoke", "c.one").exit_code == 0
    reset = run(admin, "users", "reset-token", "c.one", "--json")
    assert reset.exit_code == 0, reset.output
    new = json.loads(reset.stdout)["token"]
    assert new != old
    listed = {u["name"]: u for u in json.loads(run(env, "users", "list", "--json").stdout)}
    assert listed["c.one"]["revoked_at"] is None  # active again, same name
    assert "not valid" in run(coordinator, "enroll", "MRN-1").stderr  # the old token is dead
    moved = run(admin, "users", "set-role", "c.one", "clinician")
    assert moved.stdout.strip() == "user c.one is now a clinician"
    own = run(admin, "users", "set-role", "a.admin", "viewer")
    assert own.exit_code == 3 and "own role" in own.stderr
    assert run(admin, "users", "set-role", "c.one", "king").exit_code == 2
