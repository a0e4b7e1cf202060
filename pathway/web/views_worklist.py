"""The web worklist: its lines with the actions each allows, the count cards, search and CSV.

Counts use pathway/domain/counts.py (as the CLI and the daily report do); whether an alert may be
acknowledged or snoozed, and by whom, comes from the one alert-status table (`refusal`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pathway.domain.alert_status import AlertAction, AlertStatus, refusal
from pathway.domain.counts import ALERT_COUNTS, WORDS, Count
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import InvalidInput
from pathway.ports import Deps, User
from pathway.services import accounts, alerting, patients
from pathway.services.alerting import WorkItem
from pathway.web.fmt import day
from pathway.web.views import (
    KINDS,
    SEVERITIES,
    WorklistFilters,
    caseload_scope,
    rule_tracks,
    snooze_latest,
    states_by_track,
)
from pathway.web.views_patient import FieldInput, field_inputs

CSV_COLUMNS = ("Severity", "Patient", "Name", "What", "Step", "Rule", "Track", "Window", "Late", "Alert")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ALERT_KIND = {c.value: s for s, c in ALERT_COUNTS.items()}  # "critical_alerts" -> "critical"


@dataclass(frozen=True)
class RowActions:
    """What a signed-in user may do from one worklist line without leaving the page."""

    done_event: str | None = None  # the event that completes the line's follow-up
    done_fields: tuple[FieldInput, ...] = ()
    done_elsewhere: bool = False  # the event needs a choice only the patient page offers
    can_acknowledge: bool = False
    can_snooze: bool = False
    snooze_hint: str = ""
    can_book: bool = False  # a follow-up line: a booking endpoint may take it


@dataclass(frozen=True)
class Line:
    item: WorkItem
    track: str
    window: str
    name: str
    actions: RowActions


@dataclass(frozen=True)
class Card:
    key: str
    count: int
    label: str
    link: str
    selected: bool


def worklist(deps: Deps, user: User, f: WorklistFilters, q: str, show_names: bool) -> dict[str, Any]:
    definition = deps.pathway.definition
    lines, listed = worklist_lines(deps, user, f, q, show_names)
    scope, caseloads = caseload_scope(deps, user, f.caseload)
    return {
        "caseload": scope.label if scope else "all patients",
        "caseloads": caseloads,
        "lines": lines,
        "cards": cards(alerting.line_counts(listed), f, q),
        "total": len(listed),
        "undelivered": sum(i.kind == "undelivered" for i in listed),
        "undelivered_link": link(f, "undelivered", q),
        "filters": f,
        "q": q,
        "kinds": KINDS,
        "severities": SEVERITIES,
        "states": states_by_track(definition),
        "all_link": link(f, None, q),
        "csv_link": "/worklist.csv" + link(f, f.kind, q)[1:],
        "snooze_latest": snooze_latest(deps).isoformat(),
        "today": day(deps.clock.now(), deps.zone),
        "booking": "/patients/{mrn}/bookings",  # the booking endpoint (pages_caseload.book)
    }


def worklist_lines(
    deps: Deps, user: User, f: WorklistFilters, q: str, show_names: bool
) -> tuple[list[Line], list[WorkItem]]:
    """The lines shown (after every filter) and the items listed before the `kind` filter (the
    cards count these)."""
    definition = deps.pathway.definition
    if f.kind is not None and f.kind not in KINDS and f.kind not in ALERT_KIND:
        raise InvalidInput(f"kind must be one of {', '.join([*KINDS, *ALERT_KIND])}")
    if f.track is not None and f.track not in definition.tracks:
        raise InvalidInput(f"unknown track '{f.track}'; tracks: {', '.join(definition.tracks)}")
    scope, _ = caseload_scope(deps, user, f.caseload)
    items = alerting.worklist(deps, None, f.within, f.severity, None, scope.mrns if scope else None)
    tracks = rule_tracks(definition)
    if f.track:
        items = [i for i in items if tracks.get(i.rule) == f.track]
    if f.state:
        in_state = {p.mrn for p, _ in patients.list_patients(deps, f.track, f.state)}
        items = [i for i in items if i.mrn in in_state]
    names = patients.names_of(deps, {i.mrn for i in items}) if show_names else {}
    if q:
        needle = q.casefold()
        items = [i for i in items if needle in i.mrn.casefold() or needle in names.get(i.mrn, "").casefold()]
    shown = [i for i in items if _kind_matches(i, f.kind)]
    return [
        Line(i, tracks.get(i.rule, ""), _window(i, deps), names.get(i.mrn, ""), row_actions(deps, user, i))
        for i in shown
    ], items


def _kind_matches(i: WorkItem, kind: str | None) -> bool:
    if kind is None:
        return True
    if kind in ALERT_KIND:
        return i.kind != "undelivered" and any(s == ALERT_KIND[kind] for _, s in i.alerts)
    return i.kind == kind or (i.kind == "booked" and i.status == kind)  # booked steps count by window


def cards(counts: dict[Count, int], f: WorklistFilters, q: str) -> list[Card]:
    return [
        Card(c.value, n, WORDS[c].one if n == 1 else WORDS[c].many, link(f, c.value, q), f.kind == c.value)
        for c, n in counts.items()
    ]


def row_actions(deps: Deps, user: User, i: WorkItem) -> RowActions:
    definition = deps.pathway.definition
    can_ack = can_snooze = False
    hint = ""
    if i.alert_id is not None and i.kind != "undelivered" and i.severity:
        ack = refusal(AlertAction.ACKNOWLEDGE, AlertStatus.OPEN, i.severity, user.role)
        snooze = refusal(AlertAction.SNOOZE, AlertStatus.OPEN, i.severity, user.role)
        can_ack, can_snooze = ack is None, snooze is None
        if snooze is not None and snooze.reason == "critical":
            hint = "a critical alert cannot be snoozed"
    done, fields, elsewhere = _done_form(definition, user, i, deps)
    return RowActions(
        done,
        fields,
        elsewhere,
        can_ack,
        can_snooze,
        hint,
        can_book=i.kind in ("overdue", "due", "soon") and accounts.allows(user.role, "record"),
    )


def _done_form(
    definition: PathwayDefinition, user: User, i: WorkItem, deps: Deps
) -> tuple[str | None, tuple[FieldInput, ...], bool]:
    rule = definition.rules.follow_ups.get(i.rule)
    if rule is None or i.kind not in ("overdue", "due", "soon"):
        return None, (), False
    event = next((e for e in rule.done.events if e in definition.events), None)
    if event is None or not accounts.may_record(user.role, event):
        return None, (), False
    spec = definition.events[event].fields
    if any(s.type == "event_ref" and s.required for s in spec.values()):
        return event, (), True
    return event, tuple(field_inputs(spec, [], deps.zone)), False


def link(f: WorklistFilters, kind: str | None, q: str = "") -> str:
    params = {
        "q": q or None,
        "severity": f.severity,
        "track": f.track,
        "state": f.state,
        "within": f.within,
        "kind": kind,
        "caseload": f.caseload,
    }
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/?{query}" if query else "/"


def _window(i: WorkItem, deps: Deps) -> str:
    if i.opens is None or i.closes is None:
        return ""
    zone = deps.zone
    return f"{day(i.opens, zone, clock=i.clock_time)} – {day(i.closes, zone, end=True, clock=i.clock_time)}"


def csv_text(lines: list[Line], show_names: bool) -> str:
    """The lines as shown, one CSV row each; a cell a spreadsheet would run as a formula is
    prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c for c in CSV_COLUMNS if show_names or c != "Name"])
    for line in lines:
        i = line.item
        alert = f"{i.alert_rule} #{i.alert_id}" + (" (held)" if i.held else "") if i.alert_id else ""
        row = [
            i.severity or "",
            i.mrn,
            *([line.name] if show_names else []),
            KINDS[i.kind] if i.kind != "alert" else "alert",
            i.step + (f" — {i.detail}" if i.detail else ""),
            i.rule,
            line.track,
            line.window,
            i.late.replace(" late", ""),
            alert,
        ]
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value
