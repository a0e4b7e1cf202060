"""The SQL twin of the follow-up status rule (pathway/domain/status.py), built in one place.

`status_case` is the whole rule as one CASE over the stored outcome and the window instants with
a bound `now`; `in_status` gives the same rule as WHERE clauses that read only window columns
(range predicates), so the worklist, the report and the sweep keep reading along the partial
indexes whose condition is `status = 'open'` (`OPEN_ROWS`, written literally: a bound parameter
would not match an index's WHERE on SQLite). tests/integration/test_status_twin.py proves that
both agree with the Python rule on every boundary, on SQLite and PostgreSQL.

Windows never close before they open (the pathway file refuses it), which the predicates assume.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, literal, text
from sqlalchemy.sql.elements import ColumnElement

from db.tables import FollowUpRow
from pathway.domain.status import FollowUpStatus, Outcome

_F = FollowUpRow.__table__  # type: ignore[attr-defined]
OPEN_ROWS = text("follow_up.status = 'open'")  # literal: the partial indexes' condition


def status_case(now: datetime, table: Any = _F) -> ColumnElement[str]:
    """The status of each row at `now`, as the domain's follow_up_status computes it."""
    c = table.c
    return case(
        (c.status != literal(Outcome.OPEN.value), c.status),
        (c.opens_at > now, literal(FollowUpStatus.UPCOMING.value)),
        (c.closes_at > now, literal(FollowUpStatus.DUE.value)),
        else_=literal(FollowUpStatus.OVERDUE.value),
    )


def window_is(status: FollowUpStatus, now: datetime, table: Any = _F) -> ColumnElement[bool]:
    """Where `now` falls in an OPEN row's window, reading window columns only (combine with
    OPEN_ROWS, or use `in_status`). Done and cancelled are outcomes, not window positions."""
    c = table.c
    if status is FollowUpStatus.UPCOMING:
        return c.opens_at > now  # type: ignore[no-any-return]
    if status is FollowUpStatus.DUE:
        return and_(c.opens_at <= now, c.closes_at > now)
    if status is FollowUpStatus.OVERDUE:
        return c.closes_at <= now  # type: ignore[no-any-return]
    return false()


def not_overdue(now: datetime, table: Any = _F) -> ColumnElement[bool]:
    """An open row that is upcoming or due at `now` (its window has not closed)."""
    return table.c.closes_at > now  # type: ignore[no-any-return]


def in_status(status: FollowUpStatus, now: datetime, table: Any = _F) -> ColumnElement[bool]:
    """Rows whose status at `now` is `status`."""
    if status in (FollowUpStatus.DONE, FollowUpStatus.CANCELLED):
        return table.c.status == status.value  # type: ignore[no-any-return]
    return and_(OPEN_ROWS, window_is(status, now, table))
