"""Alembic environment: the connection is handed in by db.migrate (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

import db.tables  # noqa: F401  (registers the tables on the metadata)

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
