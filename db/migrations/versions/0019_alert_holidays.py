"""Each alert keeps the site's holiday calendar and the version of the `holidays` package that
computed its dates, beside the pathway hash: an update of the package can move a target date.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN (nullable): no table rebuild on SQLite
    op.add_column("alert", sa.Column("holiday_calendar", sa.String(length=40), nullable=True))
    op.add_column("alert", sa.Column("holidays_version", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch copy would drop the referenced table
    op.drop_column("alert", "holidays_version")
    op.drop_column("alert", "holiday_calendar")
