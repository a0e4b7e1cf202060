"""Which database errors mean "busy" (a lock held too long) or "rerun me" (a deadlock), on both databases.

SQLite says `database is locked` once its busy timeout ran out; PostgreSQL raises SQLSTATE 55P03
(lock_timeout) or 57014 (statement_timeout) and, between two writers, 40P01 (deadlock) or 40001
(serialization failure), which the services rerun a bounded number of times.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from pathway.domain.errors import Busy, PathwayError, TransientConflict

BUSY_MESSAGE = "database busy, try again (another process holds a lock; it usually ends within seconds)"
_BUSY_STATES = {"55P03", "57014"}
_RERUN_STATES = {"40P01", "40001"}


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(state) if state else None


def busy_error(exc: BaseException) -> PathwayError | None:
    """The domain error for a lock wait that ran out or a deadlock, or None for anything else."""
    if not isinstance(exc, DBAPIError):
        return None
    state = sqlstate(exc)
    if state in _RERUN_STATES:
        return TransientConflict(f"{BUSY_MESSAGE} [{state}]")
    if state in _BUSY_STATES:
        return Busy(BUSY_MESSAGE)
    text = str(getattr(exc, "orig", exc)).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return Busy(BUSY_MESSAGE)
    return None
