"""Issue 15 item 1: one canonical MRN. The migration refuses near-duplicates (naming them) and
otherwise rewrites stored MRNs to the canonical form; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import Engine, text

from db import migrate
from pathway.domain.errors import InvalidInput
from pathway.ports import Deps
from pathway.services import patients


def _back_one(engine: Engine) -> None:
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0015")  # to the revision before 0016 (canonical MRNs)


def test_the_migration_names_near_duplicates_and_refuses_to_upgrade(deps: Deps, engine: Engine) -> None:
    patients.enroll(deps, "DEMO-001", on=date(2026, 3, 2))
    patients.enroll(deps, "DEMO-002", on=date(2026, 3, 2))
    _back_one(engine)
    with engine.begin() as conn:  # what an older release let in
        conn.execute(text("UPDATE patient SET mrn = 'demo-001 ' WHERE mrn = 'DEMO-002'"))
    with pytest.raises(InvalidInput, match=r"DEMO-001 and demo-001 .*Merge"):
        migrate.upgrade(engine)
    assert migrate.current(engine) != "0016"


def test_the_migration_rewrites_stored_mrns_to_the_canonical_form(deps: Deps, engine: Engine) -> None:
    patients.enroll(deps, "DEMO-003", on=date(2026, 3, 2))
    _back_one(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE patient SET mrn = 'demo-003' WHERE mrn = 'DEMO-003'"))
    migrate.upgrade(engine)
    assert patients.status(deps, " Demo-003").patient.mrn == "DEMO-003"
