"""When each live critical alert is next due to be notified again (`alert.next_renotify_at`), with a
partial index over the live critical alerts that have one, so a sweep reads only the alerts whose
round is due instead of every open critical alert. Open and acknowledged critical alerts are
backfilled with their first notification instant: the next sweep works out the round each is in
(rounds already sent are not sent twice: their idempotency keys are in the outbox) and moves the
instant on.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
RENOTIFY_DUE = sa.text(
    "next_renotify_at IS NOT NULL AND severity = 'critical' AND status IN ('open', 'acknowledged')"
)


def upgrade() -> None:
    op.add_column("alert", sa.Column("next_renotify_at", UTC(), nullable=True))
    op.execute(
        "UPDATE alert SET next_renotify_at = created_at "
        "WHERE severity = 'critical' AND status IN ('open', 'acknowledged')"
    )
    op.create_index(
        "ix_alert_renotify_due",
        "alert",
        ["next_renotify_at"],
        sqlite_where=RENOTIFY_DUE,
        postgresql_where=RENOTIFY_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_alert_renotify_due", "alert")
    op.drop_column("alert", "next_renotify_at")
