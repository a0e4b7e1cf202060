"""The server's log lines carry route templates, never an MRN, a patient's name or a token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli.app import app as cli_app
from tests.logscan import ServerProcess, leaks, patient_secrets


@pytest.fixture
def served(tmp_path: Path) -> tuple[dict[str, str], str, str]:
    url = f"sqlite:///{tmp_path / 'pathway.db'}"
    env = {"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"}
    runner = CliRunner()
    assert runner.invoke(cli_app, ["init", "--demo"], env=env).exit_code == 0
    added = runner.invoke(cli_app, ["users", "add", "c.one", "--role", "coordinator"], env=env)
    return env, url, added.stdout.strip().splitlines()[-1]


def drive(server: ServerProcess, token: str, secrets: set[str]) -> None:
    """The patient pages and API, found and not found, reads and writes."""
    for mrn in sorted(s for s in secrets if s.startswith("DEMO-"))[:4]:
        for path in (f"/patients/{mrn}", f"/api/v1/patients/{mrn}", f"/api/v1/patients/{mrn}/events"):
            assert server.request("GET", path, token)[0] == 200, path
    assert server.request("GET", "/api/v1/patients/NOBODY-77", token)[0] == 404
    assert server.request("GET", "/patients/DEMO-001?q=DEMO-001", token)[0] == 200
    body = json.dumps({"event": "pain_score", "fields": {"nrs": "4"}}).encode()
    assert server.request("POST", "/api/v1/patients/DEMO-002/events", token, body)[0] in (201, 409, 422)
    assert server.request("GET", "/api/v1/patients/DEMO-001", "wrong-token")[0] == 401


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_log_line_carries_an_mrn_a_name_or_a_token(
    served: tuple[dict[str, str], str, str], tmp_path: Path, log_format: str
) -> None:
    env, url, token = served
    secrets = patient_secrets(url) | {token, "NOBODY-77"}
    assert any(s.startswith("DEMO-") for s in secrets) and len(secrets) > 12

    with ServerProcess({**env, "PATHWAY_LOG_FORMAT": log_format}, tmp_path) as server:
        drive(server, token, secrets)

    access = [line for line in server.lines if "pathway.access" in line]
    assert any("/patients/{mrn}" in line for line in access), server.lines
    assert leaks(server.lines, secrets) == []
    if log_format == "json":
        records = [json.loads(line) for line in server.lines if line.startswith("{")]
        assert len(records) == len(server.lines)
        assert all(r["request_id"] for r in records if r["logger"] == "pathway.access")
