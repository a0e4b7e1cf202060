"""MRNs in one canonical form (trimmed, case-folded as PATHWAY_MRN_CASE says, default upper).

Refuses to upgrade while two stored MRNs share a canonical form (`demo-001` and `DEMO-001`): they
are one person or a typing error, and a person must merge them first. Otherwise every stored MRN
is rewritten to its canonical form; the unique key uq_patient_mrn then holds on that form.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import os
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from pathway.domain.errors import InvalidInput
from pathway.domain.mrn import fold

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    case = (os.environ.get("PATHWAY_MRN_CASE") or "upper").strip()
    conn = op.get_bind()
    patient = sa.table("patient", sa.column("id", sa.Integer), sa.column("mrn", sa.String))
    rows = conn.execute(sa.select(patient.c.id, patient.c.mrn)).all()
    groups: dict[str, list[str]] = defaultdict(list)
    for _, mrn in rows:
        groups[fold(mrn, case)].append(mrn)
    clashes = sorted(sorted(mrns) for mrns in groups.values() if len(mrns) > 1)
    if clashes:
        named = "; ".join(" and ".join(mrns) for mrns in clashes)
        raise InvalidInput(
            f"cannot upgrade: MRNs that differ only in letter case or spaces name one patient twice: "
            f"{named}. Merge each pair (keep one, retract or re-record the other's events) and "
            "upgrade again"
        )
    for pid, mrn in rows:
        if fold(mrn, case) != mrn:
            conn.execute(sa.update(patient).where(patient.c.id == pid).values(mrn=fold(mrn, case)))


def downgrade() -> None:
    """The canonical form is a valid MRN as it stands: nothing to undo."""
