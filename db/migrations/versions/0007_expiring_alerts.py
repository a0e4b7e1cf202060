"""A partial index over snoozed and overridden alerts, so the sweep finds the ones that ran out
without scanning every alert; and one index fewer to write on every follow-up change
(ix_follow_up_patient: the unique key starts with the patient and serves the same reads).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PAUSED = sa.text("status IN ('snoozed', 'overridden')")


def upgrade() -> None:
    op.drop_index("ix_follow_up_patient", "follow_up")
    op.create_index("ix_alert_expiring", "alert", ["snoozed_until", "override_until", "patient_id"],
                    sqlite_where=PAUSED, postgresql_where=PAUSED)


def downgrade() -> None:
    op.create_index("ix_follow_up_patient", "follow_up", ["patient_id", "status"])
    op.drop_index("ix_alert_expiring", "alert")
