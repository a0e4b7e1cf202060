"""Clinical urgency: the one order of every list a coordinator reads.

The worklist, the alerts list, the report's overdue table and a patient's alerts are all sorted
by `urgency_key`. Open critical alerts on hour clocks (the spinal-compression emergency) come
first, by how little time is left or how late they are; then critical, warning and info alerts;
then steps without an alert. Within a tier: late steps first (the latest first), then alerts not
tied to a step, then due steps (closing first), then upcoming ones (opening first). An alert held
behind an urgent one sorts after the unheld ones of its severity. The report's SQL orders its
overdue rows by the same tiers (db/reporting.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pathway.domain.alert_status import SEVERITY_RANK, Severity

CRITICAL_RANK = SEVERITY_RANK[Severity.CRITICAL]
HOURS_UNTIL_DAYS = timedelta(days=2)  # lateness under this is shown in hours

UrgencyKey = tuple[int, int, int, float]


@dataclass(frozen=True)
class Urgency:
    """What urgency reads of a line: its alert's severity (if any) and its step's window."""

    severity: str | None = None
    hour_clock: bool = False
    opens: datetime | None = None
    closes: datetime | None = None
    held: bool = False


def tier(severity: str | None, hour_clock: bool, held: bool = False) -> int:
    """0 critical on an hour clock, 1 critical, 2 warning, 3 info, 4 no alert."""
    rank = SEVERITY_RANK.get(severity or "", 0)
    if rank == CRITICAL_RANK and hour_clock and not held:
        return 0
    return 1 + len(SEVERITY_RANK) - rank


def urgency_key(u: Urgency, now: datetime) -> UrgencyKey:
    """Sort key, most urgent first (smallest)."""
    level = tier(u.severity, u.hour_clock, u.held)
    if u.closes is None:
        return (level, int(u.held), 1, 0.0)
    if level == 0 or now >= u.closes:
        return (level, int(u.held), 0, u.closes.timestamp())
    if u.opens is not None and now < u.opens:
        return (level, int(u.held), 3, u.opens.timestamp())
    return (level, int(u.held), 2, u.closes.timestamp())


def late_text(closes: datetime | None, now: datetime, calendar_days: int) -> str:
    """ "14 h late" under two days, else "3 d late" (`calendar_days`: clinic days past the
    window's last day); "" when not late."""
    if closes is None or now < closes:
        return ""
    late = now - closes
    if late < HOURS_UNTIL_DAYS:
        return f"{max(1, late // timedelta(hours=1))} h late"
    return f"{max(calendar_days, late.days)} d late"


def open_episode(states: dict[str, str], emergency_initials: dict[str, str]) -> str | None:
    """The first emergency track (declared `emergency: true` in the pathway) out of its initial
    state, as "track: state"; None when there is no open episode."""
    for track, initial in emergency_initials.items():
        state = states.get(track)
        if state is not None and state != initial:
            return f"{track}: {state}"
    return None
