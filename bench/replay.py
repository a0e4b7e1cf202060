"""The raw baseline of recording an event: the engine's own statements, through the driver alone.

`Capture` listens on the engine's driver calls (SQL text, the parameters as the driver gets them,
executemany or not) while the engine records an event; `replay` runs exactly those calls on a
second copy of the base through the DB-API connection, fetching every result and committing.
The difference between the two is the engine's Python (validation, state machines, derivation,
SQLAlchemy's execution layer), not the database's work: an honest engine/own-SQL ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def replay(dbapi_connection: Any, calls: list[Call]) -> None:
    cur = dbapi_connection.cursor()
    for sql, params, many in calls:
        # SQLAlchemy's "insertmanyvalues" (executemany with RETURNING) reports executemany but
        # sends one multi-row INSERT with flat parameters through execute()
        if (
            many
            and isinstance(params, list | tuple)
            and params
            and isinstance(params[0], list | tuple | dict)
        ):
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params)
        if cur.description is not None:
            cur.fetchall()
    dbapi_connection.commit()
