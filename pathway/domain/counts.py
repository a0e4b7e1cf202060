"""The worklist's counts, defined once: what each counts and the words it is shown with.

The CLI worklist, the web cards and the daily report all count with these definitions (the
status rule is `status.follow_up_status`; an alert is counted while its status is `open`, the
alerts the worklist lists), so the three can be compared number by number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pathway.domain.alert_status import AlertStatus, Severity
from pathway.domain.status import FollowUpStatus

SOON_DAYS = 7
"""A step whose window opens within this many days of the list's instant is "due soon"."""

COUNTED_ALERTS: tuple[AlertStatus, ...] = (AlertStatus.OPEN,)
"""Alert statuses counted as "open alerts" (acknowledged and snoozed ones are in hand)."""


class Count(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    SOON = "soon"
    CRITICAL = "critical_alerts"
    WARNING = "warning_alerts"
    INFO = "info_alerts"


@dataclass(frozen=True)
class CountWords:
    one: str
    many: str
    meaning: str


WORDS: dict[Count, CountWords] = {
    Count.OVERDUE: CountWords("overdue step", "overdue steps", "window closed, step not done"),
    Count.DUE: CountWords("due step", "due steps", "window open now, step not done"),
    Count.SOON: CountWords(
        "step due soon", "steps due soon", f"window opens within {SOON_DAYS} days (or the days asked for)"
    ),
    Count.CRITICAL: CountWords("critical alert", "critical alerts", "open (not yet acknowledged)"),
    Count.WARNING: CountWords("warning alert", "warning alerts", "open (not yet acknowledged)"),
    Count.INFO: CountWords("info alert", "info alerts", "open (not yet acknowledged)"),
}
STEP_COUNTS: dict[FollowUpStatus, Count] = {
    FollowUpStatus.OVERDUE: Count.OVERDUE,
    FollowUpStatus.DUE: Count.DUE,
    FollowUpStatus.UPCOMING: Count.SOON,
}
ALERT_COUNTS: dict[str, Count] = {
    Severity.CRITICAL: Count.CRITICAL,
    Severity.WARNING: Count.WARNING,
    Severity.INFO: Count.INFO,
}


def soon_until(at: datetime, within: int | None = None) -> datetime:
    """The end of "due soon": steps whose window opens before this instant are listed."""
    return at + timedelta(days=SOON_DAYS if within is None else within)


def words(count: Count, n: int) -> str:
    """'1 critical alert', '3 overdue steps'."""
    w = WORDS[count]
    return f"{n} {w.one if n == 1 else w.many}"


def tally(steps: Mapping[FollowUpStatus, int], alerts: Mapping[str, int]) -> dict[Count, int]:
    """Every count, in display order, from open steps by status and open alerts by severity."""
    out = {c: 0 for c in Count}
    for status, n in steps.items():
        if status in STEP_COUNTS:
            out[STEP_COUNTS[status]] += n
    for severity, n in alerts.items():
        if severity in ALERT_COUNTS:
            out[ALERT_COUNTS[severity]] += n
    return out


def summary(counts: Mapping[Count, int], zero: bool = False) -> str:
    """'2 overdue steps, 5 due steps, 1 critical alert' (counts of nought left out unless `zero`)."""
    return ", ".join(words(c, n) for c, n in counts.items() if n or zero) or "nothing to act on"


def alert_total(counts: Mapping[Count, int]) -> int:
    return sum(counts[c] for c in ALERT_COUNTS.values())
