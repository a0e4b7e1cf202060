"""Interoperability: the FHIR resource an event was imported from (unique, so a bundle imported
twice records nothing twice) and the per-user tokens of the iCalendar feed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # ADD COLUMN and a unique index: no table rebuild on SQLite, so the append-only triggers stay
    op.add_column("event", sa.Column("source_ref", sa.String(length=300), nullable=True))
    op.create_index("uq_event_source_ref", "event", ["source_ref"], unique=True)
    op.create_table(
        "calendar_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("revoked_at", UTC(), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_calendar_token_hash"),
    )
    op.create_index("ix_calendar_token_user", "calendar_token", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_calendar_token_user", "calendar_token")
    op.drop_table("calendar_token")
    op.drop_index("uq_event_source_ref", "event")
    op.drop_column("event", "source_ref")
