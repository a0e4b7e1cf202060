"""What the worklist and alerts pages show: service results arranged for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

from pathway.domain.alert_status import (
    LIVE,
    OVERRIDE_REASONS,
    STATUS_FILTERS,
    AlertAction,
    Severity,
    refusal,
)
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import InvalidInput
from pathway.domain.model import StoredAlert
from pathway.ports import Deps, User
from pathway.services import alerting, caseload
from pathway.web.fmt import day, when

KINDS = {
    "overdue": "Overdue",
    "due": "Due",
    "soon": "Due soon",
    "alert": "Alerts",
    "undelivered": "Not delivered",
    "booked": "Booked",
}
SEVERITIES = tuple(Severity)


@dataclass(frozen=True)
class AlertLine:
    alert: StoredAlert
    mrn: str
    opened: str
    dead: bool
    can_acknowledge: bool
    can_snooze: bool
    can_override: bool
    override_hint: str = ""
    snooze_hint: str = ""
    snooze_latest: str = ""


@dataclass(frozen=True)
class WorklistFilters:
    severity: str | None = None
    track: str | None = None
    state: str | None = None
    kind: str | None = None
    within: int | None = None
    caseload: str | None = None  # mine | all | a team's name; default: mine if the user has a team


def alert_lines(
    rows: list[tuple[StoredAlert, str]],
    user: User,
    zone: tzinfo,
    dead: set[int],
    snooze_latest: date | None = None,
) -> list[AlertLine]:
    """Each alert with the buttons the alert-status table allows this user (and why not, where a
    role or a critical severity is the reason)."""
    lines = []
    for a, mrn in rows:
        why_not = {
            action: refusal(action, a.status, a.severity, user.role)
            for action in (AlertAction.ACKNOWLEDGE, AlertAction.SNOOZE, AlertAction.OVERRIDE)
        }
        override, snooze = why_not[AlertAction.OVERRIDE], why_not[AlertAction.SNOOZE]
        lines.append(
            AlertLine(
                a,
                mrn,
                when(a.opened_at, zone),
                a.id in dead,
                can_acknowledge=why_not[AlertAction.ACKNOWLEDGE] is None,
                can_snooze=snooze is None,
                can_override=override is None,
                override_hint="only a clinician may override a critical alert"
                if override is not None and override.reason == "role" and a.severity == Severity.CRITICAL
                else "",
                snooze_hint="a critical alert cannot be snoozed; it is notified again until done"
                if snooze is not None and snooze.reason == "critical" and a.status in LIVE
                else "",
                snooze_latest=snooze_latest.isoformat() if snooze_latest else "",
            )
        )
    return lines


def snooze_latest(deps: Deps) -> date:
    """The last day a snooze may run to (the pathway's `snooze_max_days` from today)."""
    today = local_date(deps.clock.now(), deps.zone)
    return today + timedelta(days=deps.pathway.definition.alert_policy.snooze_max_days)


def rule_tracks(definition: PathwayDefinition) -> dict[str, str]:
    """The track each timing rule, its alerts and each check belong to."""
    out: dict[str, str] = {}
    for rule_id, rule in definition.rules.follow_ups.items():
        out[rule_id] = rule.track
        for alert_id in (rule.alert.id if rule.alert else None, rule.early_alert):
            if alert_id:
                out.setdefault(alert_id, rule.track)
    for check in definition.rules.checks.values():
        out.setdefault(
            check.id,
            next(
                (
                    t
                    for t, spec in definition.tracks.items()
                    if any(tr.event == check.event for tr in spec.transitions)
                ),
                "",
            ),
        )
    return out


def caseload_scope(
    deps: Deps, user: User | None, chosen: str | None
) -> tuple[caseload.Caseload | None, list[tuple[str, str, bool]]]:
    """The worklist's caseload (None: everyone) and its choices as (label, link, selected): the
    user's own caseload by default when they are in a team, their teams, and all, one click away."""
    if user is None:
        return None, []
    mine = [t.name for t in caseload.list_teams(deps) if user.name in t.members]
    chosen = chosen or ("mine" if mine else "all")
    if chosen not in ("mine", "all", *mine) and chosen not in {t.name for t in caseload.list_teams(deps)}:
        raise InvalidInput(f"caseload must be mine, all or a team's name, not {chosen!r}")
    scope = None
    if chosen == "mine":
        scope = caseload.caseload(deps, user.name)
    elif chosen != "all":
        scope = caseload.caseload(deps, None, chosen)
    options = [("My caseload", "mine"), *((f"Team {t}", t) for t in mine), ("All patients", "all")]
    return scope, [(label, f"/?caseload={quote(v)}", v == chosen) for label, v in options]


def states_by_track(definition: PathwayDefinition) -> dict[str, tuple[str, ...]]:
    return {t: definition.track_states(t) for t in definition.tracks}


def alerts(deps: Deps, user: User, status: str | None, mrn: str | None) -> dict[str, Any]:
    rows = alerting.list_alerts(deps, status, mrn)  # most urgent first
    dead = alerting.undelivered_alert_ids(deps)
    return {
        "lines": alert_lines(rows, user, deps.zone, dead, snooze_latest(deps)),
        "status": status or "live",
        "statuses": STATUS_FILTERS,
        "live": LIVE,
        "mrn": mrn or "",
        "reasons": OVERRIDE_REASONS,
        "today": day(deps.clock.now(), deps.zone),
    }
