"""The alert audit's hash chain: every path that appends `alert_action` rows goes through
`append_actions`, which chains each row to its alert's last one and records the new last hash on
the alert; `alert_chains` reads them back for `pathway verify`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy import select as columns

from db.fast import Prebuilt
from db.tables import AlertActionRow, AlertRow
from pathway.domain.integrity import StoredAction, chain_rows

_A = AlertRow.__table__  # type: ignore[attr-defined]
_AA = AlertActionRow.__table__  # type: ignore[attr-defined]
_INSERT = insert(_AA)
_HEADS = (
    columns(_A.c.id, _A.c.action_chain)
    .where(_A.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_A.c.id)
    .with_for_update()  # PostgreSQL: two writers to one alert's audit queue here (SQLite: BEGIN IMMEDIATE)
)
_SET_HEAD = update(_A).where(_A.c.id == bindparam("b_id")).values(action_chain=bindparam("b_chain"))
# one alert's head (recording an event), on the driver's cursor: no expanding IN per call
_HEAD_OF = Prebuilt(columns(_A.c.id, _A.c.action_chain).where(_A.c.id == bindparam("aid")).with_for_update())
_FAST_INSERT = Prebuilt(_INSERT, dml=True)
_FAST_SET_HEAD = Prebuilt(_SET_HEAD, dml=True)
_ALL = columns(
    _AA.c.id, _AA.c.alert_id, _AA.c.action, _AA.c.actor, _AA.c.at, _AA.c.note, _AA.c.data, _AA.c.chain
).order_by(_AA.c.alert_id, _AA.c.id)
_ALL_HEADS = columns(_A.c.id, _A.c.action_chain).order_by(_A.c.id)
CHUNK = 500


def known_heads(conn: Connection) -> dict[int, str | None]:
    """Alert id -> its audit head, for the alerts this transaction has already locked and knows
    the head of (inserted them, updated them with RETURNING, or appended to them): the head read
    is skipped for those. Forgotten with the transaction."""
    tx = conn.get_transaction()
    kept = conn.info.get("alert_heads")
    if kept is None or kept[0] is not tx:
        kept = conn.info["alert_heads"] = (tx, {})
    heads: dict[int, str | None] = kept[1]
    return heads


def append_actions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows (in order) chained to their alerts' last rows, and move the alerts' heads."""
    if not rows:
        return
    ids = sorted({int(r["alert_id"]) for r in rows})
    heads: dict[int, str | None] = {}
    known = known_heads(conn)
    if all(i in known for i in ids):
        heads = {i: known[i] for i in ids}
    elif len(ids) == 1:
        heads.update((int(i), h) for i, h in _HEAD_OF.rows(conn, {"aid": ids[0]}))
    else:
        for start in range(0, len(ids), CHUNK):
            heads.update((int(i), h) for i, h in conn.execute(_HEADS, {"ids": ids[start : start + CHUNK]}))
    rows = [dict(r) for r in rows]
    new_heads = chain_rows(heads, rows)
    known.update(new_heads)
    if len({frozenset(r) for r in rows}) == 1:
        _FAST_INSERT.run_many(conn, rows)
        _FAST_SET_HEAD.run_many(conn, [{"b_id": aid, "b_chain": chain} for aid, chain in new_heads.items()])
        return
    conn.execute(_INSERT, rows)
    conn.execute(_SET_HEAD, [{"b_id": aid, "b_chain": chain} for aid, chain in new_heads.items()])


def alert_chains(conn: Connection) -> Iterator[tuple[int, list[StoredAction], str | None]]:
    """Every alert with its audit rows in order and the last hash recorded on it."""
    by_alert: dict[int, list[StoredAction]] = {}
    for r in conn.execute(_ALL):
        by_alert.setdefault(int(r[1]), []).append(StoredAction(*r))
    for alert_id, head in conn.execute(_ALL_HEADS):
        yield int(alert_id), by_alert.pop(int(alert_id), []), head
    for alert_id, actions in by_alert.items():  # rows of an alert that is gone
        yield alert_id, actions, None
