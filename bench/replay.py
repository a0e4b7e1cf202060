"""The raw baseline of recording an event: the engine's own statements, through the driver alone.

`Capture` listens on the engine's driver calls (SQL text, the parameters as the driver gets them,
executemany or not) while the engine records an event; `replay` runs exactly those calls on a
second copy of the base through the DB-API connection, fetching every result and committing.
The difference between the two is the engine's Python (validation, state machines, derivation,
SQLAlchemy's execution layer), not the database's work: an honest engine/own-SQL ratio.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from psycopg import pq
from sqlalchemy import Engine, event

Call = tuple[str, Any, bool]


class Capture:
    def __init__(self, engine: Engine) -> None:
        self.calls: list[Call] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if self.on:
            self.calls.append((statement, parameters, executemany))

    def run(self, fn: Callable[[], Any]) -> list[Call]:
        """The driver calls `fn` made (the commit is not a statement: replay adds it)."""
        self.calls = []
        self.on = True
        try:
            fn()
        finally:
            self.on = False
        return list(self.calls)


def replay(dbapi_connection: Any, calls: list[Call], pipelined: bool = False) -> None:
    """Run the calls on the driver alone and commit. `pipelined` (PostgreSQL): all of them in one
    pipeline (one wait, then the COMMIT), the floor for those statements, which the engine,
    waiting where it needs a result, cannot beat."""
    if pipelined:
        sent = []
        with dbapi_connection.pipeline():
            for sql, params, many in calls:
                cur = dbapi_connection.cursor()
                _send(cur, sql, params, many)
                sent.append(cur)
        for cur in sent:
            if cur.description is not None:
                cur.fetchall()
        dbapi_connection.commit()
        return
    cur = dbapi_connection.cursor()
    for sql, params, many in calls:
        _send(cur, sql, params, many)
        if cur.description is not None:
            cur.fetchall()
    dbapi_connection.commit()


def _send(cur: Any, sql: str, params: Any, many: bool) -> None:
    # SQLAlchemy's "insertmanyvalues" (executemany with RETURNING) reports executemany but
    # sends one multi-row INSERT with flat parameters through execute()
    if many and isinstance(params, list | tuple) and params and isinstance(params[0], list | tuple | dict):
        cur.executemany(sql, params)
    else:
        cur.execute(sql, params)


def round_trips(engine: Engine, fn: Callable[[], Any]) -> int:
    """How many times `fn` made the client wait for PostgreSQL, BEGIN and COMMIT aside: each run
    of protocol messages ending in Sync, Flush or a simple Query that the server answered
    (libpq's trace of the connections checked out meanwhile)."""
    fd, path = tempfile.mkstemp()

    def checkout(dbapi: Any, record: Any, proxy: Any) -> None:
        dbapi.pgconn.trace(fd)
        dbapi.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def checkin(dbapi: Any, record: Any) -> None:
        dbapi.pgconn.untrace()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        fn()
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
        os.close(fd)
    with open(path, encoding="utf-8", errors="replace") as f:
        trace = f.read()
    os.unlink(path)
    return waits(trace) - 2


def waits(trace: str) -> int:
    """The waits in a libpq trace (psycopg also reads results between messages: not waits)."""
    count, last = 0, None
    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        if parts[0] == "F":
            last = parts[2]
        elif parts[0] == "B" and last is not None:
            count += last in ("Sync", "Flush", "Query")
            last = None
    return count
