"""Tamper evidence (issue 17 item 9) on SQLite and PostgreSQL: triggers refuse UPDATE, DELETE and
TRUNCATE of the history and the alert audit; `pathway verify` names an edited, inserted or deleted
history row even when someone with the owner's rights sets the triggers aside."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from pathway.ports import Deps
from pathway.services import alerting, patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR


@pytest.fixture
def history(deps: Deps, clock: FixedClock) -> list[int]:
    """MRN-1 with four events and an alert with actions; returns the event ids."""
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 2))
    for nrs in ("2", "5", "3", "1"):
        patients.record_event(deps, "MRN-1", "pain_score", {"nrs": nrs}, actor=ACTOR)
        clock.advance(hours=1)
    clock.advance(days=20)
    alerting.sweep(deps)
    return [e.id for e in patients.history(deps, "MRN-1").events]


def bypass(engine: Engine, sql: str) -> None:
    """Run `sql` as the database owner would, with the append-only triggers set aside."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER event_no_update")
            conn.exec_driver_sql("DROP TRIGGER event_no_delete")
            conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("ALTER TABLE event DISABLE TRIGGER USER")
            conn.exec_driver_sql(sql)
            conn.exec_driver_sql("ALTER TABLE event ENABLE TRIGGER USER")


def test_an_untouched_history_verifies(deps: Deps, history: list[int]) -> None:
    assert patients.verify_replay(deps) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event SET actor = 'x'",
        "DELETE FROM event",
        "UPDATE alert_action SET note = 'x'",
        "DELETE FROM alert_action",
        "TRUNCATE event CASCADE",
        "TRUNCATE alert_action",
    ],
)
def test_the_database_refuses_to_rewrite_history(engine: Engine, history: list[int], statement: str) -> None:
    if statement.startswith("TRUNCATE") and engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no TRUNCATE (DELETE is refused instead)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alert_action")).scalar_one() > 0
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)


def test_verify_names_an_edited_row(deps: Deps, engine: Engine, history: list[int]) -> None:
    bypass(engine, f"UPDATE event SET actor = 'mallory' WHERE id = {history[1]}")
    problems = patients.verify_replay(deps)
    assert len(problems) == 1 and f"event {history[1]}:" in problems[0] and "MRN-1" in problems[0]


def test_verify_names_the_row_after_a_deleted_one_and_a_deleted_last_row(
    deps: Deps, engine: Engine, history: list[int]
) -> None:
    bypass(engine, f"DELETE FROM event WHERE id = {history[1]}")
    problems = patients.verify_replay(deps)
    assert any(f"event {history[2]}:" in p for p in problems)
    assert any("3 event(s) stored but 4 were recorded" in p for p in problems)


def test_verify_notices_a_deleted_last_row(deps: Deps, engine: Engine, history: list[int]) -> None:
    bypass(engine, f"DELETE FROM event WHERE id = {history[-1]}")
    assert any("were recorded" in p for p in patients.verify_replay(deps))


def test_verify_names_an_inserted_row(deps: Deps, engine: Engine, history: list[int]) -> None:
    bypass(
        engine,
        "INSERT INTO event (patient_id, type, occurred_at, recorded_at, actor, data, changes) "
        "SELECT patient_id, type, occurred_at, recorded_at, actor, data, changes FROM event "
        f"WHERE id = {history[0]}",
    )
    problems = patients.verify_replay(deps)
    assert any("no chain hash" in p for p in problems)
    assert any("were recorded" in p for p in problems)


def test_the_upgrade_chains_existing_history_as_the_engine_does(
    deps: Deps, engine: Engine, history: list[int]
) -> None:
    """A database from before the chain: the migration computes every stored event's hash."""
    from alembic import command

    from db import migrate

    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with engine.connect() as conn:
        assert "chain" not in {c["name"] for c in inspect(conn).get_columns("event")}
    migrate.upgrade(engine)
    assert patients.verify_replay(deps) == []
    patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "4"}, actor=ACTOR)  # chains on
    assert patients.verify_replay(deps) == []
