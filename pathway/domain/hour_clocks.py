"""Which events start an hour-level clock and so must be recorded with a time, not a date alone.

The pathway file says it: a timing rule with `needs_time: true` needs a time on every event that
anchors it (an anchor event whose fields meet the anchor's `when`, or an event that moves its
track into one of the anchor's `entering` states).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pathway.domain.conditions import all_hold
from pathway.domain.definition import PathwayDefinition


def clocks_needing_time(
    definition: PathwayDefinition,
    event: str,
    data: Mapping[str, Any],
    changes: Mapping[str, tuple[str, str]],
) -> list[str]:
    """The ids of the hour-level rules this event (with these fields and state changes) anchors."""
    found: list[str] = []
    for rule_id, rule in definition.rules.follow_ups.items():
        if not rule.needs_time:
            continue
        anchor = rule.anchor
        by_event = event in anchor.events and all_hold(anchor.when, data, definition.parameter)
        entering = rule.track in changes and changes[rule.track][1] in anchor.entering
        if by_event or entering:
            found.append(rule_id)
    return found
