"""Follow-up status derived, not stored: a follow-up row keeps only what happened to it (open, done,
cancelled) with its window instants; upcoming / due / overdue are derived from `now` when read
(pathway/domain/status.py and its SQL twin db/status_sql.py). Stored upcoming/due/overdue become
open; the partial indexes over open steps now say `status = 'open'`; the index the sweep used to
move statuses forward (ix_follow_up_status_opens) goes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
OPEN_ROWS = sa.text("status = 'open'")
OLD_OPEN_ROWS = sa.text("status IN ('upcoming', 'due', 'overdue')")
PARTIAL = (
    ("ix_follow_up_alert_due", ["next_alert_at", "patient_id"]),
    ("ix_follow_up_open_closes", ["closes_at", "id", "opens_at", "target_at"]),
    ("ix_follow_up_open_rule", ["rule", "closes_at", "target_at"]),
    ("ix_follow_up_urgency", [sa.text("raised DESC"), "closes_at", "id"]),
)


def _indexes(where: sa.TextClause) -> None:
    for name, columns in PARTIAL:
        op.create_index(name, "follow_up", columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    for name, _ in PARTIAL:
        op.drop_index(name, "follow_up")
    op.drop_index("ix_follow_up_status_opens", "follow_up")
    op.execute("UPDATE follow_up SET status = 'open' WHERE status IN ('upcoming', 'due', 'overdue')")
    _indexes(OPEN_ROWS)


def downgrade() -> None:
    """Store the statuses as of the moment of the downgrade (the old sweep moves them on)."""
    from pathway.clock import SystemClock

    now = SystemClock().now()
    for name, _ in PARTIAL:
        op.drop_index(name, "follow_up")
    follow_up = sa.table(
        "follow_up", sa.column("status", sa.String), sa.column("opens_at", UTC()), sa.column("closes_at", UTC())
    )
    op.execute(
        follow_up.update()
        .where(follow_up.c.status == "open")
        .values(
            status=sa.case(
                (follow_up.c.opens_at > now, "upcoming"), (follow_up.c.closes_at > now, "due"), else_="overdue"
            )
        )
    )
    op.create_index("ix_follow_up_status_opens", "follow_up", ["status", "opens_at"])
    _indexes(OLD_OPEN_ROWS)
