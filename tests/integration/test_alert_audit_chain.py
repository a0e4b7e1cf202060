"""Tamper evidence of the alert audit (issue 17 item 9) on SQLite and PostgreSQL: each alert's
`alert_action` rows form a hash chain and the alert keeps its last row's hash, so `pathway verify`
names an edited, inserted or deleted audit row (alert id and action id) even when someone with the
owner's rights sets the append-only triggers aside."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, inspect, text

from pathway.domain.alert_status import OVERRIDE_REASONS
from pathway.ports import Deps
from pathway.services import alerting, patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR


@pytest.fixture
def audit(deps: Deps, clock: FixedClock) -> tuple[int, list[int]]:
    """An alert opened by the sweep, acknowledged and overridden: its id and its action ids."""
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 2))
    patients.record_event(deps, "MRN-1", "pain_score", {"nrs": "2"}, actor=ACTOR)
    clock.advance(days=40)
    alerting.sweep(deps)
    alert = next(a for a, _ in alerting.list_alerts(deps, None) if a.severity != "critical")
    clock.advance(hours=1)
    alerting.acknowledge(deps, alert.id, "c.lin", "seen", role="clinician")
    clock.advance(hours=1)
    alerting.override(
        deps, alert.id, sorted(OVERRIDE_REASONS)[0], "done elsewhere", "c.lin", role="clinician"
    )
    with deps.read() as uow:
        chains = {aid: actions for aid, actions, _ in uow.alerts.audit_chains()}
    ids = [a.id for a in chains[alert.id]]
    assert len(ids) >= 3
    return alert.id, ids


def bypass(engine: Engine, sql: str) -> None:
    """Run `sql` as the database owner would, with the append-only triggers set aside."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER alert_action_no_update")
            conn.exec_driver_sql("DROP TRIGGER alert_action_no_delete")
            conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("ALTER TABLE alert_action DISABLE TRIGGER USER")
            conn.exec_driver_sql(sql)
            conn.exec_driver_sql("ALTER TABLE alert_action ENABLE TRIGGER USER")


def test_an_untouched_audit_verifies(deps: Deps, audit: tuple[int, list[int]]) -> None:
    assert patients.verify_replay(deps) == []


def test_verify_names_an_edited_audit_row(deps: Deps, engine: Engine, audit: tuple[int, list[int]]) -> None:
    alert_id, ids = audit
    bypass(engine, f"UPDATE alert_action SET actor = 'mallory' WHERE id = {ids[1]}")
    problems = patients.verify_replay(deps)
    assert problems == [
        f"alert {alert_id} action {ids[1]}: content or position does not match its chain hash "
        "(edited, inserted, or an earlier row deleted)"
    ]


def test_verify_names_an_edited_note_and_time(
    deps: Deps, engine: Engine, audit: tuple[int, list[int]]
) -> None:
    _, ids = audit
    bypass(engine, f"UPDATE alert_action SET note = 'nothing to see' WHERE id = {ids[0]}")
    assert [p for p in patients.verify_replay(deps) if f"action {ids[0]}:" in p]


def test_verify_names_the_row_after_a_deleted_one(
    deps: Deps, engine: Engine, audit: tuple[int, list[int]]
) -> None:
    alert_id, ids = audit
    bypass(engine, f"DELETE FROM alert_action WHERE id = {ids[1]}")
    problems = patients.verify_replay(deps)
    assert [p for p in problems if p.startswith(f"alert {alert_id} action {ids[2]}:")]
    assert not [p for p in problems if f"action {ids[0]}:" in p]


def test_verify_notices_a_deleted_last_row(deps: Deps, engine: Engine, audit: tuple[int, list[int]]) -> None:
    alert_id, ids = audit
    bypass(engine, f"DELETE FROM alert_action WHERE id = {ids[-1]}")
    assert patients.verify_replay(deps) == [
        f"alert {alert_id}: its audit ends at action {ids[-2]}, not at the row last recorded for it "
        "(rows deleted or inserted)"
    ]


def test_verify_names_an_inserted_row(deps: Deps, engine: Engine, audit: tuple[int, list[int]]) -> None:
    alert_id, ids = audit
    bypass(
        engine,
        "INSERT INTO alert_action (alert_id, action, actor, at, note, data) "
        f"SELECT alert_id, 'acknowledged', 'mallory', at, note, data FROM alert_action WHERE id = {ids[0]}",
    )
    with engine.connect() as conn:
        inserted = conn.execute(text("SELECT max(id) FROM alert_action")).scalar_one()
    problems = patients.verify_replay(deps)
    assert f"alert {alert_id} action {inserted}: no chain hash (inserted outside the engine?)" in problems
    assert any(p.startswith(f"alert {alert_id}: its audit ends at action {inserted}") for p in problems)


def test_a_copied_chain_hash_does_not_hide_an_insertion(
    deps: Deps, engine: Engine, audit: tuple[int, list[int]]
) -> None:
    """A row inserted with another row's hash still breaks: the hash covers its content."""
    alert_id, ids = audit
    bypass(
        engine,
        "INSERT INTO alert_action (alert_id, action, actor, at, note, data, chain) "
        "SELECT alert_id, 'acknowledged', 'mallory', at, note, data, chain FROM alert_action "
        f"WHERE id = {ids[-1]}",
    )
    assert any(
        f"alert {alert_id} action" in p and "does not match" in p for p in patients.verify_replay(deps)
    )


def test_the_upgrade_chains_existing_audit_rows_as_the_engine_does(
    deps: Deps, engine: Engine, audit: tuple[int, list[int]]
) -> None:
    """A database from before the chain: migration 0020 computes the same hashes the engine writes."""
    from alembic import command

    from db import migrate

    with engine.connect() as conn:
        written = dict(conn.execute(text("SELECT id, chain FROM alert_action")).all())
    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0019")
    with engine.connect() as conn:
        assert "chain" not in {c["name"] for c in inspect(conn).get_columns("alert_action")}
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, chain FROM alert_action")).all()) == written
    assert patients.verify_replay(deps) == []
    alerting.sweep(deps)
    assert patients.verify_replay(deps) == []
