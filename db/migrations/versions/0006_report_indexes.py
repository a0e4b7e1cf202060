"""Indexes for a report and a sweep that read only what they return: open steps by window end and
by rule, done steps by date, alerts by resolution date, events by type and date, and the due
alert levels of open steps (replacing the index over every row's next_alert_at). The indexes
the report counts along carry the columns it reads, so counting never visits the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_ROWS = sa.text("status IN ('upcoming', 'due', 'overdue')")


def upgrade() -> None:
    op.drop_index("ix_follow_up_next_alert", "follow_up")
    op.drop_index("ix_follow_up_status_closes", "follow_up")
    op.create_index("ix_follow_up_status_closes", "follow_up",
                    ["status", "closes_at", "rule", "done_at", "opens_at"])
    op.create_index("ix_follow_up_alert_due", "follow_up", ["next_alert_at", "patient_id"],
                    sqlite_where=OPEN_ROWS, postgresql_where=OPEN_ROWS)
    op.create_index("ix_follow_up_open_closes", "follow_up", ["closes_at", "id", "opens_at", "target_at"],
                    sqlite_where=OPEN_ROWS, postgresql_where=OPEN_ROWS)
    op.create_index("ix_follow_up_open_rule", "follow_up", ["rule", "closes_at", "target_at"],
                    sqlite_where=OPEN_ROWS, postgresql_where=OPEN_ROWS)
    done = sa.text("done_at IS NOT NULL")
    op.create_index("ix_follow_up_done", "follow_up", ["done_at", "closes_at", "rule", "opens_at"],
                    sqlite_where=done,
                    postgresql_where=done)
    resolved = sa.text("resolved_at IS NOT NULL")
    op.create_index("ix_alert_resolved", "alert", ["resolved_at"], sqlite_where=resolved,
                    postgresql_where=resolved)
    op.create_index("ix_event_type_time", "event", ["type", "occurred_at", "patient_id"])


def downgrade() -> None:
    op.drop_index("ix_event_type_time", "event")
    op.drop_index("ix_alert_resolved", "alert")
    op.drop_index("ix_follow_up_done", "follow_up")
    op.drop_index("ix_follow_up_open_rule", "follow_up")
    op.drop_index("ix_follow_up_open_closes", "follow_up")
    op.drop_index("ix_follow_up_alert_due", "follow_up")
    op.create_index("ix_follow_up_next_alert", "follow_up", ["next_alert_at"])
    op.drop_index("ix_follow_up_status_closes", "follow_up")
    op.create_index("ix_follow_up_status_closes", "follow_up", ["status", "closes_at"])
