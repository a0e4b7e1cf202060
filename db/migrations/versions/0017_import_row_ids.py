"""An imported event keeps its CSV row id, unique per patient, so a row imported twice is skipped.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN and a unique index: no table rebuild on SQLite, so the append-only triggers stay
    op.add_column("event", sa.Column("row_id", sa.String(length=100), nullable=True))
    op.create_index("uq_event_row_id", "event", ["patient_id", "row_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_event_row_id", table_name="event")
    op.drop_column("event", "row_id")
