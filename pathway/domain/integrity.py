"""Tamper evidence for the append-only history: each patient's events form a hash chain.

Every event stores the SHA-256 of its content and of the previous event's hash (the patient's
first event chains from the empty string), so an edited, inserted or deleted row breaks the
chain at a row that `pathway verify` can name. The database's triggers refuse UPDATE, DELETE
and TRUNCATE; the chain catches what someone with the database owner's rights does anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pathway.domain.model import EventRecord

GENESIS = ""


def event_digest(previous: str, event: EventRecord) -> str:
    content = [
        previous,
        event.patient_id,
        event.type,
        event.occurred_at.astimezone(UTC).isoformat(),
        event.recorded_at.astimezone(UTC).isoformat(),
        event.actor,
        event.reason,
        event.data,
        {track: list(change) for track, change in event.changes.items()},
        event.source_ref,
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_breaks(
    events: Sequence[EventRecord], stored: dict[int, str | None], expected_count: int
) -> list[str]:
    """Where a patient's stored chain and history disagree, naming each row ([] when intact).

    `stored` maps event id to its stored hash; `expected_count` is how many events the patient's
    record says were appended (its version less the enrolment).
    """
    problems: list[str] = []
    previous = GENESIS
    for event in events:
        digest = event_digest(previous, event)
        have = stored.get(event.id)
        if have is None:
            problems.append(f"event {event.id}: no chain hash (inserted outside the engine?)")
        elif have != digest:
            problems.append(
                f"event {event.id}: content or position does not match its chain hash "
                "(edited, inserted, or an earlier row deleted)"
            )
        previous = have or digest
    if len(events) != expected_count:
        problems.append(
            f"{len(events)} event(s) stored but {expected_count} were recorded (rows deleted or inserted)"
        )
    return problems


@dataclass(frozen=True, slots=True)
class StoredAction:
    """One row of an alert's audit as stored, with the chain hash it was written with."""

    id: int
    alert_id: int
    action: str
    actor: str
    at: datetime
    note: str | None
    data: dict[str, Any]
    chain: str | None


def action_digest(
    previous: str, alert_id: int, action: str, actor: str, at: datetime, note: str | None, data: Any
) -> str:
    """The chain hash of an alert's audit row: its content and the previous row's hash (an
    alert's first row chains from GENESIS), as for events."""
    content = [previous, alert_id, action, actor, at.astimezone(UTC).isoformat(), note, data or {}]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_rows(heads: Mapping[int, str | None], rows: Sequence[MutableMapping[str, Any]]) -> dict[int, str]:
    """Set `chain` on each new audit row (in order), each following its alert's head; returns the
    alerts' new heads. `heads` holds each alert's current head (None: no row yet)."""
    current: dict[int, str] = {}
    for row in rows:
        aid = int(row["alert_id"])
        previous = current.get(aid, heads.get(aid) or GENESIS)
        row["chain"] = action_digest(
            previous, aid, row["action"], row["actor"], row["at"], row.get("note"), row.get("data")
        )
        current[aid] = row["chain"]
    return current


def action_chain_breaks(alert_id: int, actions: Sequence[StoredAction], head: str | None) -> list[str]:
    """Where one alert's audit rows and their chain disagree, naming the alert and the row.

    `head` is the hash the alert row says its last action had: a deleted last row shows there.
    """
    problems: list[str] = []
    previous = GENESIS
    for a in actions:
        digest = action_digest(previous, a.alert_id, a.action, a.actor, a.at, a.note, a.data)
        if a.chain is None:
            problems.append(f"alert {alert_id} action {a.id}: no chain hash (inserted outside the engine?)")
        elif a.chain != digest:
            problems.append(
                f"alert {alert_id} action {a.id}: content or position does not match its chain "
                "hash (edited, inserted, or an earlier row deleted)"
            )
        previous = a.chain or digest
    last = actions[-1].chain if actions else None
    if last != head:
        where = f"ends at action {actions[-1].id}" if actions else "has no rows"
        problems.append(
            f"alert {alert_id}: its audit {where}, not at the row last recorded for it "
            "(rows deleted or inserted)"
        )
    return problems
