"""Tamper evidence for the alert audit: each alert's `alert_action` rows form a hash chain, as each
patient's events do (0012), and the alert keeps the hash of its last row, so `pathway verify`
names an edited, inserted or deleted audit row.

Existing rows are chained in id order per alert (the append-only triggers are set aside for that
one statement).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from pathway.domain.integrity import chain_rows

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _aware(value: object) -> datetime:
    """A stored instant as the engine reads it back: aware, in UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("alert_action", sa.Column("chain", sa.String(64), nullable=True))
    op.add_column("alert", sa.Column("action_chain", sa.String(64), nullable=True))
    rows = [
        {"id": r[0], "alert_id": r[1], "action": r[2], "actor": r[3], "at": _aware(r[4]), "note": r[5]}
        | {"data": _json(r[6])}
        for r in bind.execute(
            sa.text("SELECT id, alert_id, action, actor, at, note, data FROM alert_action ORDER BY alert_id, id")
        )
    ]
    if not rows:
        return
    heads = chain_rows({}, rows)
    if sqlite:
        op.execute("DROP TRIGGER alert_action_no_update")
    else:
        op.execute("ALTER TABLE alert_action DISABLE TRIGGER alert_action_append_only")
    bind.execute(
        sa.text("UPDATE alert_action SET chain = :chain WHERE id = :id"),
        [{"chain": r["chain"], "id": r["id"]} for r in rows],
    )
    bind.execute(
        sa.text("UPDATE alert SET action_chain = :chain WHERE id = :id"),
        [{"chain": chain, "id": aid} for aid, chain in heads.items()],
    )
    if sqlite:
        op.execute(
            "CREATE TRIGGER alert_action_no_update BEFORE UPDATE ON alert_action "
            "BEGIN SELECT RAISE(ABORT, 'alert_action history is append-only'); END"
        )
    else:
        op.execute("ALTER TABLE alert_action ENABLE TRIGGER alert_action_append_only")


def downgrade() -> None:
    # plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch copy would drop the referenced table
    op.drop_column("alert", "action_chain")
    op.drop_column("alert_action", "chain")
