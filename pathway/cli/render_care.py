"""Rendering of follow-ups, alerts, the worklist and explanations."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.markup import escape
from rich.table import Table

from pathway.cli.render import console
from pathway.domain.counts import summary
from pathway.domain.explanation import Explanation, shown
from pathway.domain.model import StoredAlert, StoredFollowUp
from pathway.domain.rules_spec import FollowUpRule
from pathway.services.alerting import WorkItem, line_counts

COLOURS = {
    "critical": "bold red",
    "warning": "yellow",
    "info": "cyan",
    "overdue": "red",
    "due": "yellow",
    "soon": "cyan",
    "booked": "green",
}


def day(instant: datetime | None, zone: tzinfo, end: bool = False, clock: bool = False) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    if clock:
        return local.strftime("%Y-%m-%d %H:%M")
    return (local - timedelta(microseconds=1) if end else local).date().isoformat()


def follow_up_json(fu: StoredFollowUp, rules: dict[str, FollowUpRule], zone: tzinfo) -> dict[str, Any]:
    rule = rules.get(fu.rule)
    clock = fu.clock_time
    return {
        "id": fu.id,
        "rule": fu.rule,
        "step": rule.step if rule else fu.rule,
        "region": fu.region or None,
        "opens": day(fu.opens_at, zone, clock=clock),
        "target": day(fu.target_at, zone, end=True, clock=clock),
        "closes": day(fu.closes_at, zone, end=True, clock=clock),
        "status": fu.status,
        "anchor": fu.anchor_label,
        "done_on": day(fu.done_at, zone, clock=clock) or None,
        "late_days": fu.late_days,
        "early": fu.early,
        "cancel_reason": fu.cancel_reason,
        "notes": fu.notes,
    }


def action_json(a: StoredAlert) -> dict[str, Any]:
    """`ack|snooze|override --json`: the alert, its new status, who acted and when."""
    out: dict[str, Any] = {
        "alert_id": a.id,
        "status": a.status,
        "severity": a.severity,
        "by": a.acted_by,
        "at": a.updated_at.isoformat() if a.updated_at else None,
        "note": a.note,
    }
    if a.snoozed_until:
        out["snoozed_until"] = a.snoozed_until.isoformat()
    if a.override_until:
        out["override_until"] = a.override_until.isoformat()
    return out


def alert_json(a: StoredAlert, mrn: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "rule": a.rule,
        "severity": a.severity,
        "status": a.status,
        "message": a.message,
        "source": a.source,
        "opened_at": a.opened_at.isoformat(),
        "held": a.held,
        "states_at_fire": a.states_at_fire,
        "acted_by": a.acted_by,
        "note": a.note,
        "resolution": a.resolution,
    }
    if a.snoozed_until:
        out["snoozed_until"] = a.snoozed_until.isoformat()
    if a.override_until:
        out["override_until"] = a.override_until.isoformat()
    if mrn is not None:
        out["mrn"] = mrn
    return out


def follow_ups_table(rows: list[StoredFollowUp], rules: dict[str, FollowUpRule], zone: tzinfo) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("rule", "step", "opens", "target", "closes", "status"):
        table.add_column(col)
    for fu in rows:
        j = follow_up_json(fu, rules, zone)
        step = j["step"] + (f" ({fu.region})" if fu.region else "")
        status = (
            fu.status + (f", {fu.late_days} d late" if fu.late_days else "") + (", early" if fu.early else "")
        )
        table.add_row(
            fu.rule, step, j["opens"], j["target"], j["closes"], status, style=COLOURS.get(fu.status)
        )
    console.print(table)


NARROW = 100  # columns below which tables drop their least useful columns
ALERT_COLUMNS = ("id", "MRN", "rule", "severity", "status", "opened", "message")


def alerts_table(rows: list[tuple[StoredAlert, str]], zone: tzinfo, dead: set[int] | None = None) -> None:
    """The alerts; on a narrow terminal the opened time goes and the status joins the severity,
    so the message keeps a readable width."""
    narrow = console.width < NARROW
    table = Table(show_header=True, header_style="bold")
    columns = ("id", "MRN", "rule", "severity", "message") if narrow else ALERT_COLUMNS
    for col in columns:
        table.add_column(
            col,
            no_wrap=col in ("MRN", "opened"),
            min_width=30 if col == "message" else None,
            overflow="fold" if col == "message" else "ellipsis",
        )
    for a, mrn in rows:
        status = (
            a.status
            + (" (held)" if a.held else "")
            + (" (notification dead)" if dead and a.id in dead else "")
        )
        cells = {
            "id": str(a.id),
            "MRN": mrn,
            "rule": a.rule,
            "severity": f"{a.severity}, {status}" if narrow else a.severity,
            "status": status,
            "opened": day(a.opened_at, zone, clock=True),
            "message": a.message,
        }
        table.add_row(*(cells[c] for c in columns), style=COLOURS.get(a.severity))
    console.print(table)
    console.print(f"{len(rows)} alert(s)")


def worklist_json(items: list[WorkItem], zone: tzinfo) -> list[dict[str, Any]]:
    return [
        {
            "mrn": i.mrn,
            "kind": i.kind,
            "status": i.status or None,  # a step's window status, also when it shows as booked
            "rule": i.rule,
            "step": i.step,
            "severity": i.severity,
            "opens": day(i.opens, zone, clock=i.clock_time),
            "closes": day(i.closes, zone, end=True, clock=i.clock_time),
            "days_late": i.days_late,
            "alert_id": i.alert_id,
            "alert_rule": i.alert_rule,
            "held": i.held,
            "late": i.late or None,
            "episode": i.episode,
            "detail": i.detail,
            "booking": i.booking or None,
        }
        for i in items
    ]


def worklist_lines(items: list[WorkItem], zone: tzinfo) -> None:
    if not items:
        console.print("Nothing to act on.")
        return
    undelivered = 0
    for i in items:
        undelivered += i.kind == "undelivered"
        flag = (i.severity or "").upper()
        colour = COLOURS.get(i.severity or i.kind, "")
        alert = f"  [alert {i.alert_id} {i.alert_rule}{', held' if i.held else ''}]" if i.alert_id else ""
        alert += f"  [OPEN {i.episode.upper()}]" if i.episode else ""
        alert = escape(alert)  # "[alert 7 A02]" is text, not a rich style tag
        if i.kind in ("alert", "undelivered"):
            prefix = "UNDELIVERED " if i.kind == "undelivered" else ""
            console.print(f"[{colour}]{flag:8}[/] {i.mrn:10} {prefix}{escape(i.step)}{alert}")
            continue
        window = (
            f"{day(i.opens, zone, clock=i.clock_time)} – {day(i.closes, zone, end=True, clock=i.clock_time)}"
        )
        late = f", {i.late}" if i.late else ""
        late += f", {i.booking.upper() if i.booking.startswith('missed') else i.booking}" if i.booking else ""
        console.print(
            f"[{colour}]{flag:8}[/] {i.mrn:10} {i.kind.upper():7} {i.rule} {i.step}: "
            f"window {window}{late}{alert}"
        )
    note = f", {undelivered} notification(s) not delivered" if undelivered else ""
    console.print(summary(line_counts(items)) + note)


def why_lines(e: Explanation, zone: tzinfo) -> None:
    """`pathway why`: the rule, its source, anchor, interval, window, adjustments and alert levels."""
    region = f" ({e.region})" if e.region else ""
    window = [shown(i, zone, e.clock_time, end=end) for i, end in ((e.opens_at, False), (e.target_at, True))]
    print(f"{e.rule} {e.step}{region}: {e.status}")
    print(f"  rule source: {e.source} [{e.kind}]")
    print(f"  runs while {e.track} is in: {', '.join(e.runs_in)}; done by: {', '.join(e.done_by)}")
    print(f"  anchor: {e.anchor} at {shown(e.anchor_at, zone, clock=True)}")
    iv = e.interval
    print(
        f"  interval: opens {iv.opens}, target {iv.target or '-'}, closes "
        f"{iv.closes}{' (re-anchors on each done)' if iv.recurring else ''}"
    )
    print(
        f"  window: {window[0]} → target {window[1]} → closes "
        f"{shown(e.closes_at, zone, e.clock_time, end=True)}"
    )
    for note in e.adjustments:
        print(f"  adjustment: {note}")
    for level in e.alert_levels:
        print(f"  alert {level.alert} {level.severity} from {shown(level.fires_at, zone, clock=True)}")
    if e.done_at:
        print(
            f"  done on {shown(e.done_at, zone, e.clock_time)}"
            + (f", {e.late_days} day(s) late" if e.late_days else "")
            + (", early" if e.early else "")
        )
    if e.cancel_reason:
        print(f"  cancelled: {e.cancel_reason}")
    for a in e.alerts:
        if a.holiday_calendar:  # without a calendar, the `holidays` package moves no date
            print(
                f"  alert {a.id} ({a.severity}, {a.status}) dated with holiday calendar "
                f"{a.holiday_calendar}, holidays {a.holidays_version or 'unknown'}"
            )
