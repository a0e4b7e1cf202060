"""Tamper evidence: a hash chain over each patient's events, append-only alert actions, no TRUNCATE.

Existing events get their chain hash in id order per patient (the UPDATE trigger is set aside
for that one statement). PostgreSQL also refuses TRUNCATE of the event and alert_action tables.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from pathway.domain.integrity import GENESIS, event_digest
from pathway.domain.model import EventRecord

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _aware(value: object) -> datetime:
    """A stored instant as the engine reads it back: aware, in UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(value: object) -> dict:  # type: ignore[type-arg]
    return json.loads(value) if isinstance(value, str) else dict(value or {})  # type: ignore[call-overload]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("event", sa.Column("chain", sa.String(64), nullable=True))
    rows = bind.execute(
        sa.text(
            "SELECT id, patient_id, type, occurred_at, recorded_at, actor, data, reason, changes, source_ref "
            "FROM event ORDER BY patient_id, id"
        )
    ).all()
    if rows:
        if sqlite:
            op.execute("DROP TRIGGER event_no_update")
        else:
            op.execute("ALTER TABLE event DISABLE TRIGGER event_append_only")
        previous: dict[int, str] = {}
        for r in rows:
            record = EventRecord(
                id=r[0],
                patient_id=r[1],
                type=r[2],
                occurred_at=_aware(r[3]),
                recorded_at=_aware(r[4]),
                actor=r[5],
                data=_json(r[6]),
                reason=r[7],
                changes={k: (v[0], v[1]) for k, v in _json(r[8]).items()},
                source_ref=r[9],
            )
            digest = event_digest(previous.get(r[1], GENESIS), record)
            previous[r[1]] = digest
            bind.execute(sa.text("UPDATE event SET chain = :c WHERE id = :i"), {"c": digest, "i": r[0]})
        if sqlite:
            op.execute(
                "CREATE TRIGGER event_no_update BEFORE UPDATE ON event "
                "BEGIN SELECT RAISE(ABORT, 'event history is append-only'); END"
            )
        else:
            op.execute("ALTER TABLE event ENABLE TRIGGER event_append_only")
    if sqlite:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER alert_action_no_{action.lower()} BEFORE {action} ON alert_action "
                "BEGIN SELECT RAISE(ABORT, 'alert_action history is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION alert_action_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'alert_action history is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER alert_action_append_only BEFORE UPDATE OR DELETE ON alert_action "
        "FOR EACH ROW EXECUTE FUNCTION alert_action_append_only()"
    )
    for table in ("event", "alert_action"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS alert_action_no_update")
        op.execute("DROP TRIGGER IF EXISTS alert_action_no_delete")
    else:
        for table in ("event", "alert_action"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS alert_action_append_only ON alert_action")
        op.execute("DROP FUNCTION IF EXISTS alert_action_append_only()")
    op.drop_column("event", "chain")
