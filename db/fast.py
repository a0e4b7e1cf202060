"""Prebuilt statements run on the DB-API cursor of a SQLAlchemy connection (the event path).

A Core statement is compiled once per dialect (and, for an UPDATE or INSERT, per set of columns
it sets); each call then converts the parameters and the rows with SQLAlchemy's own bind and
result processors for those columns, and sends the SQL text to the driver: what SQLAlchemy's
execution layer would send and return, without the per-statement work of that layer (execution
context, parameter construction, result object). SQLite's datetime text in SQLAlchemy's own
format is parsed with `datetime.fromisoformat` (the same value, faster than its pattern).

Listeners of `before_cursor_execute` still see every statement (the statement-count test, the
bench's capture), and driver errors are raised as SQLAlchemy's (IntegrityError and so on) through
the connection's own handler.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel.sql.sqltypes import UTCDateTime

from db import pipeline

Row = tuple[Any, ...]


def _sqlite_utc(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """UTCDateTime read back from SQLite: 'YYYY-MM-DD HH:MM:SS[.ffffff]' as SQLAlchemy writes it."""

    def parse(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return fallback(value)

    return parse


def _is_instant(compiled: Any, name: str, dialect: Any) -> bool:
    bind = compiled.binds.get(name)
    return dialect.name == "sqlite" and bind is not None and isinstance(bind.type, UTCDateTime)


def sqlite_utc_text(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """UTCDateTime written to SQLite: the UTC instant as SQLAlchemy's text
    'YYYY-MM-DD HH:MM:SS.ffffff' (naive values and the rest: SQLAlchemy's own processor)."""

    def text(value: Any) -> Any:
        if type(value) is datetime and value.utcoffset() is not None:
            return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]
        return fallback(value)

    return text


def _empty_object(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """JSON read back from SQLite: the empty object (most events' data and changes) without the
    decoder; a new dict each time, as decoding gives."""

    def parse(value: Any) -> Any:
        return {} if value == "{}" else fallback(value)

    return parse


class _Compiled:
    __slots__ = ("binds", "consts", "dialect", "instants", "names", "plain", "results", "sql")

    def __init__(self, stmt: ClauseElement, conn: Connection, keys: Collection[str] | None) -> None:
        dialect = conn.dialect
        # SQLAlchemy's compiled form (its private parts are stable in 2.x: the bind names and the
        # processors its own execution context uses)
        compiled: Any = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if compiled.escaped_bind_names or getattr(compiled, "insert_prefetch", None):
            raise ValueError(f"not a plain prebuilt statement: {compiled.string}")
        self.dialect = dialect
        self.sql = compiled.string
        self.names: list[str] | None = list(compiled.positiontup) if compiled.positional else None
        required = {name for bind, name in compiled.bind_names.items() if bind.required}
        self.consts = {k: v for k, v in compiled.construct_params(_check=False).items() if k not in required}
        processors = compiled._bind_processors
        self.binds = [
            (name, sqlite_utc_text(fn) if _is_instant(compiled, name, dialect) else fn)
            for name, fn in processors.items()
            if callable(fn)
        ]
        results: list[tuple[int, Callable[[Any], Any]]] = []
        instants: list[tuple[int, Callable[[Any], Any]]] = []
        for i, entry in enumerate(compiled._result_columns):
            kind = entry[3]
            fn: Any = kind._cached_result_processor(dialect, None)
            if fn is None:
                continue
            if isinstance(kind, UTCDateTime):
                instants.append((i, _sqlite_utc(fn) if dialect.name == "sqlite" else fn))
                continue
            if dialect.name == "sqlite" and isinstance(kind, JSON):
                fn = _empty_object(fn)
            results.append((i, fn))
        self.results = results
        self.instants = instants
        self.plain = not results and not instants  # rows as the driver gives them

    def params(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.consts, **values} if self.consts else dict(values)
        for name, fn in self.binds:
            if name in merged:
                merged[name] = fn(merged[name])
        if self.names is not None:
            return tuple(merged[n] for n in self.names)
        return merged

    def rows(self, raw: Sequence[Any]) -> list[Row]:
        if self.plain:
            return [tuple(r) for r in raw]
        pairs, instants = self.results, self.instants
        seen: dict[Any, Any] = {None: None}  # the same text, the same (immutable) datetime
        out = []
        for r in raw:
            row = list(r)
            for i, fn in pairs:
                row[i] = fn(row[i])
            for i, fn in instants:
                value = row[i]
                try:
                    row[i] = seen[value]
                except KeyError:
                    row[i] = seen[value] = fn(value)
            out.append(tuple(row))
        return out


class Pending:
    """A statement sent, whose rows are read later."""

    __slots__ = ("compiled", "conn", "cursor")

    def __init__(self, conn: Connection, compiled: _Compiled, cursor: Any) -> None:
        self.conn, self.compiled, self.cursor = conn, compiled, cursor

    def rows(self) -> list[Row]:
        cursor = self.cursor
        try:
            raw = cursor.fetchall()
        except Exception as exc:  # a statement sent before it failed (pipeline mode)
            self.conn._handle_dbapi_exception(exc, self.compiled.sql, None, cursor, None)
            raise
        finally:
            cursor.close()
        if self.conn.dialect.name == "postgresql":
            pipeline.verify(self.conn)  # the compare-and-sets sent before it are back too
        return self.compiled.rows(raw)


class Prebuilt:
    """One statement, compiled on first use per dialect and set of parameter names."""

    def __init__(self, stmt: ClauseElement, dml: bool = False) -> None:
        self.stmt = stmt
        self.dml = dml  # UPDATE / INSERT whose SET columns are the parameters' names
        self._compiled: dict[tuple[str, frozenset[str] | None], _Compiled | None] = {}

    def _for(self, conn: Connection, values: Mapping[str, Any]) -> _Compiled | None:
        """The compiled form, or None where SQLAlchemy must run it (an INSERT leaving out a column
        with a Python-side default, which its execution context computes)."""
        keys = frozenset(values) if self.dml else None
        key = (conn.dialect.name, keys)
        try:
            return self._compiled[key]
        except KeyError:
            pass
        if len(self._compiled) > 200:
            self._compiled.clear()
        try:
            found: _Compiled | None = _Compiled(self.stmt, conn, keys)
        except ValueError:
            found = None
        self._compiled[key] = found
        return found

    def _run(
        self, conn: Connection, compiled: _Compiled, params: Any, many: bool, sql: str | None = None
    ) -> Any:
        sql = sql or compiled.sql
        if "pipeline" in conn.info:
            pipeline.resume(conn)
        cursor = conn.connection.cursor()
        try:
            if conn._has_events or conn.engine._has_events:
                conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        except Exception as exc:  # wrapped and raised by SQLAlchemy's own handler
            conn._handle_dbapi_exception(exc, sql, params, cursor, None)
            raise
        return cursor

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[Row]:
        """The rows a query (or a statement with RETURNING) gives, converted."""
        compiled = self._for(conn, values)
        if compiled is None:
            return [tuple(r) for r in conn.execute(self.stmt, dict(values))]  # type: ignore[call-overload]
        return Pending(conn, compiled, self._run(conn, compiled, compiled.params(values), False)).rows()

    def send(self, conn: Connection, values: Mapping[str, Any]) -> Pending:
        """Send the statement; its rows are read with `Pending.rows()` (under PostgreSQL's
        pipeline mode, several statements sent before the first read share one round trip)."""
        compiled = self._for(conn, values)
        if compiled is None:
            raise ValueError(f"not a plain prebuilt statement: {self.stmt}")
        return Pending(conn, compiled, self._run(conn, compiled, compiled.params(values), False))

    def run_checked(self, conn: Connection, values: Mapping[str, Any], conflict: str) -> bool:
        """Run a compare-and-set: whether it changed exactly one row. Under pipeline mode (see
        db.pipeline) its result is not waited for: it returns True, and the check is made when
        the result is back, raising Conflict(`conflict`) if it changed none."""
        if not pipeline.in_pipeline(conn):
            return self.run(conn, values) == 1
        compiled = self._for(conn, values)
        assert compiled is not None
        pipeline.expect_one(conn, self._run(conn, compiled, compiled.params(values), False), conflict)
        return True

    def rows_of_many(self, conn: Connection, values: Sequence[Mapping[str, Any]]) -> list[Row] | None:
        """An INSERT … RETURNING of several rows (same names) as one multi-row VALUES statement on
        SQLite (what SQLAlchemy's "insertmanyvalues" sends); None where it does not apply (then
        run it through SQLAlchemy)."""
        if not values or len(values) > 100 or conn.dialect.name != "sqlite":
            return None
        names = frozenset(values[0])
        if any(frozenset(v) != names for v in values):
            return None
        compiled = self._for(conn, values[0])
        if compiled is None or compiled.names is None:
            return None
        head, found, rest = compiled.sql.partition(" VALUES (")
        group, closed, tail = rest.partition(")")
        if not found or not closed or set(group.replace(",", "").split()) != {"?"}:
            return None
        sql = f"{head} VALUES {', '.join([f'({group})'] * len(values))}{tail}"
        params = tuple(p for v in values for p in compiled.params(v))
        cursor = self._run(conn, compiled, params, False, sql)
        try:
            return compiled.rows(cursor.fetchall())
        finally:
            cursor.close()

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run a statement without rows; the number of rows it changed."""
        compiled = self._for(conn, values)
        if compiled is None:
            return int(conn.execute(self.stmt, dict(values)).rowcount)  # type: ignore[call-overload]
        cursor = self._run(conn, compiled, compiled.params(values), False)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def run_many(self, conn: Connection, values: Sequence[Mapping[str, Any]]) -> None:
        """One statement, several parameter sets (same names), no rows back."""
        if not values:
            return
        compiled = self._for(conn, values[0])
        if compiled is None:
            conn.execute(self.stmt, [dict(v) for v in values])  # type: ignore[call-overload]
            return
        if len(values) == 1:
            self._run(conn, compiled, compiled.params(values[0]), False).close()
            return
        self._run(conn, compiled, [compiled.params(v) for v in values], True).close()
