"""Care teams, team membership of accounts, and each patient's team and named coordinator.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "care_team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("notify_channel", sa.String(length=16), nullable=True),
        sa.Column("notify_to", sa.String(length=300), nullable=True),
        sa.Column("notify_min_severity", sa.String(length=16), nullable=False, server_default="warning"),
        sa.Column("created_at", UTC(), nullable=False),
        sa.UniqueConstraint("name", name="uq_care_team_name"),
    )
    op.create_table(
        "care_team_member",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("care_team.id"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), primary_key=True),
        sa.Column("added_at", UTC(), nullable=False),
    )
    op.create_table(
        "care_assignment",
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("care_team.id"), nullable=False),
        sa.Column("coordinator_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("assigned_at", UTC(), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
    )
    op.create_index("ix_care_assignment_team", "care_assignment", ["team_id"])
    op.create_index("ix_care_assignment_coordinator", "care_assignment", ["coordinator_id"])


def downgrade() -> None:
    op.drop_index("ix_care_assignment_coordinator", "care_assignment")
    op.drop_index("ix_care_assignment_team", "care_assignment")
    op.drop_table("care_assignment")
    op.drop_table("care_team_member")
    op.drop_table("care_team")
