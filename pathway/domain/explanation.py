"""What `why` explains about a patient's follow-up: typed values (instants, not text).

The interfaces format them: the CLI prints lines, the web page a sentence, and both the CLI's
`--json` and the API give the same plain shape through `as_json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any


@dataclass(frozen=True)
class Interval:
    """The rule's interval from its anchor, as written in the pathway file (`6w`, `24h`)."""

    opens: str
    target: str | None
    closes: str
    recurring: bool


@dataclass(frozen=True)
class LevelAt:
    alert: str | None
    severity: str
    fires_at: datetime


@dataclass(frozen=True)
class AlertRef:
    id: int
    severity: str
    status: str
    holiday_calendar: str | None = None  # the calendar and `holidays` version its dates came from
    holidays_version: str | None = None


@dataclass(frozen=True)
class Explanation:
    """One follow-up (the latest of its rule and region): why it is due when it is."""

    rule: str
    step: str
    region: str | None
    source: str
    kind: str
    track: str
    runs_in: tuple[str, ...]
    anchor: str
    anchor_at: datetime
    interval: Interval
    opens_at: datetime
    target_at: datetime
    closes_at: datetime
    clock_time: bool
    status: str
    done_by: tuple[str, ...]
    done_at: datetime | None
    late_days: int
    early: bool
    cancel_reason: str | None
    adjustments: tuple[str, ...]
    alert_levels: tuple[LevelAt, ...]
    alerts: tuple[AlertRef, ...]


def shown(instant: datetime | None, zone: tzinfo, clock: bool, end: bool = False) -> str | None:
    """An instant as the clinic reads it: local date and time for hour clocks, else the local day
    (an exclusive end instant shows as the last day it covers)."""
    if instant is None:
        return None
    local = instant.astimezone(zone)
    if clock:
        return local.strftime("%Y-%m-%d %H:%M %Z")
    return (local - timedelta(microseconds=1) if end else local).date().isoformat()


def as_json(e: Explanation, zone: tzinfo) -> dict[str, Any]:
    """The plain shape of `pathway why --json` and of the API."""
    return {
        "rule": e.rule,
        "step": e.step,
        "region": e.region,
        "source": e.source,
        "kind": e.kind,
        "track": e.track,
        "runs_in": list(e.runs_in),
        "anchor": e.anchor,
        "anchor_at": shown(e.anchor_at, zone, clock=True),
        "interval": {
            "opens": e.interval.opens,
            "target": e.interval.target,
            "closes": e.interval.closes,
            "recurring": e.interval.recurring,
        },
        "window": {
            "opens": shown(e.opens_at, zone, e.clock_time),
            "target": shown(e.target_at, zone, e.clock_time, end=True),
            "closes": shown(e.closes_at, zone, e.clock_time, end=True),
        },
        "status": e.status,
        "done_by": list(e.done_by),
        "done_on": shown(e.done_at, zone, e.clock_time),
        "late_days": e.late_days,
        "early": e.early,
        "cancel_reason": e.cancel_reason,
        "adjustments": list(e.adjustments),
        "alert_levels": [
            {"severity": lv.severity, "alert": lv.alert, "fires_at": shown(lv.fires_at, zone, clock=True)}
            for lv in e.alert_levels
        ],
        "alerts": [
            {
                "id": a.id,
                "severity": a.severity,
                "status": a.status,
                "holiday_calendar": a.holiday_calendar,
                "holidays_version": a.holidays_version,
            }
            for a in e.alerts
        ],
    }
