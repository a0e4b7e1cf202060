"""The last run of each periodic job, so /readyz and /metrics can tell whether the sweep is alive.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_started_at", UTC(), nullable=False),
        sa.Column("last_finished_at", UTC(), nullable=False),
        sa.Column("last_seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("last_success_at", UTC(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
