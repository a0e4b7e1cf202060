"""A follow-up's status: the one rule, written once.

Storage keeps only what happened to a follow-up (`Outcome`: open, done or cancelled) and its
window instants. Whether an open step is upcoming, due or overdue is a matter of time alone, so
it is derived from `now` here and never stored. The database evaluates the same rule through
its SQL twin (db/status_sql.py); a property test proves the two agree on every boundary.

The window is half-open: a step is due from `opens_at` (inclusive) and overdue from `closes_at`
(the first instant after the window's last day).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """What is stored: what happened to the follow-up."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class FollowUpStatus(StrEnum):
    """What is shown: an open follow-up's place in its window at an instant, or its outcome."""

    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


PENDING = (FollowUpStatus.UPCOMING, FollowUpStatus.DUE, FollowUpStatus.OVERDUE)  # an open step's


def follow_up_status(outcome: str, opens_at: datetime, closes_at: datetime, now: datetime) -> FollowUpStatus:
    """The status of a follow-up at `now`: its outcome once it has one, else where `now` falls
    in its window (before `opens_at`: upcoming; before `closes_at`: due; from then on: overdue)."""
    if outcome != Outcome.OPEN:
        return FollowUpStatus(outcome)
    if now < opens_at:
        return FollowUpStatus.UPCOMING
    if now < closes_at:
        return FollowUpStatus.DUE
    return FollowUpStatus.OVERDUE
