from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Create or upgrade the schema to the newest revision; safe to run twice. Returns (old, new)."""
    cfg = _config()
    with engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # a backfill may outlast the per-statement limit
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head()


def current(engine: Engine) -> str | None:
    """The schema revision, read without a write lock (a long sweep must not block start-up)."""
    with engine.connect() as conn:
        conn.execution_options(pathway_read_only=True)
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
