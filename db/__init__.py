"""SQLModel storage adapter: tables, engine, unit of work and Alembic migrations."""
