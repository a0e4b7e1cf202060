"""Follow-ups, alerts and the alert audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("anchor_at", UTC(), nullable=False),
        sa.Column("anchor_label", sa.String(200), nullable=False),
        sa.Column("opens_at", UTC(), nullable=False),
        sa.Column("target_at", UTC(), nullable=False),
        sa.Column("closes_at", UTC(), nullable=False),
        sa.Column("clock_time", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_at", UTC(), nullable=True),
        sa.Column("done_event_id", sa.Integer(), nullable=True),
        sa.Column("late_days", sa.Integer(), nullable=False),
        sa.Column("early", sa.Boolean(), nullable=False),
        sa.Column("cancel_reason", sa.String(), nullable=True),
        sa.Column("notes", JSON, nullable=False),
        sa.Column("next_check_at", UTC(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.UniqueConstraint("patient_id", "rule", "region", "anchor_at", name="uq_follow_up_instance"),
    )
    op.create_index("ix_follow_up_next_check", "follow_up", ["next_check_at"])
    op.create_index("ix_follow_up_status_closes", "follow_up", ["status", "closes_at"])
    op.create_index("ix_follow_up_patient", "follow_up", ["patient_id", "status"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("instance_key", sa.String(120), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), sa.ForeignKey("follow_up.id"), nullable=True),
        sa.Column("states_at_fire", JSON, nullable=False),
        sa.Column("pathway_hash", sa.String(32), nullable=False),
        sa.Column("opened_at", UTC(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", UTC(), nullable=True),
        sa.Column("override_reason", sa.String(40), nullable=True),
        sa.Column("override_until", UTC(), nullable=True),
        sa.Column("acted_by", sa.String(100), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("resolved_at", UTC(), nullable=True),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.UniqueConstraint("patient_id", "rule", "instance_key", "severity", name="uq_alert_level"),
    )
    op.create_index("ix_alert_status_severity", "alert", ["status", "severity"])
    op.create_index("ix_alert_patient_status", "alert", ["patient_id", "status"])
    op.create_table(
        "alert_action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("data", JSON, nullable=False),
    )
    op.create_index("ix_alert_action_alert", "alert_action", ["alert_id"])


def downgrade() -> None:
    op.drop_table("alert_action")
    op.drop_table("alert")
    op.drop_table("follow_up")
