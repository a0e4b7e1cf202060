"""PostgreSQL's pipeline mode for the event path: fewer round trips per recorded event.

Recording an event locks the patient, reads what the refresh needs, and writes. On PostgreSQL
each statement used to be one round trip. Under psycopg's pipeline mode a statement is sent
without waiting for its result; the client waits only where it needs rows back. So:

- the lock and the reads that follow it (the history, follow-ups, alerts and care-team target,
  and the next event id) go in one round trip (db.prefetch); a repository takes its rows once
  (`take`) instead of reading;
- writes that return nothing are queued and travel with the next statement that returns rows,
  or with the commit;
- a compare-and-set whose count matters (`expect_one`) is checked when its result has come back:
  at the next read, or before the commit. If it did not change exactly one row, `Conflict` is
  raised and the transaction rolls back: nothing of the event is written.

A statement run through SQLAlchemy's own execution (not db.fast) first leaves pipeline mode, as
do the commit and the rollback (SQLAlchemy reads results at once, which the pipeline defers).
Only PostgreSQL engines listen (see `watch`); on SQLite there are no round trips to save.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event

from pathway.domain.errors import Conflict

Row = tuple[Any, ...]


@dataclass
class _Pipe:
    """The event path's state on one transaction: in pipeline mode or not (a statement run
    through SQLAlchemy took it out; the next one of db.fast takes it back in)."""

    tx: Any
    scope: Any = None  # psycopg's pipeline() context while in pipeline mode
    checks: list[tuple[Any, str]] = field(default_factory=list)  # (cursor, message if not one row)
    rows: dict[tuple[str, int], list[Row]] = field(default_factory=dict)


def _current(conn: Connection) -> _Pipe | None:
    pipe: _Pipe | None = conn.info.get("pipeline")
    if pipe is not None and pipe.tx is not conn.get_transaction():
        _close(conn, pipe, quietly=True)  # left over from a transaction that has ended
        return None
    return pipe


def enter(conn: Connection) -> None:
    """Pipeline mode for the rest of this transaction (on PostgreSQL's connection only)."""
    pipe = _current(conn)
    if pipe is None:
        pipe = conn.info["pipeline"] = _Pipe(conn.get_transaction())
    if pipe.scope is None:
        driver = conn.connection.driver_connection
        assert driver is not None
        pipe.scope = driver.pipeline()
        pipe.scope.__enter__()


def resume(conn: Connection) -> None:
    """Before a statement of db.fast: back into pipeline mode if this transaction was in it."""
    if "pipeline" in conn.info:
        pipe = _current(conn)
        if pipe is not None and pipe.scope is None:
            enter(conn)


def in_pipeline(conn: Connection) -> bool:
    """Whether this transaction records under pipeline mode (out of it for the moment after a
    statement of SQLAlchemy's: the next statement of db.fast goes back in)."""
    return conn.dialect.name == "postgresql" and _current(conn) is not None


def keep(conn: Connection, name: str, patient_id: int, rows: list[Row]) -> None:
    pipe = _current(conn)
    assert pipe is not None
    pipe.rows[(name, patient_id)] = rows


def take(conn: Connection, name: str, patient_id: int) -> list[Row] | None:
    """The rows read with the lock, once (a second read of the same goes to the database, and
    sees this transaction's writes); None where nothing was read ahead."""
    if conn.dialect.name != "postgresql":
        return None
    pipe = _current(conn)
    return pipe.rows.pop((name, patient_id), None) if pipe is not None else None


def expect_one(conn: Connection, cursor: Any, message: str) -> None:
    """Check, once its result is back, that the statement on `cursor` changed exactly one row."""
    pipe = _current(conn)
    assert pipe is not None
    pipe.checks.append((cursor, message))


def verify(conn: Connection) -> None:
    """Raise Conflict for a deferred compare-and-set whose result is back and changed no row."""
    pipe = _current(conn)
    if pipe is None or not pipe.checks:
        return
    waiting = []
    for cursor, message in pipe.checks:
        count = cursor.rowcount
        if count == -1:  # not back yet
            waiting.append((cursor, message))
        elif count != 1:
            pipe.checks = []
            raise Conflict(message)
    pipe.checks = waiting


def leave(conn: Connection) -> None:
    """Send what is queued, check it, and leave pipeline mode (the transaction goes on)."""
    pipe = conn.info.get("pipeline")
    if pipe is None or pipe.scope is None:
        return
    scope, pipe.scope = pipe.scope, None
    try:
        scope.__exit__(None, None, None)  # one sync: what is queued goes, its results come back
    except Exception as exc:  # an error of a queued statement, raised as SQLAlchemy raises it
        conn.info.pop("pipeline", None)
        conn._handle_dbapi_exception(exc, "(pipeline)", None, None, None)
        raise
    verify(conn)


def _close(conn: Connection, pipe: _Pipe, quietly: bool) -> None:
    conn.info.pop("pipeline", None)
    if pipe.scope is None:
        return
    scope, pipe.scope = pipe.scope, None
    try:
        scope.__exit__(None, None, None)
    except Exception:
        if not quietly:
            raise


def watch(engine: Engine) -> None:
    """Leave pipeline mode before SQLAlchemy runs a statement itself, commits or rolls back."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Connection, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if context is not None and "pipeline" in conn.info:  # db.fast passes no context
            leave(conn)

    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        pipe = conn.info.get("pipeline")
        if pipe is not None:
            leave(conn)
            _close(conn, pipe, quietly=False)

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection) -> None:
        pipe = conn.info.get("pipeline")
        if pipe is not None:
            _close(conn, pipe, quietly=True)
