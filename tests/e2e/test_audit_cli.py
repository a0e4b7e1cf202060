"""The audit trail from the command line, on SQLite and PostgreSQL (issue 17 items 3, 10)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from pathway.bootstrap import build
from tests.e2e.conftest import Cli, as_json, ok, refused


def test_cli_writes_are_audited_and_pathway_audit_reads_them(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts", env={"PATHWAY_ACTOR": "j.smith"}))
    recorded = as_json(cli("record", "MRN-1", "pain_score", "--set", "nrs=4", "--by", "j.smith", "--json"))
    event_id = recorded["event"]["id"] if "event" in recorded else recorded["id"]
    ok(cli("record", "MRN-1", "retraction", "--set", f"event_id={event_id}", "--reason", "wrong patient"))
    added = cli("users", "add", "boss", "--role", "admin", "--expires-in-days", "30", "--json")
    token = as_json(added)["token"]
    trail = as_json(cli("audit", "--mrn", "MRN-1", "--json", env={"PATHWAY_TOKEN": token}))
    assert [(r["action"], r["actor"], r["origin"]) for r in reversed(trail)] == [
        ("enrol", "j.smith", "cli"),
        ("record", "j.smith", "cli"),
        ("retract", "coordinator", "cli"),
    ]
    assert trail[0]["detail"]["retracted"] == event_id
    users = as_json(cli("audit", "--since", "2026-03-02", "--json", env={"PATHWAY_TOKEN": token}))
    assert ("user_add", "boss") in {(r["action"], r["detail"].get("user")) for r in users}
    assert as_json(cli("audit", "--user", "nobody", "--json", env={"PATHWAY_TOKEN": token})) == []
    assert "PATHWAY_TOKEN" in refused(cli("audit"))
    assert "--since" in refused(cli("audit", "--since", "yesterday", env={"PATHWAY_TOKEN": token}))


def test_the_audit_table_refuses_update_delete_and_truncate(cli: Cli, database_url: str) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts"))
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    statements = ["UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit")
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT actor FROM audit")).scalars().all() == ["coordinator"]
    finally:
        engine.dispose()


def test_serve_refuses_to_start_without_a_session_secret(cli: Cli, cli_env: dict[str, str | None]) -> None:
    ok(cli("init"))
    line = refused(
        cli("serve", "--port", "8765", env={"PATHWAY_SESSION_SECRET": "", "PATHWAY_SECRET_KEY": ""})
    )
    assert "PATHWAY_SESSION_SECRET" in line and "secrets.token_urlsafe(32)" in line
    ok(cli("init", "--demo"))
    environ = {k: v for k, v in cli_env.items() if v is not None}
    application = build(environ)
    try:
        secret, warning = application.session_secret()
    finally:
        application.engine.dispose()
    assert len(secret) >= 32 and warning is not None and "demo" in warning
