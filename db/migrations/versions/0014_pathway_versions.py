"""Applied pathway files (change control): hash, approver, note, the diff and the file text.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "pathway_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(64), nullable=False, server_default=""),
        sa.Column("applied_at", UTC(), nullable=False),
        sa.Column("applied_by", sa.String(100), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("changes", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("rederived_at", UTC(), nullable=True),
        sa.UniqueConstraint("pathway_id", "number", name="uq_pathway_version_number"),
    )


def downgrade() -> None:
    op.drop_table("pathway_version")
