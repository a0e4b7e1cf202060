"""Database URLs as operators write them: what is supported, and what a connection failure means."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from pathway.domain.errors import InvalidInput

FORMS = "sqlite:///path/to/pathway.db or postgresql+psycopg://USER@HOST:5432/DBNAME"


def parse_database_url(url: str) -> URL:
    """The URL, if it names a supported database; InvalidInput saying what to write otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"PATHWAY_DATABASE_URL is not a database URL; write {FORMS}") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        raise InvalidInput(
            "PATHWAY_DATABASE_URL starts with postgres://, which SQLAlchemy does not accept; "
            "write postgresql+psycopg:// instead"
        )
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInput(
            f"PATHWAY_DATABASE_URL names {backend}: only SQLite and PostgreSQL are supported ({FORMS})"
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver this package installs
    return parsed


def connection_problem(exc: BaseException, url: URL) -> str | None:
    """One line saying why the database cannot be reached and how to fix it (None: not that)."""
    if not isinstance(exc, OperationalError):
        return None
    text = str(exc.orig if exc.orig is not None else exc)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if url.get_backend_name() == "postgresql":
        if "does not exist" in text and "database" in text:
            return (
                f"the PostgreSQL database {url.database!r} does not exist on {where}: create it "
                f"(createdb -h {url.host or 'localhost'} -U {url.username or 'postgres'} {url.database}), "
                "then run `pathway init`"
            )
        if "password authentication failed" in text or "no password supplied" in text:
            return f"PostgreSQL on {where} refused the user {url.username!r}: check the user and password"
        if "Connection refused" in text or "could not translate host name" in text or "timeout" in text:
            return f"cannot reach PostgreSQL on {where}: is the server running, and are host and port right?"
        return None
    if "unable to open database file" in text:
        return f"cannot open the SQLite file {url.database!r}: check the folder exists and is writable"
    return None
