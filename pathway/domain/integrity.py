"""Tamper evidence for the append-only history: each patient's events form a hash chain.

Every event stores the SHA-256 of its content and of the previous event's hash (the patient's
first event chains from the empty string), so an edited, inserted or deleted row breaks the
chain at a row that `pathway verify` can name. The database's triggers refuse UPDATE, DELETE
and TRUNCATE; the chain catches what someone with the database owner's rights does anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC

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
