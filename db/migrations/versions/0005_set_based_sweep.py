"""Follow-up columns for a set-based sweep: the alert each instance raises, its level instants,
the highest level raised so far and when the next one is due (replacing the per-patient
next_check_at).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.drop_index("ix_follow_up_next_check", "follow_up")  # the per-patient re-check it served
    with op.batch_alter_table("follow_up") as batch:
        batch.drop_column("next_check_at")
        batch.add_column(sa.Column("instance_key", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("track", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("alert_rule", sa.String(16), nullable=True))
        batch.add_column(sa.Column("alert_title", sa.String(), nullable=True))
        batch.add_column(sa.Column("alert_source", sa.String(), nullable=True))
        batch.add_column(sa.Column("alert_message", sa.String(), nullable=True))
        batch.add_column(sa.Column("info_at", UTC(), nullable=True))
        batch.add_column(sa.Column("warning_at", UTC(), nullable=True))
        batch.add_column(sa.Column("critical_at", UTC(), nullable=True))
        batch.add_column(sa.Column("raised", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_alert_at", UTC(), nullable=True))
    op.create_index("ix_follow_up_next_alert", "follow_up", ["next_alert_at"])
    op.create_index("ix_follow_up_status_opens", "follow_up", ["status", "opens_at"])
    op.create_index("ix_alert_follow_up", "alert", ["follow_up_id", "status"])
    op.create_index("ix_alert_severity_opened", "alert", ["status", "severity", "opened_at"])
    open_rows = sa.text("status IN ('upcoming', 'due', 'overdue')")
    op.create_index("ix_follow_up_urgency", "follow_up",
                    [sa.text("raised DESC"), "closes_at", "id"],
                    sqlite_where=open_rows, postgresql_where=open_rows)


def downgrade() -> None:
    op.drop_index("ix_follow_up_urgency", "follow_up")
    op.drop_index("ix_alert_severity_opened", "alert")
    op.drop_index("ix_alert_follow_up", "alert")
    op.drop_index("ix_follow_up_status_opens", "follow_up")
    op.drop_index("ix_follow_up_next_alert", "follow_up")
    with op.batch_alter_table("follow_up") as batch:
        for name in ("next_alert_at", "raised", "critical_at", "warning_at", "info_at",
                     "alert_message", "alert_source", "alert_title", "alert_rule", "urgent",
                     "track", "instance_key"):
            batch.drop_column(name)
        batch.add_column(sa.Column("next_check_at", UTC(), nullable=True))
    op.create_index("ix_follow_up_next_check", "follow_up", ["next_check_at"])
